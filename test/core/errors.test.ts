import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, MemoryError, StoreError, StoreTimeoutError } from '../../src/core/errors.js';

// Stands in for the classes of another copy of the package (another entry or build).
class OtherCopyMemoryError extends Error {
  constructor(message: string) {
    super(message);
    Object.defineProperty(this, Symbol.for('with-memory.error'), { value: true });
  }
}
class OtherCopyStoreError extends OtherCopyMemoryError {}
Object.defineProperty(OtherCopyMemoryError, 'name', { value: 'MemoryError' });
Object.defineProperty(OtherCopyStoreError, 'name', { value: 'StoreError' });

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

  it('match errors from another copy of the package by marker and class name', () => {
    const foreign = new OtherCopyStoreError('boom');
    expect(MemoryError.isInstance(foreign)).toBe(true);
    expect(foreign instanceof StoreError).toBe(true);
    expect(foreign instanceof MemoryError).toBe(true);
    expect(foreign instanceof InvalidOptionsError).toBe(false);
    expect(new Error('plain') instanceof MemoryError).toBe(false);
  });
});
