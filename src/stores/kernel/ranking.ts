/**
 * How the local store ranks search candidates: BM25 over terms, cosine similarity when an embedder
 * is set, a small recency weight. Kept apart from the SQL so retrieval quality can be tuned (on
 * LoCoMo, say) without touching storage.
 *
 * Every score is between 0 and 1 and means the same thing on any corpus size, so a `threshold`
 * keeps its meaning from a test store of three memories to a file of a million:
 *
 * - Lexical: BM25 (k1 1.2, b 0.75) with the statistics of the searched scope (how many memories it
 *   holds, their average length, in how many each query term occurs: every memory of the scope
 *   counts, whatever its type, metadata or expiry), adjusted by `contextualScore` (neighbours in
 *   write order within the searched set, time cues; shared with the in-memory store, so both rank
 *   alike). The raw score is divided by the sum of the query terms' IDF and mapped through
 *   `x / (x + 1)`: a lone memory holding every query term once, at average length, scores 0.5.
 * - Vector: the cosine similarity of the query's and the memory's embeddings, below 0 counted as 0.
 * - Fusion: with both, the weighted mean of the two (relative score fusion). It is used instead of
 *   reciprocal-rank fusion because ranks throw away how good the best match is: under RRF the top
 *   hit of a query that matches nothing well still scores 1. Where a memory has no vector (stored
 *   before the embedder was set) the lexical score stands alone.
 * - Recency: the relevance is multiplied by `1 - w + w * 0.5^(age / halfLife)`, so a memory
 *   updated today keeps its full score and a very old one keeps `1 - w` of it.
 *
 * Only the memories that hold a query term are scored, and only those that can still reach the
 * results look up their neighbours, so a search costs what its matches cost, not what the scope
 * holds.
 *
 * @module
 */

import type { ScoreParts } from '../../core/types.js';
import { asksForTime, contextualScore, neighbourWeights, timeCueBoost } from '../contextual-ranking.js';

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
   * A query term found in more memories of the scope than this is common: its memories are not all
   * read (only the oldest this many, when the rarer terms match too few), and its document
   * frequency is estimated from how far into the scope they reach.
   */
  termPostingLimit: 250,
  /** Matches wanted before common terms' memories are read too. */
  lexicalPool: (limit: number): number => Math.max(200, limit * 4),
  /**
   * When the matches are at least this share of the scope, the whole scope is read in write order
   * (one sequential walk, neighbours for free, every term counted exactly) instead of looking up
   * each match and its neighbours.
   */
  wholeScopeShare: 1 / 3,
  /** A scope of at most this many memories is read whole without asking the index first. */
  wholeScopeSize: 500,
  /** Vector candidates kept (best cosine first), beside the lexical ones. */
  vectorPool: (limit: number): number => Math.max(100, limit * 4),
} as const;

/** A memory that holds a query term (or has a vector close to the query's), as the ranking sees it. */
export interface RankCandidate {
  /** Its place in write order (a sequence number): how neighbours are found. */
  key: number;
  /** The memory's terms (`terms(text)`). */
  terms: string[];
  /** Cosine similarity to the query, when both have vectors. */
  similarity?: number;
  /** Last update, in milliseconds since the epoch. */
  updatedAt: number;
}

/** The statistics of the searched scope that BM25 needs. */
export interface ScopeStatistics {
  /** Memories stored in the scope (any type, metadata or expiry). */
  size: number;
  /** Their terms, all counted. */
  totalTerms: number;
  /** In how many memories of the scope each query term occurs. */
  documentFrequency: ReadonlyMap<string, number>;
}

/** What the ranking needs to know of a memory beyond its words: its text and neighbours. */
export interface MemoryContext {
  text: string;
  /** Keys of the searched set's memories written just before it, nearest first (at most 2). */
  before: number[];
  /** Keys of those written just after it, nearest first (at most 2). */
  after: number[];
}

/** A candidate with its score and how the score was made. */
export interface RankedCandidate<C extends RankCandidate> {
  candidate: C;
  score: number;
  parts: ScoreParts;
}

/** How many hits a ranking returns, and the least score they need. */
export interface RankLimits {
  limit: number;
  threshold: number;
  /** Milliseconds since the epoch, for recency. */
  now: number;
}

