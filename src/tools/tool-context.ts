/**
 * What every memory tool works with: the wrapper's options resolved the same way `withMemory`
 * resolves them (store, scope, redaction, time to live, policies, hooks), so a tool reads and
 * writes exactly what the wrapper injects from.
 *
 * @module
 */

import { MemoryError } from '../core/errors.js';
import { type ErrorContext, type ResolvedOptions, resolveOptions, type WithMemoryOptions } from '../core/options.js';
import { resolveScope } from '../core/turn-scope.js';
import type { MemoryStore, Scope } from '../core/types.js';
import { builtIns } from '../with-memory.js';

/** The scopes of one tool call: its own, and the shared one when the options give `shared`. */
export interface ToolScopes {
  scope: Scope;
  shared: Scope | undefined;
}

/** The resolved settings of one set of memory tools. */
export interface ToolContext {
  store: MemoryStore;
  /**
   * The scopes of one call: `named` (a scope the call gives itself, as over MCP) or the options'
   * scope, a scope function being called now, as `withMemory` calls it per turn. Undefined when
   * there is none (the function threw, timed out or answered no valid scope): that is reported
   * with stage `'scope'`, and the tool must touch no memory.
   */
  scopes(named?: Scope): Promise<ToolScopes | undefined>;
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
  const resolved = resolveOptions(options, builtIns);
  const { onError, search } = resolved;
  const context: ToolContext = {
    store: resolved.store,
    async scopes(named) {
      try {
        const [scope, shared] = await Promise.all([
          named ?? resolveScope(resolved.scope, 'scope', search.timeoutMs),
          resolved.shared === undefined ? undefined : resolveScope(resolved.shared, 'shared', search.timeoutMs),
        ]);
        return { scope, shared };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        context.report(
          MemoryError.isInstance(error)
            ? error
            : new MemoryError(`The scope function failed: ${message}`, { cause: error }),
          { stage: 'scope', scope: {} },
        );
        return undefined;
      }
    },
    mode: resolved.mode,
    search,
    redact: resolved.redact ?? ((text) => text),
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
  return context;
}
