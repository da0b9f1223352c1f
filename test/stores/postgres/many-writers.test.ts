import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { postgresStore } from '../../../src/stores/postgres/index.js';
import { fixtureRunner } from '../run-fixture.js';
import { serverDatabase, serverUrl } from './databases.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const server = serverDatabase('writers');
const runFixture = fixtureRunner(fixtures);

describe('postgresStore with many writers on one server', () => {
  it('4 processes x 500 adds into one scope lose nothing and make no duplicates', async () => {
    const schema = server.schema();
    // The schema exists before the race, as on a server in use; creating it concurrently is covered below.
    await postgresStore({ pool: server.pool, schema }).list({ scope: { userId: 'shared-user' } });
    const writers = await Promise.all(
      ['w1', 'w2', 'w3', 'w4'].map((label) =>
        runFixture('add-memories.ts', [serverUrl, schema, 'shared-user', label, '500']),
      ),
    );
    for (const writer of writers) {
      expect(writer.code, writer.stderr).toBe(0);
      const result = JSON.parse(writer.lines.at(-1) ?? '{}') as {
        own: number;
        shared: Record<string, number>;
        errors: string[];
      };
      expect(result.errors).toEqual([]);
      expect(result.own).toBe(250);
    }
    // Each shared note was added by exactly one writer; the three others found it.
    const sharedAdds = writers.map((writer) => JSON.parse(writer.lines.at(-1) ?? '{}').shared.ADD ?? 0);
    expect(sharedAdds.reduce((sum: number, count: number) => sum + count, 0)).toBe(250);
    const { rows } = await server.pool.query(
      `SELECT count(*)::int AS memories, count(DISTINCT text)::int AS texts,
              count(*) FILTER (WHERE text LIKE 'Shared note %')::int AS shared
       FROM "${schema}".memories WHERE user_id = 'shared-user'`,
    );
    expect(rows[0]).toEqual({ memories: 1250, texts: 1250, shared: 250 });
  }, 120_000);

  it('a writer killed in the middle of its transaction leaves no partial memory', async () => {
    const schema = server.schema();
    const writer = await runFixture('die-in-transaction.ts', [serverUrl, schema, 'killed-user'], (line, child) => {
      if (line === 'inside') child.kill('SIGKILL');
    });
    expect(writer.signal, writer.stderr).toBe('SIGKILL');
    expect(writer.lines).toEqual(['inside']);
    const store = postgresStore({ pool: server.pool, schema });
    // The restatement's UPDATE ran inside the transaction: the server rolled it back with the rest.
    const memories = await store.list({ scope: { userId: 'killed-user' } });
    expect(memories.map((memory) => memory.text)).toEqual(['Travels to Zanzibar in May']);
    const history = await store.history(memories[0]?.id ?? '');
    expect(history.map((entry) => [entry.event, entry.newText])).toEqual([['ADD', 'Travels to Zanzibar in May']]);
    const { rows } = await server.pool.query(
      `SELECT (SELECT count(*) FROM "${schema}".memories)::int AS memories,
              (SELECT count(*) FROM "${schema}".memory_history)::int AS history`,
    );
    expect(rows[0]).toEqual({ memories: 1, history: 1 });
    // And its lock on the scope went with it: the next writer is not kept waiting.
    const [change] = await store.add(
      { facts: [{ text: 'travels to ZANZIBAR in May' }] },
      { scope: { userId: 'killed-user' } },
    );
    expect(change).toMatchObject({ event: 'UPDATE', id: memories[0]?.id });
  }, 60_000);

  it('processes opening a new schema at the same time create it once', async () => {
    const schema = server.schema();
    const stores = Array.from({ length: 4 }, () => postgresStore({ pool: server.pool, schema }));
    await Promise.all(
      stores.map((store, index) =>
        store.add({ facts: [{ text: `Opened by store ${index}` }] }, { scope: { userId: 'u' } }),
      ),
    );
    const { rows } = await server.pool.query(`SELECT version FROM "${schema}".with_memory_versions ORDER BY version`);
    expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
    expect(await stores[0]?.list({ scope: { userId: 'u' } })).toHaveLength(4);
  });
});
