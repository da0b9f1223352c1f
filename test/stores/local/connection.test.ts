import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Connection, openConnection } from '../../../src/stores/local/connection.js';

let folder: string;
let connection: Connection;
let reader: Database.Database;

beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), 'with-memory-connection-'));
  const path = join(folder, 'memory.db');
  connection = await openConnection(path, { busyTimeoutMs: 5000, synchronous: 'normal' });
  connection.db.exec('CREATE TABLE notes (text TEXT NOT NULL)');
  reader = new Database(path, { readonly: true });
});

afterEach(() => {
  reader.close();
  connection.close();
  rmSync(folder, { recursive: true, force: true });
});

const insert = (text: string) => connection.statement('INSERT INTO notes (text) VALUES (?)').run(text);
const committed = () => reader.prepare('SELECT text FROM notes ORDER BY rowid').pluck().all();

it('commits the writes asked for together as one transaction', async () => {
  const seenByOthers: unknown[][] = [];
  const results = await Promise.all([
    connection.write(() => {
      insert('first');
      return 1;
    }),
    connection.write(() => {
      // The first write is done but not yet committed: another connection does not see it.
      seenByOthers.push(committed());
      insert('second');
      return 2;
    }),
  ]);
  expect(results).toEqual([1, 2]);
  expect(seenByOthers).toEqual([[]]);
  expect(committed()).toEqual(['first', 'second']);
});

it('commits writes asked for in one turn of the event loop together, awaits between them included', async () => {
  // A turn's adds are asked for one after another, with awaits between them (admission,
  // validation): they still share one commit, seen by the second write as not yet committed.
  const seenByOthers: unknown[][] = [];
  const writes: Array<Promise<unknown>> = [];
  writes.push(connection.write(() => insert('first')));
  await Promise.resolve();
  await Promise.resolve();
  writes.push(
    connection.write(() => {
      seenByOthers.push(committed());
      insert('second');
    }),
  );
  await Promise.all(writes);
  expect(seenByOthers).toEqual([[]]);
  expect(committed()).toEqual(['first', 'second']);
});

it("runs a read's statements in one transaction: they see one state of the file", async () => {
  await connection.write(() => insert('before'));
  const seen = await connection.read(() => {
    const first = connection.statement('SELECT count(*) FROM notes').pluck().get();
    // Another connection commits in between: this read does not see it.
    const writer = new Database(join(folder, 'memory.db'));
    writer.prepare('INSERT INTO notes (text) VALUES (?)').run('meanwhile');
    writer.close();
    const second = connection.statement('SELECT count(*) FROM notes').pluck().get();
    return [first, second];
  });
  expect(seen).toEqual([1, 1]);
  expect(committed()).toEqual(['before', 'meanwhile']);
});

it('undoes a write that throws alone; the others of its transaction are kept', async () => {
  const outcomes = await Promise.allSettled([
    connection.write(() => insert('kept')),
    connection.write(() => {
      insert('undone');
      throw new Error('broken write');
    }),
    connection.write(() => insert('also kept')),
  ]);
  expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'broken write' });
  expect(committed()).toEqual(['kept', 'also kept']);
});

it('a write alone is its own transaction, undone whole when it throws', async () => {
  await expect(
    connection.write(() => {
      insert('undone');
      throw new Error('broken write');
    }),
  ).rejects.toThrow('broken write');
  await connection.write(() => insert('kept'));
  expect(committed()).toEqual(['kept']);
});
