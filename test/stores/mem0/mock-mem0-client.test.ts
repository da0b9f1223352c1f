import type { MemoryClient } from 'mem0ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockMem0Client, type MockMem0Client } from '../../../src/testing/mock-mem0-client.js';
import { connectMemoryClient, type FakeMem0, startFakeMem0 } from '../../fakes/mem0-server.js';

const seed = [
  {
    id: 'a1',
    memory: 'Alice drinks green tea every morning',
    userId: 'alice',
    categories: ['food'],
    metadata: { channel: 'email' },
    createdAt: '2025-01-01T00:00:00Z',
  },
  {
    id: 'a2',
    memory: 'Alice books aisle seats',
    userId: 'alice',
    agentId: 'travel',
    createdAt: '2025-02-01T00:00:00Z',
  },
  {
    id: 'b1',
    memory: 'Bob drinks black tea',
    userId: 'bob',
    metadata: { channel: 'chat' },
    createdAt: '2025-03-01T00:00:00Z',
  },
];

async function thrown(promise: Promise<unknown>): Promise<Error & { errorCode?: string; status?: number }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

describe('createMockMem0Client: search and the filter language', () => {
  const client = createMockMem0Client(seed);
  const ids = async (filters: Record<string, unknown>, query = 'tea seats aisle green black') =>
    (await client.search(query, { filters, threshold: 0 })).results.map((hit) => hit.id).sort();

  it('scores in 0..1, best first, within filters', async () => {
    const { results } = await client.search('green tea', { filters: { user_id: 'alice' } });
    expect(results.map((hit) => hit.id)).toEqual(['a1']);
    expect(results[0]?.score).toBeGreaterThan(0);
    expect(results[0]?.score).toBeLessThanOrEqual(1);
    expect(Object.keys(results[0] ?? {}).sort()).toEqual(
      [
        'id',
        'memory',
        'score',
        'userId',
        'agentId',
        'appId',
        'runId',
        'metadata',
        'categories',
        'expirationDate',
        'createdAt',
        'updatedAt',
      ].sort(),
    );
  });

  it('AND, OR, NOT, wildcards and operators', async () => {
    expect(await ids({ AND: [{ user_id: 'alice' }, { agent_id: 'travel' }] })).toEqual(['a2']);
    expect(await ids({ OR: [{ user_id: 'bob' }, { agent_id: 'travel' }] })).toEqual(['a2', 'b1']);
    expect(await ids({ AND: [{ user_id: 'alice' }, { NOT: { agent_id: '*' } }] })).toEqual(['a1']);
    expect(await ids({ user_id: { in: ['alice', 'bob'] }, agent_id: { ne: 'travel' } })).toEqual(['a1', 'b1']);
    expect(await ids({ AND: [{ user_id: '*' }, { created_at: { gte: '2025-02-01' } }] })).toEqual(['a2', 'b1']);
    expect(await ids({ AND: [{ user_id: 'alice' }, { categories: { in: ['food'] } }] })).toEqual(['a1']);
    expect(await ids({ AND: [{ user_id: '*' }, { metadata: { channel: 'chat' } }] })).toEqual(['b1']);
    expect(await ids({ AND: [{ user_id: '*' }, { keywords: { icontains: 'GREEN' } }] })).toEqual(['a1']);
    expect(await ids({ AND: [{ user_id: '*' }, { memory_ids: ['a2', 'b1'] }] })).toEqual(['a2', 'b1']);
  });

  it('refuses what the platform refuses, with the errors mem0ai raises', async () => {
    const noEntity = await thrown(client.search('tea', { filters: { metadata: { channel: 'chat' } } }));
    expect(noEntity).toMatchObject({ name: 'ValidationError', errorCode: 'HTTP_400', status: 400 });
    expect((await thrown(client.search('tea', {}))).errorCode).toBe('HTTP_400');
    expect((await thrown(client.search('tea', { filters: { user_id: 'a', colour: 'x' } }))).errorCode).toBe('HTTP_400');
    // The platform's metadata filter has no `in`.
    expect(
      (await thrown(client.search('tea', { filters: { user_id: 'a', metadata: { channel: { in: ['x'] } } } })))
        .errorCode,
    ).toBe('HTTP_400');
    // MemoryClient refuses top-level ids before sending anything, with these words.
    expect((await thrown(client.search('tea', { userId: 'alice' }))).message).toMatch(
      /Top-level entity parameters \[userId\] are not supported in search\(\)/,
    );
  });

  it('applies threshold and topK', async () => {
    const all = await client.search('tea', { filters: { user_id: '*' }, topK: 1 });
    expect(all.results).toHaveLength(1);
    expect((await client.search('tea', { filters: { user_id: '*' }, threshold: 1 })).results).toEqual([]);
  });
});

