/**
 * The turn: a provider's request begins it (its scopes, its time, its search, reused by the
 * requests of a tool loop), and the final reply completes it (its write, queued behind the
 * previous turn of the same scope). The search and the write are `turn-search.ts` and
 * `turn-write.ts`; what is reported goes through `report.ts`.
 *
 * @module
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { errorMessage, MemoryError } from './errors.js';
import type { ErrorStage, ResolvedOptions } from './options.js';
import { createReporter, type Reporter } from './report.js';
import { scopeKey } from './scope.js';
import { createTracing, type TurnTracing } from './tracing.js';
import { turnScopes } from './turn-scope.js';
import { describeSearch, searchTurn, type TurnSearch } from './turn-search.js';
import { writeTurn } from './turn-write.js';
import type { Scope, Turn } from './types.js';
import { type FailedWrite, registerWriteOwner, trackWrite } from './writeback.js';

/** What a provider read from one request. */
export interface TurnRequest {
  /** The text of the last user message that has text (images and files ignored). */
  query: string;
  /** True when the request carries tool results for an earlier request of the same user turn. */
  continuation: boolean;
  /** The same for every request of one user turn (e.g. the index and text of its user message). */
  turnKey: string;
  /**
   * The scope this call names itself (the AI SDK's `providerOptions.withMemory.scope`), used
   * instead of the wrapper's; checked like an option, and an invalid one means no memory.
   */
  scope?: unknown;
}
/** What the pipeline gives back for one request. */
export interface TurnMemory {
  /** The block to inject into the system prompt; `''` means inject nothing, change nothing. */
  memoryBlock: string;
  /**
   * Call once with the assistant's final text when the reply is final (not a tool-call stop).
   * Resolves when the write is queued (background) or stored (await); never rejects.
   */
  complete(assistantText: string): Promise<void>;
}

/** The provider-neutral heart of `withMemory`: search and build before the call, write after. */
export interface MemoryPipeline {
  /** Searches and builds the memory block. Never rejects: memory trouble means no memories. */
  begin(request: TurnRequest): Promise<TurnMemory>;
  /** Reports a problem a provider met (e.g. a reply it could not read) through `onError`. */
  report(error: unknown, stage: ErrorStage): void;
}

// A tool loop rarely spans more than a few requests; a short memory of turns is enough to reuse them.
const rememberedTurns = 64;

// H1: one storage for the module, not one per pipeline. On Node 20 every AsyncLocalStorage that has
// run stays registered and is propagated at every async resource of the process, so a wrapper per
// request made every await of a server slower with each wrapper created. It holds the owner whose
// turn is being written.
const writing = new AsyncLocalStorage<object>();

// What a call without a scope gets: no search, nothing injected, nothing written.
const noMemory: TurnMemory = { memoryBlock: '', complete: async () => {} };

/** Builds the pipeline for one wrapper; `owner` is what `flushMemory` is called with. */
export function createPipeline(settings: ResolvedOptions, owner: object): MemoryPipeline {
  const { store } = settings;
  const reporter = createReporter(settings);
  // Keyed by scope and turn, so a continuation reuses its own user's search and never another's.
  const turns = new Map<string, TurnSearch>();
  // M6: a turn's writes wait for the first attempts of the previous turn of the same scope (a
  // correction must find the fact it corrects stored), not for their retries, nor for other scopes.
  const writeQueues = new Map<string, Promise<void>>();
  const tracing = createTracing(settings.tracing, store.name);
  registerWriteOwner(owner);

  async function begin(request: TurnRequest): Promise<TurnMemory> {
    const scopes = await turnScopes(request.scope, settings, reporter);
    if (!scopes) return noMemory;
    const { scope, shared } = scopes;
    const at = turnTime(settings.now, scope, reporter);
    const turnKey = `${scopeKey(scope)}:${request.turnKey}`;
    let found: TurnSearch = { hits: [], standing: [], memoryBlock: '' };
    const traced = await tracing.turn(scope);
    if (settings.mode !== 'write-only') {
      const started = performance.now();
      const remembered = request.continuation ? turns.get(turnKey) : undefined;
      found = remembered ?? (await searchTurn(request.query, scopes, settings, reporter, traced));
      if (!remembered) {
        turns.delete(turnKey);
        turns.set(turnKey, found);
        if (turns.size > rememberedTurns) turns.delete(turns.keys().next().value as string);
      }
      const durationMs = performance.now() - started;
      const reused = remembered !== undefined;
      const { hits, standing, memoryBlock } = found;
      reporter.notify(settings.onSearch, {
        query: request.query,
        scope,
        hits,
        standing,
        memoryBlock,
        reused,
        durationMs,
      });
      reporter.log((options) => describeSearch(request.query, scope, found, reused, durationMs, options));
    }
    const injected = [...found.standing, ...found.hits];
    return {
      memoryBlock: found.memoryBlock,
      complete: async (assistantText) => {
        if (settings.mode === 'read-only' || settings.write === false) return;
        turns.delete(turnKey);
        const turn = { userText: request.query, assistantText, scope, injected, at };
        const tracked = trackWrite([owner, store], queueTurn(turn, shared, traced));
        if (settings.write === 'await') await tracked;
      },
    };
  }

  /** Writes a turn once the previous turn of its scope had its first attempts. Never rejects. */
  function queueTurn(turn: Turn, shared: Scope | undefined, traced: TurnTracing): Promise<FailedWrite[]> {
    // A turn completed from inside one of our writes (an extractor calling the wrapped client)
    // must not wait for the write it is part of.
    const nested = writing.getStore() === owner;
    const key = scopeKey(turn.scope);
    let firstPassDone = () => {};
    const firstPass = new Promise<void>((resolve) => {
      firstPassDone = resolve;
    });
    const previous = (nested ? undefined : writeQueues.get(key)) ?? Promise.resolve();
    const written = previous
      .then(() =>
        writing.run(owner, () => traced.write(() => writeTurn(turn, shared, settings, reporter, firstPassDone))),
      )
      .catch((error: unknown) => {
        reporter.report(error, { stage: 'write', scope: turn.scope });
        return [] as FailedWrite[];
      })
      .finally(firstPassDone);
    if (!nested) {
      writeQueues.set(key, firstPass);
      void firstPass.then(() => {
        if (writeQueues.get(key) === firstPass) writeQueues.delete(key);
      });
    }
    return written;
  }

  return {
    begin,
    report: (error, stage) =>
      reporter.report(error, { stage, scope: typeof settings.scope === 'object' ? settings.scope : {} }),
  };
}

/**
 * The time of a turn, from the user's clock (`now`), which dates every memory of the turn: one
 * that throws or answers something other than a valid Date must not break the call, nor reach the
 * extractors and the store; the system clock dates the turn then.
 */
function turnTime(now: () => Date, scope: Scope, reporter: Reporter): Date {
  try {
    const at = now();
    if (at instanceof Date && !Number.isNaN(at.getTime())) return at;
    reporter.report(new MemoryError('now() did not return a valid Date; the turn was dated by the system clock.'), {
      stage: 'capture',
      scope,
    });
  } catch (error) {
    reporter.report(
      new MemoryError(`now() threw; the turn was dated by the system clock: ${errorMessage(error)}`, {
        cause: error,
      }),
      { stage: 'capture', scope },
    );
  }
  return new Date();
}
