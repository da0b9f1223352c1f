import { type StoreOperation, StoreTimeoutError } from './errors.js';

/**
 * Runs one store call under a time-out: the call gets a signal that aborts at the deadline, and
 * the promise rejects then with a `StoreTimeoutError` even if the store ignores the signal.
 */
export async function withStoreDeadline<T>(
  store: string,
  operation: StoreOperation,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const timeout = new StoreTimeoutError(store, operation, timeoutMs);
      controller.abort(timeout);
      reject(timeout);
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => work(controller.signal)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
