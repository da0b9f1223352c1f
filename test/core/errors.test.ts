import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, MemoryError, StoreError, StoreTimeoutError } from '../../src/core/errors.js';

// Stands in for the classes of another copy of the package (the other module format, or another
// installed version): the entries of one format share theirs (test/package checks the build).
class OtherCopyMemoryError extends Error {
  constructor(message: string) {
    super(message);
    Object.defineProperty(this, Symbol.for('with-memory.error'), { value: true });
  }
}
class OtherCopyStoreError extends OtherCopyMemoryError {}

describe('error classes', () => {
  it('match with instanceof along the class chain', () => {
    const timeout = new StoreTimeoutError('local', 'search', 100);
    expect(timeout).toBeInstanceOf(StoreTimeoutError);
    expect(timeout).toBeInstanceOf(StoreError);
    expect(timeout).toBeInstanceOf(MemoryError);
    expect(timeout).toBeInstanceOf(Error);
    expect(timeout).not.toBeInstanceOf(InvalidOptionsError);
    expect(new InvalidOptionsError('scope', 'a scope')).not.toBeInstanceOf(StoreError);
  });

  it('tell errors from another copy of the package by their marker (isInstance), not by instanceof', () => {
    const foreign = new OtherCopyStoreError('boom');
    expect(MemoryError.isInstance(foreign)).toBe(true);
    expect(foreign instanceof MemoryError).toBe(false);
    expect(MemoryError.isInstance(new Error('plain'))).toBe(false);
  });
});
