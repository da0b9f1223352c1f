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

it('each error class knows its own errors from another copy of the package (ESM beside CommonJS)', async () => {
  // The two module formats are two copies: their classes differ, so only the markers can tell.
  const script = `
    import { createRequire } from 'node:module';
    const esm = await import('./${built}/index.js');
    const cjs = createRequire(process.cwd() + '/')('./${built}/index.cjs');
    const errors = {
      MemoryError: new cjs.MemoryError('base'),
      InvalidOptionsError: new cjs.InvalidOptionsError('scope', 'an object'),
      StoreError: new cjs.StoreError('failed', { store: 'local', operation: 'search' }),
      StoreTimeoutError: new cjs.StoreTimeoutError('local', 'search', 5),
      ExtractionError: new cjs.ExtractionError('llm', 'bad answer'),
      Plain: new Error('not ours'),
    };
    const classes = ['MemoryError', 'InvalidOptionsError', 'StoreError', 'StoreTimeoutError', 'ExtractionError'];
    console.log(JSON.stringify({
      instanceOf: errors.StoreError instanceof esm.StoreError,
      matches: Object.fromEntries(Object.entries(errors).map(([name, error]) =>
        [name, classes.filter((found) => esm[found].isInstance(error))])),
    }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  expect(JSON.parse(stdout)).toEqual({
    instanceOf: false,
    matches: {
      MemoryError: ['MemoryError'],
      InvalidOptionsError: ['MemoryError', 'InvalidOptionsError'],
      StoreError: ['MemoryError', 'StoreError'],
      StoreTimeoutError: ['MemoryError', 'StoreError', 'StoreTimeoutError'],
      ExtractionError: ['MemoryError', 'ExtractionError'],
      Plain: [],
    },
  });
});
