import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, parseJson, runCli, spawnCli } from './run-cli.js';
import { seed } from './seed.js';

// Written as export writes: fields in its order, dates as ISO strings, one memory per line.
const fixture = `${[
  {
    id: 'm-1',
    text: 'Prefers Celsius',
    type: 'preference',
    scope: { userId: 'u1' },
    metadata: {},
    createdAt: '2025-01-01T10:00:00.000Z',
    updatedAt: '2025-01-01T10:00:00.000Z',
  },
  {
    id: 'm-2',
    text: 'Said "bonjour" — ça va?\nOn two lines, with a tab\there',
    type: 'fact',
    scope: { userId: 'u2', agentId: 'support', runId: 'r-7', appId: 'web' },
    metadata: { source: 'chat', tags: ['a', 'b'], nested: { x: 1.5, ok: true, none: null } },
    createdAt: '2025-02-03T04:05:06.789Z',
    updatedAt: '2025-03-04T05:06:07.891Z',
  },
  {
    id: 'm-3',
    text: 'Dentist appointment on Friday',
    type: 'event',
    scope: { userId: 'u1' },
    metadata: {},
    createdAt: '2025-01-02T00:00:00.000Z',
    updatedAt: '2025-01-02T00:00:00.000Z',
    expiresAt: '2099-12-31T23:59:59.000Z',
  },
  {
    id: 'm-4',
    text: 'Answers in French when asked to',
    scope: { agentId: 'support' },
    metadata: { confidence: 0.9 },
    createdAt: '2025-01-03T00:00:00.000Z',
    updatedAt: '2025-01-03T00:00:00.000Z',
  },
  {
    id: 'm-5',
    text: 'Has a cat named Miso 🐈',
    type: 'profile',
    scope: { userId: 'u1', runId: 'r-1' },
    metadata: {},
    createdAt: '2025-01-04T00:00:00.000Z',
    updatedAt: '2025-01-04T00:00:00.000Z',
  },
]
  .map((memory) => JSON.stringify(memory))
  .join('\n')}\n`;

// Lines another tool could write: no id or no dates.
const foreignLines = `${[
  { text: 'Prefers aisle seats', scope: { userId: 'u1' }, type: 'preference' },
  { text: 'Flew to Oslo in May', scope: { userId: 'u1' }, createdAt: '2024-05-02T08:00:00.000Z' },
  {
    id: 'kept-id',
    text: 'Allergic to peanuts',
    scope: { userId: 'u2' },
    metadata: { source: 'elsewhere' },
    updatedAt: '2024-06-01T00:00:00.000Z',
  },
]
  .map((memory) => JSON.stringify(memory))
  .join('\n')}\n`;

let folder: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'with-memory-cli-jsonl-'));
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

function cli(db: string, args: string[]): Promise<CliRun> {
  return runCli([...args, '--db', join(folder, db)], { cwd: folder });
}

function write(name: string, content: string): string {
  const path = join(folder, name);
  writeFileSync(path, content);
  return path;
}

