import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/errors.js';
import type { Extractor, MetadataFilter } from '../../src/core/types.js';
import { flushMemory } from '../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../src/providers/function.js';
import { recordMemoryBlocks } from '../../src/testing/memory-blocks.js';
import { createMockStore } from '../../src/testing/mock-store.js';
import { testStoreContract } from '../../src/testing/vitest/index.js';
import { withMemory } from '../../src/with-memory.js';

testStoreContract('createMockStore', () => createMockStore());

const scope = { userId: 'user_42' };

describe('createMockStore', () => {
  it("tags the wrapper's search for the prompt apart from the extractor's look-ups", async () => {
    const store = createMockStore([{ text: 'Lives in Lisbon', type: 'profile', scope }]);
    const correcting: Extractor = {
      name: 'correcting',
      async extract(turn, { store: lookups }) {
        const [old] = await lookups.search('lives in', { scope: turn.scope, limit: 1 });
        return old ? [{ kind: 'update', id: old.id, patch: { text: 'Lives in Porto' } }] : [];
      },
    };
    const agent = withMemory(async (_request: MemoryFunctionRequest) => 'Noted.', {
      scope,
      store,
      extract: correcting,
      episodes: false,
    });

    await agent({ messages: [{ role: 'user', content: 'I moved to Porto.' }] });
    await flushMemory(store);

    expect(store.searchCalls.map((call) => [call.purpose, call.query])).toEqual([
      ['prompt', 'I moved to Porto.'],
      ['extract', 'lives in'],
    ]);
    expect((await store.list({ scope }))[0]?.text).toBe('Lives in Porto');
    await store.close();
  });

  it('recordMemoryBlocks keeps the block each call showed the model', async () => {
    const store = createMockStore([{ text: 'Prefers tea', type: 'preference', scope }]);
    const shown = recordMemoryBlocks();
    const systems: Array<string | undefined> = [];
    const agent = withMemory(
      async ({ system }: MemoryFunctionRequest) => {
        systems.push(system);
        return 'OK';
      },
      { scope, store, onSearch: shown.onSearch, write: false },
    );
    await agent({ messages: [{ role: 'user', content: 'Something to drink?' }] });
    const stranger = withMemory(async (_request: MemoryFunctionRequest) => 'OK', {
      scope: { userId: 'x' },
      store,
      onSearch: shown.onSearch,
    });
    await stranger({ messages: [{ role: 'user', content: 'Something to drink?' }] });
    await flushMemory(store);

    expect(shown.blocks).toHaveLength(2);
    expect(shown.blocks[0]).toMatch(/^<memories>[\s\S]*Prefers tea[\s\S]*<\/memories>$/);
    expect(systems[0]).toBe(shown.blocks[0]);
    expect(shown.blocks[1]).toBe('');
    await store.close();
  });

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
      {
        query: 'green tea',
        options: { scope, limit: 3, filters: { channel: 'chat' }, signal: controller.signal },
        purpose: 'prompt',
      },
    ]);
    expect(store.searchCalls[0]?.options.signal).toBe(controller.signal);
    await store.close();
  });

  it('records a call even when the store rejects it', async () => {
    const store = createMockStore();
    await expect(store.search('tea', { scope: {} })).rejects.toBeInstanceOf(InvalidOptionsError);
    expect(store.searchCalls).toEqual([{ query: 'tea', options: { scope: {} }, purpose: 'prompt' }]);
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
