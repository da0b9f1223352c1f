/**
 * Error classes. Every error with-memory raises is a `MemoryError`. The package entries share one
 * copy of these classes per module format, so `instanceof` works for errors from any entry;
 * `isInstance(e)` (on every class: `StoreError.isInstance(e)`) checks a marker instead of the
 * prototype chain, so it also matches an error from another copy (the other module format, or
 * another installed version). Each class sets a marker of its own (`Symbol.for`, so every copy
 * shares it), as vercel/ai's errors do: a subclass carries its own and its ancestors' markers.
 *
 * @module
 */

const marker = Symbol.for('with-memory.error');

/** Whether `error` carries the marker of a class, from any copy of the package. */
function hasMarker(error: unknown, classMarker: symbol): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[classMarker] === true;
}

/** The base of every with-memory error. */
export class MemoryError extends Error {
  readonly [marker] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** True for any with-memory error, even one thrown by another copy of the package. */
  static isInstance(error: unknown): error is MemoryError {
    return hasMarker(error, marker);
  }
}

const invalidOptionsMarker = Symbol.for('with-memory.error.InvalidOptionsError');

/** An option passed to `withMemory` or a factory is invalid. Thrown at construction only. */
export class InvalidOptionsError extends MemoryError {
  readonly [invalidOptionsMarker] = true;
  /** The option's path, e.g. `scope.userId` or `search.limit`. */
  readonly path: string;
  /** What was expected there. */
  readonly expected: string;

  constructor(path: string, expected: string) {
    super(`Invalid option \`${path || '(options)'}\`: ${expected}.`);
    this.path = path;
    this.expected = expected;
  }

  /** True for an `InvalidOptionsError`, even one thrown by another copy of the package. */
  static override isInstance(error: unknown): error is InvalidOptionsError {
    return hasMarker(error, invalidOptionsMarker);
  }
}

/** The operations a store error can come from. */
export type StoreOperation =
  | 'search'
  | 'add'
  | 'get'
  | 'list'
  | 'update'
  | 'delete'
  | 'deleteAll'
  | 'history'
  | 'export'
  | 'import'
  | 'flush'
  | 'close'
  | 'open';

const storeMarker = Symbol.for('with-memory.error.StoreError');

/** A store call failed, or answered with something that is not what the contract says. */
export class StoreError extends MemoryError {
  readonly [storeMarker] = true;
  /** The store's `name`. */
  readonly store: string;
  readonly operation: StoreOperation;
  /** The HTTP status, for stores behind a network API. */
  readonly status: number | undefined;
  /** Whether trying again may help (time-outs, network trouble, 429, 5xx). */
  readonly retryable: boolean;

  constructor(
    message: string,
    details: {
      store: string;
      operation: StoreOperation;
      status?: number;
      retryable?: boolean;
      cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
    this.store = details.store;
    this.operation = details.operation;
    this.status = details.status;
    this.retryable = details.retryable ?? true;
  }

  /** True for a `StoreError` (a `StoreTimeoutError` too), even one thrown by another copy of the package. */
  static override isInstance(error: unknown): error is StoreError {
    return hasMarker(error, storeMarker);
  }
}

const storeTimeoutMarker = Symbol.for('with-memory.error.StoreTimeoutError');

/** A store call took longer than its time-out and was abandoned. */
export class StoreTimeoutError extends StoreError {
  readonly [storeTimeoutMarker] = true;
  readonly timeoutMs: number;

  constructor(store: string, operation: StoreOperation, timeoutMs: number) {
    super(
      `Store "${store}" did not answer ${operation} within ${timeoutMs} ms; raise the time-out or check the store.`,
      { store, operation, retryable: true },
    );
    this.timeoutMs = timeoutMs;
  }

  /** True for a `StoreTimeoutError`, even one thrown by another copy of the package. */
  static override isInstance(error: unknown): error is StoreTimeoutError {
    return hasMarker(error, storeTimeoutMarker);
  }
}

const extractionMarker = Symbol.for('with-memory.error.ExtractionError');

/** An extractor failed or its model answered with something unusable; nothing was applied. */
export class ExtractionError extends MemoryError {
  readonly [extractionMarker] = true;
  readonly extractor: string;

  constructor(extractor: string, message: string, options?: { cause?: unknown }) {
    super(`Extractor "${extractor}": ${message}`, options);
    this.extractor = extractor;
  }

  /** True for an `ExtractionError`, even one thrown by another copy of the package. */
  static override isInstance(error: unknown): error is ExtractionError {
    return hasMarker(error, extractionMarker);
  }
}

/** The message of anything thrown, for an error that wraps it. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
