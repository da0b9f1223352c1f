/**
 * Bounds a step of the turn (a store call, an extractor, a policy) by a time-out, whether or not
 * the step ever settles: a store that hangs must cost the turn its memory, never the call.
 *
 * @module
 */

/**
 * Runs `work` with a signal that aborts after `timeoutMs`; rejects with `timeoutError()` then. A
 * late rejection of `work` is handled here, so it never becomes an unhandled rejection.
 */
export function withinTime<T>(
  timeoutMs: number,
  work: (signal: AbortSignal) => T | PromiseLike<T>,
  timeoutError: () => Error,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = timeoutError();
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    Promise.resolve()
      .then(() => work(controller.signal))
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}
