/**
 * Text to search terms, shared by the stores that rank or compare text without embeddings.
 *
 * @module
 */

import { stemmer } from 'stemmer';

// Words are runs of letters, marks and digits of any script (with inner apostrophes: "don't");
// an emoji, with its modifiers and joined parts, is a term of its own.
const wordOrEmoji =
  /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*|\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F|\u200D\p{Extended_Pictographic})*/gu;
// Scripts written without spaces between words, where a run of letters is a phrase, not a word.
const unspacedScript =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
// ICU segments those scripts by dictionary; it is far slower than the regex, so it only sees the
// runs that need it. 'und' keeps the result independent of the machine's locale.
const wordSegmenter = new Intl.Segmenter('und', { granularity: 'word' });

const emoji = /^\p{Extended_Pictographic}/u;
const plainEnglishWord = /^[a-z]+$/;
const possessive = /['’]s$/;

// Words so common they say nothing about what a memory is about. Kept small on purpose: a longer
// list starts dropping words that matter ("not", "no", "off" change what a preference means).
const stopWords = new Set(
  'a an and are as at be by for from in is it of on or that the this to was were with'.split(' '),
);

/**
 * Splits text into search terms: lowercased words of any script (numbers included), emoji as terms
 * of their own, common English stop words dropped, English words reduced to their Porter stem.
 * Terms repeat as often as they occur, so callers can count term frequency.
 *
 * @example
 * terms('The user prefers dark themes 🌙'); // ['user', 'prefer', 'dark', 'theme', '🌙']
 */
export function terms(text: string): string[] {
  const found: string[] = [];
  for (const [token] of text.normalize('NFKC').toLowerCase().matchAll(wordOrEmoji)) {
    if (emoji.test(token)) found.push(token);
    else if (unspacedScript.test(token)) {
      for (const { segment, isWordLike } of wordSegmenter.segment(token)) if (isWordLike) pushWord(found, segment);
    } else pushWord(found, token);
  }
  return found;
}

function pushWord(found: string[], token: string): void {
  const word = token.replace(possessive, '');
  if (word === '' || stopWords.has(word)) return;
  // Porter's rules are for English: applied to other words they would cut real letters off.
  found.push(plainEnglishWord.test(word) ? stemmer(word) : word);
}

/**
 * How much two term lists overlap: the Jaccard index of their term sets, from 0 (nothing shared)
 * to 1 (the same terms). Two empty lists count as identical.
 *
 * @example
 * wordOverlap(terms('User likes dark mode'), terms('The user likes dark mode')); // 1
 */
export function wordOverlap(a: string[], b: string[]): number {
  const setA = new Set(a);
  const setB = new Set(b);
  if (setA.size === 0 && setB.size === 0) return 1;
  let shared = 0;
  for (const term of setA) if (setB.has(term)) shared += 1;
  return shared / (setA.size + setB.size - shared);
}