/**
 * Scores the candidates between 0 and 1 and returns the best `limit` at or above `threshold`, best
 * first (ties: newest first). Neighbours are looked up (`contextOf`) for the best matches by their
 * own words, a batch at a time; a match that could no longer reach the results, even with the best
 * neighbours it may have, is dropped unranked: the results are those of ranking every candidate.
 */
export function rankCandidates<C extends RankCandidate>(
  query: string,
  queryTerms: string[],
  candidates: C[],
  statistics: ScopeStatistics,
  contextOf: (keys: number[]) => ReadonlyMap<number, MemoryContext>,
  { limit, threshold, now }: RankLimits,
): Array<RankedCandidate<C>> {
  if (limit <= 0) return [];
  const { idf, idfSum } = inverseDocumentFrequencies(queryTerms, statistics);
  const averageLength = statistics.totalTerms / Math.max(1, statistics.size) || 1;
  const raws = new Map<number, number>();
  const ownScore = ownScorer(idf, averageLength);
  for (const candidate of candidates) {
    const raw = ownScore(candidate.terms);
    if (raw > 0) raws.set(candidate.key, raw);
  }
  const byOwnScore = candidates
    .filter((candidate) => raws.has(candidate.key))
    .sort((x, y) => (raws.get(y.key) ?? 0) - (raws.get(x.key) ?? 0) || x.key - y.key);
  const timeWanted = asksForTime(query);
  const withVectors = candidates.some((candidate) => candidate.similarity !== undefined);
  // How each score was made is kept as numbers; the parts objects are built for the results only.
  const ranked: Array<{ candidate: C; score: number; words: number; lexical: number; recency: number }> = [];
  const rank = (candidate: C, own: number, lexical: number) => {
    const recency = recencyFactor(candidate.updatedAt, now);
    const relevance =
      candidate.similarity === undefined
        ? lexical
        : (rankingSettings.lexicalWeight * lexical + rankingSettings.vectorWeight * Math.max(0, candidate.similarity)) /
          (rankingSettings.lexicalWeight + rankingSettings.vectorWeight);
    const score = clamp(relevance * recency);
    if (score <= 0 || score < threshold) return;
    ranked.push({ candidate, score, words: normalise(own, idfSum), lexical, recency });
  };
  const rawOf = (key: number | undefined) => (key === undefined ? 0 : (raws.get(key) ?? 0));

  // The raw score of the best ranked memory known to sit beside each unranked one, by distance:
  // what it can gain from a ranked neighbour.
  const lent = neighbourWeights.map(() => new Map<number, number>());
  const lend = (distance: number, key: number | undefined, raw: number) => {
    const map = lent[distance] as Map<number, number>;
    if (key !== undefined && (map.get(key) ?? 0) < raw) map.set(key, raw);
  };
  const batch = Math.max(50, limit * 2);
  let waiting = byOwnScore;
  while (waiting.length > 0) {
    const slice = waiting.length > batch ? waiting.slice(0, batch) : waiting;
    waiting = waiting.length > batch ? waiting.slice(batch) : [];
    const contexts = contextOf(slice.map((candidate) => candidate.key));
    for (const candidate of slice) {
      const own = raws.get(candidate.key) ?? 0;
      const context = contexts.get(candidate.key);
      const neighbourRaws = [0, 0];
      if (context) {
        const { before, after } = context;
        neighbourRaws[0] = Math.max(rawOf(before[0]), rawOf(after[0]));
        neighbourRaws[1] = Math.max(rawOf(before[1]), rawOf(after[1]));
        if (waiting.length > 0) {
          lend(0, before[0], own);
          lend(0, after[0], own);
          lend(1, before[1], own);
          lend(1, after[1], own);
        }
      }
      const lexical = normalise(contextualScore(own, neighbourRaws, context?.text ?? '', timeWanted), idfSum);
      rank(candidate, own, lexical);
    }
    if (waiting.length === 0 || withVectors || ranked.length < limit) continue;
    // A memory still waiting can score at most its own words, plus neighbours as good as the best
    // memory still waiting or the ranked ones it is known to sit beside, times the time cue. Those
    // that cannot reach the current results are dropped: the results are as if all were ranked.
    const kth = ranked.map((hit) => hit.score).sort((x, y) => y - x)[limit - 1] ?? 0;
    const ceiling = rawOf(waiting[0]?.key);
    waiting = waiting.filter((candidate) => {
      let bound = rawOf(candidate.key);
      neighbourWeights.forEach((weight, distance) => {
        bound += weight * Math.max(ceiling, lent[distance]?.get(candidate.key) ?? 0);
      });
      return normalise(bound * (timeWanted ? timeCueBoost : 1), idfSum) >= kth;
    });
  }
  // Memories found by their vector alone have no lexical part to adjust.
  for (const candidate of candidates)
    if (candidate.similarity !== undefined && !raws.has(candidate.key)) rank(candidate, 0, 0);
  return ranked
    .sort(
      (x, y) => y.score - x.score || y.candidate.updatedAt - x.candidate.updatedAt || y.candidate.key - x.candidate.key,
    )
    .slice(0, limit)
    .map(({ candidate, score, words, lexical, recency }) => {
      const parts: ScoreParts = { words, neighbours: lexical - words, recency };
      if (candidate.similarity !== undefined) parts.vector = candidate.similarity;
      return { candidate, score, parts };
    });
}

