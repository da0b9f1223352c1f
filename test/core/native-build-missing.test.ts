import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { checkStore } from '../../src/check-store.js';
import { StoreError } from '../../src/core/errors.js';
import type { MemoryFunctionRequest } from '../../src/providers/function.js';
import { localStore } from '../../src/stores/local/index.js';
import { withMemory } from '../../src/with-memory.js';

// better-sqlite3 installed without its native build (npm 11 before the install script is
// approved, pnpm before `pnpm approve-builds`, --ignore-scripts): importing it works, and opening
// a database throws what the `bindings` package throws.
vi.mock('better-sqlite3', () => ({
  default: class {
    constructor() {
      throw new Error(
        'Could not locate the bindings file. Tried:\n → /app/node_modules/better-sqlite3/build/better_sqlite3.node',
      );
    }
  },
}));

const folder = mkdtempSync(join(tmpdir(), 'with-memory-native-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const fix =
  /no native build for this Node \(Could not locate the bindings file\. Tried:\).*`npm rebuild better-sqlite3`.*`pnpm approve-builds`/;

it('checkStore names the cause and the fix', async () => {
  const store = localStore({ path: join(folder, 'a.db') });
  const error = await checkStore(store).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).message).toMatch(fix);
  await store.close();
});

it('the one-time warning of a wrapper names the cause and the fix, and the call still answers', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const store = localStore({ path: join(folder, 'b.db') });
  const agent = withMemory(async (_request: MemoryFunctionRequest) => 'Hello.', { scope: { userId: 'u1' }, store });
  await expect(agent({ messages: [{ role: 'user', content: 'Hi' }] })).resolves.toBe('Hello.');
  await agent({ messages: [{ role: 'user', content: 'Hi again' }] });
  const searchWarnings = warn.mock.calls.map(([message]) => String(message)).filter((line) => line.includes('search'));
  expect(searchWarnings).toHaveLength(1);
  expect(searchWarnings[0]).toMatch(fix);
  warn.mockRestore();
  await store.close();
});
