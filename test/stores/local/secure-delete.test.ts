import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../../../src/core/errors.js';
import { type LocalStore, localStore } from '../../../src/stores/local/index.js';

let folder: string;
let path: string;
const stores: LocalStore[] = [];

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'with-memory-erase-'));
  path = join(folder, 'memory.db');
});

afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores.length = 0;
  rmSync(folder, { recursive: true, force: true });
});

function open(options: Parameters<typeof localStore>[0] = {}): LocalStore {
  const store = localStore({ path, ...options });
  stores.push(store);
  return store;
}

/** Every byte of the database file and its WAL (when there is one), lowercased where ASCII. */
function fileBytes(): string {
  const files = [path, `${path}-wal`].filter((file) => existsSync(file));
  return Buffer.concat(files.map((file) => readFileSync(file)))
    .toString('latin1')
    .toLowerCase();
}

// Distinctive words: found in the bytes only if something kept A's text (row, index, history, WAL).
const markerA = 'Quixotrombone';
const secondMarkerA = 'Zeppelinmarmot';
const markerB = 'Harpsicolumbine';

async function fillStore(store: LocalStore): Promise<string> {
  const alice = { userId: 'A' };
  const bob = { userId: 'B' };
  // Several separate writes, so the FTS index holds several segments.
  for (let index = 0; index < 30; index += 1) {
    await store.add(
      { facts: [{ text: `Note ${index}: A plays the ${markerA} in the ${index} band` }] },
      { scope: alice },
    );
    await store.add(
      { facts: [{ text: `Note ${index}: B plays the ${markerB} in the ${index} band` }] },
      { scope: bob },
    );
  }
  const [change] = await store.add(
    { facts: [{ text: `A keeps a ${secondMarkerA} called Bramble`, metadata: { pet: secondMarkerA } }] },
    { scope: { userId: 'A', agentId: 'helper' } },
  );
  if (!change?.id) throw new Error('the add should return an id');
  // An update and a single delete leave A's words in the history as well.
  await store.update(change.id, { text: `A keeps a ${secondMarkerA} called Thistle` });
  const hits = await store.search(`${markerA} 3`, { scope: alice });
  const first = hits[0];
  if (!first) throw new Error('the search should find a note');
  await store.delete(first.id);
  return change.id;
}

