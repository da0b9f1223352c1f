/**
 * Episodes: what the user said in one turn, kept as said beside the facts extracted from it, so a
 * later question finds it even where no rule or model turned it into a fact ("when did I go to
 * the support group?"). Measured on LoCoMo with `npm run bench -- e2e`.
 *
 * @module
 */

import type { FactInput, MemoryOperation, Turn } from '../../core/types.js';
import { searchTerms } from '../../text/text-terms.js';
import { type CalendarDate, calendarDate, dateLabel, findDate } from './date-phrases.js';
import { isFiller, isPastTense, sentences } from './sentences.js';

/** The longest episode kept, in characters: a longer turn (a pasted document) is cut there. */
export const maxEpisodeLength = 1000;

/**
 * The episode of a turn: the user's text without its small-talk sentences ("Thanks!", "Wow,
 * John!"), each relative date in it ("yesterday", "last Friday", "in two weeks") followed by the
 * calendar date it meant on the day it was said, type `episode`, said at `turn.at`. `undefined`
 * when the turn is only small talk ("ok", "thanks!", "got it"), or when the facts extracted from
 * it already hold every word of it ("I prefer Celsius." and "User prefers Celsius."): the same
 * thing twice would cost tokens in every prompt that shows it.
 * Dates are reckoned in `timeZone`.
 *
 * @example
 * episodeOf({ userText: 'I went to the support group yesterday.', at: new Date('2023-05-08T13:56Z'), ... }, 'UTC');
 * // { text: 'I went to the support group yesterday (7 May 2023).', type: 'episode', createdAt: ..., metadata: { role: 'user' } }
 */
export function episodeOf(turn: Turn, extracted: MemoryOperation[], timeZone: string): FactInput | undefined {
  // Small talk carries nothing to find later, and costs tokens in every prompt it is shown in.
  const said = sentences(turn.userText).filter((sentence) => !isFiller(sentence));
  if (said.length === 0 || saysNothingNew(said.join(' '), extracted)) return undefined;
  const today = calendarDate(turn.at, timeZone);
  const text = said.map((sentence) => withCalendarDates(sentence, today)).join(' ');
  return { text: shorten(text), type: 'episode', createdAt: turn.at, metadata: { role: 'user' } };
}

// True when the extracted writes already hold every word: facts that restate the turn, or the
// exchange itself written as messages (for stores that extract facts themselves).
function saysNothingNew(text: string, extracted: MemoryOperation[]): boolean {
  const factTerms = new Set<string>();
  for (const operation of extracted) {
    if (operation.kind !== 'add') continue;
    const texts =
      'facts' in operation.write
        ? operation.write.facts.map((fact) => fact.text)
        : operation.write.messages.filter((message) => message.role === 'user').map((message) => message.content);
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

function shorten(text: string): string {
  if (text.length <= maxEpisodeLength) return text;
  const cut = text.slice(0, maxEpisodeLength - 1);
  const lastSpace = cut.lastIndexOf(' ');
  return `${lastSpace > maxEpisodeLength / 2 ? cut.slice(0, lastSpace) : cut}…`;
}
