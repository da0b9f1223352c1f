/**
 * `inMemoryStore`: the local store's behaviour (word ranking, duplicate merging, history, expiry)
 * without a file, for tests, demos and short-lived processes. Everything is lost on exit.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { StoreError } from '../core/errors.js';
import { toInvalidOptionsError } from '../core/options.js';
import { parseScope, scopeKey, scopeMatches } from '../core/scope.js';
import type {
  AddOptions,
  ChangeOptions,
  FactInput,
  HistoryEntry,
  ListOptions,
  Memory,
  MemoryChange,
  MemoryHit,
  MemoryPatch,
  MemoryStore,
  MemoryType,
  MemoryWrite,
  MetadataFilter,
  SearchOptions,
} from '../core/types.js';
import { contextualScores } from './contextual-ranking.js';
import { restatementOverlap, searchTerms, terms } from './text-terms.js';

/** Options of `inMemoryStore`. */
export interface InMemoryStoreOptions {
  /**
   * How alike (0..1, the `restatementOverlap` of their terms) a new fact and a stored one of the same
   * scope and type must be for the new fact to update the stored one instead of being added.
   * Facts with the same text (ignoring case and spacing) always count as the same.
   * @default 0.85
   */
  duplicateThreshold?: number;
}

/** A store with every optional method of `MemoryStore`, so callers need no feature checks. */
export type InMemoryStore = Required<MemoryStore>;

const optionsSchema = z
  .object(
    {
      duplicateThreshold: z
        .number({ error: 'a number above 0 and at most 1' })
        .gt(0, { error: 'a number above 0 and at most 1' })
        .max(1, { error: 'a number above 0 and at most 1' })
        .optional(),
    },
    { error: 'an options object such as { duplicateThreshold: 0.85 }' },
  )
  .strict();

// BM25 parameters: the usual defaults (Robertson; Lucene and SQLite FTS5 use the same).
const k1 = 1.2;
const b = 0.75;

const defaultSearchLimit = 8;
const defaultListLimit = 100;
const maxListLimit = 1000;

/** A history entry before it gets its ids and time; `undefined` fields are left out. */
interface HistoryChange {
  event: HistoryEntry['event'];
  oldText?: string | undefined;
  newText?: string | undefined;
  reason?: string | undefined;
}

interface StoredMemory {
  memory: Memory;
  terms: string[];
  /** How often each term occurs, kept with the memory so a search does not count them again. */
  counts: Map<string, number>;
  /** Text compared for exact restatements: case, width and spacing do not make a new fact. */
  normalisedText: string;
  /** Write order, so that memories changed within the same millisecond still sort newest first. */
  sequence: number;
}

/**
 * Creates a store that keeps memories in this process's memory. Search ranks by BM25 over
 * `terms()`; a restated fact updates the memory it restates instead of adding a duplicate.
 *
 * @example
 * const store = inMemoryStore();
 * await store.add({ facts: [{ text: 'Prefers dark mode', type: 'preference' }] }, { scope: { userId: 'u1' } });
 * const hits = await store.search('dark mode', { scope: { userId: 'u1' } });
 */
