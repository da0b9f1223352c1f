import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { storeContractChecks } from '../../src/testing/store-contract.js';

// A project of a user who has no vitest: the package built as `npm run build` builds it (without
// types), installed by copy, its dependencies linked from this repository.
const run = promisify(execFile);
const repo = resolve('.');
const built = join('node_modules', '.cache', 'with-memory-any-runner');
const project = mkdtempSync(join(tmpdir(), 'with-memory-any-runner-'));

beforeAll(async () => {
  await run(process.execPath, ['node_modules/tsup/dist/cli-default.js', '--no-dts', '--out-dir', built]);
  const installed = join(project, 'node_modules', 'with-memory');
  mkdirSync(installed, { recursive: true });
  copyFileSync('package.json', join(installed, 'package.json'));
  cpSync(built, join(installed, 'dist'), { recursive: true });
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies)) {
    symlinkSync(join(repo, 'node_modules', dependency), join(project, 'node_modules', dependency), 'dir');
  }
  copyFileSync('examples/testing-with-jest.test.cjs', join(project, 'testing-with-jest.test.cjs'));
  writeFileSync(join(project, 'jest.config.json'), JSON.stringify({ testMatch: ['**/*.test.cjs'] }));
  writeFileSync(
    join(project, 'node-test-contract.test.mjs'),
    [
      "import { inMemoryStore } from 'with-memory';",
      "import { testStoreContract } from 'with-memory/testing/node-test';",
      "testStoreContract('inMemoryStore', () => inMemoryStore());",
    ].join('\n'),
  );
}, 120_000);
afterAll(() => {
  rmSync(built, { recursive: true, force: true });
  rmSync(project, { recursive: true, force: true });
});

const inProject = (args: string[]) => run(process.execPath, args, { cwd: project });

it('the project really has no vitest', async () => {
  await expect(inProject(['-e', "require.resolve('vitest')"])).rejects.toThrow(/Cannot find module 'vitest'/);
});

it('with-memory/testing loads with require() and no test framework', async () => {
  const { stdout } = await inProject([
    '-e',
    "const t = require('with-memory/testing'); const s = t.createMockStore(); console.log(s.name, typeof t.recordMemoryBlocks, t.storeContractChecks.length > 0)",
  ]);
  expect(stdout.trim()).toBe('mock function true');
});

it('and with import', async () => {
  const { stdout } = await inProject([
    '--input-type=module',
    '-e',
    "const { createMockStore } = await import('with-memory/testing'); console.log(createMockStore().name)",
  ]);
  expect(stdout.trim()).toBe('mock');
});

it('the contract suite for vitest is an entry of its own, which names vitest when it is missing', async () => {
  await expect(inProject(['-e', "require('with-memory/testing/vitest')"])).rejects.toThrow(/vitest/);
});

it('the Jest example passes under Jest, the store contract registered with its global describe/it', async () => {
  const jest = join(repo, 'node_modules', 'jest', 'bin', 'jest.js');
  const { stderr } = await inProject([jest, '--ci', '--watchman=false']);
  const tests = 2 + storeContractChecks.length;
  expect(stderr).toMatch(new RegExp(`Tests:\\s+${tests} passed, ${tests} total`));
  expect(stderr).toContain('inMemoryStore store contract');
}, 60_000);

it('the contract suite runs under node:test from the built with-memory/testing/node-test', async () => {
  const { stdout } = await inProject(['--test', '--test-reporter=tap', 'node-test-contract.test.mjs']);
  const checks = Number(/^# pass (\d+)$/m.exec(stdout)?.[1]);
  expect(checks).toBe(storeContractChecks.length);
  expect(stdout).toMatch(/^# fail 0$/m);
  expect(stdout).toContain('inMemoryStore store contract');
}, 60_000);
