import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/core/errors.js';
import type { MemoryStore, MemoryWrite } from '../../../src/core/types.js';
import { mem0Store } from '../../../src/stores/mem0/index.js';
import type { MockMem0Seed } from '../../../src/testing/mock-mem0-client.js';
import { connectMemoryClient, type FakeMem0, type Mem0Request, startFakeMem0 } from '../../fakes/mem0-server.js';

let fake: FakeMem0;
let store: MemoryStore;

beforeEach(async () => {
  fake = await startFakeMem0();
  store = mem0Store({ client: await connectMemoryClient(fake) });
});
afterEach(async () => {
  await store.close?.();
  await fake.close();
});

const memoryRequests = (route: Mem0Request['route']) => fake.requests.filter((request) => request.route === route);

describe('mem0Store on the platform: add', () => {
  it('hands mem0 the exchange with the entity ids at the top level, and reports PENDING, not created memories', async () => {
    const changes = await store.add(
      {
        messages: [
          { role: 'user', content: 'I always want temperatures in Celsius.' },
          { role: 'assistant', content: 'Noted: Celsius from now on.' },
        ],
      },
      { scope: { userId: 'alice', agentId: 'weather', appId: 'web', runId: 'r1' }, metadata: { source: 'chat' } },
    );
    expect(changes).toEqual([{ event: 'PENDING' }]);

    const [add] = memoryRequests('add');
    expect(add?.body).toEqual({
      messages: [
        { role: 'user', content: 'I always want temperatures in Celsius.' },
        { role: 'assistant', content: 'Noted: Celsius from now on.' },
      ],
      user_id: 'alice',
      agent_id: 'weather',
      app_id: 'web',
      run_id: 'r1',
      metadata: { source: 'chat' },
    });
    expect(add?.headers.authorization).toBe(`Token ${fake.apiKey}`);

    // mem0 extracts in the background; once it has, the memory is there.
    await fake.settled();
    const hits = await store.search('temperatures Celsius', { scope: { userId: 'alice' } });
    expect(hits.map((hit) => hit.text)).toEqual(['I always want temperatures in Celsius.']);
    expect(hits[0]?.scope).toEqual({ userId: 'alice', agentId: 'weather', appId: 'web', runId: 'r1' });
    expect(hits[0]?.metadata).toEqual({ source: 'chat' });
  });

  it('drops system and empty turns, and sends nothing when no turn is left', async () => {
    const scope = { userId: 'alice' };
    await store.add(
      {
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'Call me Ali.' },
          { role: 'assistant', content: '   ' },
        ],
      },
      { scope },
    );
    expect(memoryRequests('add').map((request) => request.body?.messages)).toEqual([
      [{ role: 'user', content: 'Call me Ali.' }],
    ]);
    expect(await store.add({ messages: [{ role: 'assistant', content: ' ' }] }, { scope })).toEqual([]);
    expect(memoryRequests('add')).toHaveLength(1);
  });

  it('stores facts verbatim with infer: false, one call per type and metadata, the type in metadata', async () => {
    const expiresAt = new Date(Date.now() + 3 * 86_400_000);
    const changes = await store.add(
      {
        facts: [
          { text: 'Prefers Celsius', type: 'preference' },
          { text: 'Prefers metric units', type: 'preference' },
          { text: 'Flies to Oslo on Friday', type: 'event', expiresAt },
        ],
      },
      { scope: { userId: 'alice' }, metadata: { source: 'import' } },
    );

    expect(changes.map((change) => [change.event, change.text])).toEqual([
      ['ADD', 'Prefers Celsius'],
      ['ADD', 'Prefers metric units'],
      ['ADD', 'Flies to Oslo on Friday'],
    ]);
    expect(changes.every((change) => typeof change.id === 'string')).toBe(true);
    const bodies = memoryRequests('add').map((request) => request.body);
    expect(bodies).toEqual([
      {
        messages: [
          { role: 'user', content: 'Prefers Celsius' },
          { role: 'user', content: 'Prefers metric units' },
        ],
        user_id: 'alice',
        metadata: { source: 'import', memory_type: 'preference' },
        infer: false,
      },
      {
        messages: [{ role: 'user', content: 'Flies to Oslo on Friday' }],
        user_id: 'alice',
        metadata: { source: 'import', memory_type: 'event', expires_at: expiresAt.toISOString() },
        infer: false,
        expiration_date: expiresAt.toISOString().slice(0, 10),
      },
    ]);

    const [event] = await store.search('Oslo Friday', { scope: { userId: 'alice' } });
    expect(event).toMatchObject({ text: 'Flies to Oslo on Friday', type: 'event', metadata: { source: 'import' } });
    expect(event?.expiresAt?.toISOString()).toBe(expiresAt.toISOString());
  });

  it('skips facts that are empty or already expired', async () => {
    const changes = await store.add(
      { facts: [{ text: '  ' }, { text: 'Old voucher', expiresAt: new Date(Date.now() - 1000) }] },
      { scope: { userId: 'alice' } },
    );
    expect(changes).toEqual([]);
    expect(memoryRequests('add')).toEqual([]);
  });

  it('retrying a write whose second call failed stores the first call once', async () => {
    const write: MemoryWrite = {
      facts: [
        { text: 'Owns a red kayak', type: 'fact' },
        { text: 'Prefers window seats', type: 'preference' },
      ],
    };
    const scope = { userId: 'alice' };
    fake.fail({ status: 503 }, { routes: ['add'], skip: 1, times: 1 });
    const error = await store.add(write, { scope }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).retryable).toBe(true);

    // The pipeline retries with the same write object.
    const changes = await store.add(write, { scope });
    expect(changes.map((change) => change.text)).toEqual(['Owns a red kayak', 'Prefers window seats']);
    expect(
      fake.engine
        .memories()
        .map((memory) => memory.memory)
        .sort(),
    ).toEqual(['Owns a red kayak', 'Prefers window seats']);
  });
});

