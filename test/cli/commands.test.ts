import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, parseJson, runCli } from './run-cli.js';
import { seed } from './seed.js';

interface JsonMemory {
  id: string;
  text: string;
  type?: string;
  metadata: Record<string, unknown>;
  scope: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  score?: number;
}

interface JsonHistoryEntry {
  memoryId: string;
  event: string;
  oldText?: string;
  newText?: string;
  reason?: string;
  actor?: string;
  createdAt: string;
}

let folder: string;
let db: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'with-memory-cli-'));
  db = join(folder, 'memory.db');
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

function cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return runCli([...args, '--db', db], { cwd: folder, ...options });
}

async function add(text: string, ...flags: string[]): Promise<string> {
  const change = parseJson<{ event: string; id: string }>(await cli(['add', text, ...flags, '--json']));
  expect(change.event).toBe('ADD');
  return change.id;
}

describe('with-memory add and list', () => {
  it('stores memories in their scope and lists only that scope, newest first', async () => {
    await add('Prefers Celsius for temperatures', '--user', 'u1', '--type', 'preference');
    await add('Lives in Lyon', '--user', 'u1', '--agent', 'support', '--metadata', '{"source":"cli-test"}');
    await add('Has a cat named Miso', '--user', 'u2');

    const listed = parseJson<JsonMemory[]>(await cli(['list', '--user', 'u1', '--json']));
    expect(listed.map((memory) => memory.text)).toEqual(['Lives in Lyon', 'Prefers Celsius for temperatures']);
    expect(listed[0]).toMatchObject({ scope: { userId: 'u1', agentId: 'support' }, metadata: { source: 'cli-test' } });
    expect(listed[1]).toMatchObject({ type: 'preference', scope: { userId: 'u1' } });
    expect(Number.isNaN(Date.parse(listed[0]?.updatedAt ?? ''))).toBe(false);

    const byType = parseJson<JsonMemory[]>(await cli(['list', '--user', 'u1', '--type', 'preference', '--json']));
    expect(byType.map((memory) => memory.text)).toEqual(['Prefers Celsius for temperatures']);
    const limited = parseJson<JsonMemory[]>(
      await cli(['list', '--user', 'u1', '--limit', '1', '--offset', '1', '--json']),
    );
    expect(limited.map((memory) => memory.text)).toEqual(['Prefers Celsius for temperatures']);
    const agent = parseJson<JsonMemory[]>(await cli(['list', '--agent', 'support', '--json']));
    expect(agent.map((memory) => memory.text)).toEqual(['Lives in Lyon']);
  });

  it('prints a table of id, type, scope, date, metadata and text, with memory text on stdout only', async () => {
    const id = await add('Prefers Celsius', '--user', 'u1', '--type', 'preference');
    const run = await cli(['list', '--user', 'u1']);
    expect(run.code).toBe(0);
    const [header, row, ...rest] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+TYPE\s+SCOPE\s+UPDATED \(UTC\)\s+METADATA\s+TEXT$/);
    expect(row).toMatch(
      new RegExp(`^${id}\\s+preference\\s+user u1\\s+\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}\\s+-\\s+Prefers Celsius$`),
    );
    expect(rest).toEqual([]);
    expect(run.stderr).toBe('');
  });

  it("list and search tell a user's own memory from an agent's, and show the metadata", async () => {
    await add('Lives in Oslo', '--user', 'u1', '--type', 'profile');
    await add('Plans the Oslo trip', '--user', 'u1', '--agent', 'planner', '--metadata', '{"source":"chat"}');
    for (const args of [
      ['list', '--user', 'u1'],
      ['search', 'Oslo', '--user', 'u1'],
    ]) {
      const lines = (await cli(args)).stdout.trimEnd().split('\n');
      expect(lines.find((line) => line.includes('Lives in Oslo'))).toMatch(/\suser u1\s.*\s-\s+Lives in Oslo$/);
      expect(lines.find((line) => line.includes('Plans the Oslo trip'))).toMatch(
        /\suser u1, agent planner\s.*\s\{"source":"chat"\}\s+Plans the Oslo trip$/,
      );
    }
  });

  it('keeps a table on one line per memory whatever the text holds', async () => {
    await add('First line\nsecond line\u001b[31m red', '--user', 'u1');
    const run = await cli(['list', '--user', 'u1']);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(run.stdout).not.toContain('\u001b');
    // JSON keeps the text exactly as stored.
    const [memory] = parseJson<JsonMemory[]>(await cli(['list', '--user', 'u1', '--json']));
    expect(memory?.text).toBe('First line\nsecond line\u001b[31m red');
  });

  it('updates instead of adding the same text twice', async () => {
    const id = await add('Prefers Celsius', '--user', 'u1');
    const again = parseJson<{ event: string; id: string }>(
      await cli(['add', 'Prefers Celsius', '--user', 'u1', '--json']),
    );
    expect(again.id).toBe(id);
    expect(again.event).not.toBe('ADD');
    const text = await cli(['add', 'Prefers Celsius', '--user', 'u1']);
    expect(text.stdout).toContain(id);
    expect(parseJson<JsonMemory[]>(await cli(['list', '--user', 'u1', '--json']))).toHaveLength(1);
  });

  it('says so on stderr when a scope has no memories, and prints [] with --json', async () => {
    await seed(db, [{ text: 'Prefers Celsius', scope: { userId: 'u1' } }]);
    const run = await cli(['list', '--user', 'nobody']);
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toBe('No memories of user nobody.\n');
    expect(parseJson<JsonMemory[]>(await cli(['list', '--user', 'nobody', '--json']))).toEqual([]);
  });
});

