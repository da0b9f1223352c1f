import { z } from 'zod';
import { ExtractionError } from '../../core/errors.js';
import { toInvalidOptionsError } from '../../core/options.js';
import { scopeKey, scopeMatches } from '../../core/scope.js';
import { checkHits } from '../../core/store-results.js';
import type {
  Extractor,
  FactInput,
  Memory,
  MemoryOperation,
  MemoryStore,
  MemoryType,
  Metadata,
  Scope,
} from '../../core/types.js';
import { terms, wordOverlap } from '../../stores/text-terms.js';
import { type CalendarDate, calendarDate, dateLabel, findDate, isoDate, processTimeZone } from './date-phrases.js';
import { isFiller, isPastTense, sentences } from './sentences.js';

/** Options of `heuristicExtractor`. */
export interface HeuristicExtractorOptions {
  /** Metadata put on every fact it stores, e.g. `{ source: 'chat' }`. */
  metadata?: Record<string, unknown>;
  /** The IANA time zone in which "today" is reckoned, e.g. `Europe/Berlin`. @default the process's time zone */
  timeZone?: string;
}

/** One statement pattern: what it matches in a user's sentence and the fact it makes of it. */
interface Rule {
  type: MemoryType;
  pattern: RegExp;
  fact: (match: RegExpExecArray) => string;
}

/** What a stored or new fact is about, read from the third-person text this extractor writes. */
interface Shape {
  /** A detail with one value at a time (name, home, employer...): a new value replaces the old. */
  slot?: string;
  /** For preferences: for (1) or against (-1) `object`. */
  polarity?: 1 | -1;
  object?: string;
}

/** A change the turn asks for, before it becomes an operation. */
type Step =
  | { kind: 'fact'; fact: FactInput; corrective: boolean; reason: string }
  | { kind: 'retire'; content: string; fallback: FactInput };

const likeVerbs: Record<string, string> = {
  prefer: 'prefers',
  like: 'likes',
  love: 'loves',
  enjoy: 'enjoys',
  hate: 'hates',
  dislike: 'dislikes',
  avoid: 'avoids',
  "don't like": "doesn't like",
  'do not like': 'does not like',
  "don't want": "doesn't want",
  'do not want': 'does not want',
  "don't enjoy": "doesn't enjoy",
  'do not enjoy': 'does not enjoy',
  "can't stand": "can't stand",
  'cannot stand': 'cannot stand',
  "'d rather not": 'would rather not',
  'would rather not': 'would rather not',
};

// Verbs an instruction to the assistant starts with: "don't use emojis" is a rule, "don't worry" is not.
const instructionVerbs =
  'use|add|include|send|write|call|mention|suggest|recommend|show|give|put|answer|reply|respond|format|start|end|ask|remind|translate|say|explain|list|apologi[sz]e|repeat|summari[sz]e|shorten|abbreviate';
// More verbs a standing rule starts with ("always be brief", "never assume"); "never saw it coming" is no rule.
const ruleVerbs = 'be|keep|make|talk|speak|refer|tell|check|round|convert|cite|assume|treat|double-check|ask';
const instructionGerunds =
  'using|adding|including|sending|writing|calling|mentioning|suggesting|recommending|showing|giving|putting|answering|replying|responding|formatting|starting|ending|asking|reminding|translating|saying|explaining|listing|apologi[sz]ing|repeating|summari[sz]ing';

