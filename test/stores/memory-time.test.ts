import { describe, expect, it } from 'vitest';
import type { MemoryStore } from '../../src/core/types.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { localStore } from '../../src/stores/local/index.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { serverDatabase } from './postgres/databases.js';

const server = serverDatabase('time');

// `FactInput.createdAt`: history back-filled from past conversations keeps its dates.
describe.each([
  ['localStore', () => localStore({ path: ':memory:' })],
  ['inMemoryStore', () => inMemoryStore()],
  ['postgresStore', () => postgresStore({ pool: server.pool, schema: server.schema() })],
] as [string, () => MemoryStore][])('%s memory time', (_name, makeStore) => {
  const scope = { userId: 'time_user' };
  const said = new Date('2023-05-08T13:56:00Z');

  it('stores a fact with the time it was said, and lists and finds it with that time', async () => {
    const store = makeStore();
    await store.add({ facts: [{ text: 'Caroline went to the LGBTQ support group', createdAt: said }] }, { scope });
    await store.add({ facts: [{ text: 'Caroline plans a trip to Sweden' }] }, { scope });
    const [newest, oldest] = (await store.list?.({ scope })) ?? [];
    expect(newest?.text).toBe('Caroline plans a trip to Sweden');
    expect(newest?.createdAt.getTime()).toBeGreaterThan(said.getTime());
    expect(oldest?.createdAt).toEqual(said);
    expect(oldest?.updatedAt).toEqual(said);
    const [hit] = await store.search('support group', { scope });
    expect(hit?.createdAt).toEqual(said);
    await store.close?.();
  });

  it('never moves a memory back in time when an older statement restates it', async () => {
    const store = makeStore();
    const later = new Date('2023-06-01T10:00:00Z');
    await store.add({ facts: [{ text: 'User likes hiking in the Alps', createdAt: later }] }, { scope });
    await store.add({ facts: [{ text: 'The user likes hiking in the Alps', createdAt: said }] }, { scope });
    const memories = (await store.list?.({ scope })) ?? [];
    expect(memories).toHaveLength(1);
    expect(memories[0]?.createdAt).toEqual(later);
    expect(memories[0]?.updatedAt).toEqual(later);
    await store.close?.();
  });
});
