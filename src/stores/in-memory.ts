/**
 * `inMemoryStore`: the local store's behaviour (word ranking, duplicate merging, history, expiry)
 * without a file, for tests, demos and short-lived processes. Everything is lost on exit.
 *
 * @module
 */

import { z } from 'zod';
import { StoreError } from '../core/errors.js';
import { toInvalidOptionsError } from '../core/options.js';
import { parseScope } from '../core/scope.js';
import type {
  AddOptions,
  ChangeOptions,
  DeleteOptions,
  HistoryEntry,
  ListOptions,
  Memory,
  MemoryChange,
  MemoryHit,
  MemoryPatch,
  MemoryStore,
  MemoryWrite,
  SearchOptions,
} from '../core/types.js';
import { addFact } from './in-memory/add-fact.js';
import { MemoryHistories } from './in-memory/memory-histories.js';
import { copy, isExpired, MemoryIndex, membersOf, newestFirst, visibleTo } from './in-memory/memory-index.js';
import { searchIndex } from './in-memory/memory-search.js';
import { newFacts } from './kernel/new-facts.js';
import { listSchema, patchSchema, validate } from './kernel/store-input.js';
import { sharedOptionDefaults, thresholdSchema } from './kernel/store-options.js';

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
      duplicateThreshold: thresholdSchema.optional(),
    },
    { error: 'an options object such as { duplicateThreshold: 0.85 }' },
  )
  .strict();

const defaultListLimit = 100;
const maxListLimit = 1000;

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
  const { duplicateThreshold = sharedOptionDefaults.duplicateThreshold } = parsed.data;
  const index = new MemoryIndex();
  const histories = new MemoryHistories();
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

  return {
    name: 'memory',
    extractsFacts: false,

    async search(query: string, options: SearchOptions): Promise<MemoryHit[]> {
      assertOpen('search');
      options.signal?.throwIfAborted();
      return searchIndex(index, query, options);
    },

    async add(write: MemoryWrite, options: AddOptions): Promise<MemoryChange[]> {
      assertOpen('add');
      options.signal?.throwIfAborted();
      const { scope, facts } = newFacts(write, options);
      const settings = { scope, reason: options.reason, duplicateThreshold };
      return facts.map((fact) => addFact({ index, histories }, fact, settings));
    },

    async get(id: string): Promise<Memory | null> {
      assertOpen('get');
      const stored = index.memories.get(id);
      return stored && !isExpired(stored.memory, Date.now()) ? copy(stored.memory) : null;
    },

    async list(options: ListOptions): Promise<Memory[]> {
      assertOpen('list');
      const scope = parseScope(options.scope);
      validate(listSchema, options);
      const limit = Math.min(options.limit ?? defaultListLimit, maxListLimit);
      const offset = options.offset ?? 0;
      const visible = visibleTo(options.types, options.filters, Date.now());
      return index
        .groupsIn(scope)
        .flatMap((group) => membersOf(group, options.types).filter(visible))
        .sort(newestFirst)
        .slice(offset, offset + limit)
        .map((stored) => copy(stored.memory));
    },

    async update(id: string, patch: MemoryPatch, options: ChangeOptions = {}): Promise<Memory | null> {
      assertOpen('update');
      const text = typeof patch.text === 'string' ? patch.text.trim() : undefined;
      if (text === '') {
        throw new StoreError('A memory cannot be updated to empty text; delete it instead.', {
          store: 'memory',
          operation: 'update',
          retryable: false,
        });
      }
      validate(patchSchema, patch);
      const stored = index.memories.get(id);
      if (!stored || isExpired(stored.memory, Date.now())) return null;
      const { memory } = stored;
      const previousText = memory.text;
      const now = new Date();
      if (text !== undefined) index.retext(stored, text);
      if (patch.type !== undefined) index.retype(stored, patch.type);
      if (patch.metadata !== undefined) memory.metadata = structuredClone(patch.metadata);
      if (patch.expiresAt === null) delete memory.expiresAt;
      else if (patch.expiresAt !== undefined) memory.expiresAt = new Date(patch.expiresAt);
      memory.updatedAt = now;
      stored.sequence = index.nextSequence();
      histories.record(
        id,
        { event: 'UPDATE', oldText: previousText, newText: memory.text, reason: options.reason },
        now,
      );
      return copy(memory);
    },

    async delete(id: string, options: DeleteOptions = {}): Promise<boolean> {
      assertOpen('delete');
      const stored = index.memories.get(id);
      if (options.erase === true) {
        // Also what an earlier delete left: the words of the history.
        if (!stored && !histories.has(id)) return false;
        if (stored) index.remove(stored);
        histories.scrub(id);
        histories.record(id, { event: 'DELETE' }, new Date());
        return true;
      }
      if (!stored) return false;
      index.remove(stored);
      histories.record(id, { event: 'DELETE', oldText: stored.memory.text, reason: options.reason }, new Date());
      return true;
    },

    async deleteAll(scope): Promise<number> {
      assertOpen('deleteAll');
      const parsedScope = parseScope(scope);
      const now = new Date();
      let deleted = 0;
      for (const group of index.groupsIn(parsedScope)) {
        for (const stored of index.removeGroup(group)) {
          // Forgetting a user must not leave their words behind in the history: keep only that
          // changes, and the deletion, happened.
          histories.scrub(stored.memory.id);
          histories.record(stored.memory.id, { event: 'DELETE' }, now);
          deleted += 1;
        }
      }
      return deleted;
    },

    async history(id: string): Promise<HistoryEntry[]> {
      assertOpen('history');
      return histories.entries(id);
    },

    async flush(): Promise<void> {
      assertOpen('flush');
    },

    async close(): Promise<void> {
      closed = true;
      index.clear();
      histories.clear();
    },
  };
}
