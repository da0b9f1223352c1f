/**
 * Episodes: what the user said in one turn, kept as said beside the facts extracted from it, so a
 * later question finds it even where no rule or model turned it into a fact ("when did I go to
 * the support group?"), and what the assistant said that the user may ask about later ("which
 * hotel did you suggest?"). Measured with `npm run bench -- e2e` (LoCoMo) and
 * `npm run bench -- longmemeval`.
 *
 * @module
 */

import type { FactInput, Memory, MemoryOperation, Turn } from '../../core/types.js';
import { searchTerms } from '../../text/text-terms.js';
import { type CalendarDate, calendarDate, dateLabel, findDate } from './date-phrases.js';
import { isFiller, isPastTense, sentences } from './sentences.js';

/**
 * The longest episode kept, in characters: a longer turn (a pasted document) is cut there. A long
 * episode is shown by its part about the question (see the prompt builder), so it may be long.
 */
export const maxEpisodeLength = 3000;

/**
 * A reply up to this many characters is kept whole; of a longer one, only the sentences and list
 * items that hold a name, a number or a list entry (what a user asks about later: "which hotel
 * did you suggest?", "how many eggs did you say?").
 */
export const shortReplyLength = 400;

/**
 * The episode of a turn: the user's text without its small-talk sentences ("Thanks!", "Wow,
 * John!") and without anything it quotes of the injected memories, each relative date in it
 * ("yesterday", "last Friday", "in two weeks") followed by the calendar date it meant on the day
 * it was said, type `episode`, said at `turn.at`. `undefined` when the turn is only small talk
 * ("ok", "thanks, that helps"), or when the facts extracted from it already hold every word of it
 * ("I prefer Celsius." and "User prefers Celsius."): the same thing twice would cost tokens in
 * every prompt that shows it. Dates are reckoned in `timeZone`.
 *
 * @example
 * episodeOf({ userText: 'I went to the support group yesterday.', at: new Date('2023-05-08T13:56Z'), ... }, 'UTC');
 * // { text: 'I went to the support group yesterday (7 May 2023).', type: 'episode', createdAt: ..., metadata: { role: 'user' } }
 */
export function episodeOf(turn: Turn, extracted: MemoryOperation[], timeZone: string): FactInput | undefined {
  // Small talk carries nothing to find later, and costs tokens in every prompt it is shown in.
  const said = ownSentences(turn.userText, turn.injected);
  if (said.length === 0 || saysNothingNew(said.join(' '), extracted, 'user')) return undefined;
  const today = calendarDate(turn.at, timeZone);
  const text = said.map((sentence) => withCalendarDates(sentence, today)).join(' ');
  return { text: shorten(text), type: 'episode', createdAt: turn.at, metadata: { role: 'user' } };
}

/**
 * What the assistant said in a turn that the user may ask about later, type `episode`,
 * `metadata.role` `'assistant'`, said at `turn.at`: a short reply whole, of a longer one the
 * sentences and list items with a name or a number, list entries and the lines that introduce
 * them, in their order, markdown emphasis removed. Never what it quotes of the injected
 * memories; `undefined` for small talk, for the answer to a turn of small talk, and when the
 * extracted writes already hold every word of it (the exchange written as messages).
 *
 * @example
 * replyEpisodeOf({ assistantText: 'Try the Hotel Arts in Barcelona, right by the beach.', ... }, [], 'UTC');
 * // { text: 'Try the Hotel Arts in Barcelona, right by the beach.', type: 'episode', metadata: { role: 'assistant' }, ... }
 */
export function replyEpisodeOf(turn: Turn, extracted: MemoryOperation[], timeZone: string): FactInput | undefined {
  // The answer to "Thanks, that helps." is small talk too, however it is worded.
  if (ownSentences(turn.userText, []).length === 0) return undefined;
  const said = ownSentences(plainText(turn.assistantText), turn.injected);
  const whole = said.join(' ');
  // A reply written without capitals gives no sign of where its names are: all of it is kept.
  const kept =
    whole.length <= shortReplyLength || inLowerCase(said)
      ? said
      : said.filter((sentence) => worthKeeping.test(sentence));
  if (kept.length === 0 || saysNothingNew(kept.join(' '), extracted, 'assistant')) return undefined;
  const today = calendarDate(turn.at, timeZone);
  const text = kept.map((sentence) => withCalendarDates(sentence, today)).join(' ');
  return { text: shorten(text), type: 'episode', createdAt: turn.at, metadata: { role: 'assistant' } };
}

/**
 * The writes of a turn's episodes, each an `add` of its own (so `shouldWrite` can judge each):
 * what the user said when `episodes`, what the assistant said when `replies`.
 *
 * @example
 * turnEpisodes(turn, extracted, { episodes: true, replies: true, timeZone: 'UTC' });
 * // [{ kind: 'add', write: { facts: [userEpisode] }, reason: 'episode: what the user said' }, ...]
 */
