import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateWorkload } from '../../../bench/store.js';
import { InvalidOptionsError, StoreError } from '../../../src/core/errors.js';
import { localStore } from '../../../src/stores/local/index.js';
import {
  type Embedder,
  type PostgresPool,
  type PostgresStore,
  type PostgresStoreOptions,
  postgresStore,
} from '../../../src/stores/postgres/index.js';
import { scopeKey } from '../../../src/stores/postgres/schema.js';
import { type BehaviourOptions, describeInputRules, describeStoreBehaviour } from '../store-behaviour.js';
import { pgliteDatabase, serverDatabase } from './databases.js';

const run = promisify(execFile);
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const server = serverDatabase('store');
const stores: PostgresStore[] = [];
const user = { userId: 'user-1' };

afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores.length = 0;
});

function track(store: PostgresStore): PostgresStore {
  stores.push(store);
  return store;
}

// Each test gets a schema of its own on the server; the second store of a test another one.
let schema = server.schema();
afterEach(() => {
  schema = server.schema();
});
describeStoreBehaviour('postgresStore (PostgreSQL server)', {
  open: (options: BehaviourOptions = {}) => track(postgresStore({ pool: server.pool, schema, ...options })),
  openOther: () => track(postgresStore({ pool: server.pool, schema: server.schema() })),
});

describeInputRules('postgresStore (PostgreSQL server)', () => track(postgresStore({ pool: server.pool, schema })));

// The vector path on pgvector.
const lite = pgliteDatabase();
// Starting PGlite takes seconds (more on a busy machine): not inside the first test's time-out.
beforeAll(() => lite.pool().waitReady, 120_000);
describeStoreBehaviour(
  'postgresStore (PGlite with pgvector)',
  {
    open: (options: BehaviourOptions = {}) =>
      track(postgresStore({ pool: lite.pool(), schema: lite.schema(), ...options })),
    openOther: () => track(postgresStore({ pool: lite.pool(), schema: lite.schema() })),
  },
  ['embedder', 'restatements', 'search'],
);

it('PGlite with pgvector keeps vectors as pgvector', async () => {
  expect(await track(postgresStore({ pool: lite.pool(), schema: lite.schema() })).vectorStorage()).toBe('pgvector');
});

