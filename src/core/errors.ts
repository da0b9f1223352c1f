/**
 * Error classes. Every error with-memory raises is a `MemoryError`. The package entries share one
 * copy of these classes per module format, so `instanceof` works for errors from any entry;
 * `MemoryError.isInstance(e)` checks a marker instead of the prototype chain, so it also matches an
 * error from another copy (the other module format, or another installed version).
 *
 * @module
 */

const marker = Symbol.for('with-memory.error');

/** The base of every with-memory error. */
export class MemoryError extends Error {
  readonly [marker] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** True for any with-memory error, even one thrown by another copy of the package. */
  static isInstance(error: unknown): error is MemoryError {
    return typeof error === 'object' && error !== null && marker in error;
  }
}

/** An option passed to `withMemory` or a factory is invalid. Thrown at construction only. */
export class InvalidOptionsError extends MemoryError {
  /** The option's path, e.g. `scope.userId` or `search.limit`. */
  readonly path: string;
  /** What was expected there. */
  readonly expected: string;

  constructor(path: string, expected: string) {
    super(`Invalid option \`${path || '(options)'}\`: ${expected}.`);
    this.path = path;
    this.expected = expected;
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

/** A store call failed, or answered with something that is not what the contract says. */
export class StoreError extends MemoryError {
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
}

/** A store call took longer than its time-out and was abandoned. */
export class StoreTimeoutError extends StoreError {
  readonly timeoutMs: number;

  constructor(store: string, operation: StoreOperation, timeoutMs: number) {
    super(
      `Store "${store}" did not answer ${operation} within ${timeoutMs} ms; raise the time-out or check the store.`,
      { store, operation, retryable: true },
    );
    this.timeoutMs = timeoutMs;
  }
}

/** An extractor failed or its model answered with something unusable; nothing was applied. */
export class ExtractionError extends MemoryError {
  readonly extractor: string;

  constructor(extractor: string, message: string, options?: { cause?: unknown }) {
    super(`Extractor "${extractor}": ${message}`, options);
    this.extractor = extractor;
  }
}
