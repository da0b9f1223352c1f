import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

// The package entries share their core per module format (tsup splitting), so an error raised by
// one entry is an instance of the class another entry exports. Built here without types (the
// shape `npm run build` gives dist/), inside node_modules so that the dependencies resolve.
const run = promisify(execFile);
const built = join('node_modules', '.cache', 'with-memory-shared-core');

beforeAll(async () => {
  await run(process.execPath, ['node_modules/tsup/dist/cli-default.js', '--no-dts', '--out-dir', built]);
}, 120_000);
afterAll(() => rmSync(built, { recursive: true, force: true }));

const checks = (load: (entry: string) => string) => `
  const root = ${load('index')};
  const { mem0Store } = ${load('mem0/index')};
  const { memoryMiddleware } = ${load('ai-sdk/index')};
  const thrown = (make) => { try { make(); } catch (error) { return error; } };
  const fromMem0 = thrown(() => mem0Store({ timeoutMs: -1 }));
  const fromAiSdk = thrown(() => memoryMiddleware({ scope: {} }));
  console.log(JSON.stringify([
    fromMem0 instanceof root.InvalidOptionsError,
    fromMem0 instanceof root.MemoryError,
    fromAiSdk instanceof root.InvalidOptionsError,
    root.MemoryError.isInstance(fromAiSdk),
    fromMem0.name,
    new root.StoreTimeoutError('local', 'search', 5).name,
  ]));`;

it('an error from one entry is an instance of the class another exports, in ESM', async () => {
  const script = checks((entry) => `await import('./${built}/${entry}.js')`);
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  expect(JSON.parse(stdout)).toEqual([true, true, true, true, 'InvalidOptionsError', 'StoreTimeoutError']);
});

it('and in CommonJS', async () => {
  const script = checks((entry) => `require('./${built}/${entry}.cjs')`);
  const { stdout } = await run(process.execPath, ['-e', script]);
  expect(JSON.parse(stdout)).toEqual([true, true, true, true, 'InvalidOptionsError', 'StoreTimeoutError']);
});

it('the CLI runs from the build', async () => {
  const { stdout } = await run(process.execPath, [join(built, 'cli', 'index.js'), '--help']);
  expect(stdout).toMatch(/^Usage: with-memory/);
});
