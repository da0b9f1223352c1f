/**
 * `with-memory/testing`: a mock store that records calls, a recorder of what the model was shown,
 * a mock mem0 client, and the store contract's checks. Needs no test framework, in ESM and
 * CommonJS. `testStoreContract` here uses the runner's global `describe`/`it` (Jest, Mocha, vitest
 * with globals); `with-memory/testing/vitest` and `with-memory/testing/node-test` import theirs.
 *
 * @module
 */

export type { StorePurpose } from '../core/store-purpose.js';
export { type MemoryBlockRecorder, recordMemoryBlocks } from './memory-blocks.js';
export {
  createMockMem0Client,
  type MockMem0Call,
  type MockMem0Client,
  MockMem0Error,
  type MockMem0HistoryEntry,
  type MockMem0Memory,
  type MockMem0Message,
  type MockMem0Seed,
} from './mock-mem0-client.js';
export { createMockStore, type MockSeed, type MockStore } from './mock-store.js';
export {
  type MakeStore,
  type StoreContractCheck,
  storeContractChecks,
  testStoreContract,
} from './store-contract.js';
