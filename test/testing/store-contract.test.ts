import { describe, expect, it } from 'vitest';
import { scopeKey } from '../../src/core/scope.js';
import type { MemoryHit, MemoryStore, Scope } from '../../src/core/types.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { storeContractChecks, testStoreContract as testWithGlobals } from '../../src/testing/store-contract.js';
import { testStoreContract } from '../../src/testing/vitest/index.js';

// A store with only the two required methods passes every check that does not need the others.
testStoreContract('search-and-add-only', () => {
  const { name, search, add } = inMemoryStore();
  return { name, search, add };
});

it('with-memory/testing names the runner entries when the runner has no global describe/it', () => {
  // vitest runs here without globals.
  expect(() => testWithGlobals('inMemoryStore', () => inMemoryStore())).toThrow(
    /with-memory\/testing\/vitest.*with-memory\/testing\/node-test/,
  );
});

/** Stores every memory under its scope, but searches every scope it has seen. */
function scopeBlindStore(): MemoryStore {
  const store = inMemoryStore();
  const scopes = new Map<string, Scope>();
  return {
    name: 'scope-blind',
    async add(write, options) {
      scopes.set(scopeKey(options.scope), options.scope);
      return store.add(write, options);
    },
    async search(query, options) {
      const hits: MemoryHit[] = [];
      for (const scope of scopes.values()) hits.push(...(await store.search(query, { ...options, scope })));
      return hits;
    },
    close: store.close,
  };
}

/** Reports success but keeps only every other fact it is given. */
function forgetfulStore(): MemoryStore {
  const store = inMemoryStore();
  let factsSeen = 0;
  return {
    ...store,
    name: 'forgetful',
    async add(write, options) {
      if (!('facts' in write)) return store.add(write, options);
      const kept = write.facts.filter(() => factsSeen++ % 2 === 0);
      await store.add({ facts: kept }, options);
      return write.facts.map((fact) => ({ event: 'ADD' as const, text: fact.text }));
    },
  };
}

async function failingChecks(makeStore: () => MemoryStore): Promise<string[]> {
  const failed: string[] = [];
  for (const check of storeContractChecks) {
    await check.run(makeStore).catch(() => failed.push(check.name));
  }
  return failed;
}

describe('the store contract', () => {
  it('fails a store whose search ignores the scope, on exactly the isolation checks', async () => {
    expect(await failingChecks(scopeBlindStore)).toEqual([
      'search is isolated by userId',
      'search is isolated by agentId',
      'search is isolated by runId',
      'search is isolated by appId',
      'an empty scope reaches no memories',
    ]);
  });

  it('fails a store that silently drops every second fact', async () => {
    const check = (name: string) => {
      const found = storeContractChecks.find((candidate) => candidate.name === name);
      if (!found) throw new Error(`no check named ${name}`);
      return found;
    };
    await expect(check('50 concurrent adds of distinct facts are all stored').run(forgetfulStore)).rejects.toThrow();
    await expect(check('search is isolated by userId').run(forgetfulStore)).rejects.toThrow();
    // Its first fact is kept, so a check of one fact passes: the failures above are about the loss.
    await expect(
      check('add then search finds the memory, with a score between 0 and 1').run(forgetfulStore),
    ).resolves.toBeUndefined();
  });

  it('closes the store each check makes, even when the check fails', async () => {
    let opened = 0;
    let closed = 0;
    const makeStore = (): MemoryStore => {
      opened += 1;
      const store = scopeBlindStore();
      return {
        ...store,
        async close() {
          closed += 1;
        },
      };
    };
    await failingChecks(makeStore);
    expect(opened).toBeGreaterThanOrEqual(storeContractChecks.length);
    expect(closed).toBe(opened);
  });
});