/** Which memories a search reads. */
export interface CandidatePlan {
  /** The memories to read: every memory of the rare terms, and the oldest of the common ones when those are too few. */
  keys: Set<number>;
  /** Read the whole scope instead: the matches are a large share of it. */
  wholeScope: boolean;
}

/**
 * Plans a search from each query term's oldest memories in the scope (at most `termPostingLimit
 * + 1` keys per term: more means the term is common).
 */
export function planCandidates(postings: Iterable<number[]>, scopeSize: number, limit: number): CandidatePlan {
  const { termPostingLimit, lexicalPool, wholeScopeShare, wholeScopeSize } = rankingSettings;
  if (scopeSize <= wholeScopeSize) return { keys: new Set(), wholeScope: true };
  const lists = [...postings];
  const keys = new Set<number>();
  for (const list of lists) if (list.length <= termPostingLimit) for (const key of list) keys.add(key);
  if (keys.size < lexicalPool(limit))
    for (const list of lists) if (list.length > termPostingLimit) for (const key of list) keys.add(key);
  return { keys, wholeScope: keys.size >= scopeSize * wholeScopeShare };
}

/**
 * The document frequency of a common term (more than `termPostingLimit` memories), estimated from
 * its oldest `termPostingLimit + 1` memories: they reach `share` (0..1) of the way into the scope
 * in write order, so the term occurs in about that many memories per share of it.
 */
export function estimatedFrequency(scopeSize: number, share: number): number {
  const sample = rankingSettings.termPostingLimit + 1;
  return Math.min(scopeSize, Math.max(sample, Math.round(sample / Math.max(share, 1e-9))));
}

function inverseDocumentFrequencies(
  queryTerms: string[],
  statistics: ScopeStatistics,
): { idf: Map<string, number>; idfSum: number } {
  const idf = new Map<string, number>();
  for (const term of queryTerms) {
    const found = statistics.documentFrequency.get(term) ?? 0;
    // Lucene's variant: always positive, so a term found in most memories still counts a little.
    idf.set(term, Math.log(1 + (statistics.size - found + 0.5) / (found + 0.5)));
  }
  let idfSum = 0;
  for (const value of idf.values()) idfSum += value;
  return { idf, idfSum: idfSum || 1 };
}

/** Raw BM25 of memories' own terms, with the counting buffers shared between memories. */
function ownScorer(idf: ReadonlyMap<string, number>, averageLength: number): (memoryTerms: string[]) => number {
  const columns = new Map([...idf.keys()].map((term, index) => [term, index]));
  const weights = [...idf.values()];
  const counts = new Float64Array(columns.size);
  const touched: number[] = [];
  const { k1, b } = rankingSettings;
  return (memoryTerms) => {
    for (const term of memoryTerms) {
      const column = columns.get(term);
      if (column === undefined) continue;
      if (counts[column] === 0) touched.push(column);
      counts[column] = (counts[column] ?? 0) + 1;
    }
    if (touched.length === 0) return 0;
    const lengthNorm = k1 * (1 - b + (b * memoryTerms.length) / averageLength);
    let raw = 0;
    for (const column of touched) {
      const frequency = counts[column] ?? 0;
      raw += ((weights[column] ?? 0) * frequency * (k1 + 1)) / (frequency + lengthNorm);
      counts[column] = 0;
    }
    touched.length = 0;
    return raw;
  };
}

/** A raw score on the 0..1 scale (see the module comment). */
function normalise(raw: number, idfSum: number): number {
  const relative = raw / idfSum;
  return relative / (relative + 1);
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
