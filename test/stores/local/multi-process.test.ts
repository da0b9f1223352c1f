import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixtureRunner, type Run } from '../run-fixture.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const runFixture = fixtureRunner(fixtures);
let folder: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'with-memory-processes-'));
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

function lastJson<T>(run: Run): T {
  const line = run.lines.at(-1);
  if (line === undefined) throw new Error(`The fixture printed nothing; stderr: ${run.stderr}`);
  return JSON.parse(line) as T;
}

describe('localStore across processes', () => {
  it('keeps what a process added after it exits', async () => {
    const path = join(folder, 'memory.db');
    const writer = await runFixture('add-memories.ts', [path, 'user-1', 'exited', '20']);
    expect(writer.code, writer.stderr).toBe(0);
    expect(lastJson<{ added: number }>(writer).added).toBe(20);

    const reader = await runFixture('read-memories.ts', [path, 'user-1', 'zokum']);
    const read = lastJson<{ count: number; texts: string[]; hits: string[] }>(reader);
    expect(read.count).toBe(20);
    expect(read.texts.filter((text) => text.startsWith('exited note 19 mentions zozum '))).toHaveLength(1);
    // Found by its own made-up word, from another process than the one that wrote it.
    expect(read.hits[0]).toMatch(/^exited note 7 mentions zokum /);
  });

  it('keeps what a process added when it is killed with SIGKILL right after add resolved', async () => {
    const path = join(folder, 'memory.db');
    const writer = await runFixture('add-memories.ts', [path, 'user-1', 'killed', '20', '--hang'], (_line, child) =>
      child.kill('SIGKILL'),
    );
    expect(writer.signal).toBe('SIGKILL');
    expect(lastJson<{ added: number }>(writer).added).toBe(20);
    // Killed before closing: the memories are in the write-ahead log, not yet in the main file.
    expect(existsSync(`${path}-wal`)).toBe(true);

    const reader = await runFixture('read-memories.ts', [path, 'user-1']);
    const read = lastJson<{ count: number; texts: string[] }>(reader);
    expect(read.count).toBe(20);
    expect(new Set(read.texts).size).toBe(20);
  });

  it('keeps a batched add of a process killed right after it resolved', async () => {
    const path = join(folder, 'memory.db');
    const writer = await runFixture(
      'add-memories.ts',
      [path, 'user-1', 'batched', '500', '--batch', '--hang'],
      (_line, child) => child.kill('SIGKILL'),
    );
    expect(writer.signal).toBe('SIGKILL');
    const reader = await runFixture('read-memories.ts', [path, 'user-1']);
    expect(lastJson<{ count: number }>(reader).count).toBe(500);
  });

  it('lets two processes add 1,000 memories each to one file at once while a third reads, without an error', async () => {
    const path = join(folder, 'memory.db');
    const [first, second, reading] = await Promise.all([
      runFixture('add-memories.ts', [path, 'shared-user', 'first', '1000']),
      runFixture('add-memories.ts', [path, 'shared-user', 'second', '1000']),
      runFixture('search-loop.ts', [path, 'shared-user', '300']),
    ]);
    for (const writer of [first, second]) {
      expect(writer.code, writer.stderr).toBe(0);
      expect(lastJson<{ added: number; errors: string[] }>(writer)).toEqual({ added: 1000, errors: [] });
    }
    expect(reading.code, reading.stderr).toBe(0);
    expect(lastJson<{ errors: string[] }>(reading).errors).toEqual([]);
    const reader = await runFixture('read-memories.ts', [path, 'shared-user']);
    const read = lastJson<{ count: number; texts: string[] }>(reader);
    expect(read.count).toBe(2000);
    expect(new Set(read.texts).size).toBe(2000);
    expect(read.texts.filter((text) => text.startsWith('first ')).length).toBe(1000);
  }, 120_000);
});
