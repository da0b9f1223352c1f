/**
 * `with-memory/testing/node-test`: `testStoreContract`, the store conformance suite registered with
 * Node's own test runner (`node --test`). Needs nothing beyond Node 20.
 *
 * @module
 */

import { describe, it } from 'node:test';
import { type MakeStore, registerStoreContract } from '../store-contract.js';

/**
 * Registers the store contract as a `node:test` suite: one test per check, each with a fresh
 * store from `makeStore`.
 *
 * @example
 * ```ts
 * import { testStoreContract } from 'with-memory/testing/node-test';
 * testStoreContract('redisStore', () => redisStore({ url }));
 * ```
 */
export function testStoreContract(name: string, makeStore: MakeStore): void {
  registerStoreContract({ describe, it }, name, makeStore);
}
