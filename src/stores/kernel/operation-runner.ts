/**
 * How a store runs its operations: the connection (or schema) opened once, on the first operation,
 * and opened again after a failed open; every failure a `StoreError`; every operation tracked, so
 * `flush` waits for those under way and `close` refuses new ones, waits, then closes.
 *
 * @module
 */

import type { StoreError, StoreOperation } from '../../core/errors.js';

/** What the runner is given. */
export interface RunnerParts<H> {
  /** Opens the store's handle (connection, schema); called again after a failure. */
  open(): Promise<H>;
  /** The failure of an operation as a `StoreError`. */
  toStoreError(error: unknown, operation: StoreOperation): StoreError;
  /** The error of an operation on a closed store. */
  closedError(operation: StoreOperation): StoreError;
  /** Releases the handle, once every operation has settled; `undefined` when it never opened. */
  release(handle: H | undefined): void | Promise<void>;
}

/** The runner of one store. */
export interface OperationRunner<H> {
  /** Runs an operation: open first, every failure a `StoreError`, tracked for `flush` and `close`. */
  run<T>(operation: StoreOperation, work: (handle: H) => Promise<T>): Promise<T>;
  /** Waits for the operations under way: every write is durable when its promise resolves. */
  flush(): Promise<void>;
  /** Refuses new operations, waits for those under way, then releases the handle. */
  close(): Promise<void>;
}

/** Creates the runner of a store. */
export function operationRunner<H>(parts: RunnerParts<H>): OperationRunner<H> {
  let opening: Promise<H> | undefined;
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();

  function open(): Promise<H> {
    opening ??= parts.open().catch((error: unknown) => {
      // The next operation tries again: the store may have been busy or down, or fixed meanwhile.
      opening = undefined;
      throw parts.toStoreError(error, 'open');
    });
    return opening;
  }

  return {
    run(operation, work) {
      if (closed) return Promise.reject(parts.closedError(operation));
      const task = (async () => work(await open()))().catch((error: unknown) => {
        throw parts.toStoreError(error, operation);
      });
      inFlight.add(task);
      const forget = () => inFlight.delete(task);
      task.then(forget, forget);
      return task;
    },

    flush() {
      if (closed) return Promise.reject(parts.closedError('flush'));
      return Promise.allSettled([...inFlight]).then(() => undefined);
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      await parts.release(await opening?.catch(() => undefined));
    },
  };
}
