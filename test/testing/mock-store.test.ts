import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/errors.js';
import type { MetadataFilter } from '../../src/core/types.js';
import { createMockStore } from '../../src/testing/mock-store.js';
import { testStoreContract } from '../../src/testing/store-contract.js';

testStoreContract('createMockStore', () => createMockStore());

const scope = { userId: 'user_42' };

describe('createMockStore', () => {
  it('records searches and adds, as copies made before they ran', async () => {
    const store = createMockStore();
    const controller = new AbortController();
    const filters: MetadataFilter = { channel: 'chat' };
    const searchOptions = { scope: { ...scope }, limit: 3, filters, signal: controller.signal };
    const facts = [{ text: 'Likes green tea', type: 'preference' }];
    await store.add({ facts }, { scope, metadata: { source: 'test' } });
    await store.search('green tea', searchOptions);
    facts[0] = { text: 'changed', type: 'fact' };
    searchOptions.scope.userId = 'changed';
    filters.channel = 'changed';

    expect(store.name).toBe('mock');
    expect(store.addCalls).toEqual([
      {
        write: { facts: [{ text: 'Likes green tea', type: 'preference' }] },
        options: { scope, metadata: { source: 'test' } },
      },
    ]);
    expect(store.searchCalls).toEqual([
      { query: 'green tea', options: { scope, limit: 3, filters: { channel: 'chat' }, signal: controller.signal } },
    ]);
    expect(store.searchCalls[0]?.options.signal).toBe(controller.signal);
    await store.close();
  });

  it('records a call even when the store rejects it', async () => {
    const store = createMockStore();
    await expect(store.search('tea', { scope: {} })).rejects.toBeInstanceOf(InvalidOptionsError);
    expect(store.searchCalls).toEqual([{ query: 'tea', options: { scope: {} } }]);
    await store.close();
  });

  it('is preloaded with the seed, without recording it', async () => {
    const store = createMockStore([
      { text: 'Prefers window seats', type: 'preference', scope, metadata: { source: 'seed' } },
      { text: 'Works at the harbour', scope: { userId: 'someone_else' } },
    ]);
    const hits = await store.search('window seats harbour', { scope });
    expect(hits).toMatchObject([{ text: 'Prefers window seats', type: 'preference', metadata: { source: 'seed' } }]);
    expect(await store.list({ scope: { userId: 'someone_else' } })).toHaveLength(1);
    expect(store.addCalls).toEqual([]);
    expect(store.searchCalls).toHaveLength(1);
    await store.close();
  });

  it('reset forgets the calls but keeps the memories', async () => {
    const store = createMockStore();
    await store.add({ facts: [{ text: 'Owns a sailboat' }] }, { scope });
    await store.search('sailboat', { scope });
    store.reset();
    expect(store.searchCalls).toEqual([]);
    expect(store.addCalls).toEqual([]);
    expect(await store.list({ scope })).toHaveLength(1);
    await store.close();
  });

  it('rejects an invalid seed at once', () => {
    expect(() => createMockStore([{ text: 'No owner', scope: {} }])).toThrow(InvalidOptionsError);
    expect(() => createMockStore([{ text: 'x', scope: { userId: ' ' } }])).toThrow(/seed\.0\.scope\.userId/);
  });
});
