/**
 * How a pipeline tells the user what happened: memory errors to `onError` (or once per kind to
 * `console.warn`), events to the `onSearch`/`onWrite` hooks, lines to `debug`. User code called
 * here can never change the outcome of a turn (H3).
 *
 * @module
 */

import { errorMessage, MemoryError } from './errors.js';
import type { DebugOptions, ErrorContext, ResolvedOptions } from './options.js';
import { recordTracedError } from './tracing.js';

/** What the search and the write report through. */
export interface Reporter {
  /** Reports a memory error: to `onError`, or without it once per kind of error through `console.warn`. */
  report(error: unknown, context: ErrorContext): void;
  /** Tells a hook (`onSearch`, `onWrite`) of an event, if the hook is set. */
  notify<E>(hook: ((event: E) => void) | undefined, event: E): void;
  /** Logs a debug line, made only when `debug` is on. */
  log(line: (options: Required<DebugOptions>) => string): void;
}

// One warning per kind of error and stage for the process: a broken store must not flood the log.
const warned = new Set<string>();

/**
 * The reporter of a pipeline (`'call'`) or of a set of memory tools (`'tool'`) with these hooks;
 * without `onError`, the console warning says which one met the error.
 */
export function createReporter(
  { onError, debug }: Pick<ResolvedOptions, 'onError' | 'debug'>,
  source: 'call' | 'tool' = 'call',
): Reporter {
  return {
    report(error, context) {
      recordTracedError(error);
      const memoryError = MemoryError.isInstance(error)
        ? error
        : new MemoryError(errorMessage(error), { cause: error });
      if (onError) {
        observe(() => onError(memoryError, context));
        return;
      }
      const kind = `${memoryError.name}:${source === 'tool' ? 'tool-' : ''}${context.stage}`;
      if (warned.has(kind)) return;
      warned.add(kind);
      console.warn(
        source === 'tool'
          ? `[with-memory] a memory tool's ${context.stage} failed (${memoryError.name}): ${memoryError.message} — the model was told; pass onError to see every memory error.`
          : `[with-memory] ${context.stage} failed (${memoryError.name}): ${memoryError.message} — the call went on; pass onError to see every memory error.`,
      );
    },
    notify(hook, event) {
      if (hook) observe(() => hook(event));
    },
    log(line) {
      if (debug) observe(() => debug.log(`[with-memory] ${line(debug)}`));
    },
  };
}

/** Calls a user's hook: neither its throw nor its rejected promise may change the outcome (H3). */
function observe(call: () => unknown): void {
  try {
    const result = call();
    if (isThenable(result)) result.then(undefined, () => {});
  } catch {
    // Observation hooks never change the outcome.
  }
}

/** True for what user code may answer where a value was due: a promise, or any thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** `1 hit`, `2 hits`: a count for a debug line. */
export function count(amount: number, noun: string): string {
  return `${amount} ${noun}${amount === 1 ? '' : 's'}`;
}
