/**
 * `with-memory/testing`: a mock store that records calls, and the conformance suite every store
 * must pass. `testStoreContract` needs `vitest` installed (a peer need of this entry only).
 *
 * @module
 */

export { createMockStore, type MockSeed, type MockStore } from './mock-store.js';
export { type MakeStore, type StoreContractCheck, storeContractChecks, testStoreContract } from './store-contract.js';
