import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/errors.js';
import type { Scope, SearchOptions } from '../../../src/core/types.js';
import { inMemoryStore } from '../../../src/stores/in-memory.js';
import { type Embedder, type LocalStore, localStore } from '../../../src/stores/local/index.js';
import { describeInputRules, describeStoreBehaviour, rejection } from '../store-behaviour.js';
import { madeUpWord } from './made-up-word.js';

const run = promisify(execFile);
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

let folder: string;
let path: string;
const stores: LocalStore[] = [];
const user: Scope = { userId: 'user-1' };

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'with-memory-local-'));
  path = join(folder, 'nested', 'memory.db');
});

afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores.length = 0;
  vi.unstubAllEnvs();
  rmSync(folder, { recursive: true, force: true });
});

function open(options: Parameters<typeof localStore>[0] = {}): LocalStore {
  const store = localStore({ path, ...options });
  stores.push(store);
  return store;
}

describe('localStore options and opening', () => {
  it('validates its options when called, and throws InvalidOptionsError naming the option', () => {
    expect(() => localStore({ path: '' })).toThrow(InvalidOptionsError);
    expect(() => localStore({ duplicateThreshold: 2 })).toThrow(/duplicateThreshold/);
    expect(() => localStore({ embedder: 'openai' as unknown as Embedder })).toThrow(/embedder/);
    expect(() => localStore({ synchronous: 'off' as 'full' })).toThrow(/synchronous/);
    expect(() => localStore({ pth: 'x.db' } as never)).toThrow(/pth/);
    expect(() => localStore({ path: 'postgres://db.internal/app' })).toThrow(/postgresStore/);
  });

  it('creates nothing until first used, then the file and its folder', async () => {
    const store = open();
    expect(store.path).toBe(path);
    expect(existsSync(join(folder, 'nested'))).toBe(false);
    await store.add({ facts: [{ text: 'The user likes rhubarb' }] }, { scope: user });
    expect(existsSync(path)).toBe(true);
  });

  it('defaults to WITH_MEMORY_DB, else .with-memory/memory.db under the current directory', () => {
    vi.stubEnv('WITH_MEMORY_DB', join(folder, 'from-env.db'));
    expect(localStore().path).toBe(join(folder, 'from-env.db'));
    vi.stubEnv('WITH_MEMORY_DB', '');
    expect(localStore().path).toBe(resolve('.with-memory/memory.db'));
  });

  it('loads better-sqlite3 only when a store is first used, from its module and from the root entry', async () => {
    for (const entry of ['src/stores/local/index.ts', 'src/index.ts']) {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', join(fixtures, 'lazy-load.ts'), join(root, entry), join(folder, `${entry.length}.db`)],
        { cwd: root },
      );
      expect(JSON.parse(stdout), entry).toEqual({ afterImport: false, afterCreate: false, afterUse: true });
    }
  });

  it('keeps memories across close and reopen', async () => {
    const first = open();
    await first.add({ facts: [{ text: 'The user is allergic to hazelnuts', type: 'profile' }] }, { scope: user });
    await first.close();
    const second = open();
    const [hit] = await second.search('hazelnut allergy', { scope: user });
    expect(hit).toMatchObject({ text: 'The user is allergic to hazelnuts', type: 'profile', scope: user });
  });

  it('brings a file of schema version 1 up to date, and it works as a new one', async () => {
    // Written by with-memory at schema version 1 (4 + 2 + 1 memories in three scopes, one deleted).
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(join(fixtures, 'schema-v1.db'), path);
    const store = open();
    const ana = { userId: 'ana' };
    const reference = inMemoryStore();
    for (const text of [
      'Ana: Did you finally adopt the puppy?',
      'Ben: Yes! Her name is Miso.',
      'Ana: Nice.',
      'Ben: My name is on the list.',
    ])
      await reference.add({ facts: [{ text, type: 'event' }] }, { scope: ana });
    await reference.add(
      {
        facts: [
          { text: 'Prefers window seats on trains', type: 'preference' },
          { text: 'Works as a nurse in Oslo', type: 'profile' },
        ],
      },
      { scope: { userId: 'ana', agentId: 'travel' } },
    );
    const query = 'What is the name of the puppy Ana adopted?';
    const hits = await store.search(query, { scope: ana });
    const expected = await reference.search(query, { scope: ana });
    // The order, not the scores: the fixture's memories are older, and recency takes a little off.
    expect(hits.map((hit) => hit.text)).toEqual(expected.map((hit) => hit.text));
    expect((await store.list({ scope: ana, types: ['preference', 'profile'] })).map((memory) => memory.text)).toEqual([
      'Works as a nurse in Oslo',
      'Prefers window seats on trains',
    ]);
    expect((await store.search('puppy', { scope: { userId: 'bob' } }))[0]?.text).toBe('Owns a puppy called Rex');
    await store.add({ facts: [{ text: 'Ana adopted a second puppy, Tofu' }] }, { scope: ana });
    expect((await store.search('puppy Tofu', { scope: ana }))[0]?.text).toBe('Ana adopted a second puppy, Tofu');
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    db.close();
    await reference.close();
  });

  it('refuses a file written by a newer schema version, and leaves it untouched', async () => {
    await open().add({ facts: [{ text: 'The user owns a kayak' }] }, { scope: user });
    await stores[0]?.close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const before = readFileSync(path);

    const error = await rejection(open().search('kayak', { scope: user }));
    expect(error.operation).toBe('open');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/newer version of with-memory \(schema version 99; this version reads up to 2\)/);
    expect(error.message).toMatch(/upgrade with-memory/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("refuses another program's SQLite file and a file that is not SQLite", async () => {
    const foreign = join(folder, 'foreign.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY)');
    db.close();
    const foreignError = await rejection(open({ path: foreign }).list({ scope: user }));
    expect(foreignError.operation).toBe('open');
    expect(foreignError.message).toMatch(/another program/);

    const text = join(folder, 'notes.txt');
    writeFileSync(text, 'Just some notes, long enough to be read as a header by SQLite. '.repeat(20));
    const textError = await rejection(open({ path: text }).list({ scope: user }));
    expect(textError.operation).toBe('open');
    expect(textError.message).toMatch(/SQLITE_NOTADB/);
    expect(readFileSync(text, 'utf8')).toMatch(/^Just some notes/);

    const underAFile = await rejection(open({ path: join(text, 'inside', 'memory.db') }).list({ scope: user }));
    expect(underAFile.operation).toBe('open');
    expect(underAFile.message).toMatch(/could not be created \(ENOTDIR\)/);
  });

  it('rejects every operation after close with a StoreError, and closes twice without harm', async () => {
    const store = open();
    await store.add({ facts: [{ text: 'The user likes quinces' }] }, { scope: user });
    await store.close();
    await store.close();
    for (const operation of [
      store.search('quinces', { scope: user }),
      store.add({ facts: [{ text: 'More' }] }, { scope: user }),
      store.list({ scope: user }),
      store.get('x'),
      store.flush(),
    ]) {
      expect((await rejection(operation)).retryable).toBe(false);
    }
  });

  it('waits for writes under way before closing', async () => {
    const store = open();
    const writes = Array.from({ length: 20 }, (_, index) =>
      store.add({ facts: [{ text: `Crate ${index} holds ${'xyz'.repeat(index + 1)}` }] }, { scope: user }),
    );
    await store.close();
    await Promise.all(writes);
    const reopened = open();
    expect(await reopened.list({ scope: user })).toHaveLength(20);
  });
});

describeStoreBehaviour('localStore', { open, openOther: () => open({ path: join(folder, 'copy.db') }) });
describeInputRules('localStore', () => open());

describe('localStore search ranks as the in-memory store does, however it reads the scope', () => {
  // Over 500 memories a search reads the index instead of the scope; from 101 to 500 it takes the
  // scope's matches from one FTS query; up to 100 it walks the scope whole. Other scopes' memories
  // are written in between, some memories are of another type or deleted: neighbours in write order
  // skip them, and the statistics count only the searched scope.
  it('over 500 memories: only the matches and their neighbours are read', async () => {
    await expectRankedAsInMemory(700);
  });

  it('101 to 500 memories: the matches come from one FTS query', async () => {
    await expectRankedAsInMemory(300);
  });

  it('up to 100 memories: the scope is walked whole', async () => {
    await expectRankedAsInMemory(60);
  });

  async function expectRankedAsInMemory(turns: number): Promise<void> {
    const store = open();
    const memory = inMemoryStore();
    const stores = [store, memory];
    const both = async (scope: Scope, facts: Array<{ text: string; type?: string }>) => {
      const changes = await Promise.all(stores.map((each) => each.add({ facts }, { scope })));
      return changes.map((list) => list.map((change) => change.id ?? ''));
    };
    for (let index = 0; index < turns; index += 1) {
      const topic = madeUpWord(index % 40, 'ta', 'n');
      await both(user, [
        {
          text: `Turn ${index} about ${topic} and ${madeUpWord(index, 'mi', 'r')}`,
          type: index % 5 ? 'event' : 'fact',
        },
      ]);
      if (index % 3 === 0) await both({ userId: 'user-2' }, [{ text: `Someone else on ${topic}` }]);
      if (index % 7 === 0) await both({ userId: 'user-1', agentId: 'helper' }, [{ text: `Helper noted ${topic}` }]);
      if (index % 11 === 0) {
        const [localIds, memoryIds] = await both(user, [{ text: `Passing remark ${index} on ${topic}` }]);
        await store.delete(localIds?.[0] ?? '');
        await memory.delete(memoryIds?.[0] ?? '');
      }
    }
    const searches: Array<[string, Partial<SearchOptions>]> = [
      [`When was ${madeUpWord(3, 'ta', 'n')} last year?`, {}],
      [`${madeUpWord(7, 'ta', 'n')} ${madeUpWord(123, 'mi', 'r')}`, { limit: 20 }],
      [`${madeUpWord(9, 'ta', 'n')} helper`, { types: ['event'] }],
      [`${madeUpWord(9, 'ta', 'n')}`, { scope: { userId: 'user-1', agentId: 'helper' } }],
    ];
    for (const [query, options] of searches) {
      const searchOptions = { scope: user, ...options };
      const local = await store.search(query, searchOptions);
      const reference = await memory.search(query, searchOptions);
      expect(local.length).toBeGreaterThan(0);
      expect(local.map((hit) => hit.text)).toEqual(reference.map((hit) => hit.text));
      for (const [index, hit] of local.entries()) {
        expect(hit.score).toBeCloseTo(reference[index]?.score ?? -1, 6);
        for (const part of ['words', 'neighbours', 'recency'] as const)
          expect(hit.scoreParts?.[part]).toBeCloseTo(reference[index]?.scoreParts?.[part] ?? -1, 6);
      }
    }
    await memory.close();
  }
});