describe('postgresStore options and schema', () => {
  it('validates its options when called, and throws InvalidOptionsError naming the option', () => {
    expect(() => postgresStore({} as PostgresStoreOptions)).toThrow(/pool/);
    expect(() => postgresStore({ pool: server.pool, schema: 'Bad-Name' })).toThrow(InvalidOptionsError);
    expect(() => postgresStore({ pool: server.pool, duplicateThreshold: 2 })).toThrow(/duplicateThreshold/);
    expect(() => postgresStore({ pool: server.pool, schma: 'x' } as never)).toThrow(/schma/);
  });

  it('creates its tables in the given schema on first use, and says how it keeps vectors', async () => {
    const own = server.schema();
    const store = track(postgresStore({ pool: server.pool, schema: own }));
    const before = await server.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [own]);
    expect(before.rows).toEqual([]);
    expect(await store.vectorStorage()).toBe('real[]');
    const tables = await server.pool.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [own],
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual([
      'memories',
      'memory_history',
      'memory_terms',
      'scope_stats',
      'with_memory_versions',
    ]);
  });

  // L14
  it("refuses shared and system schemas, and never reads an application's schema_migrations", async () => {
    for (const schema of ['public', 'information_schema', 'pg_catalog', 'pg_temp_1', 'pg_toast']) {
      expect(() => postgresStore({ pool: server.pool, schema })).toThrow(/schema.*of the store's own/);
    }
    const own = server.schema();
    // An application keeps its migrations in the schema it gave the store.
    await server.pool.query(`CREATE SCHEMA "${own}"`);
    await server.pool.query(`CREATE TABLE "${own}".schema_migrations (version bigint PRIMARY KEY, name text)`);
    await server.pool.query(`INSERT INTO "${own}".schema_migrations VALUES (20260101120000, 'create_users')`);
    const store = track(postgresStore({ pool: server.pool, schema: own }));
    await store.add({ facts: [{ text: 'Owns a canoe' }] }, { scope: user });
    expect((await store.search('canoe', { scope: user }))[0]?.text).toBe('Owns a canoe');
    const { rows } = await server.pool.query(`SELECT version::text, name FROM "${own}".schema_migrations`);
    expect(rows).toEqual([{ version: '20260101120000', name: 'create_users' }]);
  });

  it('opens a schema made when its versions were kept in schema_migrations, without migrating again', async () => {
    const own = server.schema();
    await track(postgresStore({ pool: server.pool, schema: own })).add(
      { facts: [{ text: 'Owns a kayak' }] },
      { scope: user },
    );
    await server.pool.query(`ALTER TABLE "${own}".with_memory_versions RENAME TO schema_migrations`);
    const reopened = track(postgresStore({ pool: server.pool, schema: own }));
    expect((await reopened.search('kayak', { scope: user }))[0]?.text).toBe('Owns a kayak');
    const { rows } = await server.pool.query(`SELECT version FROM "${own}".with_memory_versions ORDER BY version`);
    expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
  });

  // What a large scope's search reads instead of the scope: kept by triggers, so it must equal a count.
  const scopeStats = async (pool: PostgresPool, own: string) => {
    const kept = await pool.query(
      `SELECT user_id, agent_id, memories::integer, terms::integer FROM "${own}".scope_stats WHERE memories <> 0 ORDER BY 1, 2`,
    );
    const counted = await pool.query(
      `SELECT user_id, agent_id, count(*)::integer AS memories, sum(cardinality(terms))::integer AS terms
       FROM "${own}".memories WHERE deleted_at IS NULL GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    // And each term's memories by exact scope: what the index holds and what the rows say, both ways.
    const [{ differences }] = (
      await pool.query(
        `WITH expected AS (SELECT DISTINCT ${scopeKey('m')} AS scope_key,
           t.term, m.seq FROM "${own}".memories AS m, unnest(m.terms) AS t(term) WHERE m.deleted_at IS NULL),
         held AS (SELECT scope_key, term, seq FROM "${own}".memory_terms)
         SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM held) AS missing)::integer +
           (SELECT count(*) FROM (SELECT * FROM held EXCEPT SELECT * FROM expected) AS extra)::integer AS differences`,
      )
    ).rows as [{ differences: number }];
    return { kept: kept.rows, counted: counted.rows, differences };
  };

  it("keeps each scope's size, length and term index through add, restatement, update, delete and deleteAll", async () => {
    for (const [pool, own] of [
      [server.pool, server.schema()],
      [lite.pool(), lite.schema()],
    ] as const) {
      const store = track(postgresStore({ pool, schema: own }));
      const other = { userId: 'user-2', agentId: 'helper' };
      const added = await store.add(
        { facts: [{ text: 'Owns a red kayak' }, { text: 'Lives by the lake in Annecy' }, { text: 'Prefers tea' }] },
        { scope: user },
      );
      await store.add({ facts: [{ text: 'Owns a red kayak' }, { text: 'Plays chess on Sundays' }] }, { scope: other });
      await store.add({ facts: [{ text: 'Prefers green tea in the morning' }] }, { scope: user });
      await store.update?.(added[1]?.id ?? '', { text: 'Lives by the lake in Annecy with two cats and a dog' });
      await store.update?.(added[0]?.id ?? '', { metadata: { colour: 'red' } });
      await store.delete?.(added[2]?.id ?? '');
      let stats = await scopeStats(pool, own);
      expect(stats.kept, own).toEqual(stats.counted);
      expect(stats.differences, own).toBe(0);
      expect(stats.counted.map((row) => (row as { memories: number }).memories)).toEqual([3, 2]);
      await store.deleteAll?.(user);
      stats = await scopeStats(pool, own);
      expect(stats.kept, own).toEqual(stats.counted);
      expect(stats.differences, own).toBe(0);
      expect(stats.counted).toHaveLength(1);
    }
  });

  it('keeps the longest scope ids of four-byte characters beside the longest terms', async () => {
    const own = server.schema();
    const store = track(postgresStore({ pool: server.pool, schema: own }));
    // Varied characters: the server compresses a long index entry first, and a repeated one fits.
    let seed = 7;
    const pick = (from: number, span: number) => {
      seed = (seed * 48271) % 2147483647;
      return String.fromCodePoint(from + (seed % span));
    };
    const id = (letter: string) => letter + Array.from({ length: 127 }, () => pick(0x20000, 0xa6d0)).join('');
    const scope = { userId: id('u'), agentId: id('a'), runId: id('r'), appId: id('p') };
    const word = Array.from({ length: 900 }, () => pick(0x430, 32)).join('');
    await store.add({ facts: [{ text: `Keeps a ${word} note` }, { text: 'Keeps a kayak' }] }, { scope });
    const [hit] = await store.search('kayak', { scope });
    expect(hit?.text).toBe('Keeps a kayak');
    expect((await scopeStats(server.pool, own)).differences).toBe(0);
  });

  it('upgrades a schema of version 1: the memories already there are counted and indexed', async () => {
    const own = server.schema();
    const first = track(postgresStore({ pool: server.pool, schema: own }));
    await first.add({ facts: [{ text: 'Owns a kayak' }, { text: 'Lives in Annecy' }] }, { scope: user });
    await first.close();
    // Back to version 1: what a schema written before this version holds.
    const s = `"${own}"`;
    for (const statement of [
      `DROP TABLE ${s}.scope_stats, ${s}.memory_terms`,
      `DROP TRIGGER memories_added ON ${s}.memories`,
      `DROP TRIGGER memories_changed ON ${s}.memories`,
      `DROP TRIGGER memories_removed ON ${s}.memories`,
      `DROP FUNCTION ${s}.index_memories, ${s}.apply_scope_stats`,
      `DROP TYPE ${s}.scope_change`,
      `DROP INDEX ${['app', 'user_updated', 'agent_updated', 'run_updated', 'app_updated'].map((name) => `${s}.memories_${name}`).join(', ')}`,
      `DELETE FROM ${s}.with_memory_versions WHERE version = 2`,
    ])
      await server.pool.query(statement);
    const upgraded = track(postgresStore({ pool: server.pool, schema: own }));
    expect((await upgraded.search('kayak', { scope: user }))[0]?.text).toBe('Owns a kayak');
    const stats = await scopeStats(server.pool, own);
    expect(stats.kept).toEqual(stats.counted);
    expect(stats.differences).toBe(0);
    expect(stats.counted).toEqual([{ user_id: 'user-1', agent_id: null, memories: 2, terms: 4 }]);
    const { rows } = await server.pool.query(`SELECT version FROM "${own}".with_memory_versions ORDER BY version`);
    expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
  });

  it('refuses a schema written by a newer version, and leaves it untouched', async () => {
    const own = server.schema();
    await track(postgresStore({ pool: server.pool, schema: own })).add(
      { facts: [{ text: 'Owns a kayak' }] },
      { scope: user },
    );
    await server.pool.query(`INSERT INTO "${own}".with_memory_versions (version) VALUES (99)`);
    const error = await postgresStore({ pool: server.pool, schema: own })
      .search('kayak', { scope: user })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ operation: 'open', retryable: false });
    expect((error as Error).message).toMatch(
      /newer version of with-memory \(schema version 99; this version reads up to 2\)/,
    );
    const rows = await server.pool.query(`SELECT text FROM "${own}".memories`);
    expect(rows.rows).toEqual([{ text: 'Owns a kayak' }]);
  });

  // M9
  it('bounds a frozen writer: others get a retryable lock time-out, and the server frees the scope', async () => {
    const pg = (await import('pg')).default;
    const own = server.schema();
    const scope = { userId: 'frozen-scope' };
    // A writer whose process stops mid-transaction, holding the scope's lock: its client never
    // sends the INSERT, as a paused process would not.
    const frozenPool = new pg.Pool({ connectionString: server.pool.options.connectionString, max: 1 });
    frozenPool.on('error', () => undefined);
    const connect = frozenPool.connect.bind(frozenPool);
    let reachedInsert: () => void = () => undefined;
    let armed = false;
    const inside = new Promise<void>((resolve) => {
      reachedInsert = resolve;
    });
    Object.assign(frozenPool, {
      async connect() {
        const client = await connect();
        client.on('error', () => undefined);
        const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<unknown>;
        return Object.assign(client, {
          query(text: string, values?: unknown[]) {
            if (armed && text.includes('INSERT INTO') && text.includes('.memories')) {
              reachedInsert();
              return new Promise(() => {});
            }
            return query(text, values);
          },
        });
      },
    });
    const frozen = postgresStore({ pool: frozenPool, schema: own, lockTimeoutMs: 1500 });
    // Opened (the schema made) first: the writer freezes in its add, not in the migration.
    await frozen.vectorStorage();
    armed = true;
    void frozen.add({ facts: [{ text: 'Never committed' }] }, { scope });
    await inside;

    const other = track(postgresStore({ pool: server.pool, schema: own, lockTimeoutMs: 200 }));
    const error = await other
      .add({ facts: [{ text: 'Waits its turn' }] }, { scope })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ operation: 'add', retryable: true });
    expect((error as Error).message).toMatch(/waited longer than lockTimeoutMs for a lock another writer holds/);
    // Another scope is not held up at all.
    expect(await other.add({ facts: [{ text: 'Unrelated' }] }, { scope: { userId: 'free' } })).toHaveLength(1);
    // The server ends the idle transaction after the frozen store's lockTimeoutMs: the write gets through.
    await vi.waitFor(
      async () => expect(await other.add({ facts: [{ text: 'Waits its turn' }] }, { scope })).toHaveLength(1),
      { timeout: 15_000, interval: 200 },
    );
    expect((await other.list({ scope })).map((memory) => memory.text)).toEqual(['Waits its turn']);
    void frozenPool.end();
  }, 30_000);

  // L12
  it('imports all or nothing: a line refused after 1,000 good ones leaves the store as it was', async () => {
    const store = track(postgresStore({ pool: server.pool, schema: server.schema() }));
    const [taken] = await store.add({ facts: [{ text: 'Belongs to someone else' }] }, { scope: { userId: 'other' } });
    const line = (id: string, index: number) =>
      JSON.stringify({
        id,
        text: `Imported note ${index}`,
        scope: user,
        metadata: {},
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
      });
    const lines = Array.from({ length: 1200 }, (_, index) => line(`note-${index}`, index));
    lines[1099] = line(taken?.id ?? '', 1099);
    const error = await store.import(lines.map((text) => `${text}\n`)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/Line 1100 of the import has the id of a memory of another scope/);
    expect(await store.list({ scope: user })).toEqual([]);
    expect(await store.get('note-0')).toBeNull();
    expect(await store.import(lines.slice(0, 1099).map((text) => `${text}\n`))).toMatchObject({ added: 1099 });
  });

  it('reports an unreachable server as a retryable StoreError', async () => {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    const error = await postgresStore({ pool })
      .list({ scope: user })
      .catch((caught: unknown) => caught);
    await pool.end();
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('works on one pg Client: operations take turns on the connection', async () => {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: server.pool.options.connectionString });
    await client.connect();
    try {
      const store = postgresStore({ pool: client, schema: server.schema() });
      const texts = Array.from({ length: 20 }, (_, index) => `Crate ${index} holds ${'xyz'.repeat(index + 1)}`);
      await Promise.all(texts.map((text) => store.add({ facts: [{ text }] }, { scope: user })));
      expect((await store.list({ scope: user })).map((memory) => memory.text).sort()).toEqual([...texts].sort());
      await store.close();
    } finally {
      await client.end();
    }
  });

  it('keeps FactInput.createdAt as the memory time, and fills scoreParts', async () => {
    const store = track(postgresStore({ pool: server.pool, schema: server.schema() }));
    const said = new Date('2024-03-01T10:00:00.000Z');
    await store.add({ facts: [{ text: 'Visited Lisbon with Ana', createdAt: said }] }, { scope: user });
    await store.add({ facts: [{ text: 'Bought a Lisbon guidebook' }] }, { scope: user });
    const [old] = await store.list({ scope: user, limit: 1, offset: 1 });
    expect(old).toMatchObject({ text: 'Visited Lisbon with Ana', createdAt: said, updatedAt: said });
    const hits = await store.search('Lisbon', { scope: user });
    const visited = hits.find((hit) => hit.text === 'Visited Lisbon with Ana');
    expect(visited?.scoreParts?.recency).toBeLessThan(0.95);
    expect(visited?.scoreParts?.words).toBeGreaterThan(0);
    expect(visited?.scoreParts?.neighbours).toBeGreaterThan(0);
    expect(visited?.scoreParts?.vector).toBeUndefined();
  });

  it('deleteAll leaves no row, history text or index entry of the scope', async () => {
    const own = server.schema();
    const store = track(postgresStore({ pool: server.pool, schema: own }));
    const [added] = await store.add({ facts: [{ text: 'A plays the Quixotrombone' }] }, { scope: { userId: 'A' } });
    await store.update(added?.id ?? '', { text: 'A plays the Zeppelinmarmot' });
    await store.add({ facts: [{ text: 'B plays the Harpsicolumbine' }] }, { scope: { userId: 'B' } });
    expect(await store.deleteAll({ userId: 'A' })).toBe(1);
    const leftovers = await server.pool.query(
      `SELECT (SELECT count(*) FROM "${own}".memories WHERE user_id = 'A')::int AS rows,
              (SELECT count(*) FROM "${own}".memory_history WHERE old_text ILIKE '%A plays%' OR new_text ILIKE '%A plays%')::int AS texts,
              (SELECT count(*) FROM "${own}".memories WHERE terms && ARRAY['quixotrombon', 'zeppelinmarmot'])::int AS indexed`,
    );
    expect(leftovers.rows[0]).toEqual({ rows: 0, texts: 0, indexed: 0 });
    expect((await store.history(added?.id ?? '')).map((entry) => [entry.event, entry.oldText, entry.newText])).toEqual([
      ['ADD', undefined, undefined],
      ['UPDATE', undefined, undefined],
      ['DELETE', undefined, undefined],
    ]);
    expect((await store.search('Harpsicolumbine', { scope: { userId: 'B' } }))[0]?.text).toMatch(/^B plays/);
  });

  // The test server runs without autovacuum: only the store's own ANALYZE counts here.
  it('vacuums and analyses its tables once memories has grown by half since the planner last saw it, not before', async () => {
    const own = server.schema();
    const store = track(postgresStore({ pool: server.pool, schema: own }));
    const analyses = async () => {
      const { rows } = await server.pool.query(
        `SELECT relname, analyze_count::integer AS count FROM pg_stat_user_tables WHERE schemaname = $1
         AND relname IN ('memories', 'memory_terms', 'scope_stats') ORDER BY relname`,
        [own],
      );
      return rows.map((row) => `${row.relname} ${row.count}`);
    };
    // Distinct facts (no two restate each other), 100 per add, as a bulk load writes them.
    const addFacts = async (from: number, to: number) => {
      for (let start = from; start < to; start += 100) {
        const facts = Array.from({ length: 100 }, (_, offset) => {
          const n = start + offset;
          return { text: `Ticket ${n} filed under ${(n * 7919) % 100_003} and ${(n * 104_729) % 1_000_003}` };
        });
        await store.add({ facts }, { scope: user });
      }
    };
    const known = async () => {
      const { rows } = await server.pool.query(
        `SELECT relpages AS pages, reltuples::integer AS rows, (pg_relation_size(oid) / 8192)::integer AS now
         FROM pg_class WHERE oid = to_regclass($1)`,
        [`"${own}".memories`],
      );
      return rows[0] as { pages: number; rows: number; now: number };
    };
    // 400 short memories fill well under 32 pages: too small a growth to analyse.
    await addFacts(0, 400);
    expect(await analyses()).toEqual(['memories 0', 'memory_terms 0', 'scope_stats 0']);
    expect(await known()).toMatchObject({ pages: 0, rows: -1 });
    await addFacts(400, 2000);
    expect(await analyses()).toEqual(['memories 1', 'memory_terms 1', 'scope_stats 1']);
    const analysed = await known();
    expect(analysed.rows).toBeGreaterThan(400);
    // Not again until it has grown by half and 32 pages more.
    expect(analysed.now).toBeLessThanOrEqual(32 + 1.5 * analysed.pages);
    await addFacts(2000, 2400);
    expect(await analyses()).toEqual(['memories 1', 'memory_terms 1', 'scope_stats 1']);
  }, 120_000);

  it('keeps an add that committed when the VACUUM after it fails', async () => {
    const own = server.schema();
    // The real pool, refusing VACUUM (as a role's statement_timeout might end it).
    const pool = {
      totalCount: 0,
      connect: () => server.pool.connect(),
      query: (text: string, values?: unknown[]) =>
        text.startsWith('VACUUM')
          ? Promise.reject(new Error('canceling statement due to statement timeout'))
          : server.pool.query(text, values),
    };
    const store = track(postgresStore({ pool, schema: own }));
    for (let start = 0; start < 2000; start += 100) {
      const facts = Array.from({ length: 100 }, (_, offset) => ({
        text: `Parcel ${start + offset} weighs ${((start + offset) * 7919) % 100_003} grams`,
      }));
      await expect(store.add({ facts }, { scope: user })).resolves.toHaveLength(100);
    }
    const { rows } = await server.pool.query(`SELECT count(*)::integer AS stored FROM "${own}".memories`);
    expect(rows).toEqual([{ stored: 2000 }]);
  }, 120_000);
});

it('with-memory/postgres loads neither pg nor PGlite: the caller passes the connection in', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'with-memory-imports-')), 'imports.txt');
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './test/package/fixtures/record-imports.mjs',
      join(fixtures, 'use-postgres-entry.ts'),
    ],
    { cwd: root, env: { ...process.env, RECORD_IMPORTS_FILE: file } },
  );
  expect(stdout.trim()).toBe('postgres');
  const loaded = readFileSync(file, 'utf8').split('\n');
  rmSync(dirname(file), { recursive: true, force: true });
  expect(loaded.some((url) => url.includes('/src/stores/postgres/postgres-store.ts'))).toBe(true);
  expect(loaded.filter((url) => url.includes('/node_modules/pg') || url.includes('@electric-sql/pglite'))).toEqual([]);
});

/**
 * Vectors for the large-scope test: "weather" texts point along the first axis, every other text
 * somewhere in the seven others (from its characters), so no two bulk memories are restatements.
 */
const weatherOrBulk: Embedder = async (texts) =>
  texts.map((text) => {
    if (/celsius|weather/i.test(text)) return [1, 0, 0, 0, 0, 0, 0, 0];
    const vector = [0, 1, 1, 1, 1, 1, 1, 1];
    for (const [index, code] of [...text].map((character) => character.charCodeAt(0)).entries()) {
      const axis = 1 + (index % 7);
      vector[axis] = (vector[axis] ?? 0) + ((code * (index + 3)) % 17);
    }
    return vector;
  });

it('finds by meaning alone in a scope larger than the scan limit, on real[] and on pgvector (HNSW)', async () => {
  const bulk = Array.from({ length: 2100 }, (_, index) => ({
    text: `Ledger entry ${index} about kaolin and ${index * 7}`,
  }));
  const databases: Array<[PostgresPool, string]> = [
    [server.pool, server.schema()],
    [lite.pool(), lite.schema()],
  ];
  for (const [pool, schema] of databases) {
    const store = track(postgresStore({ pool, schema, embedder: weatherOrBulk }));
    await store.add({ facts: bulk }, { scope: user });
    await store.add({ facts: [{ text: 'Prefers Celsius', type: 'preference' }] }, { scope: user });
    const [hit] = await store.search('What is the weather like?', { scope: user });
    expect(hit?.text, await store.vectorStorage()).toBe('Prefers Celsius');
    expect(hit?.scoreParts?.vector).toBeCloseTo(1, 5);
    const { rows } = await pool.query(
      "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE 'memories_embedding_%'",
      [schema],
    );
    // The HNSW index of 8-dimension vectors, with pgvector only.
    expect(rows, schema).toEqual(
      (await store.vectorStorage()) === 'pgvector' ? [{ indexname: 'memories_embedding_8' }] : [],
    );
  }
}, 120_000);

it('ranks a scope larger than the scan limit as the local store does: same hits, same scores', async () => {
  // The store benchmark's workload: restatements, common and rare words, numbers, time questions.
  const { users, queries } = generateWorkload({ count: 5000, memoriesPerUser: 5000, queryCount: 40 });
  const [only] = users;
  if (!only) throw new Error('the workload has no user');
  const directory = mkdtempSync(join(tmpdir(), 'with-memory-large-scope-'));
  const local = localStore({ path: join(directory, 'memory.db') });
  const own = server.schema();
  const postgres = track(postgresStore({ pool: server.pool, schema: own }));
  try {
    for (let index = 0; index < only.facts.length; index += 250) {
      const facts = only.facts.slice(index, index + 250);
      await local.add({ facts }, { scope: only.scope });
      await postgres.add({ facts }, { scope: only.scope });
    }
    const { rows } = await server.pool.query(`SELECT count(*)::integer AS stored FROM "${own}".memories`);
    expect(rows[0]?.stored).toBeGreaterThan(2000);
    const asked = [...queries.map((question) => question.query), 'what happened last week with Bruno'];
    for (const query of asked) {
      const [fromPostgres, fromLocal] = await Promise.all(
        [postgres, local].map((store) => store.search(query, { scope: only.scope, limit: 8 })),
      );
      expect(
        fromPostgres?.map((hit) => hit.text),
        query,
      ).toEqual(fromLocal?.map((hit) => hit.text));
      for (const [index, hit] of (fromPostgres ?? []).entries())
        expect(hit.score, query).toBeCloseTo(fromLocal?.[index]?.score ?? -1, 5);
    }
  } finally {
    await local.close?.();
    rmSync(directory, { recursive: true, force: true });
  }
}, 300_000);
