import { StoreError } from './core/errors.js';
import { withStoreDeadline } from './core/store-deadline.js';
import { checkHits } from './core/store-results.js';
import type { MemoryStore } from './core/types.js';
import { toStoreError } from './core/writeback.js';
import { defaultStore } from './with-memory.js';

/** Options of `checkStore`. */
export interface CheckStoreOptions {
  /** How long the check may take, in milliseconds. @default 5000 */
  timeoutMs?: number;
}

// A scope no application uses: the check reads nothing of anyone's.
const probeScope = { userId: 'with-memory-store-check' };

/**
 * Checks at start-up that a store can be used, before the first user arrives: opens it (a local
 * store creates its file, loads SQLite; PostgreSQL connects with its URL; mem0 checks the key)
 * and runs one search in a scope no application uses. Resolves when the store answered; rejects
 * with a `StoreError` naming the cause and the fix (e.g. a missing better-sqlite3 build, a wrong
 * path or URL, a refused key) or a `StoreTimeoutError`. Without `store`, checks the default store
 * that `withMemory` uses when given none. Wrappers never throw for memory trouble; this is the
 * place to fail fast.
 *
 * @example
 * ```ts
 * const store = localStore({ path: process.env.MEMORY_DB });
 * await checkStore(store); // at boot: throws with the cause and the fix
 * const claude = withMemory(new Anthropic(), { scope: { userId }, store });
 * ```
 */
export async function checkStore(store: MemoryStore = defaultStore(), options: CheckStoreOptions = {}): Promise<void> {
  const { timeoutMs = 5000 } = options;
  try {
    const hits = await withStoreDeadline(store.name, 'search', timeoutMs, (signal) =>
      store.search('with-memory store check', { scope: probeScope, limit: 1, signal }),
    );
    checkHits(hits, store.name, probeScope);
  } catch (error) {
    if (StoreError.isInstance(error)) throw error;
    throw toStoreError(error, store.name, 'search');
  }
}
