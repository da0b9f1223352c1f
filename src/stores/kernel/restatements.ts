/**
 * Restatements: a fact that restates a memory of the same scope and type updates that memory
 * instead of piling up a duplicate. Every store applies the same three tests, cheapest first:
 *
 * - the same text: equal once case, width and spacing are normalised away (`contentHash`);
 * - the same words: `restatementOverlap` of their `terms()` at or above `duplicateThreshold` (one
 *   text's terms must all be in the other, so a swapped word is a new fact);
 * - with an embedder, the same meaning: cosine at or above `vectorDuplicateThreshold`.
 *
 * The words test reads few candidates through the probe rule (`probeCount`): an overlap of the
 * threshold needs that share of the fact's terms in common, so a restated memory holds one of any
 * (n - that + 1) of them; the rarest are looked up. `RestatementIndex` holds the memories of one
 * scope and type in memory; the SQL stores ask their indexes instead when a scope is too large to
 * read, with the same rule and the same `bestOverlap`.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Metadata } from '../../core/types.js';
import { restatementOverlap } from '../../text/text-terms.js';
import { cosine } from './embeddings.js';

/** A text with case, width and spacing normalised away: what "the same text" compares. */
function normalisedText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** The hash of a text's normalised form. */
export function contentHash(text: string): string {
  return createHash('sha256').update(normalisedText(text)).digest('hex').slice(0, 16);
}

/**
 * How many of a fact's distinct terms to look memories up by: an overlap of `threshold` needs at
 * least ceil(threshold * n) of its n terms in common, so a match holds one of any (n - that + 1).
 */
export function probeCount(distinctTerms: number, threshold: number): number {
  return Math.max(1, distinctTerms - Math.ceil(threshold * distinctTerms - 1e-9) + 1);
}

/** The candidate whose terms overlap the fact's most, at or above the threshold (the first of equals). */
export function bestOverlap<K>(
  factTerms: string[],
  candidates: Iterable<readonly [K, string[]]>,
  threshold: number,
): K | undefined {
  let best: { key: K; overlap: number } | undefined;
  for (const [key, candidateTerms] of candidates) {
    // Two texts made only of stop words would overlap completely without saying the same thing.
    if (candidateTerms.length === 0) continue;
    const overlap = restatementOverlap(factTerms, candidateTerms);
    if (overlap >= threshold && overlap > (best?.overlap ?? 0)) best = { key, overlap };
  }
  return best?.key;
}

/** The candidate whose vector is most similar to the fact's, at or above the threshold. */
export function bestSimilarity<K>(
  vector: Float32Array,
  candidates: Iterable<readonly [K, Float32Array]>,
  threshold: number,
): K | undefined {
  let best: { key: K; similarity: number } | undefined;
  for (const [key, candidate] of candidates) {
    const similarity = cosine(vector, candidate);
    if (similarity >= threshold && similarity > (best?.similarity ?? -1)) best = { key, similarity };
  }
  return best?.key;
}

/**
 * What a restatement makes of the memory: the metadata merged (the fact's keys win), and whether it
 * was said again word for word, with nothing new: then no history entry, the change is `NONE`.
 */
export function restatement(
  existing: { text: string; metadata: Metadata },
  fact: { text: string; metadata: Metadata },
): { metadata: Metadata; saidAgain: boolean } {
  const metadata = { ...existing.metadata, ...fact.metadata };
  return { metadata, saidAgain: existing.text === fact.text && isDeepStrictEqual(existing.metadata, metadata) };
}

/**
 * The memories of one scope and type, in memory: by hash (the same text) and by term (the same
 * words). Keys are the store's own (a row's seq, a memory's write order).
 */
export class RestatementIndex<K> {
  readonly #byHash = new Map<string, K>();
  readonly #hashOf = new Map<K, string>();
  readonly #terms = new Map<K, string[]>();
  readonly #postings = new Map<string, Set<K>>();

  /** Adds a memory (again, after `forget`, when its text changed). */
  add(key: K, hash: string | null, memoryTerms: string[]): void {
    if (hash !== null) {
      this.#byHash.set(hash, key);
      this.#hashOf.set(key, hash);
    }
    this.#terms.set(key, memoryTerms);
    for (const term of memoryTerms) {
      let keys = this.#postings.get(term);
      if (!keys) {
        keys = new Set();
        this.#postings.set(term, keys);
      }
      keys.add(key);
    }
  }

  /** Drops a memory, deleted or about to be rewritten. */
  forget(key: K): void {
    for (const term of this.#terms.get(key) ?? []) {
      const keys = this.#postings.get(term);
      keys?.delete(key);
      if (keys?.size === 0) this.#postings.delete(term);
    }
    this.#terms.delete(key);
    const hash = this.#hashOf.get(key);
    if (hash !== undefined && this.#byHash.get(hash) === key) this.#byHash.delete(hash);
    this.#hashOf.delete(key);
  }

  /** The memory with the same normalised text. */
  sameText(hash: string, accept: (key: K) => boolean = always): K | undefined {
    const key = this.#byHash.get(hash);
    return key !== undefined && accept(key) ? key : undefined;
  }

  /** The memory with the most word overlap, at or above the threshold, looked up by the rarest terms. */
  sameWords(factTerms: string[], threshold: number, accept: (key: K) => boolean = always): K | undefined {
    const distinct = [...new Set(factTerms)];
    if (distinct.length === 0) return undefined;
    const size = (term: string) => this.#postings.get(term)?.size ?? 0;
    const probes = distinct.sort((x, y) => size(x) - size(y)).slice(0, probeCount(distinct.length, threshold));
    const candidates = new Map<K, string[]>();
    for (const probe of probes) {
      for (const key of this.#postings.get(probe) ?? []) {
        if (accept(key)) candidates.set(key, this.#terms.get(key) ?? []);
      }
    }
    return bestOverlap(factTerms, candidates, threshold);
  }
}

function always(): boolean {
  return true;
}
