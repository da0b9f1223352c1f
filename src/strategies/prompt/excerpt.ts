/**
 * Dense blocks: a long memory shown by the part the question is about, its best-matching
 * sentences with their neighbours, so more of the relevant memories fit in the token budget.
 * Only one contiguous span of the stored text, in its order, with a visible mark where it was
 * cut: what the model reads still reads as what was said.
 *
 * @module
 */

import { estimateTokens } from '../../core/token-estimate.js';
import { terms } from '../../text/text-terms.js';

/** The mark shown where a memory was cut. */
export const cutMark = '…';

/** A memory's text split into sentences (list items and lines count as sentences), with their search terms. */
export interface Sentences {
  parts: string[];
  terms: Array<Set<string>>;
  tokens: number[];
}

/** Splits a memory's text for `excerpt`. */
export function splitSentences(text: string): Sentences {
  const parts = text
    .split(/(?<=[.!?])(?<!(?:^|\n)\s*\d{1,3}\.)\s+|\s*\n+\s*/)
    .map((part) => part.trim())
    .filter((part) => part !== '');
  return {
    parts,
    terms: parts.map((part) => new Set(terms(part))),
    tokens: parts.map((part) => estimateTokens(part) + 1),
  };
}

// English only, like the stemmer. A question for an amount or a count is answered by a sentence
// with a number in it; one asking when, by a sentence that names a time.
const asksAmount = /\b(?:how (?:many|much|long|often|far|old)|what (?:percentage|number|amount)|total)\b/i;
const asksTime =
  /\b(?:when|how long|how many (?:years|months|weeks|days)|what (?:year|month|day|date|time)|which (?:came |happened )?first)\b/i;
const numberMention =
  /\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|dozen|half|once|twice)\b/i;
const timeMention =
  /\b(?:yesterday|today|tonight|tomorrow|ago|last|next|weekend|week|month|year|since|(?:mon|tues|wednes|thurs|fri|satur|sun)day|january|february|march|april|may|june|july|august|september|october|november|december)\b|\d/i;

/**
 * What a sentence must mention to answer `query` besides its words: a number for "how many",
 * "how much", "what percentage"; a time for "when", "how long ago", "which came first".
 * `undefined` when the question asks for neither.
 *
 * @example
 * answerCue('How many plants did I buy?')?.test('I bought 8 of them.'); // true
 */
export function answerCue(query: string): RegExp | undefined {
  if (asksAmount.test(query)) return numberMention;
  if (asksTime.test(query)) return timeMention;
  return undefined;
}

/**
 * The contiguous run of `sentences` that best answers `queryTerms` within `maxTokens` (estimated):
 * the sentence that holds the most query terms (one term more when it mentions what `cue`
 * asks for: a number, a time), then its neighbours, the better matching one first, while they
 * fit. `cutMark` stands where text was left out. A text that fits is returned whole; a text that
 * matches nothing is shown from its start.
 *
 * @example
 * excerpt(splitSentences(longReply), new Set(searchTerms('which hotel did you suggest?')), 80);
 * // '… I suggest the Hotel Arts, right by the beach. It has a rooftop pool. …'
 */
export function excerpt(sentences: Sentences, queryTerms: Set<string>, maxTokens: number, cue?: RegExp): string {
  const { parts, tokens } = sentences;
  const whole = tokens.reduce((sum, cost) => sum + cost, 0);
  if (whole <= maxTokens) return parts.join(' ');
  const scores = sentences.terms.map((found, index) => {
    let score = 0;
    for (const term of queryTerms) if (found.has(term)) score += 1;
    // Only a sentence about the question gains by the cue: not every sentence with a number.
    return score > 0 && cue?.test(parts[index] ?? '') ? score + 1 : score;
  });
  let best = 0;
  for (let index = 1; index < scores.length; index += 1) if ((scores[index] ?? 0) > (scores[best] ?? 0)) best = index;
  const markCost = 2;
  let budget = maxTokens - markCost * 2 - (tokens[best] ?? 0);
  if (budget < 0) return clip(parts[best] ?? '', maxTokens - markCost * 2, best > 0);
  let first = best;
  let last = best;
  for (;;) {
    const before = first > 0 && (tokens[first - 1] ?? 0) <= budget ? first - 1 : undefined;
    const after = last < parts.length - 1 && (tokens[last + 1] ?? 0) <= budget ? last + 1 : undefined;
    if (before === undefined && after === undefined) break;
    const takeAfter = after !== undefined && (before === undefined || (scores[after] ?? 0) >= (scores[before] ?? 0));
    if (takeAfter) {
      last = after;
      budget -= tokens[after] ?? 0;
    } else if (before !== undefined) {
      first = before;
      budget -= tokens[before] ?? 0;
    }
  }
  const shown = parts.slice(first, last + 1).join(' ');
  return `${first > 0 ? `${cutMark} ` : ''}${shown}${last < parts.length - 1 ? ` ${cutMark}` : ''}`;
}

// One sentence longer than the budget: its start, cut at a word, on whole code points.
function clip(sentence: string, maxTokens: number, cutBefore: boolean): string {
  const characters = Array.from(sentence);
  let kept = characters.slice(0, Math.max(1, Math.floor(maxTokens * 3.6))).join('');
  while (kept.length > 1 && estimateTokens(kept) > maxTokens) kept = kept.slice(0, Math.floor(kept.length * 0.9));
  const lastSpace = kept.lastIndexOf(' ');
  if (lastSpace > kept.length / 2) kept = kept.slice(0, lastSpace);
  if (/[\ud800-\udbff]$/.test(kept)) kept = kept.slice(0, -1);
  return `${cutBefore ? `${cutMark} ` : ''}${kept} ${cutMark}`;
}