export function inMemoryStore(options: InMemoryStoreOptions = {}): InMemoryStore {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw toInvalidOptionsError(parsed.error);
  const { duplicateThreshold = 0.85 } = parsed.data;

  const memories = new Map<string, StoredMemory>();
  // The memories of each exact scope, so looking for a restated fact reads one scope, not the store.
  const byScope = new Map<string, Map<string, StoredMemory>>();
  const histories = new Map<string, HistoryEntry[]>();

  function put(stored: StoredMemory): void {
    memories.set(stored.memory.id, stored);
    const key = scopeKey(stored.memory.scope);
    let scoped = byScope.get(key);
    if (!scoped) {
      scoped = new Map();
      byScope.set(key, scoped);
    }
    scoped.set(stored.memory.id, stored);
  }

  function remove(stored: StoredMemory): void {
    memories.delete(stored.memory.id);
    byScope.get(scopeKey(stored.memory.scope))?.delete(stored.memory.id);
  }
  let sequence = 0;
  let closed = false;

  function assertOpen(operation: StoreError['operation']): void {
    if (closed) {
      throw new StoreError('The in-memory store is closed; create a new one with inMemoryStore().', {
        store: 'memory',
        operation,
        retryable: false,
      });
    }
  }

  function record(memoryId: string, entry: HistoryChange, at: Date): void {
    const entries = histories.get(memoryId) ?? [];
    entries.push({ id: randomUUID(), memoryId, createdAt: at, ...withoutUndefined(entry) });
    histories.set(memoryId, entries);
  }

  /** Memories in the scope, unexpired, of the wanted types and metadata. */
  function visible(scope: ListOptions['scope'], types?: MemoryType[], filters?: MetadataFilter): StoredMemory[] {
    const now = Date.now();
    const found: StoredMemory[] = [];
    for (const stored of memories.values()) {
      const { memory } = stored;
      if (isExpired(memory, now) || !scopeMatches(memory.scope, scope)) continue;
      if (types && (memory.type === undefined || !types.includes(memory.type))) continue;
      if (filters && !metadataMatches(memory.metadata, filters)) continue;
      found.push(stored);
    }
    return found;
  }

  function findRestated(fact: { text: string; type: MemoryType | undefined }, key: string): StoredMemory | undefined {
    const normalisedText = normalise(fact.text);
    const factTerms = terms(fact.text);
    const now = Date.now();
    let best: { stored: StoredMemory; overlap: number } | undefined;
    for (const stored of byScope.get(key)?.values() ?? []) {
      const { memory } = stored;
      if (memory.type !== fact.type || isExpired(memory, now)) continue;
      if (stored.normalisedText === normalisedText) return stored;
      // Two texts made only of stop words would overlap completely without saying the same thing.
      if (factTerms.length === 0 || stored.terms.length === 0) continue;
      const overlap = restatementOverlap(factTerms, stored.terms);
      if (overlap >= duplicateThreshold && overlap > (best?.overlap ?? 0)) best = { stored, overlap };
    }
    return best?.stored;
  }

  function addFact(fact: FactInput, options: AddOptions, scope: Memory['scope']): MemoryChange | undefined {
    const text = fact.text.trim();
    if (text === '') return undefined;
    const now = new Date();
    const saidAt = fact.createdAt ? new Date(fact.createdAt) : now;
    const metadata = structuredClone({ ...options.metadata, ...fact.metadata });
    const restated = findRestated({ text, type: fact.type }, scopeKey(scope));
    if (restated) {
      const { memory } = restated;
      const previousText = memory.text;
      memory.text = text;
      memory.metadata = { ...memory.metadata, ...metadata };
      // A back-filled restatement said before the last update must not make the memory look older.
      if (saidAt > memory.updatedAt) memory.updatedAt = saidAt;
      if (fact.expiresAt) memory.expiresAt = new Date(fact.expiresAt);
      Object.assign(restated, { ...indexed(text), sequence: ++sequence });
      record(memory.id, { event: 'UPDATE', oldText: previousText, newText: text, reason: options.reason }, now);
      return { event: 'UPDATE', id: memory.id, text, previousText };
    }
    const memory: Memory = {
      id: randomUUID(),
      text,
      metadata,
      scope: { ...scope },
      createdAt: saidAt,
      updatedAt: new Date(saidAt),
    };
    if (fact.type !== undefined) memory.type = fact.type;
    if (fact.expiresAt) memory.expiresAt = new Date(fact.expiresAt);
    put({ memory, ...indexed(text), sequence: ++sequence });
    record(memory.id, { event: 'ADD', newText: text, reason: options.reason }, now);
    return { event: 'ADD', id: memory.id, text };
  }

  return {
    name: 'memory',
    extractsFacts: false,

    async search(query: string, options: SearchOptions): Promise<MemoryHit[]> {
      assertOpen('search');
      options.signal?.throwIfAborted();
      const scope = parseScope(options.scope);
      const queryTerms = [...new Set(searchTerms(query))];
      if (queryTerms.length === 0) return [];
      const candidates = visible(scope, options.types, options.filters);
      const ranked = rank(query, queryTerms, candidates)
        .filter((hit) => hit.score >= (options.threshold ?? 0))
        .sort((x, y) => y.score - x.score || newestFirst(x.stored, y.stored));
      return ranked
        .slice(0, Math.max(0, options.limit ?? defaultSearchLimit))
        .map(({ stored, score }) => ({ ...copy(stored.memory), score }));
    },

    async add(write: MemoryWrite, options: AddOptions): Promise<MemoryChange[]> {
      assertOpen('add');
      options.signal?.throwIfAborted();
      const scope = parseScope(options.scope);
      // This store does not distil facts, but a write of raw messages must not be lost: each user
      // message is kept as a fact, as the user said it.
      const facts: FactInput[] =
        'messages' in write
          ? write.messages
              .filter((message) => message.role === 'user')
              .map(({ content }) => ({ text: content, type: 'fact' }))
          : write.facts;
      const changes: MemoryChange[] = [];
      for (const fact of facts) {
        const change = addFact(fact, options, scope);
        if (change) changes.push(change);
      }
      return changes;
    },

    async get(id: string): Promise<Memory | null> {
      assertOpen('get');
      const stored = memories.get(id);
      return stored && !isExpired(stored.memory, Date.now()) ? copy(stored.memory) : null;
    },

    async list(options: ListOptions): Promise<Memory[]> {
      assertOpen('list');
      const scope = parseScope(options.scope);
      const limit = Math.min(Math.max(0, options.limit ?? defaultListLimit), maxListLimit);
      const offset = Math.max(0, options.offset ?? 0);
      return visible(scope, options.types, options.filters)
        .sort(newestFirst)
        .slice(offset, offset + limit)
        .map((stored) => copy(stored.memory));
    },

    async update(id: string, patch: MemoryPatch, options: ChangeOptions = {}): Promise<Memory | null> {
      assertOpen('update');
      const stored = memories.get(id);
      if (!stored || isExpired(stored.memory, Date.now())) return null;
      const text = patch.text?.trim();
      if (text === '') {
        throw new StoreError('A memory cannot be updated to empty text; delete it instead.', {
          store: 'memory',
          operation: 'update',
          retryable: false,
        });
      }
      const { memory } = stored;
      const previousText = memory.text;
      const now = new Date();
      if (text !== undefined) {
        memory.text = text;
        Object.assign(stored, indexed(text));
      }
      if (patch.type !== undefined) memory.type = patch.type;
      if (patch.metadata !== undefined) memory.metadata = structuredClone(patch.metadata);
      if (patch.expiresAt === null) delete memory.expiresAt;
      else if (patch.expiresAt !== undefined) memory.expiresAt = new Date(patch.expiresAt);
      memory.updatedAt = now;
      stored.sequence = ++sequence;
      record(id, { event: 'UPDATE', oldText: previousText, newText: memory.text, reason: options.reason }, now);
      return copy(memory);
    },

    async delete(id: string, options: ChangeOptions = {}): Promise<boolean> {
      assertOpen('delete');
      const stored = memories.get(id);
      if (!stored) return false;
      remove(stored);
      record(id, { event: 'DELETE', oldText: stored.memory.text, reason: options.reason }, new Date());
      return true;
    },

    async deleteAll(scope): Promise<number> {
      assertOpen('deleteAll');
      const parsedScope = parseScope(scope);
      const now = new Date();
      let deleted = 0;
      for (const [id, stored] of memories) {
        if (!scopeMatches(stored.memory.scope, parsedScope)) continue;
        remove(stored);
        // Forgetting a user must not leave their words behind in the history: keep only that
        // changes, and the deletion, happened.
        const scrubbed = (histories.get(id) ?? []).map(({ oldText, newText, ...entry }) => entry);
        histories.set(id, scrubbed);
        record(id, { event: 'DELETE' }, now);
        deleted += 1;
      }
      return deleted;
    },

    async history(id: string): Promise<HistoryEntry[]> {
      assertOpen('history');
      return (histories.get(id) ?? []).map((entry) => structuredClone(entry));
    },

    async flush(): Promise<void> {
      assertOpen('flush');
    },

    async close(): Promise<void> {
      closed = true;
      memories.clear();
      byScope.clear();
      histories.clear();
    },
  };
}

