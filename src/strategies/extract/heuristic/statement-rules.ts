/**
 * The statements the heuristic extractor recognises in a user's sentence, each with the fact it
 * writes, and beside them the shapes those facts are read back with (which detail a stored fact
 * is about), so a rule and its read-back change together.
 *
 * @module
 */

import type { MemoryType } from '../../../core/types.js';
import { lower, thirdPerson } from './third-person.js';

/** One statement pattern: what it matches in a user's sentence and the fact it makes of it. */
export interface Rule {
  type: MemoryType;
  pattern: RegExp;
  fact: (match: RegExpExecArray) => string;
}

/** What a stored or new fact is about, read from the third-person text this extractor writes. */
export interface Shape {
  /** A detail with one value at a time (name, home, employer...): a new value replaces the old. */
  slot?: string;
  /** For preferences: for (1) or against (-1) `object`. */
  polarity?: 1 | -1;
  object?: string;
}

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
// A like of what the assistant just said ("I like the idea", "I love these", "I like the example
// you gave") is a reaction, not a standing preference: the like rule below leaves it out.
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
      /\bI(?:\s+(?:really|generally|usually|now|actually|still|also|much|definitely))*\s*((?:'d|would) rather not|prefer|like|love|enjoy|hate|dislike|avoid|don't like|do not like|don't want|do not want|don't enjoy|do not enjoy|can't stand|cannot stand)\s+(?!(?:that|how|it|this|what|when|where|you|your|yours|the way|all the|seeing|hearing|to (?:see|hear)|these|those|the (?:idea|example|suggestion|tip|advice|list|sound|look|plan|way|template|option|recommendation)s?)\b)(?![^.]*\byou(?:rs?)?\b)(.+)$/i,
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

/** Likes and profile details: read before dates, so "I prefer meetings on Monday" is a preference. */
export const firstRules = rules.filter((rule) => rule.type === 'preference' || rule.type === 'profile');
/** The rules read after dates. */
export const laterRules = rules.filter((rule) => !firstRules.includes(rule));

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

/** What a fact this extractor wrote is about: its one-value slot, or its preference's object. */
export function describe(text: string): Shape {
  for (const [pattern, shape] of shapes) {
    const match = pattern.exec(text);
    if (match) return shape(match);
  }
  return {};
}

/**
 * The one-value detail a user's own sentence states, read with the rules above, and the fact it
 * makes: "I moved to Lisbon" states `home` ("User lives in Lisbon"), "my favourite colour is
 * green" `own:favourite colour`. `undefined` for a sentence that states none (a like, a story).
 */
export function statedSlot(sentence: string): { slot: string; fact: string } | undefined {
  for (const rule of [...firstRules, ...laterRules]) {
    const match = rule.pattern.exec(sentence);
    if (!match) continue;
    const fact = rule.fact(match);
    const slot = describe(fact).slot;
    return slot ? { slot, fact } : undefined;
  }
  return undefined;
}

function preference(positive: boolean, object: string | undefined): Shape {
  return { polarity: positive ? 1 : -1, object: object ?? '' };
}
