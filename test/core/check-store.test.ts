import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkStore } from '../../src/check-store.js';
import { StoreError, StoreTimeoutError } from '../../src/core/errors.js';
import type { MemoryStore } from '../../src/core/types.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { localStore } from '../../src/stores/local/index.js';

const folder = mkdtempSync(join(tmpdir(), 'with-memory-check-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const failing = (error: unknown): MemoryStore => ({
  name: 'remote',
  search: async () => {
    throw error;
  },
  add: async () => [],
});

describe('checkStore', () => {
  it('resolves for a store that answers, and opens a local store (creating its file)', async () => {
    await expect(checkStore(inMemoryStore())).resolves.toBeUndefined();
    const store = localStore({ path: join(folder, 'ok.db') });
    await expect(checkStore(store)).resolves.toBeUndefined();
    await store.close();
  });

  it('rejects with a StoreError naming the cause: a path that cannot be a database', async () => {
    const notADirectory = join(folder, 'file');
    writeFileSync(notADirectory, 'x');
    const store = localStore({ path: join(notADirectory, 'memory.db') });
    const error = await checkStore(store).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toMatch(
      /The folder of .*memory\.db could not be created \(EEXIST\); check the path/,
    );
    await store.close();
  });

  it('a refused key or URL: the cause is in the message', async () => {
    const error = await checkStore(failing(new Error('401 invalid API key'))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toBe('Store "remote" failed on search: 401 invalid API key');
  });

  it('a store that never answers: StoreTimeoutError after timeoutMs', async () => {
    const hanging: MemoryStore = { name: 'hanging', search: () => new Promise(() => {}), add: async () => [] };
    await expect(checkStore(hanging, { timeoutMs: 20 })).rejects.toBeInstanceOf(StoreTimeoutError);
  });

  it('a store that answers something malformed fails the check', async () => {
    const malformed = { name: 'odd', search: async () => 'nope', add: async () => [] } as unknown as MemoryStore;
    await expect(checkStore(malformed)).rejects.toBeInstanceOf(StoreError);
  });
});
