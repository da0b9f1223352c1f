import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionsError, StoreError } from '../../../src/core/errors.js';
import type { Scope, SearchOptions } from '../../../src/core/types.js';
import { inMemoryStore } from '../../../src/stores/in-memory.js';
import { type Embedder, type LocalStore, localStore } from '../../../src/stores/local/index.js';
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

async function rejection(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

describe('localStore options and opening', () => {
  it('validates its options when called, and throws InvalidOptionsError naming the option', () => {
    expect(() => localStore({ path: '' })).toThrow(InvalidOptionsError);
    expect(() => localStore({ duplicateThreshold: 2 })).toThrow(/duplicateThreshold/);
    expect(() => localStore({ embedder: 'openai' as unknown as Embedder })).toThrow(/embedder/);
    expect(() => localStore({ synchronous: 'off' as 'full' })).toThrow(/synchronous/);
    expect(() => localStore({ pth: 'x.db' } as never)).toThrow(/pth/);
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

describe('localStore writes', () => {
  it('updates a restated fact instead of adding a duplicate, and records it in the history', async () => {
    const store = open();
    const [added] = await store.add(
      { facts: [{ text: 'The user prefers Celsius', type: 'preference' }] },
      { scope: user },
    );
    expect(added?.event).toBe('ADD');

    const [same] = await store.add(
      { facts: [{ text: 'The user prefers Celsius', type: 'preference' }] },
      { scope: user },
    );
    expect(same).toEqual({ event: 'NONE', id: added?.id, text: 'The user prefers Celsius' });

    const [recased] = await store.add(
      { facts: [{ text: 'the user  prefers celsius.', type: 'preference' }] },
      { scope: user },
    );
    expect(recased).toMatchObject({ event: 'UPDATE', id: added?.id, previousText: 'The user prefers Celsius' });

    const [reworded] = await store.add(
      { facts: [{ text: 'User preference: prefers Celsius', type: 'preference' }] },
      { scope: user, reason: 'restated' },
    );
    expect(reworded).toMatchObject({ event: 'UPDATE', id: added?.id, text: 'User preference: prefers Celsius' });

    const listed = await store.list({ scope: user });
    expect(listed.map((memory) => memory.text)).toEqual(['User preference: prefers Celsius']);
    const history = await store.history(added?.id ?? '');
    expect(history.map((entry) => [entry.event, entry.oldText, entry.newText, entry.reason, entry.actor])).toEqual([
      ['ADD', undefined, 'The user prefers Celsius', undefined, 'with-memory'],
      ['UPDATE', 'The user prefers Celsius', 'the user  prefers celsius.', undefined, 'with-memory'],
      ['UPDATE', 'the user  prefers celsius.', 'User preference: prefers Celsius', 'restated', 'with-memory'],
    ]);
  });

  it('keeps facts apart that differ in a word that matters, in type or in scope', async () => {
    const store = open({ actor: 'test-suite' });
    await store.add({ facts: [{ text: 'The user prefers Celsius', type: 'preference' }] }, { scope: user });
    const changes = await store.add(
      {
        facts: [
          { text: 'The user prefers Fahrenheit', type: 'preference' },
          { text: 'The user prefers Celsius', type: 'fact' },
        ],
      },
      { scope: user },
    );
    expect(changes.map((change) => change.event)).toEqual(['ADD', 'ADD']);
    const [other] = await store.add(
      { facts: [{ text: 'The user prefers Celsius', type: 'preference' }] },
      { scope: { userId: 'user-1', agentId: 'support' } },
    );
    expect(other?.event).toBe('ADD');
    expect(await store.list({ scope: user })).toHaveLength(4);
    expect((await store.history(other?.id ?? ''))[0]?.actor).toBe('test-suite');
  });

  it('keeps a long fact apart from one that swaps a single word of it', async () => {
    const store = open();
    await store.add({ facts: [{ text: 'User writes reports in Blender and dislikes Jira' }] }, { scope: user });
    const [change] = await store.add(
      { facts: [{ text: 'User writes reports in Blender and dislikes Confluence' }] },
      { scope: user },
    );
    expect(change?.event).toBe('ADD');
    expect(await store.list({ scope: user })).toHaveLength(2);
  });

  it('merges restatements within one batch', async () => {
    const store = open();
    const changes = await store.add(
      { facts: [{ text: 'Lives in Porto' }, { text: 'lives in porto' }, { text: 'Works in Braga' }] },
      { scope: user },
    );
    expect(changes.map((change) => change.event)).toEqual(['ADD', 'UPDATE', 'ADD']);
    expect(await store.list({ scope: user })).toHaveLength(2);
  });

  it('stores each user message of a messages write as a fact', async () => {
    const store = open();
    await store.add(
      {
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'I moved to Tallinn last spring' },
          { role: 'assistant', content: 'Noted!' },
        ],
      },
      { scope: user, metadata: { source: 'chat' } },
    );
    const listed = await store.list({ scope: user });
    expect(listed).toEqual([
      expect.objectContaining({ text: 'I moved to Tallinn last spring', type: 'fact', metadata: { source: 'chat' } }),
    ]);
  });

  it('rejects a malformed write with a StoreError that is not retryable, and stores nothing', async () => {
    const store = open();
    const error = await rejection(store.add({ facts: [{ text: 'ok' }, { text: 42 }] } as never, { scope: user }));
    expect(error.retryable).toBe(false);
    expect(error.operation).toBe('add');
    const scopeError = await rejection(store.add({ facts: [{ text: 'ok' }] }, { scope: { userId: ' ' } }));
    expect(scopeError.message).toMatch(/scope\.userId/);
    expect(await store.list({ scope: user })).toEqual([]);
  });

  it('returns fresh objects: changing a result changes nothing stored', async () => {
    const store = open();
    await store.add({ facts: [{ text: 'Owns a blue bicycle', metadata: { tags: ['bike'] } }] }, { scope: user });
    const [first] = await store.list({ scope: user });
    if (!first) throw new Error('listed nothing');
    first.text = 'changed';
    (first.metadata.tags as string[]).push('changed');
    first.scope.userId = 'someone-else';
    const [again] = await store.list({ scope: user });
    expect(again).toMatchObject({ text: 'Owns a blue bicycle', metadata: { tags: ['bike'] }, scope: user });
  });
});

describe('localStore in a large scope', () => {
  // Over 200 memories, a one-fact write asks SQLite per fact instead of reading the scope; over 2,000,
  // a search narrows the scope through the FTS index instead of scoring it whole.
  const bulk = (count: number, label: string) =>
    Array.from({ length: count }, (_, index) => ({
      text: `${label} ledger entry ${index} about ${madeUpWord(index, 'ka', 'o')} and ${madeUpWord(index * 7 + 11, 'ka', 'o')}`,
    }));

  it('ranks as the in-memory store does when it reads only the matches and their neighbours', async () => {
    // Over 500 memories a search reads the index instead of the scope. Other scopes' memories are
    // written in between, some memories are of another type or deleted: neighbours in write order
    // skip them, and the statistics count only the searched scope.
    const store = open();
    const memory = inMemoryStore();
    const stores = [store, memory];
    const both = async (scope: Scope, facts: Array<{ text: string; type?: string }>) => {
      const changes = await Promise.all(stores.map((each) => each.add({ facts }, { scope })));
      return changes.map((list) => list.map((change) => change.id ?? ''));
    };
    for (let index = 0; index < 700; index += 1) {
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
  });

  it('recognises restatements through the indexes', async () => {
    const store = open();
    await store.add({ facts: bulk(300, 'Bulk') }, { scope: user });
    const [added] = await store.add(
      { facts: [{ text: 'Keeps the spare key under the blue flowerpot' }] },
      { scope: user },
    );
    const [same] = await store.add(
      { facts: [{ text: 'Keeps the spare key under the blue flowerpot' }] },
      { scope: user },
    );
    expect(same).toMatchObject({ event: 'NONE', id: added?.id });
    const [recased] = await store.add(
      { facts: [{ text: 'keeps the SPARE key under the blue flowerpot' }] },
      { scope: user },
    );
    expect(recased).toMatchObject({ event: 'UPDATE', id: added?.id });
    const [reworded] = await store.add({ facts: [{ text: 'Keeps spare key under blue flowerpot!' }] }, { scope: user });
    expect(reworded).toMatchObject({ event: 'UPDATE', id: added?.id });
    // No terms at all (stop words only): found by its hash among the scope's rows.
    const [firstWords] = await store.add({ facts: [{ text: 'It is.' }] }, { scope: user });
    const [sameWords] = await store.add({ facts: [{ text: 'it   is.' }] }, { scope: user });
    expect(sameWords).toMatchObject({ event: 'UPDATE', id: firstWords?.id });
    expect(await store.list({ scope: user, limit: 1000 })).toHaveLength(302);
  });

  it('never fails on hostile text where it reaches the FTS index: searches and restated facts', async () => {
    const store = open();
    await store.add({ facts: bulk(2100, 'Bulk') }, { scope: user });
    const random = seeded(7);
    const alphabet = [
      '"',
      "'",
      '(',
      ')',
      '*',
      '^',
      ':',
      '-',
      '+',
      '{',
      '}',
      'NEAR',
      'OR',
      'AND',
      'NOT',
      ' ',
      'ledger',
      '🎸',
      '\u0000',
      'é',
      '寿司',
      ',',
    ];
    const hostile = [
      'NEAR("ledger" "entry", 3)',
      'ledger* OR (entry',
      '"unbalanced',
      '{terms scope}: ledger',
      ...Array.from({ length: 200 }, () =>
        Array.from(
          { length: 1 + Math.floor(random() * 12) },
          () => alphabet[Math.floor(random() * alphabet.length)],
        ).join(''),
      ),
    ];
    for (const query of hostile) {
      expect(Array.isArray(await store.search(query, { scope: user })), query).toBe(true);
    }
    // Facts are user text too: in a large scope, restatements are looked up through the index.
    for (const text of hostile.slice(0, 30)) {
      if (text.trim() === '') continue;
      const changes = await store.add({ facts: [{ text }] }, { scope: user });
      expect(changes).toHaveLength(1);
    }
  });

  it('searches a scope larger than the scan limit through the FTS index, filters included', async () => {
    const store = open();
    await store.add({ facts: bulk(2100, 'Bulk') }, { scope: user });
    await store.add(
      { facts: [{ text: 'The lighthouse keeper collects sea glass', type: 'profile' }] },
      { scope: user },
    );
    await store.add({ facts: bulk(50, 'Other') }, { scope: { userId: 'user-2' } });
    const [hit] = await store.search('sea glass lighthouse', { scope: user });
    expect(hit?.text).toBe('The lighthouse keeper collects sea glass');
    expect(hit?.score).toBeGreaterThan(0);
    expect(hit?.score).toBeLessThanOrEqual(1);
    const target = `ledger entry 1234 about ${madeUpWord(1234, 'ka', 'o')}`;
    expect((await store.search(target, { scope: user }))[0]?.text).toMatch(/^Bulk ledger entry 1234 /);
    expect(await store.search('sea glass lighthouse', { scope: user, types: ['event'] })).toEqual([]);
    expect(await store.search(target, { scope: { userId: 'user-2' } })).not.toContainEqual(
      expect.objectContaining({ text: expect.stringMatching(/^Bulk/) }),
    );
  });
});

/** A small seeded PRNG, so the random queries are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
}

describe('localStore management', () => {
  it('updates text, type, metadata and expiry, and reports unknown or invalid updates', async () => {
    const store = open();
    const [added] = await store.add(
      { facts: [{ text: 'Drinks espresso', metadata: { a: 1 }, expiresAt: new Date(Date.now() + 60_000) }] },
      { scope: user },
    );
    const id = added?.id ?? '';
    const updated = await store.update(id, {
      text: 'Drinks flat whites',
      type: 'preference',
      metadata: { b: 2 },
      expiresAt: null,
    });
    expect(updated).toMatchObject({ id, text: 'Drinks flat whites', type: 'preference', metadata: { b: 2 } });
    expect(updated?.expiresAt).toBeUndefined();
    expect(await store.get(id)).toEqual(updated);
    expect((await store.search('espresso', { scope: user })).length).toBe(0);
    expect(await store.update('no-such-id', { text: 'x' })).toBeNull();
    expect((await rejection(store.update(id, { text: '   ' }))).retryable).toBe(false);
  });

  it('deletes one memory, once, keeping its text in the history', async () => {
    const store = open();
    const [added] = await store.add({ facts: [{ text: 'Plays chess on Tuesdays' }] }, { scope: user });
    const id = added?.id ?? '';
    expect(await store.delete(id, { reason: 'user asked' })).toBe(true);
    expect(await store.delete(id)).toBe(false);
    expect(await store.get(id)).toBeNull();
    expect(await store.update(id, { text: 'x' })).toBeNull();
    const history = await store.history(id);
    expect(history.at(-1)).toMatchObject({ event: 'DELETE', oldText: 'Plays chess on Tuesdays', reason: 'user asked' });
    // A deleted memory is not restated: the same fact again is a new memory.
    const [again] = await store.add({ facts: [{ text: 'Plays chess on Tuesdays' }] }, { scope: user });
    expect(again?.event).toBe('ADD');
    expect(again?.id).not.toBe(id);
  });

  it('lists newest first, paged, filtered by type and metadata of each JSON type', async () => {
    const store = open();
    const facts = [
      { text: 'Alpha ticket about a broken hinge', metadata: { channel: 'email', priority: 1, urgent: true } },
      { text: 'Bravo ticket about a loose screw', metadata: { channel: 'chat', priority: 2, urgent: false } },
      { text: 'Charlie ticket about a bent rail', metadata: { channel: 'phone', priority: '1', urgent: 1 } },
    ];
    for (const fact of facts) {
      await store.add({ facts: [{ ...fact, type: 'task' }] }, { scope: user });
      await new Promise((done) => setTimeout(done, 3));
    }
    const texts = (memories: Array<{ text: string }>) => memories.map((memory) => memory.text.split(' ')[0]);
    expect(texts(await store.list({ scope: user }))).toEqual(['Charlie', 'Bravo', 'Alpha']);
    expect(texts(await store.list({ scope: user, limit: 1, offset: 1 }))).toEqual(['Bravo']);
    expect(texts(await store.list({ scope: user, filters: { urgent: true } }))).toEqual(['Alpha']);
    expect(texts(await store.list({ scope: user, filters: { priority: 1 } }))).toEqual(['Alpha']);
    expect(texts(await store.list({ scope: user, filters: { priority: '1' } }))).toEqual(['Charlie']);
    expect(texts(await store.list({ scope: user, filters: { channel: ['chat', 'phone'], priority: [2] } }))).toEqual([
      'Bravo',
    ]);
    expect(await store.list({ scope: user, filters: { channel: [] } })).toEqual([]);
    expect(await store.list({ scope: user, types: ['preference'] })).toEqual([]);
    expect(texts(await store.search('ticket', { scope: user, filters: { urgent: false } }))).toEqual(['Bravo']);
  });

  it('hides expired memories from get, list and search', async () => {
    const store = open();
    const [expired] = await store.add(
      { facts: [{ text: 'Coupon ABC for the bakery', expiresAt: new Date(Date.now() - 1000) }] },
      { scope: user },
    );
    expect(await store.get(expired?.id ?? '')).toBeNull();
    expect(await store.search('coupon bakery', { scope: user })).toEqual([]);
  });

  it('exports JSONL and imports it into another store, ids and dates kept', async () => {
    const source = open();
    await source.add(
      {
        facts: [
          { text: 'Speaks Estonian', type: 'profile', metadata: { level: 'B2' } },
          { text: 'Has a cat named Miso', expiresAt: new Date(Date.now() + 86_400_000) },
        ],
      },
      { scope: { userId: 'u1', agentId: 'tutor' } },
    );
    await source.add({ facts: [{ text: 'Someone else entirely' }] }, { scope: { userId: 'u2' } });
    const chunks: string[] = [];
    for await (const chunk of source.export({ scope: { userId: 'u1' } })) chunks.push(String(chunk));
    const jsonl = chunks.join('');
    expect(jsonl.trim().split('\n')).toHaveLength(2);
    expect(jsonl).not.toContain('Someone else');

    const target = open({ path: join(folder, 'copy.db') });
    // Bytes cut in the middle of lines and of a multi-byte character still import.
    const bytes = Buffer.from(`${jsonl}\n`);
    const pieces = [bytes.subarray(0, 7), bytes.subarray(7, 100), bytes.subarray(100)];
    expect(await target.import(pieces)).toEqual({ added: 2, updated: 0, unchanged: 0 });
    expect(await target.import(jsonl.split('\n').map((line) => `${line}\n`))).toEqual({
      added: 0,
      updated: 0,
      unchanged: 2,
    });
    const original = await source.list({ scope: { userId: 'u1' } });
    expect(await target.list({ scope: { userId: 'u1' } })).toEqual(original);
    expect((await target.search('Estonian', { scope: { userId: 'u1', agentId: 'tutor' } }))[0]?.id).toBe(
      original.find((memory) => memory.text === 'Speaks Estonian')?.id,
    );
    const [history] = await target.history(original[0]?.id ?? '');
    expect(history).toMatchObject({ event: 'ADD', actor: 'import' });

    const changed = jsonl.replace('Speaks Estonian', 'Speaks Finnish');
    expect(await target.import([changed])).toEqual({ added: 0, updated: 1, unchanged: 1 });
    const bad = await rejection(target.import([`${jsonl}{"id":"x","text":"y"}\n`]));
    expect(bad.message).toMatch(/Line 3 of the import has an invalid `scope`/);
    expect(bad.retryable).toBe(false);
  });
});

describe('localStore search', () => {
  it('ranks the better match first, with scores between 0 and 1 and a working threshold', async () => {
    const store = open();
    await store.add(
      {
        facts: [
          { text: 'The user runs marathons in the mountains' },
          { text: 'The user runs a bakery' },
          { text: 'The user paints watercolours' },
        ],
      },
      { scope: user },
    );
    const hits = await store.search('mountain marathon running', { scope: user });
    expect(hits[0]?.text).toBe('The user runs marathons in the mountains');
    expect(hits.map((hit) => hit.text)).not.toContain('The user paints watercolours');
    for (const hit of hits) expect(hit.score).toBeGreaterThan(0);
    for (const hit of hits) expect(hit.score).toBeLessThanOrEqual(1);
    expect(hits[0]?.score).toBeGreaterThan(hits[1]?.score ?? 0);
    const between = ((hits[0]?.score ?? 1) + (hits[1]?.score ?? 0)) / 2;
    const strict = await store.search('mountain marathon running', { scope: user, threshold: between });
    expect(strict.map((hit) => hit.text)).toEqual(['The user runs marathons in the mountains']);
    expect(await store.search('mountain marathon', { scope: user, limit: 0 })).toEqual([]);
  });

  it('ranks as the in-memory store does: the same BM25 on the same terms', async () => {
    const store = open();
    const memory = inMemoryStore();
    const facts = [
      { text: 'The user runs marathons in the mountains' },
      { text: 'The user runs a small bakery in Porto' },
      { text: 'The user bakes sourdough bread every Sunday morning' },
      { text: 'Mountains make the user feel calm' },
      { text: 'The user prefers window seats on trains' },
    ];
    await store.add({ facts }, { scope: user });
    await memory.add({ facts }, { scope: user });
    for (const query of ['mountain running', 'bread bakery', 'Where does the user feel calm?', 'trains']) {
      const local = await store.search(query, { scope: user });
      const reference = await memory.search(query, { scope: user });
      expect(local.map((hit) => hit.text)).toEqual(reference.map((hit) => hit.text));
      // Fresh memories: the recency weight takes nothing away yet.
      for (const [index, hit] of local.entries()) expect(hit.score).toBeCloseTo(reference[index]?.score ?? -1, 3);
    }
    await memory.close();
  });

  it('never fails on hostile queries: FTS syntax, quotes, emoji, huge text', async () => {
    const store = open();
    await store.add(
      { facts: [{ text: 'The user said "NEAR" (the band) is great* and OR is a river 🎸' }, { text: 'Plain memory' }] },
      { scope: user },
    );
    const queries = [
      '"',
      '""',
      'NEAR(',
      'NEAR("a" "b", 3)',
      'a NEAR b',
      '*',
      'great*',
      '* OR *',
      'OR',
      'AND NOT OR',
      '((((',
      ')))',
      '(band',
      'band)',
      'column:value',
      'text : band',
      '{terms scope}: band',
      '^band',
      '-band +river',
      "it's the user's band",
      '🎸🎸🎸',
      '👩‍👩‍👧‍👦',
      '\u0000\u0001\u0002',
      'عربى Ελληνικά 日本語のテキスト',
      '',
      '   ',
      'river'.repeat(20_000),
      Array.from({ length: 20_000 }, (_, index) => `w${index}`).join(' '),
      `NEAR ${'("'.repeat(10_000)}`,
    ];
    for (const query of queries) {
      const hits = await store.search(query, { scope: user });
      expect(Array.isArray(hits), query.slice(0, 40)).toBe(true);
    }
    expect((await store.search('band "NEAR" OR river*', { scope: user }))[0]?.text).toMatch(/^The user said/);
    expect((await store.search('🎸', { scope: user }))[0]?.text).toMatch(/^The user said/);
  });

  it('finds CJK words inside a sentence without spaces', async () => {
    const store = open();
    await store.add({ facts: [{ text: '私は毎朝コーヒーを飲みます' }] }, { scope: user });
    const [hit] = await store.search('コーヒー', { scope: user });
    expect(hit?.text).toBe('私は毎朝コーヒーを飲みます');
  });
});

/** A stand-in for an embedding model: texts about the same topic point the same way. */
function topicEmbedder(calls: string[][] = []): Embedder {
  const topics = [
    ['celsius', 'fahrenheit', 'temperature', 'weather', 'degrees', 'warm', 'cold'],
    ['cat', 'dog', 'pet', 'animal', 'miso'],
    ['train', 'flight', 'travel', 'trip'],
  ];
  return async (texts) => {
    calls.push(texts);
    return texts.map((text) => {
      const words = text.toLowerCase().split(/\W+/);
      const vector = topics.map((topic) => words.filter((word) => topic.includes(word)).length);
      vector.push(0.1);
      return vector;
    });
  };
}

describe('localStore with an embedder', () => {
  it('finds a memory by meaning when no word is shared, fusing word and vector scores', async () => {
    const calls: string[][] = [];
    const store = open({ embedder: topicEmbedder(calls) });
    await store.add(
      { facts: [{ text: 'Prefers Celsius', type: 'preference' }, { text: 'Has a cat named Miso' }] },
      { scope: user },
    );
    expect(calls).toEqual([['Prefers Celsius', 'Has a cat named Miso']]);
    const hits = await store.search('What is the weather like?', { scope: user });
    expect(hits[0]?.text).toBe('Prefers Celsius');
    expect(hits[0]?.score).toBeGreaterThan(0.3);
    expect(hits[0]?.score).toBeLessThanOrEqual(1);
    // Word and meaning together beat meaning alone.
    const both = await store.search('cat pet', { scope: user });
    expect(both[0]?.text).toBe('Has a cat named Miso');
  });

  it('treats a fact with the same meaning as a restatement', async () => {
    const store = open({ embedder: topicEmbedder(), vectorDuplicateThreshold: 0.99 });
    const [first] = await store.add({ facts: [{ text: 'Likes warm weather' }] }, { scope: user });
    const [second] = await store.add({ facts: [{ text: 'Enjoys cold temperature' }] }, { scope: user });
    expect(second).toMatchObject({ event: 'UPDATE', id: first?.id });
  });

  it('stores nothing when the embedder fails on add, but still searches by words when it fails on search', async () => {
    let failing = true;
    const flaky: Embedder = async (texts) => {
      if (failing) throw new Error('embedding service down');
      return topicEmbedder()(texts);
    };
    const store = open({ embedder: flaky });
    const error = await rejection(store.add({ facts: [{ text: 'Prefers Celsius' }] }, { scope: user }));
    expect(error.retryable).toBe(true);
    expect(await store.list({ scope: user })).toEqual([]);
    failing = false;
    await store.add({ facts: [{ text: 'Prefers Celsius' }] }, { scope: user });
    failing = true;
    expect((await store.search('celsius', { scope: user }))[0]?.text).toBe('Prefers Celsius');
  });

  it('rejects an embedder that answers the wrong number of vectors', async () => {
    const store = open({ embedder: async () => [[1, 2]] });
    const error = await rejection(store.add({ facts: [{ text: 'One' }, { text: 'Two' }] }, { scope: user }));
    expect(error.message).toMatch(/embedder failed/);
  });
});
