/**
 * What every memory tool works with: the wrapper's options resolved the same way `withMemory`
 * resolves them (store, scope, redaction, time to live, policies, hooks), so a tool reads and
 * writes exactly what the wrapper injects from.
 *
 * @module
 */

import { type ErrorContext, type ResolvedOptions, resolveOptions, type WithMemoryOptions } from '../core/options.js';
import { createReporter } from '../core/report.js';
import { type TurnScopes, turnScopes } from '../core/turn-scope.js';
import type { MemoryStore, Scope } from '../core/types.js';
import { builtIns } from '../with-memory.js';

/** The resolved settings of one set of memory tools. */
export interface ToolContext {
  store: MemoryStore;
  /**
   * The scopes of one call: `named` (a scope the call gives itself, as over MCP) or the options'
   * scope, a scope function being called now, as `withMemory` calls it per turn. Undefined when
   * there is none (the function threw, timed out or answered no valid scope): that is reported
   * with stage `'scope'`, and the tool must touch no memory.
   */
  scopes(named?: Scope): Promise<TurnScopes | undefined>;
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

/** Validates the options once (throws `InvalidOptionsError` naming the path) and resolves them. */
export function resolveToolContext(options: WithMemoryOptions): ToolContext {
  const resolved = resolveOptions(options, builtIns);
  // The tools write no debug lines: their answers to the model say what they did.
  const reporter = createReporter({ onError: resolved.onError, debug: undefined }, 'tool');
  return {
    store: resolved.store,
    scopes: (named) => turnScopes(named, resolved, reporter),
    mode: resolved.mode,
    search: resolved.search,
    redact: resolved.redact ?? ((text) => text),
    ttl: resolved.ttl,
    now: resolved.now,
    shouldWrite: resolved.shouldWrite,
    onWrite: resolved.onWrite,
    report: reporter.report,
  };
}
