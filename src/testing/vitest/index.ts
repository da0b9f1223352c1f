/**
 * `with-memory/testing/vitest`: `testStoreContract`, the store conformance suite registered with
 * vitest. Needs `vitest` (a peer need of this entry only); `with-memory/testing` loads without it.
 *
 * @module
 */

import { describe, it } from 'vitest';
import { type MakeStore, registerStoreContract } from '../store-contract.js';

/**
 * Registers the store contract as a vitest suite: one test per check, each with a fresh store
 * from `makeStore`.
 *
 * @example
 * ```ts
 * import { testStoreContract } from 'with-memory/testing/vitest';
 * testStoreContract('redisStore', () => redisStore({ url }));
 * ```
 */
export function testStoreContract(name: string, makeStore: MakeStore): void {
  registerStoreContract({ describe, it }, name, makeStore);
}