/**
 * BM25 over the candidates, which are also the corpus the term statistics come from, adjusted by
 * `contextualScores` (neighbouring memories in write order, time cues). The raw score is
 * normalised to 0..1 as `x / (x + 1)`, where `x` is the score divided by the sum of the query
 * terms' IDF: a lone memory holding every query term once, at average length, scores 0.5, and
 * denser matches approach 1. The transform keeps the order and does not depend on corpus size.
 */
function rank(
  query: string,
  queryTerms: string[],
  candidates: StoredMemory[],
): Array<{ stored: StoredMemory; score: number }> {
  if (candidates.length === 0) return [];
  // One pass reads each candidate's frequency of each query term: the document frequencies and the
  // scores below come from this table, so a search touches every memory's counts once.
  const width = queryTerms.length;
  const frequencies = new Float64Array(candidates.length * width);
  const containing = new Array<number>(width).fill(0);
  let totalLength = 0;
  candidates.forEach((stored, index) => {
    totalLength += stored.terms.length;
    for (let column = 0; column < width; column += 1) {
      const frequency = stored.counts.get(queryTerms[column] ?? '');
      if (frequency === undefined) continue;
      frequencies[index * width + column] = frequency;
      containing[column] = (containing[column] ?? 0) + 1;
    }
  });
  const averageLength = totalLength / candidates.length || 1;
  // Lucene's variant: always positive, so a term found in most memories still counts a little.
  const idf = containing.map((count) => Math.log(1 + (candidates.length - count + 0.5) / (count + 0.5)));
  const idfSum = idf.reduce((sum, value) => sum + value, 0);
  const raws = candidates.map((stored, index) => {
    const lengthNorm = k1 * (1 - b + (b * stored.terms.length) / averageLength);
    let raw = 0;
    for (let column = 0; column < width; column += 1) {
      const frequency = frequencies[index * width + column] ?? 0;
      if (frequency > 0) raw += ((idf[column] ?? 0) * frequency * (k1 + 1)) / (frequency + lengthNorm);
    }
    return raw;
  });
  const scores = contextualScores(
    raws,
    candidates.map((stored) => stored.memory.text),
    query,
  );
  const hits: Array<{ stored: StoredMemory; score: number }> = [];
  candidates.forEach((stored, index) => {
    const score = scores[index] ?? 0;
    if (score <= 0) return;
    const relative = score / idfSum;
    hits.push({ stored, score: relative / (relative + 1) });
  });
  return hits;
}