describe('with-memory search', () => {
  it('finds a scope’s memories by words, best first, with a score', async () => {
    await seed(db, [
      { text: 'Prefers Celsius for temperatures', scope: { userId: 'u1' } },
      { text: 'Works as a nurse in Lyon', scope: { userId: 'u1' } },
      { text: 'Prefers Fahrenheit for temperatures', scope: { userId: 'u2' } },
    ]);

    const hits = parseJson<JsonMemory[]>(await cli(['search', 'temperatures', '--user', 'u1', '--json']));
    expect(hits.map((hit) => hit.text)).toEqual(['Prefers Celsius for temperatures']);
    expect(hits[0]?.score).toBeGreaterThan(0);
    expect(hits[0]?.score).toBeLessThanOrEqual(1);

    const text = await cli(['search', 'nurse', '--user', 'u1']);
    expect(text.stdout.split('\n')[0]).toMatch(/^SCORE\s+ID\s+TYPE/);
    expect(text.stdout).toContain('Works as a nurse in Lyon');

    const none = await cli(['search', 'bicycles', '--user', 'u1']);
    expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'No memories of user u1 match.\n' });
    expect(parseJson<JsonMemory[]>(await cli(['search', 'bicycles', '--user', 'u1', '--json']))).toEqual([]);
  });
});

describe('with-memory history and forget', () => {
  it('forgets one memory by id, and its history shows the add and the delete', async () => {
    const id = await add('Prefers Celsius', '--user', 'u1');
    const kept = await add('Lives in Lyon', '--user', 'u1');

    const forgotten = await cli(['forget', id]);
    expect(forgotten).toMatchObject({
      code: 0,
      stdout: `Forgot ${id}. Its history keeps the text; \`with-memory forget ${id} --erase\` erases that too.\n`,
    });
    const listed = parseJson<JsonMemory[]>(await cli(['list', '--user', 'u1', '--json']));
    expect(listed.map((memory) => memory.id)).toEqual([kept]);

    const history = parseJson<JsonHistoryEntry[]>(await cli(['history', id, '--json']));
    expect(history.map((entry) => [entry.event, entry.actor])).toEqual([
      ['ADD', 'cli'],
      ['DELETE', 'cli'],
    ]);
    expect(history[0]).toMatchObject({ memoryId: id, reason: 'with-memory add' });
    expect(history[1]).toMatchObject({ oldText: 'Prefers Celsius', reason: 'with-memory forget' });

    const table = await cli(['history', id]);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DATE \(UTC\)\s+EVENT\s+BY\s+REASON\s+TEXT$/);
    expect(lines[1]).toMatch(/ADD\s+cli\s+with-memory add\s+Prefers Celsius$/);
    expect(lines[2]).toMatch(/DELETE\s+cli\s+with-memory forget\s+Prefers Celsius$/);

    const json = parseJson<{ deleted: number; id: string }>(await cli(['forget', kept, '--json']));
    expect(json).toEqual({ deleted: 1, id: kept, erased: false });
  });

  // L9
  it('erases one memory completely with forget <id> --erase, and says so in its help', async () => {
    const id = await add('Owes Bob 40 euros', '--user', 'u1');
    expect((await cli(['forget', '--help'])).stdout).toMatch(/--erase\s+with an id: erase the memory completely/);
    expect(await cli(['forget', id, '--erase'])).toMatchObject({
      code: 0,
      stdout: `Erased ${id}, with the text of its history.\n`,
    });
    const history = parseJson<JsonHistoryEntry[]>(await cli(['history', id, '--json']));
    expect(history.map((entry) => entry.event)).toEqual(['ADD', 'DELETE']);
    expect(history.some((entry) => entry.oldText ?? entry.newText ?? entry.reason)).toBe(false);
  });

  it('forgets every memory of a user with --yes, and nobody else’s', async () => {
    await seed(db, [
      { text: 'Prefers Celsius', scope: { userId: 'u1' } },
      { text: 'Lives in Lyon', scope: { userId: 'u1', agentId: 'support' } },
      { text: 'Has a cat', scope: { userId: 'u2' } },
    ]);

    const run = await cli(['forget', '--user', 'u1', '--yes', '--json']);
    expect(parseJson<{ deleted: number; scope: unknown }>(run)).toEqual({ deleted: 2, scope: { userId: 'u1' } });
    expect(parseJson<JsonMemory[]>(await cli(['list', '--user', 'u1', '--json']))).toEqual([]);
    expect(parseJson<JsonMemory[]>(await cli(['list', '--user', 'u2', '--json']))).toHaveLength(1);

    const again = await cli(['forget', '--user', 'u1', '--yes']);
    expect(again).toMatchObject({ code: 0, stdout: 'No memories of user u1; nothing to forget.\n' });
  });

  it('refuses to forget a whole user without --yes when stdin is not a terminal', async () => {
    await seed(db, [
      { text: 'Prefers Celsius', scope: { userId: 'u1' } },
      { text: 'Lives in Lyon', scope: { userId: 'u1' } },
    ]);

    const run = await cli(['forget', '--user', 'u1'], { input: 'y\n' });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'with-memory forget: refusing to forget 2 memories of user u1 without confirmation; pass --yes\n',
    );
    expect(parseJson<JsonMemory[]>(await cli(['list', '--user', 'u1', '--json']))).toHaveLength(2);
  });

  it('forgets a narrower scope: one agent of a user', async () => {
    await seed(db, [
      { text: 'Prefers Celsius', scope: { userId: 'u1', agentId: 'support' } },
      { text: 'Lives in Lyon', scope: { userId: 'u1', agentId: 'sales' } },
    ]);

    const run = await cli(['forget', '--user', 'u1', '--agent', 'support', '--yes']);
    expect(run).toMatchObject({ code: 0, stdout: 'Forgot 1 memory of user u1, agent support.\n' });
    const left = parseJson<JsonMemory[]>(await cli(['list', '--user', 'u1', '--json']));
    expect(left.map((memory) => memory.text)).toEqual(['Lives in Lyon']);
  });
});

