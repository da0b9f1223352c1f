import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serverDatabase, serverUrl } from '../stores/postgres/databases.js';
import { type CliRun, runCli } from './run-cli.js';

const server = serverDatabase('cli');
const folder = mkdtempSync(join(tmpdir(), 'with-memory-cli-pg-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function json<T>(run: CliRun): T {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

describe('with-memory --db postgres://', () => {
  it('runs every command on the PostgreSQL store of the URL and its ?schema', async () => {
    const db = `${serverUrl}?schema=${server.schema()}`;
    const cli = (...args: string[]) => runCli([...args, '--db', db], { cwd: folder });
    const added = json<{ event: string; id: string }>(
      await cli('add', 'Prefers Celsius', '--user', 'u1', '--type', 'preference', '--json'),
    );
    expect(added.event).toBe('ADD');
    json(await cli('add', 'Has a cat named Miso', '--user', 'u1', '--json'));
    json(await cli('add', 'Lives in Lyon', '--user', 'u2', '--json'));

    const listed = json<Array<{ text: string }>>(await cli('list', '--user', 'u1', '--json'));
    expect(listed.map((memory) => memory.text)).toEqual(['Has a cat named Miso', 'Prefers Celsius']);
    const hits = json<Array<{ text: string }>>(await cli('search', 'celsius', '--user', 'u1', '--json'));
    expect(hits.map((hit) => hit.text)).toEqual(['Prefers Celsius']);
    const history = json<Array<{ event: string; actor: string }>>(await cli('history', added.id, '--json'));
    expect(history).toMatchObject([{ event: 'ADD', actor: 'cli' }]);

    const stats = json<{ path: string; memories: number; users: number; bytes?: number }>(await cli('stats', '--json'));
    expect(stats).toMatchObject({ memories: 3, users: 2 });
    expect(stats.path).toMatch(/^postgres:\/\/127\.0\.0\.1:5432\/test \(schema wm_test_cli_/);
    expect(stats.bytes).toBeUndefined();

    const file = join(folder, 'u1.jsonl');
    json(await cli('export', '--user', 'u1', '--out', file, '--json'));
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    const copy = `${serverUrl}?schema=${server.schema()}`;
    const imported = json<{ added: number }>(await runCli(['import', file, '--db', copy, '--json'], { cwd: folder }));
    expect(imported.added).toBe(2);

    const forgot = json<{ deleted: number }>(await cli('forget', '--user', 'u1', '--yes', '--json'));
    expect(forgot.deleted).toBe(2);
    expect(json<unknown[]>(await cli('list', '--user', 'u1', '--json'))).toEqual([]);
  }, 60_000);

  it('names a server it cannot reach, without a stack trace', async () => {
    const run = await runCli(['list', '--user', 'u1', '--db', 'postgres://postgres@127.0.0.1:1/test'], { cwd: folder });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^with-memory list: The PostgreSQL store could not reach the server \(ECONNREFUSED\)/);
  });
});