/**
 * What the heuristic extractor recognises in the user's own sentences. Questions, greetings,
 * thanks and filler ("ok", "got it", "never mind") are ignored; the assistant's text is read only
 * for offers the user then accepts.
 *
 * | The user says | Stored as |
 * | --- | --- |
 * | "always ...", "never ...", "please don't / don't / stop ..." + an instruction verb (use, add, mention...) | `preference`: "User's standing rule: ..." |
 * | "I prefer / like / love / enjoy / want ..." and "I hate / dislike / avoid / don't like / don't want / can't stand / 'd rather not ...", "I'm not a fan of ..." | `preference` |
 * | "my name is ...", "call me ..." | `profile` (name: one at a time) |
 * | "I live in ...", "I'm based in / from ...", "I moved to ..." | `profile` (home: one at a time) |
 * | "I work at / for ...", "I work as ...", "my job is ..." | `profile` (employer, job: one at a time) |
 * | "I'm allergic to ...", "I'm vegetarian / vegan / pescatarian / diabetic / lactose intolerant ..." | `profile` (vegetarian, vegan, pescatarian: one at a time) |
 * | "my birthday is on 3 June" | `profile`, `metadata.date` `--06-03` |
 * | a sentence about the user with a date: "my exam is on 3 June", "I have a dentist appointment tomorrow", "I'm flying to Rome next Friday" | `event`, `metadata.date` (`YYYY-MM-DD`); relative dates become absolute in the text |
 * | the same with a deadline: "the report is due Friday", "I need to submit my thesis by 1 March" | `task`, `metadata.date` |
 * | "I'm working on ..." | `task` |
 * | "my favourite X is ...", "my X is ..." | `fact` (one value per X) |
 * | "yes" / "sure" / "please do" right after the assistant offered "Would you like me to ...?", "Shall I ...?" or "I'll ... from now on" | `preference` (or `task` for reminders): "User wants the assistant to ..." |
 *
 * Keeping memory current:
 * - a new value of a one-at-a-time detail (name, home, employer, job, diet, birthday, "my X is")
 *   updates the stored one instead of adding a second;
 * - a preference about the same thing updates the stored one ("I like spicy food" then "I hate
 *   spicy food"); with a correction word ("actually", "now", "instead", "anymore", "changed my
 *   mind") it updates the closest stored preference ("Actually, I prefer light mode" replaces
 *   "User prefers dark mode");
 * - "I no longer ...", "I don't ... anymore", "I'm not ... anymore", "I stopped / quit ..." delete
 *   the stored memory they retire ("User lives in Paris", "User is vegetarian"); with nothing to
 *   retire, the statement itself is stored as a `fact`;
 * - a statement already stored (word for word, or injected into this turn) is not stored again.
 */
