/**
 * Every failure of a store as a `StoreError` that says what to do, without memory text in its
 * message. The branches every store shares are here; a store adds only its own codes (SQLite's,
 * PostgreSQL's SQLSTATEs) through `ownError`.
 *
 * @module
 */

import { InvalidOptionsError, MemoryError, StoreError, type StoreOperation } from '../../core/errors.js';
import { ImportLineError } from './jsonl.js';

/** Who a store is, in its errors. */
export interface StoreIdentity {
  /** `StoreError.store`: `local`, `postgres`, `memory`. */
  name: string;
  /** The store in a sentence: `The local store`. */
  label: string;
}

/** A store's own mapping: a `StoreError` for the failures only it knows, else `undefined`. */
export type OwnError = (error: unknown, operation: StoreOperation) => StoreError | undefined;

/** The failure as a `StoreError` of `operation`. */
export function toStoreError(
  error: unknown,
  operation: StoreOperation,
  { name, label }: StoreIdentity,
  ownError: OwnError = () => undefined,
): StoreError {
  if (StoreError.isInstance(error)) return error;
  const as = (message: string, retryable: boolean) =>
    new StoreError(message, { store: name, operation, retryable, cause: error });
  if (InvalidOptionsError.isInstance(error))
    return as(`${label}'s ${operation} was given invalid input: ${error.message}`, false);
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return as(`${label}'s ${operation} was aborted.`, true);
  }
  if (error instanceof ImportLineError) return as(error.message, false);
  const own = ownError(error, operation);
  if (own) return own;
  if (MemoryError.isInstance(error)) return as(`${label}'s ${operation} failed: ${error.message}`, false);
  return as(`${label}'s ${operation} failed; see the cause.`, true);
}

/** The error of an operation on a closed store. */
export function closedError(operation: StoreOperation, { name, label }: StoreIdentity, factory: string): StoreError {
  return new StoreError(`${label} is closed; create a new one with ${factory}().`, {
    store: name,
    operation,
    retryable: false,
  });
}