describe('mem0Store on the platform: search', () => {
  it('sends the scope as snake_case filters, never as top-level ids, and the limit as top_k', async () => {
    await store.search('What unit for temperatures?', { scope: { userId: 'alice' } });
    const [request] = memoryRequests('search');
    expect(request?.body).toEqual({
      query: 'What unit for temperatures?',
      output_format: 'v1.1',
      top_k: 8,
      filters: { user_id: 'alice' },
    });
  });

  it('combines every id, the types and the metadata filters with AND in mem0 filter language', async () => {
    await store.search('trains', {
      scope: { userId: 'alice', agentId: 'travel', appId: 'web', runId: 'r9' },
      limit: 3,
      threshold: 0.3,
      types: ['preference', 'profile'],
      filters: { channel: ['email', 'chat'], vip: true },
    });
    expect(memoryRequests('search')[0]?.body).toEqual({
      query: 'trains',
      output_format: 'v1.1',
      top_k: 3,
      threshold: 0.3,
      filters: {
        AND: [
          { user_id: 'alice' },
          { agent_id: 'travel' },
          { app_id: 'web' },
          { run_id: 'r9' },
          { OR: [{ metadata: { memory_type: 'preference' } }, { metadata: { memory_type: 'profile' } }] },
          { OR: [{ metadata: { channel: 'email' } }, { metadata: { channel: 'chat' } }] },
          { metadata: { vip: true } },
        ],
      },
    });
  });

  it('normalises hits: text from memory, score 0..1, Dates, categories, type; reserved keys hidden', async () => {
    fake = await restartWith([
      {
        id: 'm-1',
        memory: 'Alice likes green tea',
        userId: 'alice',
        agentId: 'barista',
        metadata: { memory_type: 'preference', mood: 'calm' },
        categories: ['food'],
        createdAt: '2025-03-01T10:00:00.000Z',
      },
    ]);
    const [hit] = await store.search('green tea', { scope: { userId: 'alice' } });
    expect(hit).toEqual({
      id: 'm-1',
      text: 'Alice likes green tea',
      type: 'preference',
      metadata: { mood: 'calm', categories: ['food'] },
      scope: { userId: 'alice', agentId: 'barista' },
      createdAt: new Date('2025-03-01T10:00:00.000Z'),
      updatedAt: new Date('2025-03-01T10:00:00.000Z'),
      score: expect.any(Number),
    });
    expect(hit?.score).toBeGreaterThan(0);
    expect(hit?.score).toBeLessThanOrEqual(1);
  });

  it('refuses a scope without user, agent or run id without sending anything', async () => {
    const error = await store.search('anything', { scope: { appId: 'web' } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).retryable).toBe(false);
    expect(memoryRequests('search')).toEqual([]);
  });
});

