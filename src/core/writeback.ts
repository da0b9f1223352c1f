import { InvalidOptionsError, type MemoryError, StoreError } from './errors.js';
import type { MemoryOperation, MemoryStore, Scope } from './types.js';

/** A write that still failed after its retries. */
export interface FailedWrite {
  error: MemoryError;
  operation: MemoryOperation;
  scope: Scope;
  attempts: number;
}

/** What `flushMemory` resolves with: the writes that failed since the last flush of that target. */
export interface FlushReport {
  failed: FailedWrite[];
  /**
   * Failed writes not kept for this report because more than 1,000 piled up unflushed (the oldest
   * go first); each was reported to `onError` when it failed. Absent when none were dropped.
   */
  dropped?: number;
}

/** Tracks the background writes of one wrapper, middleware or store. */
interface WriteTracker {
  pending: Set<Promise<void>>;
  // A Set, so a failure flushed through one owner is released from the others at once (M4).
  failed: Set<FailedWrite>;
  dropped: number;
}

// M4: an application that never flushes must not keep every failed write (text included) forever.
const maxKeptFailures = 1000;

const trackers = new WeakMap<object, WriteTracker>();
// The trackers each failure was recorded in, so reporting it through one releases it from all.
const failureOwners = new WeakMap<FailedWrite, WriteTracker[]>();

function trackerFor(owner: object): WriteTracker {
  let tracker = trackers.get(owner);
  if (!tracker) {
    tracker = { pending: new Set(), failed: new Set(), dropped: 0 };
    trackers.set(owner, tracker);
  }
  return tracker;
}

/** Registers `owner` (a wrapped client, a middleware) so `flushMemory(owner)` knows it. */
export function registerWriteOwner(owner: object): void {
  trackerFor(owner);
}

/** Makes `flushMemory(alias)` flush the writes of `owner` (a wrapped client and its pipeline). */
export function aliasWriteOwner(alias: object, owner: object): void {
  trackers.set(alias, trackerFor(owner));
}

/**
 * Runs a background write and remembers it under every owner (the wrapper and its store), so
 * flushing either waits for it. The write itself never rejects: failures come back as `FailedWrite`.
 */
export function trackWrite(owners: object[], write: Promise<FailedWrite[]>): Promise<void> {
  const tracked = write.then((failures) => {
    const failedIn = owners.map(trackerFor);
    for (const failure of failures) {
      failureOwners.set(failure, failedIn);
      for (const tracker of failedIn) keepFailure(tracker, failure);
    }
  });
  for (const owner of owners) {
    const { pending } = trackerFor(owner);
    pending.add(tracked);
    void tracked.finally(() => pending.delete(tracked));
  }
  return tracked;
}

function keepFailure(tracker: WriteTracker, failure: FailedWrite): void {
  tracker.failed.add(failure);
  if (tracker.failed.size <= maxKeptFailures) return;
  const oldest = tracker.failed.values().next().value as FailedWrite;
  tracker.failed.delete(oldest);
  tracker.dropped += 1;
}

/** Takes the failures kept by `tracker` out of every tracker that kept them. */
function takeFailures(tracker: WriteTracker): { failed: FailedWrite[]; dropped: number } {
  const failed = [...tracker.failed];
  for (const failure of failed) {
    for (const other of failureOwners.get(failure) ?? []) other.failed.delete(failure);
  }
  const { dropped } = tracker;
  tracker.dropped = 0;
  return { failed, dropped };
}

/**
 * Resolves when every background write of `target` has been stored or has finally failed.
 *
 * `target` is a client or function returned by `withMemory`, a `memoryMiddleware`, or a store
 * (every write bound for it, from any wrapper; then the store's own `flush()` too). Never rejects
 * for a failed write: the report lists them, with their content, and `onError` heard of each.
 *
 * @example
 * ```ts
 * const report = await flushMemory(claude);
 * if (report.failed.length > 0) console.error(`${report.failed.length} memory writes failed`);
 * ```
 */
export async function flushMemory(target: object): Promise<FlushReport> {
  const tracker = trackers.get(target);
  const store = isStore(target) ? target : undefined;
  if (!tracker && !store) {
    throw new InvalidOptionsError(
      'target',
      'a client or function returned by withMemory, a memoryMiddleware, or a MemoryStore',
    );
  }
  if (tracker) {
    // Writes started while waiting belong to this flush too.
    while (tracker.pending.size > 0) await Promise.allSettled([...tracker.pending]);
  }
  const { failed, dropped } = tracker ? takeFailures(tracker) : { failed: [], dropped: 0 };
  if (store?.flush) {
    try {
      await store.flush();
    } catch (error) {
      failed.push({
        error: toStoreError(error, store.name, 'flush'),
        operation: { kind: 'add', write: { facts: [] } },
        scope: {},
        attempts: 1,
      });
    }
  }
  return dropped > 0 ? { failed, dropped } : { failed };
}

function isStore(value: object): value is MemoryStore {
  const candidate = value as Partial<MemoryStore>;
  return typeof candidate.search === 'function' && typeof candidate.add === 'function';
}

/** Retry schedule of writes: 5 attempts, waiting about 0.1 s, 0.3 s, 0.9 s and 2.7 s between them. */
export const writeRetry = { attempts: 5, firstDelayMs: 100, factor: 3 } as const;

/**
 * Runs `attempt` until it succeeds, fails with an error that is not retryable, or runs out of tries.
 * `retrying` is called when the first attempt failed and a retry is coming, before the wait.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  retrying: () => void = () => {},
): Promise<{ ok: true; value: T; attempts: number } | { ok: false; error: unknown; attempts: number }> {
  let delayMs: number = writeRetry.firstDelayMs;
  for (let attempts = 1; ; attempts += 1) {
    try {
      return { ok: true, value: await attempt(), attempts };
    } catch (error) {
      if (attempts >= writeRetry.attempts || !isRetryable(error)) return { ok: false, error, attempts };
      if (attempts === 1) retrying();
      // Jitter keeps many writers that failed together from retrying together.
      await new Promise((resolve) => setTimeout(resolve, delayMs * (0.8 + Math.random() * 0.4)));
      delayMs *= writeRetry.factor;
    }
  }
}

/** Wraps anything a store threw into a `StoreError` (kept as it is when it already is one). */
export function toStoreError(error: unknown, store: string, operation: StoreError['operation']): StoreError {
  if (StoreError.isInstance(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreError(`Store "${store}" failed on ${operation}: ${reason}`, {
    store,
    operation,
    retryable: true,
    cause: error,
  });
}
