import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/errors.js';
import { mem0Store } from '../../../src/stores/mem0/index.js';
import { createMockMem0Client } from '../../../src/testing/mock-mem0-client.js';

function optionError(make: () => unknown): InvalidOptionsError {
  let error: unknown;
  try {
    make();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(InvalidOptionsError);
  return error as InvalidOptionsError;
}

describe('mem0Store options', () => {
  it('needs an API key when given no client or memory, and says where to put it', () => {
    // test/setup.ts clears MEM0_API_KEY.
    const error = optionError(() => mem0Store());
    expect(error.path).toBe('apiKey');
    expect(error.message).toMatch(/MEM0_API_KEY/);
    expect(optionError(() => mem0Store({ apiKey: '   ' })).path).toBe('apiKey');
  });

  it.each([
    ['client and memory together', { client: createMockMem0Client(), memory: createMockMem0Client() }, 'memory'],
    ['a client and an apiKey', { client: createMockMem0Client(), apiKey: 'k' }, 'apiKey'],
    ['a client that is not one', { client: { search: 'no' } }, 'client'],
    ['a zero time-out', { apiKey: 'k', timeoutMs: 0 }, 'timeoutMs'],
    ['a fractional time-out', { apiKey: 'k', timeoutMs: 1.5 }, 'timeoutMs'],
    ['a host that is not http(s)', { apiKey: 'k', host: 'ftp://mem0.example' }, 'host'],
    ['a misspelt option', { apikey: 'k' }, 'apikey'],
  ])('rejects %s', (_, options, path) => {
    expect(optionError(() => mem0Store(options as never)).path).toBe(path);
  });

  it('is a store named mem0 that extracts facts itself', () => {
    const store = mem0Store({ client: createMockMem0Client() });
    expect(store.name).toBe('mem0');
    expect(store.extractsFacts).toBe(true);
  });

  it('offers the management methods the given client can back, and no others', () => {
    const minimal = mem0Store({
      client: { search: async () => ({ results: [] }), add: async () => ({ results: [] }) },
    });
    expect([minimal.get, minimal.list, minimal.update, minimal.delete, minimal.deleteAll, minimal.history]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    const full = mem0Store({ client: createMockMem0Client() });
    for (const method of [full.get, full.list, full.update, full.delete, full.deleteAll, full.history]) {
      expect(method).toBeTypeOf('function');
    }
  });

  it('a closed store sends nothing', async () => {
    const client = createMockMem0Client();
    const store = mem0Store({ client });
    await store.close?.();
    await expect(store.search('x', { scope: { userId: 'u' } })).rejects.toMatchObject({ retryable: false });
    expect(client.calls).toEqual([]);
  });

  it('imports mem0ai only lazily, so with-memory/mem0 loads without it when a client is passed', () => {
    const folder = join(import.meta.dirname, '../../../src/stores/mem0');
    const staticImports = readdirSync(folder)
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /^\s*import[^;]*from\s+['"]mem0ai(\/oss)?['"]/m.test(readFileSync(join(folder, file), 'utf8')));
    expect(staticImports).toEqual([]);
  });
});
