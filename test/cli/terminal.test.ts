// What the command does only on a terminal (the confirmation of `forget`, the bar of `import`),
// run in this process with streams that say they are terminals: a child process's pipes are not.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.js';
import { runCli } from '../../src/cli/main.js';
import { localStore } from '../../src/stores/local/index.js';
import { seed } from './seed.js';

let folder: string;
let db: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'with-memory-cli-tty-'));
  db = join(folder, 'memory.db');
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

interface Terminal {
  io: CliIo;
  stdin: PassThrough;
  stdout: () => string;
  stderr: () => string;
}

function terminal({ stderrIsTTY = true } = {}): Terminal {
  const streams = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  const written = { stdout: '', stderr: '' };
  streams.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    written.stdout += chunk;
  });
  streams.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    written.stderr += chunk;
  });
  const io: CliIo = {
    stdin: Object.assign(streams.stdin, { isTTY: true }),
    stdout: Object.assign(streams.stdout, { isTTY: true, columns: 100 }),
    stderr: Object.assign(streams.stderr, { isTTY: stderrIsTTY, columns: 100 }),
  };
  return { io, stdin: streams.stdin, stdout: () => written.stdout, stderr: () => written.stderr };
}

async function countOf(userId: string): Promise<number> {
  const store = localStore({ path: db });
  try {
    return (await store.list({ scope: { userId } })).length;
  } finally {
    await store.close();
  }
}

describe('forget --user on a terminal', () => {
  beforeEach(async () => {
    await seed(db, [
      { text: 'Prefers Celsius', scope: { userId: 'u1' } },
      { text: 'Lives in Lyon', scope: { userId: 'u1' } },
      { text: 'Has a cat', scope: { userId: 'u2' } },
    ]);
  });

  it('asks first and forgets on yes', async () => {
    const tty = terminal();
    const running = runCli(['forget', '--user', 'u1', '--db', db], tty.io);
    tty.stdin.write('y\n');
    expect(await running).toBe(0);
    expect(tty.stderr()).toBe('Forget all 2 memories of user u1? [y/N] ');
    expect(tty.stdout()).toBe('Forgot 2 memories of user u1.\n');
    expect(await countOf('u1')).toBe(0);
    expect(await countOf('u2')).toBe(1);
  });

  it('forgets nothing on any other answer, or on end of input', async () => {
    for (const answer of ['n\n', '\n', 'yess\n', null]) {
      const tty = terminal();
      const running = runCli(['forget', '--user', 'u1', '--db', db], tty.io);
      if (answer === null) tty.stdin.end();
      else tty.stdin.write(answer);
      expect(await running).toBe(1);
      expect(tty.stderr()).toBe(
        'Forget all 2 memories of user u1? [y/N] with-memory forget: cancelled; nothing was forgotten\n',
      );
      expect(tty.stdout()).toBe('');
    }
    expect(await countOf('u1')).toBe(2);
  });

  it('does not ask with --yes', async () => {
    const tty = terminal();
    expect(await runCli(['forget', '--user', 'u1', '--yes', '--db', db], tty.io)).toBe(0);
    expect(tty.stderr()).toBe('');
    expect(await countOf('u1')).toBe(0);
  });
});

describe('import on a terminal', () => {
  const lines = Array.from({ length: 3 }, (_, index) =>
    JSON.stringify({
      id: `m-${index}`,
      text: `Memory number ${index}`,
      scope: { userId: 'u1' },
      metadata: {},
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
    }),
  );

  it('draws a progress bar on stderr that ends full', async () => {
    const file = join(folder, 'memories.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const tty = terminal();
    expect(await runCli(['import', file, '--db', db], tty.io)).toBe(0);
    expect(tty.stderr()).toContain('Importing |');
    expect(tty.stderr()).toContain('| 3/3 memories');
    expect(tty.stderr()).not.toContain('Memory number');
    expect(tty.stdout()).toBe('Imported 3 memories: 3 added, 0 updated, 0 unchanged.\n');
  });

  it('draws none when stderr is not a terminal', async () => {
    const file = join(folder, 'memories.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const tty = terminal({ stderrIsTTY: false });
    expect(await runCli(['import', file, '--db', db], tty.io)).toBe(0);
    expect(tty.stderr()).toBe('');
  });
});

describe('tables on a terminal', () => {
  it('cut the text to the terminal width', async () => {
    await seed(db, [{ text: `Prefers ${'very '.repeat(40)}long answers`, scope: { userId: 'u1' } }]);
    const tty = terminal();
    expect(await runCli(['list', '--user', 'u1', '--db', db], tty.io)).toBe(0);
    const rows = tty.stdout().trimEnd().split('\n');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveLength(100);
    expect(rows[1]?.endsWith('…')).toBe(true);
  });
});
