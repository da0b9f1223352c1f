import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryError } from '../../src/core/errors.js';
import type { ErrorContext } from '../../src/core/options.js';
import { createReporter } from '../../src/core/report.js';
import { resolveScope, turnScopes } from '../../src/core/turn-scope.js';

// A kind of error no other test reports, so the once-per-kind warning is this file's own.
class ReportProbeError extends MemoryError {}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createReporter: what the user is told', () => {
  it('hands onError a MemoryError with its context, wrapping anything else', () => {
    const heard: Array<[MemoryError, ErrorContext]> = [];
    const reporter = createReporter({ onError: (error, context) => heard.push([error, context]), debug: undefined });
    const cause = new Error('socket closed');
    reporter.report(cause, { stage: 'search', scope: { userId: 'u' } });
    expect(heard).toHaveLength(1);
    expect(MemoryError.isInstance(heard[0]?.[0])).toBe(true);
    expect(heard[0]?.[0].message).toBe('socket closed');
    expect(heard[0]?.[0].cause).toBe(cause);
    expect(heard[0]?.[1]).toEqual({ stage: 'search', scope: { userId: 'u' } });
  });

  it('survives hooks that throw or reject', async () => {
    const rejected = vi.fn(() => Promise.reject(new Error('hook rejected')));
    const reporter = createReporter({
      onError: () => {
        throw new Error('hook threw');
      },
      debug: { text: false, log: rejected },
    });
    expect(() => reporter.report(new Error('x'), { stage: 'write', scope: {} })).not.toThrow();
    expect(() => reporter.notify(rejected, { any: 'event' })).not.toThrow();
    expect(() => reporter.log(() => 'a line')).not.toThrow();
    expect(rejected).toHaveBeenCalledWith('[with-memory] a line');
    await new Promise((resolve) => setTimeout(resolve, 0));
  });

  it('without onError, warns once per kind of error and stage, saying whether a call or a tool met it', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const call = createReporter({ onError: undefined, debug: undefined });
    const tool = createReporter({ onError: undefined, debug: undefined }, 'tool');
    call.report(new ReportProbeError('first'), { stage: 'search', scope: {} });
    call.report(new ReportProbeError('second'), { stage: 'search', scope: {} });
    tool.report(new ReportProbeError('third'), { stage: 'search', scope: {} });
    expect(warn.mock.calls.map(([line]) => line)).toEqual([
      '[with-memory] search failed (ReportProbeError): first — the call went on; pass onError to see every memory error.',
      "[with-memory] a memory tool's search failed (ReportProbeError): third — the model was told; pass onError to see every memory error.",
    ]);
  });

  it('makes debug lines only when debug is on', () => {
    const line = vi.fn(() => 'expensive');
    createReporter({ onError: undefined, debug: undefined }).log(line);
    expect(line).not.toHaveBeenCalled();
  });
});

describe('turnScopes: the scopes of one call', () => {
  const search = { limit: 8, timeoutMs: 50, maxTokens: 800, profileLimit: 5 };

  it('takes the scope the call names before the wrapper’s, and calls a shared scope function', async () => {
    const reporter = createReporter({ onError: undefined, debug: undefined });
    const scopes = await turnScopes(
      { userId: ' named ' },
      { scope: { userId: 'wrapper' }, shared: () => ({ userId: 'team' }), search },
      reporter,
    );
    expect(scopes).toEqual({ scope: { userId: 'named' }, shared: { userId: 'team' } });
  });

  it('gives no scope, reported with stage scope, for a scope function that fails or never answers', async () => {
    const heard: string[] = [];
    const reporter = createReporter({
      onError: (error, { stage }) => heard.push(`${stage}: ${error.message}`),
      debug: undefined,
    });
    const failing = () => {
      throw new Error('no session');
    };
    expect(await turnScopes(undefined, { scope: failing, shared: undefined, search }, reporter)).toBeUndefined();
    const never = () => new Promise<never>(() => {});
    expect(await turnScopes(undefined, { scope: never, shared: undefined, search }, reporter)).toBeUndefined();
    expect(await turnScopes(undefined, { scope: undefined, shared: undefined, search }, reporter)).toBeUndefined();
    expect(heard).toEqual([
      'scope: The scope function failed: no session',
      'scope: The scope function did not answer within 50 ms (search.timeoutMs).',
      'scope: No scope for this call: give memoryMiddleware a scope, or the call providerOptions.withMemory.scope. No memory was used.',
    ]);
  });

  it('checks what a scope function answers like the option', async () => {
    await expect(resolveScope(async () => ({ userId: '' }), 'shared', 50)).rejects.toThrow(/`shared\(\)\.userId`/);
  });
});