describe('with-memory stats', () => {
  it('counts memories, types and owners of the whole database or of a scope', async () => {
    await seed(db, [
      { text: 'Prefers Celsius', scope: { userId: 'u1' }, type: 'preference' },
      { text: 'Lives in Lyon', scope: { userId: 'u1', agentId: 'support' }, type: 'fact' },
      { text: 'Has a cat', scope: { userId: 'u2', runId: 'r1', appId: 'web' } },
    ]);

    const stats = parseJson<Record<string, unknown>>(await cli(['stats', '--json']));
    expect(stats).toMatchObject({
      path: db,
      memories: 3,
      types: { preference: 1, fact: 1 },
      untyped: 1,
      users: 2,
      agents: 1,
      runs: 1,
      apps: 1,
    });
    expect(stats.bytes).toBeGreaterThan(0);
    expect(typeof stats.oldest).toBe('string');

    const scoped = parseJson<Record<string, unknown>>(await cli(['stats', '--user', 'u1', '--json']));
    expect(scoped).toMatchObject({ scope: { userId: 'u1' }, memories: 2, users: 1, agents: 1, untyped: 0 });

    const text = await cli(['stats']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Memories\s+3$/m);
    expect(text.stdout).toMatch(/^Types\s+fact 1, preference 1, untyped 1$/m);
    expect(text.stdout).toMatch(/^Owners\s+2 users, 1 agent, 1 run, 1 app$/m);
  });
});

describe('the database path', () => {
  it('defaults to WITH_MEMORY_DB, else .with-memory/memory.db in the working directory', async () => {
    const fromEnv = join(folder, 'env.db');
    const added = await runCli(['add', 'Prefers Celsius', '--user', 'u1'], {
      cwd: folder,
      env: { WITH_MEMORY_DB: fromEnv },
    });
    expect(added.code, added.stderr).toBe(0);
    expect(existsSync(fromEnv)).toBe(true);

    const inFolder = await runCli(['add', 'Lives in Lyon', '--user', 'u1'], { cwd: folder });
    expect(inFolder.code, inFolder.stderr).toBe(0);
    expect(existsSync(join(folder, '.with-memory', 'memory.db'))).toBe(true);
    const listed = parseJson<JsonMemory[]>(await runCli(['list', '--user', 'u1', '--json'], { cwd: folder }));
    expect(listed.map((memory) => memory.text)).toEqual(['Lives in Lyon']);
  });
});

describe('help and version', () => {
  it('prints help and the version with exit code 0', async () => {
    const help = await runCli(['--help'], { cwd: folder });
    expect(help.code).toBe(0);
    for (const command of ['list', 'search', 'add', 'forget', 'history', 'export', 'import', 'stats']) {
      expect(help.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
    const version = await runCli(['--version'], { cwd: folder });
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });
});
