import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, MemoryError } from '../../src/core/errors.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { withMemory } from '../../src/with-memory.js';

const answer = async () => 'ok';
const store = inMemoryStore();

function failure(options: unknown): InvalidOptionsError {
  try {
    withMemory(answer, options as never);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(MemoryError.isInstance(error)).toBe(true);
    return error as InvalidOptionsError;
  }
  throw new Error('expected withMemory to throw');
}

describe('option validation', () => {
  it.each([
    ['no scope', { store }, 'scope'],
    ['an empty scope', { store, scope: {} }, 'scope'],
    ['only an appId', { store, scope: { appId: 'app' } }, 'scope'],
    ['an empty userId', { store, scope: { userId: '   ' } }, 'scope.userId'],
    ['a userId with a line break', { store, scope: { userId: 'a\nb' } }, 'scope.userId'],
    ['a userId over 256 characters', { store, scope: { userId: 'x'.repeat(257) } }, 'scope.userId'],
    ['a negative limit', { store, scope: { userId: 'u' }, search: { limit: -1 } }, 'search.limit'],
    ['an unknown mode', { store, scope: { userId: 'u' }, mode: 'sometimes' }, 'mode'],
    ['a misspelt option', { store, scope: { userId: 'u' }, serch: {} }, 'serch'],
    ['a store without search', { store: { add: async () => [] }, scope: { userId: 'u' } }, 'store'],
    ['a bad ttl', { store, scope: { userId: 'u' }, ttl: { event: 'soon' } }, 'ttl.event'],
    ['a write setting that is not allowed', { store, scope: { userId: 'u' }, write: true }, 'write'],
  ])('rejects %s, naming `%s`', (_label, options, path) => {
    const error = failure(options);
    expect(error.path).toBe(path);
    expect(error.message).toContain(`\`${path}\``);
  });

  it('rejects a target that is no client and no function', () => {
    expect(() => withMemory({} as never, { scope: { userId: 'u' }, store })).toThrow(/`target`/);
  });

  it('trims scope ids and accepts valid options', () => {
    expect(() =>
      withMemory(answer, { scope: { userId: '  u  ' }, store, search: { limit: 3 }, ttl: { event: '30d' } }),
    ).not.toThrow();
  });
});
