import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const folder = mkdtempSync(join(tmpdir(), 'with-memory-imports-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

it('the root entry loads no SDK and no native module until one is needed', async () => {
  const file = join(folder, 'imports.txt');
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './test/package/fixtures/record-imports.mjs',
      'test/package/fixtures/use-root-entry.ts',
    ],
    { env: { ...process.env, RECORD_IMPORTS_FILE: file } },
  );
  expect(stdout.trim()).toBe('true'); // the script really ran the pipeline: what the user said is stored
  const loaded = readFileSync(file, 'utf8').split('\n');
  expect(loaded.some((url) => url.includes('/src/with-memory.ts'))).toBe(true);
  for (const heavy of [
    'better-sqlite3',
    '@anthropic-ai/sdk',
    '/node_modules/openai/',
    'mem0ai',
    '/node_modules/ai/',
    '/node_modules/pg/',
    '@electric-sql/pglite',
  ]) {
    expect(loaded.filter((url) => url.includes(heavy))).toEqual([]);
  }
});
