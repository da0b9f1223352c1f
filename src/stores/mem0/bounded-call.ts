import { StoreError, type StoreOperation, StoreTimeoutError } from '../../core/errors.js';
import { toMem0StoreError } from './errors.js';

interface Bounds {
  store: string;
  operation: StoreOperation;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * Runs one store operation under the store's time-out and the caller's signal, whichever comes
 * first; mem0's client has neither. Every failure comes out as a `StoreError`. The abandoned call
 * cannot be cancelled (mem0ai takes no signal); its late result is ignored, and the timer is
 * unref'd so a hung mem0 never keeps the process alive.
 */
export function boundedCall<T>(run: () => Promise<T>, { store, operation, timeoutMs, signal }: Bounds): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortedError(store, operation, signal));
  return new Promise<T>((resolve, reject) => {
    const settle = (finish: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      finish();
    };
    const onAbort = () => settle(() => reject(abortedError(store, operation, signal)));
    const timer = setTimeout(() => settle(() => reject(new StoreTimeoutError(store, operation, timeoutMs))), timeoutMs);
    timer.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = run();
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(toMem0StoreError(error, store, operation))),
    );
  });
}

function abortedError(store: string, operation: StoreOperation, signal: AbortSignal | undefined): StoreError {
  return new StoreError(`mem0 ${operation} was cancelled by the caller's signal.`, {
    store,
    operation,
    retryable: false,
    cause: signal?.reason,
  });
}
