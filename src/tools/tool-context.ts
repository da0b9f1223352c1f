/**
 * What every memory tool works with: the wrapper's options resolved the same way `withMemory`
 * resolves them (store, scope, redaction, time to live, policies, hooks), so a tool reads and
 * writes exactly what the wrapper injects from.
 *
 * @module
 */

import { InvalidOptionsError, MemoryError } from '../core/errors.js';
import { type ErrorContext, type ResolvedOptions, resolveOptions, type WithMemoryOptions } from '../core/options.js';
import { redactSensitive } from '../core/redact.js';
import type { MemoryStore, Scope } from '../core/types.js';
import { defaultStore } from '../with-memory.js';

/** The resolved settings of one set of memory tools; `scope` is the default for calls without one. */
export interface ToolContext {
  store: MemoryStore;
  scope: Scope;
  mode: ResolvedOptions['mode'];
  search: ResolvedOptions['search'];
  redact: (text: string) => string;
  /** Milliseconds to live per memory type. */
  ttl: ResolvedOptions['ttl'];
  now: () => Date;
  shouldWrite: ResolvedOptions['shouldWrite'];
  onWrite: ResolvedOptions['onWrite'];
  /** Reports a memory error the way the wrapper does: `onError`, or one `console.warn` per kind. */
  report(error: unknown, context: ErrorContext): void;
}

const warned = new Set<string>();

/** Validates the options once (throws `InvalidOptionsError` naming the path) and resolves them. */
export function resolveToolContext(options: WithMemoryOptions): ToolContext {
  const resolved = resolveOptions(options);
  const { onError, scope } = resolved;
  if (typeof scope !== 'object') {
    throw new InvalidOptionsError('scope', 'a scope object such as { userId: "user_42" } for memory tools');
  }
  return {
    store: resolved.store ?? defaultStore(),
    scope,
    mode: resolved.mode,
    search: resolved.search,
    redact: resolved.redact === true ? redactSensitive : resolved.redact === false ? (text) => text : resolved.redact,
    ttl: resolved.ttl,
    now: resolved.now,
    shouldWrite: resolved.shouldWrite,
    onWrite: resolved.onWrite,
    report(error, context) {
      const memoryError = MemoryError.isInstance(error)
        ? error
        : new MemoryError(error instanceof Error ? error.message : String(error), { cause: error });
      if (onError) {
        try {
          onError(memoryError, context);
        } catch {
          // A throwing hook must not break the tool call it observes.
        }
        return;
      }
      const kind = `${memoryError.name}:tool-${context.stage}`;
      if (warned.has(kind)) return;
      warned.add(kind);
      console.warn(
        `[with-memory] a memory tool's ${context.stage} failed (${memoryError.name}): ${memoryError.message} — the model was told; pass onError to see every memory error.`,
      );
    },
  };
}
