/**
 * The scopes of one turn: the one the call names, the wrapper's, or what its scope function
 * answers, and the shared one. A scope that cannot be had means no memory for that call.
 *
 * @module
 */

import { errorMessage, MemoryError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { isThenable, type Reporter } from './report.js';
import { parseScope } from './scope.js';
import { withinTime } from './time-limit.js';
import type { Scope } from './types.js';

/** The scopes of one turn: its own, and the shared one when the options give `shared`. */
export interface TurnScopes {
  scope: Scope;
  shared: Scope | undefined;
}

/**
 * The scopes of this call: its own (the one the call names, the wrapper's, or what the scope
 * function answers) and the shared one, if any. Undefined, and reported with stage `scope`, when
 * either cannot be had.
 */
export async function turnScopes(
  named: unknown,
  settings: Pick<ResolvedOptions, 'scope' | 'shared' | 'search'>,
  reporter: Reporter,
): Promise<TurnScopes | undefined> {
  const { timeoutMs } = settings.search;
  try {
    if (named === undefined && settings.scope === undefined) {
      throw new MemoryError(
        'No scope for this call: give memoryMiddleware a scope, or the call providerOptions.withMemory.scope. No memory was used.',
      );
    }
    const [scope, shared] = await Promise.all([
      named === undefined
        ? resolveScope(settings.scope, 'scope', timeoutMs)
        : parseScope(named, 'providerOptions.withMemory.scope'),
      settings.shared === undefined ? undefined : resolveScope(settings.shared, 'shared', timeoutMs),
    ]);
    return { scope, shared };
  } catch (error) {
    const scopeError = MemoryError.isInstance(error)
      ? error
      : new MemoryError(`The scope function failed: ${errorMessage(error)}`, { cause: error });
    reporter.report(scopeError, { stage: 'scope', scope: {} });
    reporter.log(() => `no scope for this call (${scopeError.name}): no search, no write`);
    return undefined;
  }
}

/**
 * A scope option's scope for one turn: the scope itself, or what the scope function answers,
 * awaited within `timeoutMs` and checked like an option. Throws (a `MemoryError` or the function's
 * own error) when there is none.
 */
export async function resolveScope(source: unknown, option: 'scope' | 'shared', timeoutMs: number): Promise<Scope> {
  if (typeof source !== 'function') return source as Scope;
  let answer: unknown = (source as () => unknown)();
  // Only a promise needs a time-out; a plain answer costs no timer.
  if (isThenable(answer)) {
    const pending = answer;
    answer = await withinTime(
      timeoutMs,
      () => pending,
      () => new MemoryError(`The ${option} function did not answer within ${timeoutMs} ms (search.timeoutMs).`),
    );
  }
  return parseScope(answer, `${option}()`);
}