describe('createMockMem0Client: writes, paging, management', () => {
  it('add with inference answers PENDING and keeps each user turn; infer:false answers with the stored memories', async () => {
    const client = createMockMem0Client();
    const pending = await client.add(
      [
        { role: 'user', content: 'I use Celsius' },
        { role: 'assistant', content: 'Noted' },
      ],
      { userId: 'u' },
    );
    expect(pending).toMatchObject({ status: 'PENDING', eventId: expect.any(String) });
    expect(client.memories().map((memory) => memory.memory)).toEqual(['I use Celsius']);

    const stored = (await client.add([{ role: 'user', content: 'Owns a kayak' }], {
      userId: 'u',
      infer: false,
      metadata: { memory_type: 'fact' },
    })) as { status: string; results: Array<{ id: string; data: { memory: string }; event: string }> };
    expect(stored.status).toBe('SUCCEEDED');
    expect(stored.results.map((result) => [result.data.memory, result.event])).toEqual([['Owns a kayak', 'ADD']]);
    await expect(client.add([{ role: 'user', content: 'x' }], {})).rejects.toMatchObject({ errorCode: 'HTTP_400' });
    await expect(client.add([], { userId: 'u' })).rejects.toThrow(/empty messages/);
  });

  it('getAll pages newest first in the platform envelope, naming the run session_id', async () => {
    const client = createMockMem0Client(
      Array.from({ length: 5 }, (_, index) => ({
        memory: `Note ${index}`,
        userId: 'u',
        runId: 'r',
        createdAt: new Date(Date.UTC(2025, 0, 1 + index)),
      })),
    );
    const page = await client.getAll({ filters: { user_id: 'u' }, page: 2, pageSize: 2 });
    expect(page.count).toBe(5);
    expect(page.next).not.toBeNull();
    expect(page.previous).not.toBeNull();
    expect(page.results.map((memory) => [memory.memory, memory.sessionId])).toEqual([
      ['Note 2', 'r'],
      ['Note 1', 'r'],
    ]);
    await expect(client.getAll({ filters: { user_id: 'u' }, pageSize: 500 })).rejects.toMatchObject({
      errorCode: 'HTTP_400',
    });
  });

  it('update, delete, deleteAll and history; unknown ids are 404', async () => {
    const client = createMockMem0Client(seed);
    const updated = await client.update('a1', { text: 'Alice drinks matcha', metadata: { channel: 'chat' } });
    expect(updated).toMatchObject({ memory: 'Alice drinks matcha', metadata: { channel: 'chat' } });
    await expect(client.update('a1', {})).rejects.toThrow(/At least one of/);
    expect(await client.delete('a1')).toEqual({ message: 'Memory deleted successfully!' });
    await expect(client.get('a1')).rejects.toMatchObject({ name: 'MemoryNotFoundError', errorCode: 'HTTP_404' });
    expect((await client.history('a1')).map((row) => [row.event, row.oldMemory, row.newMemory])).toEqual([
      ['ADD', null, 'Alice drinks green tea every morning'],
      ['UPDATE', 'Alice drinks green tea every morning', 'Alice drinks matcha'],
      ['DELETE', 'Alice drinks matcha', null],
    ]);
    await client.deleteAll({ userId: 'alice' });
    expect(client.memories().map((memory) => memory.id)).toEqual(['b1']);
    await expect(client.deleteAll({})).rejects.toMatchObject({ errorCode: 'HTTP_400' });
  });

  it('records every call with a copy of its arguments', async () => {
    const client = createMockMem0Client();
    const options = { filters: { user_id: 'u' } };
    await client.search('tea', options);
    options.filters.user_id = 'changed later';
    expect(client.calls).toEqual([{ method: 'search', args: ['tea', { filters: { user_id: 'u' } }] }]);
  });
});

describe('createMockMem0Client answers like the real MemoryClient against the platform fake', () => {
  let fake: FakeMem0;
  let real: MemoryClient;
  let mock: MockMem0Client;
  beforeAll(async () => {
    fake = await startFakeMem0();
    real = await connectMemoryClient(fake);
    mock = createMockMem0Client();
  });
  afterAll(async () => {
    await fake.close();
  });

  /** The shape of an answer: its keys, recursively, without the values. */
  function shape(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(shape);
    if (typeof value !== 'object' || value === null) return typeof value;
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, inner]) => [key, key === 'metadata' ? inner : shape(inner)]),
    );
  }

  it('for add, search, getAll, get, update, history, delete and deleteAll', async () => {
    const run = async (
      client: Pick<MockMem0Client, 'add' | 'search' | 'getAll' | 'get' | 'update' | 'history' | 'delete' | 'deleteAll'>,
    ) => {
      const added = (await client.add([{ role: 'user', content: 'Prefers Celsius' }], {
        userId: 'u',
        infer: false,
        metadata: { memory_type: 'preference' },
      })) as { results: Array<{ id: string }> };
      const id = added.results[0]?.id ?? '';
      return {
        add: shape(added),
        search: shape(await client.search('Celsius', { filters: { user_id: 'u' } })),
        getAll: shape(await client.getAll({ filters: { user_id: 'u' } })),
        get: shape(await client.get(id)),
        update: shape(await client.update(id, { text: 'Prefers Kelvin' })),
        history: shape(await client.history(id)),
        delete: shape(await client.delete(id)),
        deleteAll: shape(await client.deleteAll({ userId: 'u' })),
      };
    };
    const viaFake = await run(real as unknown as MockMem0Client);
    const viaMock = await run(mock);
    // Messages are free text on both; everything else must match key for key.
    expect(viaMock).toEqual(viaFake);
  });
});
