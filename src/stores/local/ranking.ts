/**
 * How the local store ranks search candidates: BM25 over terms, cosine similarity when an embedder
 * is set, a small recency weight. Kept apart from the SQL so retrieval quality can be tuned (on
 * LoCoMo, say) without touching storage.
 *
 * Every score is between 0 and 1 and means the same thing on any corpus size, so a `threshold`
 * keeps its meaning from a test store of three memories to a file of a million:
 *
 * - Lexical: BM25 (k1 1.2, b 0.75) with the statistics of the searched scope, adjusted by
 *   `contextualScores` (neighbours in write order, time cues; shared with the in-memory store, so
 *   both rank alike). The raw score is divided by the sum of the query terms' IDF and mapped
 *   through `x / (x + 1)`: a lone memory holding every query term once, at average length, scores
 *   0.5.
 * - Vector: the cosine similarity of the query's and the memory's embeddings, below 0 counted as 0.
 * - Fusion: with both, the weighted mean of the two (relative score fusion). It is used instead of
 *   reciprocal-rank fusion because ranks throw away how good the best match is: under RRF the top
 *   hit of a query that matches nothing well still scores 1. Where a memory has no vector (stored
 *   before the embedder was set) the lexical score stands alone.
 * - Recency: the relevance is multiplied by `1 - w + w * 0.5^(age / halfLife)`, so a memory
 *   updated today keeps its full score and a very old one keeps `1 - w` of it.
 *
 * @module
 */

import { contextualScores } from '../contextual-ranking.js';

/** The knobs of the ranking. */
export const rankingSettings = {
  /** BM25 term-frequency saturation. */
  k1: 1.2,
  /** BM25 length normalisation. */
  b: 0.75,
  /** Weight of the lexical score in hybrid fusion. */
  lexicalWeight: 0.5,
  /** Weight of the vector score in hybrid fusion. */
  vectorWeight: 0.5,
  /** Share of the score that recency can take away (0 turns recency off). */
  recencyWeight: 0.1,
  /** Age at which the recency part of the score halves. */
  recencyHalfLifeMs: 30 * 86_400_000,
  /**
   * A scope of at most this many memories is scored whole (exact BM25 statistics); a larger one is
   * narrowed by the FTS index first.
   */
  scanLimit: 2000,
  /** Lexical candidates fetched from the index (best BM25 first) in a larger scope. */
  lexicalPool: (limit: number): number => Math.max(200, limit * 4),
  /** Vector candidates kept (best cosine first) in a larger scope. */
  vectorPool: (limit: number): number => Math.max(100, limit * 4),
} as const;

/** A candidate as the ranking sees it. */
export interface RankCandidate {
  /** The memory's terms (`terms(text)`); may be left empty for a memory holding no query term. */
  terms: string[];
  /** The memory's text, for the time cues of `contextualScores`; needed where it holds a query term. */
  text?: string;
  /** Cosine similarity to the query, when both have vectors. */
  similarity?: number;
  /** Last update, in milliseconds since the epoch. */
  updatedAt: number;
}

/** The corpus statistics the lexical score needs. */
export interface LexicalCorpus {
  /** How many memories the search could return at all (scope, types, filters, unexpired). */
  size: number;
  /** Their average number of terms; the candidates' average when not given. */
  averageLength?: number;
  /**
   * True when the candidates are the whole searched set in write order: then neighbouring
   * memories lend each other weight (`contextualScores`), as in the in-memory store.
   */
  wholeSetInWriteOrder?: boolean;
}

/**
 * Scores every candidate between 0 and 1, in candidate order.
 *
 * `candidates` must include every memory of the corpus that holds a query term (in a large scope:
 * the best of them by BM25): the document frequencies are counted on them.
 */
export function scoreCandidates(
  query: string,
  queryTerms: string[],
  candidates: RankCandidate[],
  corpus: LexicalCorpus,
  now: number,
): number[] {
  const lexical = lexicalScores(query, queryTerms, candidates, corpus);
  return candidates.map((candidate, index) => {
    const lexicalScore = lexical[index] ?? 0;
    const relevance =
      candidate.similarity === undefined
        ? lexicalScore
        : (rankingSettings.lexicalWeight * lexicalScore +
            rankingSettings.vectorWeight * Math.max(0, candidate.similarity)) /
          (rankingSettings.lexicalWeight + rankingSettings.vectorWeight);
    return clamp(relevance * recencyFactor(candidate.updatedAt, now));
  });
}

/**
 * BM25 of each candidate, adjusted by `contextualScores` (time cues; neighbours too when the
 * candidates are the whole set in write order), normalised to 0..1 (see the module comment).
 */
export function lexicalScores(
  query: string,
  queryTerms: string[],
  candidates: RankCandidate[],
  corpus: LexicalCorpus,
): number[] {
  const distinctQuery = [...new Set(queryTerms)];
  if (distinctQuery.length === 0 || candidates.length === 0) return candidates.map(() => 0);
  const queried = new Set(distinctQuery);
  // Term counts only for the candidates that hold a query term: most of a scope holds none.
  let totalLength = 0;
  const containing = new Map<string, number>();
  const counts = candidates.map((candidate) => {
    totalLength += candidate.terms.length;
    let count: Map<string, number> | undefined;
    for (const term of candidate.terms) {
      if (!queried.has(term)) continue;
      count ??= new Map();
      count.set(term, (count.get(term) ?? 0) + 1);
    }
    for (const term of count?.keys() ?? []) containing.set(term, (containing.get(term) ?? 0) + 1);
    return count;
  });
  const averageLength = corpus.averageLength || totalLength / candidates.length || 1;
  const size = Math.max(corpus.size, candidates.length);
  const idf = new Map<string, number>();
  for (const term of distinctQuery) {
    const found = containing.get(term) ?? 0;
    // Lucene's variant: always positive, so a term found in most memories still counts a little.
    idf.set(term, Math.log(1 + (size - found + 0.5) / (found + 0.5)));
  }
  const idfSum = [...idf.values()].reduce((sum, value) => sum + value, 0) || 1;
  const { k1, b } = rankingSettings;
  const raws = candidates.map((candidate, index) => {
    const count = counts[index];
    if (!count) return 0;
    const lengthNorm = k1 * (1 - b + (b * candidate.terms.length) / averageLength);
    let raw = 0;
    for (const [term, frequency] of count)
      raw += ((idf.get(term) ?? 0) * frequency * (k1 + 1)) / (frequency + lengthNorm);
    return raw;
  });
  const texts = candidates.map((candidate) => candidate.text ?? '');
  // Neighbours only mean something when the candidates are the whole set in write order; the
  // time cue works on each memory alone, so it applies either way.
  const adjusted = corpus.wholeSetInWriteOrder
    ? contextualScores(raws, texts, query)
    : raws.map((raw, index) => contextualScores([raw], [texts[index] ?? ''], query)[0] ?? 0);
  return adjusted.map((score) => {
    const relative = score / idfSum;
    return relative / (relative + 1);
  });
}

/** The multiplier recency applies to a relevance score. */
export function recencyFactor(updatedAt: number, now: number): number {
  const { recencyWeight, recencyHalfLifeMs } = rankingSettings;
  const age = Math.max(0, now - updatedAt);
  return 1 - recencyWeight + recencyWeight * 0.5 ** (age / recencyHalfLifeMs);
}

function clamp(score: number): number {
  return Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0;
}
