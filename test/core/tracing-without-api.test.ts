import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

const hide = ['--import', './test/core/fixtures/hide-opentelemetry.mjs'];

it('works without @opentelemetry/api installed: the call and its write go on untraced', async () => {
  const { stdout, stderr } = await run(process.execPath, [
    '--import',
    'tsx',
    ...hide,
    'test/package/fixtures/use-root-entry.ts',
  ]);
  expect(stdout.trim()).toBe('true'); // the turn was searched, answered and written
  expect(stderr).toBe('');

  // The hook really hides the package (it is installed here, for the span tests).
  const probe = await run(process.execPath, [
    ...hide,
    '--input-type=module',
    '--eval',
    "await import('@opentelemetry/api').then(() => console.log('found'), () => console.log('hidden'));",
  ]);
  expect(probe.stdout.trim()).toBe('hidden');
});
