/**
 * `createMockStore`: an in-memory store that records every search and add, so a test can assert
 * on what its code asked of memory. Needs no test framework.
 *
 * @module
 */

import { z } from 'zod';
import { toInvalidOptionsError } from '../core/options.js';
import { scopeSchema } from '../core/scope.js';
import { currentStorePurpose, type StorePurpose } from '../core/store-purpose.js';
import type { AddOptions, Memory, MemoryWrite, SearchOptions } from '../core/types.js';
import { type InMemoryStore, inMemoryStore } from '../stores/in-memory.js';

/** A memory to preload into a mock store. */
export type MockSeed = Pick<Memory, 'text' | 'scope'> & Partial<Pick<Memory, 'type' | 'metadata' | 'expiresAt'>>;

/** A store for tests, with the calls it received. */
export interface MockStore extends InMemoryStore {
  /**
   * Every search, in order, recorded before it ran (copies; `signal` is the caller's own).
   * `purpose` tells the wrapper's search for the prompt (`prompt`, one per user turn) from an
   * extractor's look-ups while it writes the turn (`extract`).
   */
  readonly searchCalls: Array<{ query: string; options: SearchOptions; purpose: StorePurpose }>;
  /** Every add, in order, recorded before it ran (copies; `signal` is the caller's own). */
  readonly addCalls: Array<{ write: MemoryWrite; options: AddOptions }>;
  /** Forgets the recorded calls; the memories stay. */
  reset(): void;
}

const seedSchema = z.array(
  z.object({
    text: z.string({ error: 'a string' }),
    type: z.string({ error: 'a string' }).optional(),
    metadata: z.record(z.string(), z.unknown(), { error: 'an object' }).optional(),
    expiresAt: z.date({ error: 'a Date' }).optional(),
    scope: scopeSchema,
  }),
  { error: 'an array of memories such as [{ text: "Likes tea", scope: { userId: "u1" } }]' },
);

/**
 * Creates a mock store: an `inMemoryStore` (named `mock`) preloaded with `seed`, recording every
 * `search` and `add` call. Seeds are added as writes are, so restated seeds merge.
 *
 * @example
 * const store = createMockStore([{ text: 'Prefers tea', type: 'preference', scope: { userId: 'u1' } }]);
 * // ... run the code under test with `store`, then let its writes finish:
 * await flushMemory(store);
 * const promptSearches = store.searchCalls.filter((call) => call.purpose === 'prompt');
 * expect(promptSearches[0]?.options.scope).toEqual({ userId: 'u1' });
 */
export function createMockStore(seed: MockSeed[] = []): MockStore {
  const parsed = seedSchema.safeParse(seed);
  if (!parsed.success) throw toInvalidOptionsError(parsed.error, 'seed');
  const store = inMemoryStore();
  const searchCalls: MockStore['searchCalls'] = [];
  const addCalls: MockStore['addCalls'] = [];
  // The store's add is asynchronous and this factory is not: every call waits for the seed.
  const seeded = (async () => {
    for (const { scope, ...fact } of seed) await store.add({ facts: [fact] }, { scope });
  })();
  // A seed the store refuses fails every later call; it must not also crash the process unheard.
  seeded.catch(() => undefined);
  const afterSeed =
    <Args extends unknown[], Result>(method: (...args: Args) => Promise<Result>) =>
    async (...args: Args): Promise<Result> => {
      await seeded;
      return method(...args);
    };

  return {
    ...store,
    name: 'mock',
    searchCalls,
    addCalls,
    async search(query, options) {
      searchCalls.push({ query, options: copyOptions(options), purpose: currentStorePurpose() });
      await seeded;
      return store.search(query, options);
    },
    async add(write, options) {
      addCalls.push({ write: structuredClone(write), options: copyOptions(options) });
      await seeded;
      return store.add(write, options);
    },
    get: afterSeed(store.get),
    list: afterSeed(store.list),
    update: afterSeed(store.update),
    delete: afterSeed(store.delete),
    deleteAll: afterSeed(store.deleteAll),
    history: afterSeed(store.history),
    flush: afterSeed(store.flush),
    close: afterSeed(store.close),
    reset() {
      searchCalls.length = 0;
      addCalls.length = 0;
    },
  };
}

// An AbortSignal cannot be cloned; the rest is copied so later changes by the caller do not show.
function copyOptions<T extends { signal?: AbortSignal }>(options: T): T {
  const { signal, ...rest } = options;
  const copy = structuredClone(rest) as T;
  if (signal) copy.signal = signal;
  return copy;
}