describe('localStore deleteAll', () => {
  it("leaves none of A's text anywhere in the file or its WAL, and B's memories intact", async () => {
    const store = open();
    const petId = await fillStore(store);
    const before = fileBytes();
    expect(before).toContain(markerA.toLowerCase());
    expect(before).toContain(secondMarkerA.toLowerCase());
    const bobBefore = await store.list({ scope: { userId: 'B' } });

    expect(await store.deleteAll({ userId: 'A' })).toBe(30);
    expect(await store.list({ scope: { userId: 'A' } })).toEqual([]);
    expect(await store.search(markerA, { scope: { userId: 'A' } })).toEqual([]);
    const history = await store.history(petId);
    expect(history.map((entry) => entry.event)).toEqual(['ADD', 'UPDATE', 'DELETE']);
    expect(history.every((entry) => entry.oldText === undefined && entry.newText === undefined)).toBe(true);
    await store.close();

    const after = fileBytes();
    expect(after).not.toContain(markerA.toLowerCase());
    expect(after).not.toContain(secondMarkerA.toLowerCase());
    // The check can see text that is still there: B's words are.
    expect(after).toContain(markerB.toLowerCase());

    const reopened = open();
    const bobAfter = await reopened.list({ scope: { userId: 'B' } });
    expect(bobAfter).toEqual(bobBefore);
    const found = await reopened.search(`${markerB} 17`, { scope: { userId: 'B' } });
    expect(found[0]?.text).toBe(`Note 17: B plays the ${markerB} in the 17 band`);
    expect(await reopened.history(bobAfter[0]?.id ?? '')).toHaveLength(1);
  });

  it('empties the WAL at once, even while another connection keeps the file open', async () => {
    const store = open();
    await fillStore(store);
    const other = open();
    expect((await other.list({ scope: { userId: 'B' } })).length).toBe(30);
    expect(await store.deleteAll({ userId: 'A' })).toBe(30);
    await store.close();
    // `other` still has the file open, so closing `store` did not fold the WAL away.
    expect(existsSync(`${path}-wal`)).toBe(true);
    const after = fileBytes();
    expect(after).not.toContain(markerA.toLowerCase());
    expect(after).not.toContain(secondMarkerA.toLowerCase());
    expect(after).toContain(markerB.toLowerCase());
  });

  // M3
  it('reports an erase another connection is still reading through as unfinished, and finishes it after', async () => {
    const store = open({ busyTimeoutMs: 300 });
    await fillStore(store);
    // Another connection (another process, a long export) in the middle of a read.
    const reader = new Database(path, { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM memories').get();
      const error = await store.deleteAll({ userId: 'A' }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).retryable).toBe(true);
      expect((error as StoreError).message).toMatch(/another connection kept reading .* finishes the erase then/);
      // The memories are gone for every reader of the store already.
      expect(await store.list({ scope: { userId: 'A' } })).toEqual([]);
      reader.exec('COMMIT');
      // The store finishes the erase by itself once the read is over, without another call.
      await vi.waitFor(
        () => {
          const bytes = fileBytes();
          expect(bytes).not.toContain(markerA.toLowerCase());
          expect(bytes).not.toContain(secondMarkerA.toLowerCase());
        },
        { timeout: 10_000, interval: 100 },
      );
      expect(fileBytes()).toContain(markerB.toLowerCase());
    } finally {
      reader.close();
    }
  });

  // M7
  it('leaves no word and no id of a large erased scope in any page, live pages included', async () => {
    const store = open();
    const victim = { userId: 'Ottoline-Brackenbury-victim' };
    const words = ['quixotrombone', 'zeppelinmarmot', 'harpsicolumbine', 'flibbertigibbet', 'snollygoster'];
    // 3,600 memories of the victim among 3,000 of 50 other users, with updates: enough page splits
    // and merges in the scope indexes to leave copies of the victim's entries in pages kept alive
    // by the other users' entries (11 of them on the file before this fix).
    for (let first = 0; first < 3000; first += 5) {
      const batch = Array.from({ length: 5 }, (_, offset) => first + offset);
      await store.add(
        { facts: batch.map((n) => ({ text: `Note ${n}: the ${words[n % 5]} ${words[(n + 1) % 5]}${n} sings` })) },
        { scope: victim },
      );
      const [restated] = await store.add(
        { facts: [{ text: `Restated ${first} the ${words[first % 5]}` }] },
        { scope: victim },
      );
      await store.update(restated?.id ?? '', { text: `Restated ${first} the ${words[(first + 2) % 5]} again` });
      await store.add(
        { facts: batch.map((n) => ({ text: `Other ${n}: the bassoon ${n} plays` })) },
        { scope: { userId: `other-${(first + first / 5) % 50}` } },
      );
    }
    expect(await store.deleteAll(victim)).toBe(3600);
    await store.close();
    const after = fileBytes();
    expect(after).not.toContain(victim.userId.toLowerCase());
    for (const word of words) expect(after).not.toContain(word);
    expect(after).toContain('bassoon');
    expect(after).toContain('other-6');
  }, 120_000);

  // L9
  it('delete keeps the text in the history, delete with erase leaves none of it in the file', async () => {
    const store = open();
    await fillStore(store);
    const [pet] = await store.list({ scope: { userId: 'A', agentId: 'helper' } });
    expect(await store.delete(pet?.id ?? '')).toBe(true);
    await store.close();
    // A plain delete is an audit trail: the text stays in the history, so in the file.
    expect(fileBytes()).toContain(secondMarkerA.toLowerCase());
    const again = open();
    expect(await again.delete(pet?.id ?? '', { erase: true })).toBe(true);
    await again.close();
    const after = fileBytes();
    expect(after).not.toContain(secondMarkerA.toLowerCase());
    expect(after).toContain(markerA.toLowerCase());
  });

  it('keeps the deleted text in the history with keepDeletedText: true', async () => {
    const store = open({ keepDeletedText: true });
    const petId = await fillStore(store);
    expect(await store.deleteAll({ userId: 'A' })).toBe(30);
    const history = await store.history(petId);
    expect(history.map((entry) => [entry.event, entry.oldText, entry.newText])).toEqual([
      ['ADD', undefined, `A keeps a ${secondMarkerA} called Bramble`],
      ['UPDATE', `A keeps a ${secondMarkerA} called Bramble`, `A keeps a ${secondMarkerA} called Thistle`],
      ['DELETE', `A keeps a ${secondMarkerA} called Thistle`, undefined],
    ]);
    await store.close();
    expect(fileBytes()).toContain(secondMarkerA.toLowerCase());
  });

  it("leaves no trace of the erased scope's ids, not even in the search statistics", async () => {
    const store = open();
    const erased = { userId: 'Ottoline-Brackenbury', agentId: 'Wolfgang-Quillfeather' };
    await store.add({ facts: [{ text: 'Likes tea' }, { text: 'Lives by the sea' }] }, { scope: erased });
    const [gone] = await store.add({ facts: [{ text: 'Owns a kite' }] }, { scope: erased });
    await store.delete(gone?.id ?? '');
    await store.add({ facts: [{ text: 'Plays the oboe' }] }, { scope: { userId: 'B' } });
    await store.close();
    expect(fileBytes()).toContain('ottoline-brackenbury');
    const again = open();
    expect(await again.deleteAll({ userId: erased.userId })).toBe(2);
    await again.close();
    expect(fileBytes()).not.toContain('ottoline-brackenbury');
    expect(fileBytes()).not.toContain('wolfgang-quillfeather');
    expect((await open().search('oboe', { scope: { userId: 'B' } }))[0]?.text).toBe('Plays the oboe');
  });

  it('erases only the scope it is given: an agent of A, not A', async () => {
    const store = open();
    await store.add(
      { facts: [{ text: 'A told the helper about the lighthouse' }] },
      { scope: { userId: 'A', agentId: 'helper' } },
    );
    await store.add(
      { facts: [{ text: 'A told the planner about the lighthouse' }] },
      { scope: { userId: 'A', agentId: 'planner' } },
    );
    expect(await store.deleteAll({ userId: 'A', agentId: 'helper' })).toBe(1);
    const left = await store.search('lighthouse', { scope: { userId: 'A' } });
    expect(left.map((hit) => hit.text)).toEqual(['A told the planner about the lighthouse']);
  });
});
