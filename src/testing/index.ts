/**
 * `with-memory/testing`: a mock store that records calls, and the conformance suite every store
 * must pass. `testStoreContract` needs `vitest` installed (a peer need of this entry only).
 *
 * @module
 */

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
export { type MakeStore, type StoreContractCheck, storeContractChecks, testStoreContract } from './store-contract.js';