export function turnEpisodes(
  turn: Turn,
  extracted: MemoryOperation[],
  { episodes, replies, timeZone }: { episodes: boolean; replies: boolean; timeZone: string },
): MemoryOperation[] {
  const operations: MemoryOperation[] = [];
  const user = episodes ? episodeOf(turn, extracted, timeZone) : undefined;
  if (user) operations.push({ kind: 'add', write: { facts: [user] }, reason: 'episode: what the user said' });
  const reply = replies ? replyEpisodeOf(turn, extracted, timeZone) : undefined;
  if (reply) operations.push({ kind: 'add', write: { facts: [reply] }, reason: 'episode: what the assistant said' });
  return operations;
}

// A list entry, the line that introduces a list (it says what the list is of), a number, or a
// name (a capitalised word after a sentence's first word).
const worthKeeping = /^(?:[-*•]|\d+[.)])\s|:$|\d|\S\s+["“']?\p{Lu}[\p{L}\p{N}]/u;

// True when most sentences start with a lower-case letter: a text typed without capitals.
function inLowerCase(sentences: string[]): boolean {
  const lower = sentences.filter((sentence) => /^\p{Ll}/u.test(sentence)).length;
  return lower * 2 > sentences.length;
}
// A quoted memory block, from its opening tag to its closing one (or the end of the text).
const quotedBlock = /<memories>[\s\S]*?(?:<\/memories>|$)/gi;
// The tag a rendered memory line starts with: "- [said 8 May 2023] ", "- [preference, 8 May 2023] ".
const lineTag = /^\s*-?\s*\[[^\]\n]{1,80}\]\s*/;

const minQuotedLength = 20;

// The sentences of a text that are its own: no small talk, nothing quoted of the memory block,
// no sentence that repeats an injected memory (the block is never stored back).
function ownSentences(text: string, injected: Memory[]): string[] {
  const injectedTerms = injected.map((memory) => new Set(searchTerms(memory.text)));
  let own = text.replace(quotedBlock, '\n');
  // A memory quoted inside a longer sentence ('you told me "User prefers Celsius."') goes too,
  // with the quotation marks around it.
  for (const memory of injected) {
    if (memory.text.length < minQuotedLength) continue;
    const quoted = memory.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    own = own.replace(new RegExp(`\\s*["'“‘«]?${quoted}["'”’»]?\\s*`, 'g'), ' ');
  }
  return sentences(own)
    .map((sentence) => sentence.replace(lineTag, ''))
    .filter((sentence) => sentence !== '' && !isFiller(sentence) && !repeats(sentence, injectedTerms));
}

// True when every word of the sentence is in one injected memory and it says most of that memory.
function repeats(sentence: string, injectedTerms: Array<Set<string>>): boolean {
  const said = new Set(searchTerms(sentence));
  if (said.size === 0) return false;
  return injectedTerms.some((memory) => {
    for (const term of said) if (!memory.has(term)) return false;
    return said.size * 2 >= memory.size;
  });
}

// Markdown a reply is often written in: emphasis, headings and code marks say nothing later.
function plainText(text: string): string {
  return text.replace(/\*\*|__|`+/g, '').replace(/^\s*#{1,6}\s+/gm, '');
}

// True when the extracted writes already hold every word: facts that restate the turn, or the
// exchange itself written as messages (for stores that extract facts themselves), of that role.
function saysNothingNew(text: string, extracted: MemoryOperation[], role: 'user' | 'assistant'): boolean {
  const factTerms = new Set<string>();
  for (const operation of extracted) {
    if (operation.kind !== 'add') continue;
    const texts =
      'facts' in operation.write
        ? operation.write.facts.map((fact) => fact.text)
        : operation.write.messages.filter((message) => message.role === role).map((message) => message.content);
    for (const written of texts) for (const term of searchTerms(written)) factTerms.add(term);
  }
  // Words of the content only: "I", "my", "did" become "User", "User's", "-ed" in a fact.
  return factTerms.size > 0 && searchTerms(text).every((term) => factTerms.has(term));
}

// "yesterday" means nothing a week later: the calendar date it meant goes beside it.
function withCalendarDates(sentence: string, today: CalendarDate): string {
  const past = isPastTense(sentence);
  let rest = sentence;
  let done = '';
  for (let found = findDate(rest, today, past); found; found = findDate(rest, today, past)) {
    const end = found.index + found.length;
    done += rest.slice(0, end);
    if (found.relative) done += ` (${dateLabel({ date: found.date, relative: false })})`;
    rest = rest.slice(end);
  }
  return done + rest;
}

// Cut on whole code points: half of a surrogate pair is not text, and PostgreSQL refuses it.
function shorten(text: string): string {
  if (text.length <= maxEpisodeLength) return text;
  let cut = text.slice(0, maxEpisodeLength - 1);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  const lastSpace = cut.lastIndexOf(' ');
  return `${lastSpace > maxEpisodeLength / 2 ? cut.slice(0, lastSpace) : cut}…`;
}