const rules: Rule[] = [
  {
    type: 'preference',
    pattern: new RegExp(`^(?:please\\s+)?(always|never)\\s+((?:${instructionVerbs}|${ruleVerbs})\\b.*)$`, 'i'),
    fact: (m) => `User's standing rule: ${lower(m[1])} ${thirdPerson(m[2])}`,
  },
  {
    type: 'preference',
    pattern: new RegExp(`^(?:please\\s+)?(?:don't|do not)(?:\\s+ever)?\\s+((?:${instructionVerbs})\\b.*)$`, 'i'),
    fact: (m) => `User's standing rule: do not ${thirdPerson(m[1])}`,
  },
  {
    type: 'preference',
    pattern: new RegExp(`^(?:please\\s+)?stop\\s+((?:${instructionGerunds})\\b.*)$`, 'i'),
    fact: (m) => `User's standing rule: stop ${thirdPerson(m[1])}`,
  },
  {
    type: 'preference',
    pattern:
      /\bI(?:\s+(?:really|generally|usually|now|actually|still|also|much|definitely))*\s*((?:'d|would) rather not|prefer|like|love|enjoy|hate|dislike|avoid|don't like|do not like|don't want|do not want|don't enjoy|do not enjoy|can't stand|cannot stand)\s+(?!(?:that|how|it|this|what|when|where|you|your|yours|the way|all the|seeing|hearing|to (?:see|hear))\b)(.+)$/i,
    fact: (m) => `User ${likeVerbs[lower(m[1])] ?? lower(m[1])} ${thirdPerson(m[2])}`,
  },
  {
    type: 'preference',
    pattern: /\bI(?:'m| am)\s+not\s+(?:a\s+|really\s+a\s+)?(?:big\s+|huge\s+)?fan of\s+(.+)$/i,
    fact: (m) => `User is not a fan of ${thirdPerson(m[1])}`,
  },
  { type: 'profile', pattern: /\bmy name is\s+(.+)$/i, fact: (m) => `User's name is ${thirdPerson(m[1])}` },
  { type: 'profile', pattern: /^call me\s+(.+)$/i, fact: (m) => `User's name is ${thirdPerson(m[1])}` },
  {
    type: 'profile',
    pattern: /\bI(?:'m| am)\s+(?:now\s+)?(?:based in|from|living in)\s+(.+)$/i,
    fact: (m) => `User lives in ${thirdPerson(m[1])}`,
  },
  {
    type: 'profile',
    pattern: /\bI\s+(?:now\s+|actually\s+)?(?:live in|(?:have\s+|'ve\s+)?(?:just\s+)?moved to)\s+(.+)$/i,
    fact: (m) => `User lives in ${thirdPerson(m[1])}`,
  },
  {
    type: 'profile',
    pattern: /\bI\s+(?:now\s+|actually\s+)?work\s+(at|for|as)\s+(.+)$/i,
    fact: (m) => `User works ${lower(m[1])} ${thirdPerson(m[2])}`,
  },
  { type: 'profile', pattern: /\bmy job is\s+(.+)$/i, fact: (m) => `User's job is ${thirdPerson(m[1])}` },
  {
    type: 'profile',
    pattern:
      /\bI(?:'m| am)\s+(?:now\s+)?(allergic to .+|(?:a\s+)?(?:vegetarian|vegan|pescatarian|diabetic|lactose intolerant|gluten intolerant)\b.*)$/i,
    fact: (m) => `User is ${thirdPerson(m[1])}`,
  },
  {
    type: 'task',
    pattern: /\bI(?:'m| am)\s+(?:currently\s+|now\s+)?working on\s+(.+)$/i,
    fact: (m) => `User is working on ${thirdPerson(m[1])}`,
  },
  {
    type: 'fact',
    pattern:
      /\bmy\s+((?:favou?rite\s+)?(?!(?:question|point|guess|bad|pleasure|turn|answer|thought|understanding|impression|mistake|request|reply|response|message|output|error|problem)\b)[a-z][\w -]{0,30}?)\s+(is|are)\s+(.+)$/i,
    fact: (m) => `User's ${lower(m[1])} ${lower(m[2])} ${thirdPerson(m[3])}`,
  },
];

const firstRules = rules.filter((rule) => rule.type === 'preference' || rule.type === 'profile');
const laterRules = rules.filter((rule) => !firstRules.includes(rule));

/** Shapes of the texts above, read back from stored memories. Order matters: first match wins. */
const shapes: Array<[RegExp, (match: RegExpExecArray) => Shape]> = [
  [/^User's standing rule: (always|never|do not|stop) (.+?)\.?$/i, (m) => preference(lower(m[1]) === 'always', m[2])],
  [/^User (prefers|likes|loves|enjoys|wants) (.+?)\.?$/i, (m) => preference(true, m[2])],
  [
    /^User (hates|dislikes|avoids|doesn't like|does not like|doesn't want|does not want|doesn't enjoy|does not enjoy|can't stand|cannot stand|would rather not|is not a fan of) (.+?)\.?$/i,
    (m) => preference(false, m[2]),
  ],
  [/^User's name is /i, () => ({ slot: 'name' })],
  [/^User lives in /i, () => ({ slot: 'home' })],
  [/^User works (?:at|for) /i, () => ({ slot: 'employer' })],
  [/^User (?:works as|'s job is) /i, () => ({ slot: 'job' })],
  [/^User is (?:now )?(?:a |an )?(?:vegetarian|vegan|pescatarian)\b/i, () => ({ slot: 'diet' })],
  [/^User's birthday is /i, () => ({ slot: 'birthday' })],
  [/^User's ((?:favou?rite )?[a-z][\w -]{0,30}?) (?:is|are) /i, (m) => ({ slot: `own:${lower(m[1])}` })],
];

const slotReasons: Record<string, string> = {
  name: 'name',
  home: 'home',
  employer: 'employer',
  job: 'job',
  diet: 'diet',
  birthday: 'birthday',
};

// "Do not use emojis." is an instruction, not a question.
const questionStart =
  /^(?:what|who|where|when|why|how|which|can|could|would|will|should|do(?!\s+not\b)|does|did|is|are|am|was|were|may|shall)\b/i;
const correctionWords =
  /\b(?:actually|now|instead|anymore|any more|no longer|changed my mind|correction|these days|nowadays|rather than)\b|^(?:no|sorry|wait|oops)\b/i;
const leadingFiller =
  /^(?:(?:actually|oh|well|ok|okay|so|also|and|btw|by the way|hmm|um|no|sorry|wait|oops|correction|update|fyi|just so you know)\b[\s,:;-]*)+/i;
// Words about when the user said or did it, which would make a lasting fact read oddly later.
const trailingFiller =
  /[\s,]+(?:now|these days|nowadays|instead|from now on|anymore|any more|recently|lately|last (?:week|month|year)|this (?:week|month|year)|a (?:few |couple of )?(?:days|weeks|months|years) ago)$/i;
// "I go to the gym on Monday" said of every Monday is a habit, not an event on the next one.
const habitual = /\b(?:usually|always|often|normally|generally|typically|every|each|sometimes|never)\b/i;
const deadlineWords =
  /\b(?:due|deadline|submit|hand in|turn in|finish|complete|deliver|pay|renew|file|need to|have to|must|got to|has to|remember to)\b/i;
const aboutUser = /^(?:my|our)\b|\bI(?:'m|'ve|'ll|'d)?\b|\b(?:due|deadline)\b/i;
const retirements: Array<[RegExp, (content: string) => string]> = [
  [/\bI(?:'m| am) no longer\s+(.+)$/i, (content) => `User is no longer ${content}`],
  [/\bI(?:'m| am) not\s+(.+?)\s+any\s?more\b/i, (content) => `User is no longer ${content}`],
  [/^not\s+(.+?)\s+any\s?more\b/i, (content) => `User is no longer ${content}`],
  [/\bI no longer\s+(.+)$/i, (content) => `User no longer ${conjugate(content)}`],
  [/\bI (?:don't|do not)\s+(.+?)\s+any\s?more\b/i, (content) => `User no longer ${conjugate(content)}`],
  [
    /\bI(?:'ve| have)?\s*(?:stopped|quit|given up)\s+(.+)$/i,
    (content) => `User has stopped ${content.replace(/^(?:my|their)\s+/i, '')}`,
  ],
];
const offers: RegExp[] = [
  /\b(?:would you like|do you want|want) me to\s+(.+?)\?*$/i,
  /\b(?:shall|should) I\s+(.+?)\?*$/i,
  /\bI(?:'ll| will)\s+(.+?\s+from now on)\b/i,
  /\bfrom now on,?\s+I(?:'ll| will)\s+(.+?)[.!]*$/i,
  /\bI can\s+(.+?)\s+if you(?:'d)? (?:like|want)\b/i,
];
const affirmation =
  /^(?:yes|yeah|yep|yup|sure|ok|okay|please do|please|go ahead|sounds good|that would be (?:great|nice|helpful|perfect)|perfect|great|absolutely|definitely|do it|do that|alright|all right|of course)\b/i;
const refusal = /^(?:no|nope|nah|not now|no thanks|don't)\b/i;
const reminderWords = /\b(?:remind|follow up|check in|schedule|send|notify|ping)\b/i;
// Verbs so common that sharing only them says nothing about which memory a retirement means.
const genericTerms = new Set(
  terms('live lives work works like likes love prefer enjoy want need have has eat drink use go do get make take user'),
);
// A memory a step corrects shares its words (the same slot, or most of the same object), so it
// ranks among the step's best matches.
const lookupLimit = 20;
// The types this extractor writes, and so may correct: episodes are what was said, never corrected.
const correctableTypes = ['preference', 'profile', 'fact', 'task', 'event'];
const rememberedOffers = 1000;

const optionsSchema = z
  .object(
    {
      metadata: z.record(z.string(), z.unknown()).optional(),
      timeZone: z.string().refine(isTimeZone, { error: 'an IANA time zone such as "Europe/Berlin"' }).optional(),
    },
    { error: 'an options object such as { metadata: { source: "chat" } }' },
  )
  .strict()
  .optional();

/**
 * Stores what the user says about themselves as short third-person facts with a type, with no
 * model call: "I prefer all temperatures in Celsius, never Fahrenheit." becomes the preference
 * "User prefers all temperatures in Celsius, never Fahrenheit.". Corrections update or delete the
 * memory they correct instead of adding a second one, dates become absolute and go to
 * `metadata.date`, and nothing already stored or injected is stored again. The default extractor
 * for stores that do not extract facts themselves. See the table above for what it recognises.
 *
 * Only when a turn states something does it read the store: a search per statement for the 20
 * stored memories of the types it writes that match it best, where what it corrects is found.
 * Relative dates are resolved against the turn's time (`Turn.at`, the wrapper's `now` clock). An
 * offer the assistant makes is remembered in this process for the next turn of the same scope,
 * where a "yes" turns it into a memory.
 *
 * @example
 * ```ts
 * const claude = withMemory(new Anthropic(), {
 *   scope: { userId },
 *   extract: heuristicExtractor({ metadata: { source: 'chat' }, timeZone: 'Europe/Berlin' }),
 * });
 * ```
 */
export function heuristicExtractor(options?: HeuristicExtractorOptions): Extractor {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw toInvalidOptionsError(parsed.error, 'extract');
  const metadata = parsed.data?.metadata;
  const timeZone = parsed.data?.timeZone ?? processTimeZone();
  const pendingOffers = new Map<string, string>();

  const withMetadata = (fact: FactInput): FactInput => {
    const merged = { ...metadata, ...fact.metadata };
    return Object.keys(merged).length > 0 ? { ...fact, metadata: merged } : fact;
  };

  return {
    name: 'heuristic',
    async extract({ userText, assistantText, scope, injected, at }, { store, signal }) {
      // Read and replace the scope's pending offer before any await, so turns keep their order.
      const key = scopeKey(scope);
      const offered = pendingOffers.get(key);
      pendingOffers.delete(key);
      const offer = findOffer(assistantText);
      if (offer) {
        pendingOffers.set(key, offer);
        if (pendingOffers.size > rememberedOffers) pendingOffers.delete(pendingOffers.keys().next().value as string);
      }

      const steps = readTurn(userText, offered, calendarDate(at, timeZone));
      if (steps.length === 0) return [];
      const stored = await storedMemories(store, scope, injected, steps, signal);
      return plan(
        steps.map((step) => (step.kind === 'fact' ? { ...step, fact: withMetadata(step.fact) } : step)),
        {
          stored,
          recalled: injected,
          fallbackMetadata: metadata,
        },
      );
    },
  };
}

/** The steps a turn asks for, in the order the user said them. */
function readTurn(userText: string, offered: string | undefined, today: CalendarDate): Step[] {
  const steps: Step[] = [];
  const said = sentences(userText);
  if (offered && said[0] && affirmation.test(said[0]) && !refusal.test(said[0])) {
    steps.push({
      kind: 'fact',
      fact: {
        text: finish(`User wants the assistant to ${offered}`),
        type: reminderWords.test(offered) ? 'task' : 'preference',
      },
      corrective: false,
      reason: "heuristic: the user accepted the assistant's offer",
    });
  }
  for (const raw of said) {
    if (isFiller(raw) || raw.endsWith('?') || questionStart.test(raw)) continue;
    const corrective = correctionWords.test(raw);
    const sentence = raw.replace(leadingFiller, '').trim();
    if (sentence === '' || isFiller(sentence) || questionStart.test(sentence)) continue;

    const retirement = retire(sentence);
    if (retirement) {
      steps.push(retirement);
      continue;
    }
    // Likes and profile details first: "I prefer meetings on Monday" is a preference, not an event.
    const fact = byRule(sentence, firstRules) ?? dated(sentence, today) ?? byRule(sentence, laterRules);
    if (fact) steps.push({ kind: 'fact', fact, corrective, reason: 'heuristic: stated by the user' });
  }
  return steps;
}

function retire(sentence: string): Step | undefined {
  for (const [pattern, statement] of retirements) {
    const match = pattern.exec(sentence);
    if (!match) continue;
    const content = tidy(thirdPerson(match[1]));
    if (content === '') return undefined;
    return { kind: 'retire', content, fallback: { text: finish(statement(content)), type: 'fact' } };
  }
  return undefined;
}

/** A sentence about the user with a date: an event, a deadline, or a birthday. */
function dated(sentence: string, today: CalendarDate): FactInput | undefined {
  if (!aboutUser.test(sentence) || habitual.test(sentence)) return undefined;
  const found = findDate(sentence, today, isPastTense(sentence));
  if (!found) return undefined;
  const before = sentence.slice(0, found.index);
  const after = sentence.slice(found.index + found.length);
  if (/\bbirthday\b/i.test(sentence)) {
    const label = dateLabel({ ...found, relative: false }, found.yearGiven);
    const date = found.yearGiven ? isoDate(found.date) : `--${isoDate(found.date).slice(5)}`;
    return { text: finish(subject(`${before}${label}${after}`)), type: 'profile', metadata: { date } };
  }
  // "tomorrow" becomes "on Thursday 4 June 2026": the memory must still be true next week.
  const needsOn = found.relative && !/\b(?:on|by|until|till|before|after|since|from|for)\s+$/i.test(before);
  const label = `${needsOn ? 'on ' : ''}${dateLabel(found)}`;
  return {
    text: finish(subject(`${before}${label}${after}`)),
    type: deadlineWords.test(sentence) ? 'task' : 'event',
    metadata: { date: isoDate(found.date) },
  };
}

function byRule(sentence: string, ruleSet: Rule[]): FactInput | undefined {
  for (const rule of ruleSet) {
    const match = rule.pattern.exec(sentence);
    if (match) return { text: finish(tidy(rule.fact(match))), type: rule.type };
  }
  return undefined;
}

/** The user's memories a turn may correct: what the store finds for each step, plus what was injected. */
async function storedMemories(
  store: MemoryStore,
  scope: Scope,
  injected: Memory[],
  steps: Step[],
  signal: AbortSignal,
): Promise<Memory[]> {
  const found: Memory[] = [];
  try {
    const queries = steps.map((step) => (step.kind === 'fact' ? step.fact.text : step.content));
    const results = await Promise.all(
      queries.map((query) => store.search(query, { scope, types: correctableTypes, limit: lookupLimit, signal })),
    );
    for (const hits of results) found.push(...checkHits(hits, store.name, scope).hits);
  } catch (error) {
    throw new ExtractionError(
      'heuristic',
      `could not read the stored memories a correction may replace (${error instanceof Error ? error.name : typeof error}); nothing was applied.`,
      { cause: error },
    );
  }
  const byId = new Map<string, Memory>();
  for (const memory of [...found, ...injected]) {
    if (!byId.has(memory.id) && scopeMatches(memory.scope, scope)) byId.set(memory.id, memory);
  }
  return [...byId.values()];
}

/** Turns the steps into operations against what is stored: update or delete where a step corrects, add the rest. */
function plan(
  steps: Step[],
  context: { stored: Memory[]; recalled: Memory[]; fallbackMetadata: Metadata | undefined },
): MemoryOperation[] {
  // Texts change as the plan goes, so a later sentence of the same turn sees the earlier ones.
  const live = context.stored.map((memory) => ({ memory, text: memory.text, gone: false }));
  const recalledTexts = context.recalled.map((memory) => normalise(memory.text));
  const known = () =>
    new Set([...live.filter((entry) => !entry.gone).map((entry) => normalise(entry.text)), ...recalledTexts]);
  const changes: MemoryOperation[] = [];
  const adds: Array<{ fact: FactInput; reason: string; shape: Shape }> = [];

  for (const step of steps) {
    if (step.kind === 'retire') {
      const target = retirementTarget(
        step.content,
        live.filter((entry) => !entry.gone),
      );
      if (target) {
        target.gone = true;
        changes.push({ kind: 'delete', id: target.memory.id, reason: 'heuristic: the user said this no longer holds' });
      } else if (!known().has(normalise(step.fallback.text))) {
        const fallback = context.fallbackMetadata
          ? { ...step.fallback, metadata: { ...context.fallbackMetadata } }
          : step.fallback;
        adds.push({ fact: fallback, reason: 'heuristic: stated by the user', shape: {} });
      }
      continue;
    }
    const { fact, corrective } = step;
    if (known().has(normalise(fact.text))) continue;
    const shape = describe(fact.text);
    // A second statement of the same detail in one turn replaces the first.
    const earlier = adds.findIndex((add) => sameSubject(shape, add.shape, corrective));
    if (earlier >= 0) adds.splice(earlier, 1);
    const target = correctionTarget(fact, shape, corrective, live);
    if (target) {
      target.text = fact.text;
      const metadata = fact.metadata ? { ...target.memory.metadata, ...fact.metadata } : undefined;
      changes.push({
        kind: 'update',
        id: target.memory.id,
        patch: { text: fact.text, ...(metadata && { metadata }) },
        reason: updateReason(shape, corrective),
      });
      continue;
    }
    adds.push({ fact, reason: step.reason, shape });
  }

  const byReason = new Map<string, FactInput[]>();
  for (const add of adds) byReason.set(add.reason, [...(byReason.get(add.reason) ?? []), add.fact]);
  for (const [reason, facts] of byReason) changes.push({ kind: 'add', write: { facts }, reason });
  return changes;
}

type LiveMemory = { memory: Memory; text: string; gone: boolean };

function correctionTarget(
  fact: FactInput,
  shape: Shape,
  corrective: boolean,
  live: LiveMemory[],
): LiveMemory | undefined {
  const candidates = live.filter((entry) => !entry.gone && entry.memory.type === fact.type);
  if (shape.slot) return candidates.find((entry) => describe(entry.text).slot === shape.slot);
  if (!shape.object) return undefined;
  let best: { entry: LiveMemory; overlap: number } | undefined;
  for (const entry of candidates) {
    const other = describe(entry.text);
    if (!other.object) continue;
    const overlap = objectOverlap(shape.object, other.object);
    if (overlap > (best?.overlap ?? 0)) best = { entry, overlap };
  }
  if (!best) return undefined;
  // Without a correction word only the same subject counts; with one, the closest does.
  return best.overlap >= 0.6 || (corrective && best.overlap > 0) ? best.entry : undefined;
}

function sameSubject(shape: Shape, other: Shape, corrective: boolean): boolean {
  if (shape.slot) return shape.slot === other.slot;
  if (!shape.object || !other.object) return false;
  const overlap = objectOverlap(shape.object, other.object);
  return overlap >= 0.6 || (corrective && overlap > 0);
}

function retirementTarget(content: string, live: LiveMemory[]): LiveMemory | undefined {
  const wanted = [...new Set(terms(content))].filter((term) => term !== 'user');
  if (wanted.length === 0) return undefined;
  const distinctive = wanted.filter((term) => !genericTerms.has(term));
  let best: { entry: LiveMemory; coverage: number } | undefined;
  for (const entry of live) {
    const have = new Set(terms(entry.text));
    const coverage = wanted.filter((term) => have.has(term)).length / wanted.length;
    const specific = distinctive.length === 0 ? coverage === 1 : distinctive.some((term) => have.has(term));
    if (specific && coverage >= 0.5 && coverage > (best?.coverage ?? 0)) best = { entry, coverage };
  }
  return best?.entry;
}

function updateReason(shape: Shape, corrective: boolean): string {
  if (shape.slot) {
    const label = slotReasons[shape.slot] ?? 'detail';
    return corrective
      ? `heuristic: the user corrected their ${label}`
      : `heuristic: a newer value of the user's ${label}`;
  }
  return corrective ? 'heuristic: the user corrected this preference' : 'heuristic: the user changed this preference';
}

function describe(text: string): Shape {
  for (const [pattern, shape] of shapes) {
    const match = pattern.exec(text);
    if (match) return shape(match);
  }
  return {};
}

function preference(positive: boolean, object: string | undefined): Shape {
  return { polarity: positive ? 1 : -1, object: object ?? '' };
}

function objectOverlap(a: string, b: string): number {
  const termsA = terms(a);
  const termsB = terms(b);
  if (termsA.length === 0 || termsB.length === 0) return 0;
  return wordOverlap(termsA, termsB);
}

function findOffer(assistantText: string): string | undefined {
  for (const sentence of sentences(assistantText).reverse()) {
    for (const pattern of offers) {
      const match = pattern.exec(sentence);
      if (match?.[1]) return tidy(secondToThird(match[1]));
    }
  }
  return undefined;
}

/** "My exam is on..." → "User's exam is on...", "I have..." → "User has...". */
function subject(sentence: string): string {
  const text = sentence.trim();
  const replaced = text
    .replace(/^(?:my|our)\s+/i, "User's ")
    .replace(/^I(?:'ve| have) got\s+/i, 'User has ')
    .replace(/^I(?:'m| am)\s+/i, 'User is ')
    .replace(/^I(?:'ll| will)\s+/i, 'User will ')
    .replace(
      /^I\s+(was|had|did|must|can|could|should|would|might)\s+/i,
      (_, verb: string) => `User ${verb.toLowerCase()} `,
    )
    .replace(/^I\s+(\w+)/i, (_, verb: string) => `User ${conjugate(verb)}`);
  const rest = replaced.startsWith('User') ? replaced : capitalise(replaced);
  return rest.startsWith('User') ? `User${thirdPerson(rest.slice(4)).replace(/^(?=[^'\s])/, ' ')}` : thirdPerson(rest);
}

/** "live in Paris" → "lives in Paris"; only the first word is a verb. */
function conjugate(phrase: string): string {
  return phrase.replace(/^(\w+)/, (verb) => {
    const word = verb.toLowerCase();
    if (word === 'have') return 'has';
    if (word === 'be') return 'is';
    if (word === 'do' || word === 'go') return `${word}es`;
    if (/(?:s|sh|ch|x|z|o)$/.test(word)) return `${word}es`;
    if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
    return `${word}s`;
  });
}

/** Turns the user's own words into the third person: "my" → "their", "I'm" → "they're". */
function thirdPerson(text: string | undefined): string {
  return (text ?? '')
    .replace(/\bI'm\b/g, "they're")
    .replace(/\bI am\b/g, 'they are')
    .replace(/\bI've\b/g, "they've")
    .replace(/\bI\b/g, 'they')
    .replace(/\bmy\b/gi, 'their')
    .replace(/\bmine\b/gi, 'theirs')
    .replace(/\bmyself\b/gi, 'themselves')
    .replace(/\bme\b/gi, 'them')
    .trim();
}

/** The assistant's "you" is the user and its "my" its own: "remind you about your exam" → "remind them about their exam". */
function secondToThird(text: string): string {
  return text
    .replace(/\bmyself\b/gi, 'itself')
    .replace(/\bmy\b/gi, 'its')
    .replace(/\byourself\b/gi, 'themselves')
    .replace(/\byours\b/gi, 'theirs')
    .replace(/\byour\b/gi, 'their')
    .replace(/\byou\b/gi, 'them')
    .trim();
}

function tidy(text: string): string {
  return text
    .replace(/[.!]+$/, '')
    .replace(trailingFiller, '')
    .trim();
}

function finish(text: string): string {
  const trimmed = text.replace(/[\s,;:]+$/, '');
  return /[.!]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function lower(text: string | undefined): string {
  return (text ?? '').toLowerCase();
}

// Every turn that states something compares it with up to 500 stored texts, mostly the same ones
// as the turn before: their normal forms are kept (a bounded cache, oldest out first).
const normalForms = new Map<string, string>();
const normalFormsKept = 5000;

function normalise(text: string): string {
  let found = normalForms.get(text);
  if (found === undefined) {
    found = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim();
    normalForms.set(text, found);
    if (normalForms.size > normalFormsKept) normalForms.delete(normalForms.keys().next().value as string);
  }
  return found;
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