describe('with-memory import and export', () => {
  it('round-trips a file byte for byte: import, export, import elsewhere, export', async () => {
    const source = write('memories.jsonl', fixture);

    const imported = await cli('a.db', ['import', source, '--json']);
    expect(imported.stderr).toBe('');
    expect(parseJson(imported)).toEqual({ added: 5, updated: 0, unchanged: 0 });

    const toStdout = await cli('a.db', ['export']);
    expect(toStdout).toMatchObject({ code: 0, stderr: '' });
    expect(toStdout.stdout).toBe(fixture);

    const out = join(folder, 'copy.jsonl');
    const toFile = await cli('a.db', ['export', '--out', out, '--json']);
    expect(parseJson(toFile)).toEqual({ exported: 5, path: out });
    expect(readFileSync(out).equals(readFileSync(source))).toBe(true);

    expect(parseJson(await cli('b.db', ['import', out, '--json']))).toEqual({ added: 5, updated: 0, unchanged: 0 });
    expect((await cli('b.db', ['export'])).stdout).toBe(fixture);

    // The same file again changes nothing.
    expect(parseJson(await cli('a.db', ['import', source, '--json']))).toEqual({ added: 0, updated: 0, unchanged: 5 });
    expect((await cli('a.db', ['export'])).stdout).toBe(fixture);
  });

  it('moves memories written by the store to another database unchanged', async () => {
    await seed(join(folder, 'a.db'), [
      { text: 'Prefers Celsius', scope: { userId: 'u1' }, type: 'preference' },
      { text: 'Lives in Lyon', scope: { userId: 'u1', agentId: 'support' } },
      { text: 'Has a cat', scope: { userId: 'u2' }, type: 'profile' },
    ]);
    const exported = await cli('a.db', ['export', '--out', 'a.jsonl']);
    expect(exported).toMatchObject({ code: 0, stdout: 'Exported 3 memories to a.jsonl.\n' });

    const imported = await cli('b.db', ['import', 'a.jsonl']);
    expect(imported).toMatchObject({
      code: 0,
      stdout: 'Imported 3 memories: 3 added, 0 updated, 0 unchanged.\n',
      stderr: '',
    });
    expect((await cli('b.db', ['export'])).stdout).toBe(readFileSync(join(folder, 'a.jsonl'), 'utf8'));
    const listedA = parseJson(await cli('a.db', ['list', '--user', 'u1', '--json']));
    const listedB = parseJson(await cli('b.db', ['list', '--user', 'u1', '--json']));
    expect(listedB).toEqual(listedA);
  });

  it('updates a stored id whose line changed, and skips blank lines', async () => {
    await cli('a.db', ['import', write('memories.jsonl', fixture)]);
    const changed = `\n${fixture.replace('Prefers Celsius', 'Prefers Kelvin')}\n\n`;
    const run = await cli('a.db', ['import', write('changed.jsonl', changed), '--json']);
    expect(parseJson(run)).toEqual({ added: 0, updated: 1, unchanged: 4 });
    expect((await cli('a.db', ['export'])).stdout).toBe(fixture.replace('Prefers Celsius', 'Prefers Kelvin'));
  });

  it('exports only a scope with scope flags', async () => {
    await cli('a.db', ['import', write('memories.jsonl', fixture)]);
    const run = await cli('a.db', ['export', '--user', 'u1']);
    const ids = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual(['m-1', 'm-3', 'm-5']);
  });

  it('refuses a malformed line, naming its number, and imports nothing', async () => {
    await seed(join(folder, 'a.db'), [{ text: 'Prefers Celsius', scope: { userId: 'u1' } }]);
    const good = fixture.split('\n').filter((line) => line !== '');
    // More lines than one write batch, so that an import line by line would have written some.
    const many = Array.from({ length: 600 }, (_, index) =>
      good[index % good.length]?.replace(/"m-(\d)"/, `"n-${index}"`),
    );
    const broken = write('broken.jsonl', `${many.slice(0, 599).join('\n')}\n\n{"id":"x","text":\n`);

    const run = await cli('a.db', ['import', broken]);
    expect(run).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `with-memory import: ${broken}: line 601 of the import is not JSON; nothing was imported, fix that line and try again\n`,
    });
    const stats = parseJson<{ memories: number }>(await cli('a.db', ['stats', '--json']));
    expect(stats.memories).toBe(1);

    const noScope = write('no-scope.jsonl', `${good[0]}\n${good[1]?.replace(/"scope":\{[^}]*\},/, '')}\n`);
    const invalid = await cli('new.db', ['import', noScope]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(
      /^with-memory import: .*no-scope\.jsonl: line 2 of the import has an invalid `scope`: /,
    );
    expect(existsSync(join(folder, 'new.db'))).toBe(false);
  });

  it('imports lines from another tool: new ids, dates kept when given, the same file twice stored once', async () => {
    const foreign = write('foreign.jsonl', foreignLines);
    const before = new Date().toISOString();
    expect(parseJson(await cli('a.db', ['import', foreign, '--json']))).toEqual({ added: 3, updated: 0, unchanged: 0 });
    const after = new Date().toISOString();

    const exported = (await cli('a.db', ['export'])).stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; text: string; createdAt: string; updatedAt: string });
    const byText = (text: string) => exported.find((memory) => memory.text === text);
    const aisle = byText('Prefers aisle seats');
    const oslo = byText('Flew to Oslo in May');
    expect(aisle?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(oslo?.id).toMatch(/^[0-9a-f]{8}-/);
    expect(oslo?.id).not.toBe(aisle?.id);
    const aisleCreated = String(aisle?.createdAt);
    expect(aisleCreated >= before && aisleCreated <= after).toBe(true);
    expect(aisle?.updatedAt).toBe(aisle?.createdAt);
    expect(oslo).toMatchObject({ createdAt: '2024-05-02T08:00:00.000Z', updatedAt: '2024-05-02T08:00:00.000Z' });
    expect(byText('Allergic to peanuts')).toMatchObject({
      id: 'kept-id',
      createdAt: '2024-06-01T00:00:00.000Z',
      updatedAt: '2024-06-01T00:00:00.000Z',
      metadata: { source: 'elsewhere' },
    });

    // The derived ids are the same the second time: nothing is stored twice. The undated line
    // takes the time of this import, so it counts as updated.
    expect(parseJson(await cli('a.db', ['import', foreign, '--json']))).toEqual({ added: 0, updated: 1, unchanged: 2 });
    expect(parseJson<{ memories: number }>(await cli('a.db', ['stats', '--json'])).memories).toBe(3);
    const idsAgain = (await cli('a.db', ['export'])).stdout
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(idsAgain.sort()).toEqual(exported.map((memory) => memory.id).sort());
  });

  it('checks a file with --dry-run and writes nothing', async () => {
    const foreign = write('foreign.jsonl', foreignLines);
    const run = await cli('new.db', ['import', foreign, '--dry-run']);
    expect(run).toMatchObject({
      code: 0,
      stdout:
        'The file holds 3 memories, every line valid (2 lines have no id and will get one). Nothing was written (--dry-run).\n',
      stderr: '',
    });
    expect(parseJson(await cli('new.db', ['import', foreign, '--dry-run', '--json']))).toEqual({
      dryRun: true,
      memories: 3,
      newIds: 2,
    });
    expect(existsSync(join(folder, 'new.db'))).toBe(false);

    await cli('a.db', ['import', write('memories.jsonl', fixture)]);
    const changed = write('changed.jsonl', fixture.replace('Prefers Celsius', 'Prefers Kelvin'));
    expect((await cli('a.db', ['import', changed, '--dry-run'])).code).toBe(0);
    expect((await cli('a.db', ['export'])).stdout).toBe(fixture);

    const broken = write('broken.jsonl', `${foreignLines}{"text":"No scope"}\n`);
    const refused = await cli('a.db', ['import', broken, '--dry-run']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/line 4 of the import has an invalid `scope`/);
  });

  it('stops quietly, with exit code 0, when the reader of stdout goes away', async () => {
    // Far more than a pipe holds, so the export is still writing when the reader leaves.
    const lines = Array.from({ length: 4000 }, (_, index) =>
      JSON.stringify({
        id: `m-${index}`,
        text: `Memory number ${index}, padded to take some room in the pipe ${'.'.repeat(100)}`,
        scope: { userId: 'u1' },
        metadata: {},
        createdAt: '2025-01-01T00:00:00.000Z',
        updatedAt: '2025-01-01T00:00:00.000Z',
      }),
    );
    expect((await cli('a.db', ['import', write('many.jsonl', `${lines.join('\n')}\n`)])).code).toBe(0);

    const child = spawnCli(['export', '--db', join(folder, 'a.db')], { cwd: folder });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('writes --out whole or not at all', async () => {
    await cli('a.db', ['import', write('memories.jsonl', fixture)]);
    const target = write('out.jsonl', 'old content\n');
    expect((await cli('a.db', ['export', '--out', target])).code).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe(fixture);

    const nowhere = join(folder, 'missing-folder', 'out.jsonl');
    const run = await cli('a.db', ['export', '--out', nowhere]);
    expect(run).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `with-memory export: cannot write ${nowhere}: its folder does not exist\n`,
    });
    expect(readdirSync(folder).filter((name) => name.includes('partial'))).toEqual([]);
  });
});
