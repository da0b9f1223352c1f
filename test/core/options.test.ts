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
    ['an empty list of search types', { store, scope: { userId: 'u' }, search: { types: [] } }, 'search.types'],
    ['a search type with a space', { store, scope: { userId: 'u' }, search: { types: ['a b'] } }, 'search.types.0'],
    [
      'a search type that closes the fence',
      { store, scope: { userId: 'u' }, search: { types: ['x>'] } },
      'search.types.0',
    ],
    ['a ttl for a type with a line break', { store, scope: { userId: 'u' }, ttl: { 'a\nb': '1d' } }, 'ttl.a\nb'],
  ])('rejects %s, naming `%s`', (_label, options, path) => {
    const error = failure(options);
    expect(error.path).toBe(path);
    expect(error.message).toContain(`\`${path}\``);
  });

  it('refuses search types by the rule the stores use, with their messages', () => {
    expect(failure({ store, scope: { userId: 'u' }, search: { types: [] } }).message).toContain(
      'at least one type (leave types out to search every type)',
    );
    expect(failure({ store, scope: { userId: 'u' }, search: { types: ['<x'] } }).message).toContain(
      "letters, digits and _ - . : (starting with a letter or digit, at most 64 characters), such as 'preference'",
    );
    expect(() =>
      withMemory(answer, { scope: { userId: 'u' }, store, search: { types: ['preference', 'team:notes'] } }),
    ).not.toThrow();
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