/** What a memory's text is searched and compared by. */
function indexed(text: string): Pick<StoredMemory, 'terms' | 'counts' | 'normalisedText'> {
  const textTerms = terms(text);
  return { terms: textTerms, counts: termCounts(textTerms), normalisedText: normalise(text) };
}

function termCounts(list: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of list) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

function newestFirst(x: StoredMemory, y: StoredMemory): number {
  return y.memory.updatedAt.getTime() - x.memory.updatedAt.getTime() || y.sequence - x.sequence;
}

function isExpired(memory: Memory, now: number): boolean {
  return memory.expiresAt !== undefined && memory.expiresAt.getTime() <= now;
}

function metadataMatches(metadata: Memory['metadata'], filters: MetadataFilter): boolean {
  return Object.entries(filters).every(([key, wanted]) =>
    Array.isArray(wanted) ? (wanted as unknown[]).includes(metadata[key]) : metadata[key] === wanted,
  );
}

function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

// Callers get copies: changing a returned memory must never change what the store holds.
function copy(memory: Memory): Memory {
  const copied: Memory = {
    ...memory,
    // Metadata is free-form JSON: only a deep copy keeps nested values apart.
    metadata: Object.keys(memory.metadata).length === 0 ? {} : structuredClone(memory.metadata),
    scope: { ...memory.scope },
    createdAt: new Date(memory.createdAt),
    updatedAt: new Date(memory.updatedAt),
  };
  if (memory.expiresAt) copied.expiresAt = new Date(memory.expiresAt);
  return copied;
}

function withoutUndefined(change: HistoryChange): Pick<HistoryEntry, 'event' | 'oldText' | 'newText' | 'reason'> {
  return Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined)) as HistoryEntry;
}
