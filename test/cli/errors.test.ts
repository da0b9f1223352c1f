import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './run-cli.js';
import { seed } from './seed.js';

let folder: string;
let db: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'with-memory-cli-errors-'));
  db = join(folder, 'memory.db');
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliRun> {
  return runCli([...args, '--db', db], { cwd: folder });
}

/** An expected failure: nothing on stdout, one line on stderr, no stack trace. */
function expectFailure(run: CliRun, code: number, line: string | RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  expect(run.stderr.endsWith('\n')).toBe(true);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  if (typeof line === 'string') expect(run.stderr.trimEnd()).toBe(line);
  else expect(run.stderr.trimEnd()).toMatch(line);
}

describe('bad usage exits with code 2', () => {
  it('refuses commands that need a scope when none is given', async () => {
    await seed(db, [{ text: 'Prefers Celsius', scope: { userId: 'u1' } }]);
    const hint = 'pass --user <id>, --agent <id> or --run <id> (and --app <id> to narrow it)';
    expectFailure(await cli(['list']), 2, `with-memory list: no scope given; ${hint}`);
    expectFailure(await cli(['search', 'celsius']), 2, `with-memory search: no scope given; ${hint}`);
    expectFailure(await cli(['add', 'Likes tea']), 2, `with-memory add: no scope given; ${hint}`);
    expectFailure(await cli(['list', '--app', 'web']), 2, `with-memory list: --app alone is not a scope; ${hint}`);
    expectFailure(
      await cli(['forget']),
      2,
      'with-memory forget: say what to forget: a memory id, or --user <id> (or --agent, --run) for all memories of a scope',
    );
  });

  it('names the flag of an invalid scope id', async () => {
    expectFailure(
      await cli(['add', 'Likes tea', '--user', '  ']),
      2,
      'with-memory add: invalid --user: expected a non-empty string (1-256 characters after trimming)',
    );
    expectFailure(
      await cli(['add', 'Likes tea', '--user', 'u1', '--agent', 'a'.repeat(300)]),
      2,
      'with-memory add: invalid --agent: expected at most 256 characters',
    );
    expect(existsSync(db)).toBe(false);
  });

  it('reports unknown commands and options, and bad option values, on one line', async () => {
    expectFailure(
      await cli(['lst']),
      2,
      "with-memory: unknown command 'lst' (Did you mean list?); see `with-memory --help`",
    );
    expectFailure(
      await cli(['list', '--user', 'u1', '--colour']),
      2,
      "with-memory list: unknown option '--colour'; see `with-memory list --help`",
    );
    expectFailure(
      await cli(['list', '--user', 'u1', '--limit', 'ten']),
      2,
      /^with-memory list: option '--limit <n>' argument 'ten' is invalid\. Expected a whole number of 1 or more; see/,
    );
    expectFailure(await cli(['search', '--user', 'u1']), 2, /^with-memory search: missing required argument 'query'/);
    expectFailure(
      await cli(['add', 'Likes tea', '--user', 'u1', '--metadata', '{oops']),
      2,
      /^with-memory add: option '--metadata <json>' argument '\{oops' is invalid\. Expected a JSON object/,
    );
    expectFailure(
      await cli(['forget', 'some-id', '--user', 'u1']),
      2,
      'with-memory forget: give a memory id or scope flags, not both',
    );
    expectFailure(
      await cli(['add', ' ', '--user', 'u1']),
      2,
      'with-memory add: the text is empty; pass the memory in quotes',
    );
  });

  it('prints the help on stderr when no command is given', async () => {
    const run = await cli([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Usage: with-memory [options] [command]');
  });

  it('refuses a database file that does not exist, without creating it', async () => {
    for (const args of [['list', '--user', 'u1'], ['stats'], ['export'], ['history', 'x'], ['forget', 'x']]) {
      const run = await cli(args);
      expectFailure(
        run,
        2,
        `with-memory ${args[0]}: no memory database at ${db}; pass --db <path> or set WITH_MEMORY_DB to the file to use`,
      );
    }
    expect(readdirSync(folder)).toEqual([]);
  });

  it('refuses a file that is not a with-memory database', async () => {
    writeFileSync(db, 'these are not the pages of a SQLite file, but plain text long enough to look like one\n');
    expectFailure(
      await cli(['list', '--user', 'u1']),
      2,
      /^with-memory list: .*SQLITE_NOTADB.*point --db at another file\.$/,
    );
  });

  it('refuses a SQLite file of another program, and leaves it untouched', async () => {
    const other = new Database(db);
    other.exec('CREATE TABLE notes (body TEXT)');
    other.close();
    const before = readFileSync(db);
    expectFailure(
      await cli(['add', 'Prefers Celsius', '--user', 'u1']),
      2,
      `with-memory add: ${db} holds tables of another program, not a with-memory store; point --db at another file.`,
    );
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('refuses to import a file that is missing or a folder', async () => {
    const missing = join(folder, 'missing.jsonl');
    expectFailure(await cli(['import', missing]), 2, `with-memory import: no file at ${missing}; check the path`);
    mkdirSync(join(folder, 'a-folder'));
    expectFailure(
      await cli(['import', join(folder, 'a-folder')]),
      2,
      `with-memory import: ${join(folder, 'a-folder')} is not a file; pass a JSONL file written by with-memory export`,
    );
    expect(existsSync(db)).toBe(false);
  });
});

describe('runtime failures exit with code 1', () => {
  it('reports a memory id that does not exist', async () => {
    await seed(db, [{ text: 'Prefers Celsius', scope: { userId: 'u1' } }]);
    expectFailure(
      await cli(['forget', 'no-such-id']),
      1,
      'with-memory forget: no memory with id no-such-id; `with-memory list` shows the ids',
    );
    expectFailure(
      await cli(['history', 'no-such-id']),
      1,
      'with-memory history: no memory with id no-such-id has a history; `with-memory list` shows the ids',
    );
  });
});
