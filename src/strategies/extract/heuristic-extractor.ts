import { z } from 'zod';
import { toInvalidOptionsError } from '../../core/options.js';
import type { Extractor, FactInput, MemoryType } from '../../core/types.js';

/** Options of `heuristicExtractor`. */
export interface HeuristicExtractorOptions {
  /** Metadata put on every fact it stores, e.g. `{ source: 'chat' }`. */
  metadata?: Record<string, unknown>;
}

/** One statement pattern: what it matches in a user's sentence and the fact it makes of it. */
interface Rule {
  type: MemoryType;
  pattern: RegExp;
  fact: (match: RegExpExecArray) => string;
}

const likeVerbs: Record<string, string> = {
  prefer: 'prefers',
  like: 'likes',
  love: 'loves',
  enjoy: 'enjoys',
  hate: 'hates',
  dislike: 'dislikes',
  "don't like": "doesn't like",
  'do not like': 'does not like',
  "can't stand": "can't stand",
  'cannot stand': 'cannot stand',
};

/**
 * What the heuristic extractor recognises in the user's own sentences (questions, greetings and
 * small talk are ignored; the assistant's text is never mined):
 * - rules: "always ...", "never ..." (preference)
 * - likes and dislikes: "I prefer / like / love / enjoy / hate / dislike / don't like / can't stand ..." (preference)
 * - identity: "my name is ...", "call me ..." (profile)
 * - location: "I live in ...", "I'm based in / from ...", "I moved to ..." (profile)
 * - work: "I work at / for / as ...", "my job is ..." (profile)
 * - diet and health: "I'm allergic to ...", "I'm vegetarian / vegan ..." (profile)
 * - current work: "I'm working on ..." (task)
 * - favourites and own things: "my favourite X is ...", "my X is ..." (fact)
 */
const rules: Rule[] = [
  {
    type: 'preference',
    pattern: /^(?:please\s+)?(always|never)\s+(.+)$/i,
    fact: (m) => `User's standing rule: ${lower(m[1])} ${thirdPerson(m[2])}`,
  },
  {
    type: 'preference',
    pattern:
      /\bI\s+(?:really\s+|generally\s+|usually\s+)?(prefer|like|love|enjoy|hate|dislike|don't like|do not like|can't stand|cannot stand)\s+(.+)$/i,
    fact: (m) => `User ${likeVerbs[lower(m[1])] ?? lower(m[1])} ${thirdPerson(m[2])}`,
  },
  { type: 'profile', pattern: /\bmy name is\s+(.+)$/i, fact: (m) => `User's name is ${thirdPerson(m[1])}` },
  { type: 'profile', pattern: /^call me\s+(.+)$/i, fact: (m) => `User's name is ${thirdPerson(m[1])}` },
  {
    type: 'profile',
    pattern: /\bI(?:'m| am)\s+(?:based in|from|living in)\s+(.+)$/i,
    fact: (m) => `User lives in ${thirdPerson(m[1])}`,
  },
  {
    type: 'profile',
    pattern: /\bI\s+(?:now\s+)?(?:live in|(?:have\s+|'ve\s+)?moved to)\s+(.+)$/i,
    fact: (m) => `User lives in ${thirdPerson(m[1])}`,
  },
  {
    type: 'profile',
    pattern: /\bI\s+work\s+(at|for|as)\s+(.+)$/i,
    fact: (m) => `User works ${lower(m[1])} ${thirdPerson(m[2])}`,
  },
  { type: 'profile', pattern: /\bmy job is\s+(.+)$/i, fact: (m) => `User's job is ${thirdPerson(m[1])}` },
  {
    type: 'profile',
    pattern:
      /\bI(?:'m| am)\s+(allergic to .+|(?:a\s+)?(?:vegetarian|vegan|pescatarian|diabetic|lactose intolerant|gluten intolerant)\b.*)$/i,
    fact: (m) => `User is ${thirdPerson(m[1])}`,
  },
  {
    type: 'task',
    pattern: /\bI(?:'m| am)\s+(?:currently\s+)?working on\s+(.+)$/i,
    fact: (m) => `User is working on ${thirdPerson(m[1])}`,
  },
  {
    type: 'fact',
    pattern: /\bmy\s+((?:favou?rite\s+)?[a-z][\w -]{0,30}?)\s+(is|are)\s+(.+)$/i,
    fact: (m) => `User's ${lower(m[1])} ${lower(m[2])} ${thirdPerson(m[3])}`,
  },
];

const smallTalk =
  /^(?:hi|hello|hey|yo|thanks|thank you|thx|ok|okay|cool|great|nice|sure|bye|goodbye|good (?:morning|afternoon|evening|night)|lol|yes|no|yep|nope)\b[\s!.,]*$/i;
const questionStart =
  /^(?:what|who|where|when|why|how|which|can|could|would|will|should|do|does|did|is|are|am|was|were|may|shall)\b/i;

const optionsSchema = z
  .object({ metadata: z.record(z.string(), z.unknown()).optional() })
  .strict()
  .optional();

/**
 * Stores what the user says about themselves as short third-person facts with a type, with no
 * model call: "I prefer all temperatures in Celsius, never Fahrenheit." becomes the preference
 * "User prefers all temperatures in Celsius, never Fahrenheit.". The default extractor for stores
 * that do not extract facts themselves. See the rule list above for what it recognises.
 *
 * @example
 * ```ts
 * const claude = withMemory(new Anthropic(), {
 *   scope: { userId },
 *   extract: heuristicExtractor({ metadata: { source: 'chat' } }),
 * });
 * ```
 */
export function heuristicExtractor(options?: HeuristicExtractorOptions): Extractor {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw toInvalidOptionsError(parsed.error, 'extract');
  const metadata = parsed.data?.metadata;

  return {
    name: 'heuristic',
    async extract({ userText, injected }) {
      const recalled = new Set(injected.map((memory) => normalise(memory.text)));
      const facts: FactInput[] = [];
      for (const sentence of sentences(userText)) {
        if (smallTalk.test(sentence) || sentence.endsWith('?') || questionStart.test(sentence)) continue;
        for (const rule of rules) {
          const match = rule.pattern.exec(sentence);
          if (!match) continue;
          const text = finish(rule.fact(match));
          if (!recalled.has(normalise(text))) {
            facts.push({ text, type: rule.type, ...(metadata && { metadata: { ...metadata } }) });
          }
          break;
        }
      }
      return facts.length > 0 ? [{ kind: 'add', write: { facts } }] : [];
    },
  };
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
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

function finish(text: string): string {
  const trimmed = text.replace(/[\s,;:]+$/, '');
  return /[.!]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function lower(text: string | undefined): string {
  return (text ?? '').toLowerCase();
}

function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
