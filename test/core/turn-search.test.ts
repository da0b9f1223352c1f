import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import type { WithMemoryOptions } from '../../src/core/options.js';
import { createTracing } from '../../src/core/tracing.js';
import { buildBlock, searchScope, searchTurn, searchWithShared } from '../../src/core/turn-search.js';
import type { MemoryStore, Scope } from '../../src/core/types.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { resolvedSettings } from './fixtures/resolved-settings.js';

const ana: Scope = { userId: 'ana', agentId: 'planner' };
const anaShared: Scope = { userId: 'ana' };
const ben: Scope = { userId: 'ben' };

/** A store holding two users' memories, and what its search was asked. */
async function seeded() {
  const store = inMemoryStore();
  await store.add(
    {
      facts: [
        { text: 'Prefers window seats on trains', type: 'preference' },
        { text: 'Took the train to Lisbon in May', type: 'event' },
      ],
    },
    { scope: ana },
  );
  await store.add({ facts: [{ text: 'Is vegetarian', type: 'preference' }] }, { scope: anaShared });
  await store.add(
    { facts: [{ text: 'Booked the hotel in Porto', type: 'task' }] },
    { scope: { userId: 'ana', agentId: 'executor' } },
  );
  await store.add({ facts: [{ text: 'Took the train to Madrid', type: 'event' }] }, { scope: ben });
  const queries: string[] = [];
  const recording: MemoryStore = {
    ...store,
    search: (query, options) => {
      queries.push(query);
      return store.search(query, options);
    },
  };
  return { store: recording, queries };
}

function setup(store: MemoryStore, options: Partial<WithMemoryOptions> = {}) {
  return resolvedSettings({ scope: ana, store, ...options });
}

const untraced = (scope: Scope) => createTracing({ enabled: false }, 'test').turn(scope);

describe('searchTurn: what a turn searches and injects', () => {
  it('injects the hits and standing preferences of its own scope, never another user’s', async () => {
    const { store, queries } = await seeded();
    const { settings, reporter, errors } = setup(store);
    const found = await searchTurn(
      'train trip',
      { scope: ana, shared: undefined },
      settings,
      reporter,
      await untraced(ana),
    );
    expect(queries).toEqual(['train trip']);
    const injected = [...found.hits, ...found.standing].map((memory) => memory.text);
    expect(injected).toContain('Took the train to Lisbon in May');
    expect(injected).toContain('Prefers window seats on trains');
    expect(found.memoryBlock).toContain('Took the train to Lisbon in May');
    expect(found.memoryBlock).toContain('Prefers window seats on trains');
    expect(found.memoryBlock).not.toContain('Madrid');
    expect(errors).toEqual([]);
  });

  it('injects nothing and builds no block when nothing is found', async () => {
    const { store } = await seeded();
    const { settings, reporter } = setup(store);
    const found = await searchTurn(
      'train',
      { scope: { userId: 'nobody' }, shared: undefined },
      settings,
      reporter,
      await untraced(ana),
    );
    expect(found).toEqual({ hits: [], standing: [], memoryBlock: '' });
  });

  it('searches with the redacted query', async () => {
    const { store, queries } = await seeded();
    const { settings, reporter } = setup(store, { redact: true });
    await searchScope('mail me at ana@example.com about trains', ana, settings, reporter);
    expect(queries).toEqual(['mail me at [email] about trains']);
  });

  it('lists standing memories only of the searched types, and skips the search for an empty query', async () => {
    const { store, queries } = await seeded();
    const events = setup(store, { search: { types: ['event'] } });
    expect(await searchScope('', ana, events.settings, events.reporter)).toEqual({ hits: [], standing: [] });
    const preferences = setup(store, { search: { types: ['preference'] } });
    const found = await searchScope('', ana, preferences.settings, preferences.reporter);
    expect(found.standing.map((memory) => memory.text)).toEqual(['Prefers window seats on trains']);
    expect(queries).toEqual([]);
  });

  it('keeps the standing memories when the search fails, and reports the failure', async () => {
    const { store } = await seeded();
    const failing: MemoryStore = { ...store, search: async () => Promise.reject(new Error('connection reset')) };
    const { settings, reporter, errors } = setup(failing);
    const found = await searchScope('train', ana, settings, reporter);
    expect(found.hits).toEqual([]);
    expect(found.standing.map((memory) => memory.text)).toEqual(['Prefers window seats on trains']);
    expect(errors).toHaveLength(1);
    expect(StoreError.isInstance(errors[0]?.error)).toBe(true);
    expect(errors[0]?.error.message).toBe(`Store "${store.name}" failed on search: connection reset`);
    expect(errors[0]?.context).toEqual({ stage: 'search', scope: ana });
  });

  it('drops and reports hits a store returns from outside the scope', async () => {
    const { store } = await seeded();
    const leaky: MemoryStore = {
      ...store,
      search: (query, options) => store.search(query, { ...options, scope: { userId: 'ben' } }),
    };
    const { settings, reporter, errors } = setup(leaky);
    const found = await searchScope('train', { userId: 'ana' }, settings, reporter);
    expect(found.hits.map((hit) => hit.text)).not.toContain('Took the train to Madrid');
    expect(errors.map(({ error }) => error.message)).toEqual([
      `Store "${store.name}" returned 1 memories outside the requested scope from search; they were dropped. The store does not isolate scopes: fix its scope filter.`,
    ]);
  });
});

describe('searchWithShared: the own scope and exactly the shared one', () => {
  it('finds what is stored under the shared scope, but not another agent’s own memories of the user', async () => {
    const { store } = await seeded();
    const { settings, reporter } = setup(store, { shared: anaShared });
    const found = await searchWithShared('hotel Porto train', ana, anaShared, settings, reporter);
    const texts = [...found.hits, ...found.standing].map((memory) => memory.text);
    expect(texts).toContain('Is vegetarian');
    expect(texts).toContain('Took the train to Lisbon in May');
    expect(texts).not.toContain('Booked the hotel in Porto');
  });
});

describe('buildBlock: only a string with text is injected', () => {
  const memories = async () => {
    const { store } = await seeded();
    return (await store.list?.({ scope: ana })) ?? [];
  };

  it.each([
    ['a Promise', { build: () => Promise.resolve('block') as unknown as string }, 'a Promise'],
    ['only whitespace', { build: () => '  \n' }, 'only whitespace'],
    ['undefined', { build: () => undefined as unknown as string }, 'undefined'],
  ])('injects nothing for a builder that returns %s, and reports it', async (_label, prompt, got) => {
    const { store } = await seeded();
    const { settings, reporter, errors } = setup(store, { prompt });
    const block = buildBlock({ query: 'q', hits: [], standing: await memories(), scope: ana }, settings, reporter);
    expect(block).toBe('');
    expect(errors.map(({ error, context }) => [error.message, context.stage])).toEqual([
      [
        `The prompt builder returned ${got} instead of a string (build must be synchronous); nothing was injected.`,
        'build',
      ],
    ]);
  });

  it('injects nothing for a builder that throws, and reports it', async () => {
    const { store } = await seeded();
    const prompt = {
      build: () => {
        throw new Error('template missing');
      },
    };
    const { settings, reporter, errors } = setup(store, { prompt });
    expect(buildBlock({ query: 'q', hits: [], standing: await memories(), scope: ana }, settings, reporter)).toBe('');
    expect(errors.map(({ error }) => error.message)).toEqual(['The prompt builder failed: template missing']);
  });
});