describe('mem0Store on the platform: management', () => {
  const scope = { userId: 'alice' };

  it('lists newest first through getAll pages, mapping session_id back to the run', async () => {
    fake = await restartWith(
      Array.from({ length: 5 }, (_, index) => ({
        memory: `Note ${index}`,
        userId: 'alice',
        runId: 'r1',
        createdAt: new Date(Date.UTC(2025, 0, 1 + index)),
      })),
    );
    const page = await store.list?.({ scope, limit: 2, offset: 2 });
    expect(page?.map((memory) => memory.text)).toEqual(['Note 2', 'Note 1']);
    expect(page?.[0]?.scope).toEqual({ userId: 'alice', runId: 'r1' });
    expect(memoryRequests('getAll').map((request) => [request.query, request.body])).toEqual([
      [{ page: '2', page_size: '2' }, { filters: { user_id: 'alice' } }],
    ]);
    // An offset that is not a multiple of the limit spans two pages.
    const spanning = await store.list?.({ scope, limit: 2, offset: 1 });
    expect(spanning?.map((memory) => memory.text)).toEqual(['Note 3', 'Note 2']);
  });

  it('gets, updates (keeping type and expiry unless changed) and deletes; unknown ids are null or false', async () => {
    const [added] = await store.add(
      { facts: [{ text: 'Lives in Porto', type: 'profile', metadata: { source: 'form' } }] },
      { scope },
    );
    const id = added?.id ?? '';
    expect((await store.get?.(id))?.text).toBe('Lives in Porto');
    expect(await store.get?.('no-such-id')).toBeNull();

    const updated = await store.update?.(id, { text: 'Lives in Lisbon', metadata: { source: 'chat' } });
    expect(updated).toMatchObject({ id, text: 'Lives in Lisbon', type: 'profile', metadata: { source: 'chat' } });
    const retyped = await store.update?.(id, { type: 'fact' });
    expect(retyped).toMatchObject({ type: 'fact', metadata: { source: 'chat' } });
    expect(memoryRequests('update').at(-1)?.body).toEqual({ metadata: { source: 'chat', memory_type: 'fact' } });
    expect(await store.update?.('no-such-id', { text: 'x' })).toBeNull();

    expect(await store.delete?.(id)).toBe(true);
    expect(await store.delete?.(id)).toBe(false);
    expect(await store.get?.(id)).toBeNull();
    expect((await store.history?.(id))?.map((entry) => [entry.event, entry.oldText, entry.newText])).toEqual([
      ['ADD', undefined, 'Lives in Porto'],
      ['UPDATE', 'Lives in Porto', 'Lives in Lisbon'],
      ['UPDATE', 'Lives in Lisbon', 'Lives in Lisbon'],
      ['DELETE', 'Lives in Lisbon', undefined],
    ]);
  });

  it('deleteAll deletes one scope, says how many, and refuses a scope without ids', async () => {
    await store.add({ facts: [{ text: 'Alice one' }, { text: 'Alice two' }] }, { scope });
    await store.add(
      { facts: [{ text: 'Alice as support agent' }] },
      { scope: { userId: 'alice', agentId: 'support' } },
    );
    await store.add({ facts: [{ text: 'Bob one' }] }, { scope: { userId: 'bob' } });

    expect(await store.deleteAll?.({ userId: 'alice', agentId: 'support' })).toBe(1);
    expect(memoryRequests('deleteAll').at(-1)?.query).toEqual({ user_id: 'alice', agent_id: 'support' });
    expect(await store.deleteAll?.(scope)).toBe(2);
    expect(fake.engine.memories().map((memory) => memory.memory)).toEqual(['Bob one']);

    await expect(store.deleteAll?.({})).rejects.toBeInstanceOf(StoreError);
    expect(memoryRequests('deleteAll')).toHaveLength(2);
  });
});

describe('mem0Store({ apiKey, host })', () => {
  it('creates the MemoryClient on first use, with the key given or MEM0_API_KEY', async () => {
    const requestsBefore = fake.requests.length;
    const lazy = mem0Store({ apiKey: fake.apiKey, host: `${fake.url}/` });
    expect(fake.requests).toHaveLength(requestsBefore);
    await lazy.search('anything', { scope: { userId: 'alice' } });
    expect(memoryRequests('search')[0]?.headers.authorization).toBe(`Token ${fake.apiKey}`);

    process.env.MEM0_API_KEY = fake.apiKey;
    try {
      const fromEnvironment = mem0Store({ host: fake.url });
      await fromEnvironment.search('anything', { scope: { userId: 'alice' } });
      expect(memoryRequests('search')).toHaveLength(2);
    } finally {
      delete process.env.MEM0_API_KEY;
    }
  });
});

async function restartWith(seed: MockMem0Seed[]): Promise<FakeMem0> {
  await fake.close();
  const next = await startFakeMem0({ seed });
  store = mem0Store({ client: await connectMemoryClient(next) });
  return next;
}
