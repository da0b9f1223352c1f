import { AsyncLocalStorage } from 'node:async_hooks';
import { ExtractionError, MemoryError, StoreError, StoreTimeoutError } from './errors.js';
import { checkOperations } from './extracted-operations.js';
import type { DebugOptions, ErrorContext, ErrorStage, ResolvedOptions } from './options.js';
import { parseScope, scopeKey, scopeMatches } from './scope.js';
import { checkHits, checkMemories, outsideScopeError } from './store-results.js';
import { withinTime } from './time-limit.js';
import { createTracing, recordTracedAttempts, recordTracedError, type TurnTracing } from './tracing.js';
import type {
  Extractor,
  FactInput,
  Memory,
  MemoryChange,
  MemoryHit,
  MemoryOperation,
  MemoryStore,
  PromptBuilder,
  Scope,
  Turn,
} from './types.js';
import { type FailedWrite, registerWriteOwner, toStoreError, trackWrite, withRetries } from './writeback.js';

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

/** Options with every strategy chosen. */
export interface PipelineSettings
  extends Omit<ResolvedOptions, 'store' | 'prompt' | 'extract' | 'redact' | 'episodes' | 'replies'> {
  store: MemoryStore;
  prompt: PromptBuilder;
  extract: Extractor;
  /**
   * Makes the episodes of a turn (what the user said, what the assistant said), written before the
   * facts extracted from it (given, so they can leave out what those already hold); none when off.
   */
  episode: ((turn: Turn, extracted: MemoryOperation[]) => MemoryOperation[]) | undefined;
  redact: ((text: string) => string) | undefined;
}

interface TurnSearch {
  hits: MemoryHit[];
  standing: Memory[];
  memoryBlock: string;
}

// A tool loop rarely spans more than a few requests; a short memory of turns is enough to reuse them.
const rememberedTurns = 64;
const warned = new Set<string>();

// H1: one storage for the module, not one per pipeline. On Node 20 every AsyncLocalStorage that has
// run stays registered and is propagated at every async resource of the process, so a wrapper per
// request made every await of a server slower with each wrapper created. It holds the owner whose
// turn is being written.
const writing = new AsyncLocalStorage<object>();

// What a call without a scope gets: no search, nothing injected, nothing written.
const noMemory: TurnMemory = { memoryBlock: '', complete: async () => {} };

/** Builds the pipeline for one wrapper; `owner` is what `flushMemory` is called with. */
export function createPipeline(settings: PipelineSettings, owner: object): MemoryPipeline {
  const { store, search, writeTimeoutMs, debug } = settings;
  const list = store.list?.bind(store);
  // Standing memories obey the same `types` and `filters` as the search.
  const standingTypes = ['preference', 'profile'].filter((type) => !search.types || search.types.includes(type));
  // Keyed by scope and turn, so a continuation reuses its own user's search and never another's.
  const turns = new Map<string, TurnSearch>();
  // M6: a turn's writes wait for the first attempts of the previous turn of the same scope (a
  // correction must find the fact it corrects stored), not for their retries, nor for other scopes.
  const writeQueues = new Map<string, Promise<void>>();
  const tracing = createTracing(settings.tracing, store.name);
  registerWriteOwner(owner);

  function report(error: unknown, context: ErrorContext): void {
    recordTracedError(error);
    const memoryError = MemoryError.isInstance(error) ? error : new MemoryError(errorMessage(error), { cause: error });
    const { onError } = settings;
    if (onError) {
      observe(() => onError(memoryError, context));
      return;
    }
    const kind = `${memoryError.name}:${context.stage}`;
    if (warned.has(kind)) return;
    warned.add(kind);
    console.warn(
      `[with-memory] ${context.stage} failed (${memoryError.name}): ${memoryError.message} — the call went on; pass onError to see every memory error.`,
    );
  }

  function notify<E>(hook: ((event: E) => void) | undefined, event: E): void {
    if (hook) observe(() => hook(event));
  }

  function log(line: (options: Required<DebugOptions>) => string): void {
    if (debug) observe(() => debug.log(`[with-memory] ${line(debug)}`));
  }

  /**
   * The scopes of this call: its own (the one the call names, the wrapper's, or what the scope
   * function answers) and the shared one, if any. Undefined when either cannot be had.
   */
  async function turnScopes(named: unknown): Promise<{ scope: Scope; shared: Scope | undefined } | undefined> {
    try {
      if (named === undefined && settings.scope === undefined) {
        throw new MemoryError(
          'No scope for this call: give memoryMiddleware a scope, or the call providerOptions.withMemory.scope. No memory was used.',
        );
      }
      const [scope, shared] = await Promise.all([
        named === undefined
          ? resolveScope(settings.scope, 'scope', search.timeoutMs)
          : parseScope(named, 'providerOptions.withMemory.scope'),
        settings.shared === undefined ? undefined : resolveScope(settings.shared, 'shared', search.timeoutMs),
      ]);
      return { scope, shared };
    } catch (error) {
      const scopeError = MemoryError.isInstance(error)
        ? error
        : new MemoryError(`The scope function failed: ${errorMessage(error)}`, { cause: error });
      report(scopeError, { stage: 'scope', scope: {} });
      log(() => `no scope for this call (${scopeError.name}): no search, no write`);
      return undefined;
    }
  }

  async function find(
    query: string,
    scope: Scope,
    shared: Scope | undefined,
    traced: TurnTracing,
  ): Promise<TurnSearch> {
    const { hits, standing } = await traced.search(query, () =>
      shared ? fetchWithShared(query, scope, shared) : fetchMemories(query, scope),
    );
    let memoryBlock = '';
    if (hits.length > 0 || standing.length > 0) {
      memoryBlock = traced.build(hits.length + standing.length, () => buildBlock(query, hits, standing, scope));
    }
    return { hits, standing, memoryBlock };
  }

  /**
   * The memories of the own scope and those stored under exactly the shared one (a search under
   * `{ userId }` also finds every agent's own memories of that user, which are not shared), merged
   * best first, standing ones newest first, each within its limit.
   */
  async function fetchWithShared(query: string, scope: Scope, shared: Scope): Promise<Omit<TurnSearch, 'memoryBlock'>> {
    const [own, common] = await Promise.all([fetchMemories(query, scope), fetchMemories(query, shared)]);
    const storedShared = (memory: Memory) => sameScope(memory.scope, shared);
    const hits = uniqueById([...own.hits, ...common.hits.filter(storedShared)])
      .sort((a, b) => b.score - a.score)
      .slice(0, search.limit);
    const hitIds = new Set(hits.map((hit) => hit.id));
    const standing = uniqueById([...own.standing, ...common.standing.filter(storedShared)])
      .filter((memory) => !hitIds.has(memory.id))
      .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())
      .slice(0, search.profileLimit);
    return { hits, standing };
  }

  async function fetchMemories(query: string, scope: Scope): Promise<Omit<TurnSearch, 'memoryBlock'>> {
    const timedOut = () => new StoreTimeoutError(store.name, 'search', search.timeoutMs);
    const [found, listed] = await Promise.allSettled([
      query
        ? withinTime(
            search.timeoutMs,
            (signal) =>
              store.search(settings.redact ? settings.redact(query) : query, {
                scope,
                limit: search.limit,
                ...(search.threshold !== undefined && { threshold: search.threshold }),
                ...(search.types && { types: search.types }),
                ...(search.filters && { filters: search.filters }),
                signal,
              }),
            timedOut,
          )
        : Promise.resolve([]),
      search.profileLimit > 0 && list && standingTypes.length > 0
        ? withinTime(
            search.timeoutMs,
            () =>
              list({
                scope,
                types: standingTypes,
                ...(search.filters && { filters: search.filters }),
                limit: search.profileLimit,
              }),
            timedOut,
          )
        : Promise.resolve([]),
    ]);

    let hits: MemoryHit[] = [];
    if (found.status === 'rejected')
      report(toStoreError(found.reason, store.name, 'search'), { stage: 'search', scope });
    else {
      try {
        // L1: what the call asked for and no more is read, so a store answering a million hits
        // costs the time-out at most, not seconds of checking after it.
        const checked = checkHits(firstOf(found.value, search.limit), store.name, scope);
        hits = checked.hits.sort((a, b) => b.score - a.score);
        if (checked.outside > 0)
          report(outsideScopeError(store.name, 'search', checked.outside), { stage: 'search', scope });
      } catch (error) {
        report(error, { stage: 'search', scope });
      }
    }
    let standing: Memory[] = [];
    if (listed.status === 'rejected')
      report(toStoreError(listed.reason, store.name, 'list'), { stage: 'search', scope });
    else {
      try {
        const checked = checkMemories(firstOf(listed.value, search.profileLimit + hits.length), store.name, scope);
        const hitIds = new Set(hits.map((hit) => hit.id));
        standing = checked.memories.filter((memory) => !hitIds.has(memory.id)).slice(0, search.profileLimit);
        if (checked.outside > 0)
          report(outsideScopeError(store.name, 'list', checked.outside), { stage: 'search', scope });
      } catch (error) {
        report(error, { stage: 'search', scope });
      }
    }

    return { hits, standing };
  }

  function buildBlock(query: string, hits: MemoryHit[], standing: Memory[], scope: Scope): string {
    let block: unknown;
    try {
      block = settings.prompt.build({ hits, standing, maxTokens: search.maxTokens, now: new Date(), query });
    } catch (error) {
      report(new MemoryError(`The prompt builder failed: ${errorMessage(error)}`, { cause: error }), {
        stage: 'build',
        scope,
      });
      return '';
    }
    if (typeof block === 'string' && (block === '' || block.trim() !== '')) return block;
    // M2: only a string reaches the request; anything else would be injected as "undefined",
    // "[object Promise]" or an empty system part, which some APIs refuse with a 400.
    if (isThenable(block)) block.then(undefined, () => {});
    const got = typeof block === 'string' ? 'only whitespace' : isThenable(block) ? 'a Promise' : typeof block;
    report(
      new MemoryError(
        `The prompt builder returned ${got} instead of a string (build must be synchronous); nothing was injected.`,
      ),
      { stage: 'build', scope },
    );
    return '';
  }

  // The user's clock (`now`) dates every memory of the turn: one that throws or answers something
  // other than a valid Date must not break the call, nor reach the extractors and the store.
  function turnTime(scope: Scope): Date {
    try {
      const at = settings.now();
      if (at instanceof Date && !Number.isNaN(at.getTime())) return at;
      report(new MemoryError('now() did not return a valid Date; the turn was dated by the system clock.'), {
        stage: 'capture',
        scope,
      });
    } catch (error) {
      report(
        new MemoryError(`now() threw; the turn was dated by the system clock: ${errorMessage(error)}`, {
          cause: error,
        }),
        { stage: 'capture', scope },
      );
    }
    return new Date();
  }

  async function begin(request: TurnRequest): Promise<TurnMemory> {
    const scopes = await turnScopes(request.scope);
    if (!scopes) return noMemory;
    const { scope, shared } = scopes;
    const at = turnTime(scope);
    const turnKey = `${scopeKey(scope)}:${request.turnKey}`;
    let found: TurnSearch = { hits: [], standing: [], memoryBlock: '' };
    const traced = await tracing.turn(scope);
    if (settings.mode !== 'write-only') {
      const started = performance.now();
      const remembered = request.continuation ? turns.get(turnKey) : undefined;
      found = remembered ?? (await find(request.query, scope, shared, traced));
      if (!remembered) {
        turns.delete(turnKey);
        turns.set(turnKey, found);
        if (turns.size > rememberedTurns) turns.delete(turns.keys().next().value as string);
      }
      const durationMs = performance.now() - started;
      notify(settings.onSearch, {
        query: request.query,
        scope,
        hits: found.hits,
        standing: found.standing,
        memoryBlock: found.memoryBlock,
        reused: remembered !== undefined,
        durationMs,
      });
      log((options) => describeSearch(request.query, scope, found, remembered !== undefined, durationMs, options));
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
      .then(() => writing.run(owner, () => traced.write(() => writeTurn(turn, shared, firstPassDone))))
      .catch((error: unknown) => {
        report(error, { stage: 'write', scope: turn.scope });
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

  async function writeTurn(turn: Turn, shared: Scope | undefined, firstPassDone: () => void): Promise<FailedWrite[]> {
    const failures: FailedWrite[] = [];
    const extracted = await extract(turn, failures);
    // The episode does not depend on the extractor: a failed extraction still keeps what was said.
    let episodes: MemoryOperation[] = [];
    try {
      episodes = settings.episode?.(turn, extracted) ?? [];
    } catch (error) {
      report(new MemoryError(`The episode of the turn could not be made: ${errorMessage(error)}`, { cause: error }), {
        stage: 'extract',
        scope: turn.scope,
      });
    }
    const operations = [...episodes, ...extracted];

    // The turn's adds go to the store together (the local store commits them as one transaction);
    // an update or a delete waits for the first attempt of the adds before it, so the turn's
    // changes keep their order. Retries run on their own, beside later turns.
    const settled: Array<Promise<void>> = [];
    let adding: Array<Promise<void>> = [];
    for (const raw of operations) {
      const admitted = await admit(raw, turn, failures);
      if (!admitted) continue;
      if (admitted.kind !== 'add') {
        await Promise.all(adding);
        adding = [];
      }
      for (const [operation, scope] of route(admitted, turn.scope, shared)) {
        const { firstAttempt, done } = writeOne(operation, scope, shared, failures);
        settled.push(done);
        if (operation.kind === 'add') adding.push(firstAttempt);
        else await firstAttempt;
      }
    }
    await Promise.all(adding);
    firstPassDone();
    await Promise.all(settled);
    return failures;
  }

  /** Runs the extractor within the write time-out and keeps the well-formed operations it returned. */
  async function extract(turn: Turn, failures: FailedWrite[]): Promise<MemoryOperation[]> {
    const { scope } = turn;
    const { name } = settings.extract;
    let returned: unknown;
    try {
      returned = await withinTime(
        writeTimeoutMs,
        (signal) => settings.extract.extract(turn, { store, signal }),
        () => new ExtractionError(name, `did not finish within ${writeTimeoutMs} ms (writeTimeoutMs)`),
      );
      if (!Array.isArray(returned)) throw new Error('extract() must resolve to an array of operations');
    } catch (error) {
      const extractionError = MemoryError.isInstance(error)
        ? error
        : new ExtractionError(name, errorMessage(error), { cause: error });
      const operation: MemoryOperation = {
        kind: 'add',
        write: {
          messages: [
            { role: 'user', content: turn.userText },
            { role: 'assistant', content: turn.assistantText },
          ],
        },
      };
      report(extractionError, { stage: 'extract', scope, operation });
      failures.push({ error: extractionError, operation, scope, attempts: 1 });
      return [];
    }
    // H4: a malformed operation is reported and skipped; the rest of the turn is written.
    const { valid, malformed } = checkOperations(returned);
    for (const { index, problem } of malformed) {
      report(new ExtractionError(name, `operation ${index} is malformed (${problem}); it was skipped.`), {
        stage: 'extract',
        scope,
      });
    }
    return valid;
  }

  /** The operation after redaction, ttl and `shouldWrite`; undefined when it is not to be written. */
  async function admit(
    raw: MemoryOperation,
    turn: Turn,
    failures: FailedWrite[],
  ): Promise<MemoryOperation | undefined> {
    const { scope } = turn;
    let operation: MemoryOperation | undefined;
    try {
      operation = applyPolicies(raw, turn.at);
    } catch (error) {
      // Writing the text unredacted is not an option; the write is reported instead.
      const policyError = new MemoryError(`redact threw; the write was not stored: ${errorMessage(error)}`, {
        cause: error,
      });
      report(policyError, { stage: 'write', scope, operation: raw });
      failures.push({ error: policyError, operation: raw, scope, attempts: 0 });
      return undefined;
    }
    const { shouldWrite } = settings;
    if (!operation || !shouldWrite) return operation;
    const candidate = operation;
    try {
      const allowed = await withinTime(
        writeTimeoutMs,
        () => shouldWrite({ operation: candidate, scope }),
        () =>
          new MemoryError(
            `shouldWrite did not answer within ${writeTimeoutMs} ms (writeTimeoutMs); the write was skipped.`,
          ),
      );
      return allowed ? operation : undefined;
    } catch (error) {
      // A policy that cannot decide must not let a write through it was meant to stop.
      const policyError = MemoryError.isInstance(error)
        ? error
        : new MemoryError(`shouldWrite threw; the write was skipped: ${errorMessage(error)}`, { cause: error });
      report(policyError, { stage: 'write', scope, operation });
      failures.push({ error: policyError, operation, scope, attempts: 0 });
      return undefined;
    }
  }

  /** Stores one operation with retries; `firstAttempt` settles after the first try, `done` after the last. */
  function writeOne(
    operation: MemoryOperation,
    scope: Scope,
    shared: Scope | undefined,
    failures: FailedWrite[],
  ): { firstAttempt: Promise<void>; done: Promise<void> } {
    let firstAttemptDone = () => {};
    const firstAttempt = new Promise<void>((resolve) => {
      firstAttemptDone = resolve;
    });
    // H2: each attempt is bounded; a store that never answers costs an attempt, not the wrapper.
    const attempt = () =>
      withinTime(
        writeTimeoutMs,
        (signal) => apply(operation, scope, shared, signal),
        () => new StoreTimeoutError(store.name, operation.kind, writeTimeoutMs),
      );
    const done = withRetries(attempt, isRetryable, firstAttemptDone)
      .then((result) => {
        recordTracedAttempts(result.attempts);
        if (result.ok) {
          notify(settings.onWrite, { scope, operation, changes: result.value, attempts: result.attempts });
          log((options) => describeWrite(operation, scope, result, options));
          return;
        }
        const error = toStoreError(result.error, store.name, operation.kind);
        report(error, { stage: 'write', scope, operation, attempts: result.attempts });
        failures.push({ error, operation, scope, attempts: result.attempts });
        log((options) => describeWrite(operation, scope, { ...result, error }, options));
      })
      .finally(firstAttemptDone);
    return { firstAttempt, done };
  }

  function applyPolicies(operation: MemoryOperation, at: Date): MemoryOperation | undefined {
    const redact = settings.redact ?? ((text: string) => text);
    if (operation.kind === 'delete') return operation;
    if (operation.kind === 'update') {
      const { patch } = operation;
      const ttl = patch.type ? settings.ttl[patch.type] : undefined;
      return {
        ...operation,
        patch: {
          ...patch,
          ...(patch.text !== undefined && { text: redact(patch.text) }),
          ...(ttl !== undefined && patch.expiresAt === undefined && { expiresAt: new Date(Date.now() + ttl) }),
        },
      };
    }
    const { write } = operation;
    if ('messages' in write) {
      const messages = write.messages
        .map((message) => ({ ...message, content: redact(message.content) }))
        .filter((message) => message.content.trim() !== '');
      return messages.length > 0 ? { ...operation, write: { messages } } : undefined;
    }
    const now = Date.now();
    const facts = write.facts
      .map((fact) => {
        const ttl = fact.type ? settings.ttl[fact.type] : undefined;
        // Every fact is said when its turn was, even when the store writes it later.
        const said = { ...fact, text: redact(fact.text), createdAt: fact.createdAt ?? at };
        return ttl !== undefined && !fact.expiresAt ? { ...said, expiresAt: new Date(now + ttl) } : said;
      })
      .filter((fact) => fact.text.trim() !== '');
    return facts.length > 0 ? { ...operation, write: { facts } } : undefined;
  }

  async function apply(
    operation: MemoryOperation,
    scope: Scope,
    shared: Scope | undefined,
    signal: AbortSignal,
  ): Promise<MemoryChange[]> {
    const reason = operation.reason !== undefined ? { reason: operation.reason } : {};
    switch (operation.kind) {
      case 'add':
        return store.add(operation.write, { scope, ...reason, signal });
      case 'update': {
        if (!store.update) throw missingMethod('update');
        await checkTarget(operation.id, 'update', scope, shared);
        const updated = await store.update(operation.id, operation.patch, reason);
        return updated ? [{ event: 'UPDATE' as const, id: operation.id, text: updated.text }] : [];
      }
      case 'delete': {
        if (!store.delete) throw missingMethod('delete');
        await checkTarget(operation.id, 'delete', scope, shared);
        const deleted = await store.delete(operation.id, reason);
        return deleted ? [{ event: 'DELETE' as const, id: operation.id }] : [];
      }
    }
  }

  // L7: an extractor names the memory it changes by id; the turn's scope must hold it, or one
  // user's turn could rewrite or erase another user's memory.
  async function checkTarget(id: string, kind: 'update' | 'delete', scope: Scope, shared?: Scope): Promise<void> {
    if (!store.get) {
      throw new StoreError(
        `Store "${store.name}" has no get method, so the extractor's ${kind} of memory ${id} could not be checked against the turn's scope; it was refused. Give the store a get method.`,
        { store: store.name, operation: kind, retryable: false },
      );
    }
    const target = await store.get(id);
    if (target === null || target === undefined) return;
    const { memories } = checkMemories([target], store.name, {});
    const inside = memories.every(
      (memory) => scopeMatches(memory.scope, scope) || (shared !== undefined && sameScope(memory.scope, shared)),
    );
    if (!inside) {
      throw new StoreError(
        `The extractor's ${kind} names memory ${id}, which belongs to another scope; it was refused.`,
        { store: store.name, operation: kind, retryable: false },
      );
    }
  }

  function missingMethod(method: 'update' | 'delete'): StoreError {
    return new StoreError(
      `Store "${store.name}" has no ${method} method, so the extractor's ${method} could not be applied; use a store that offers it or an extractor that only adds.`,
      { store: store.name, operation: method, retryable: false },
    );
  }

  return {
    begin,
    report: (error, stage) => report(error, { stage, scope: typeof settings.scope === 'object' ? settings.scope : {} }),
  };
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

// What every agent of a user shares when `shared` is set: what the user is and prefers, and said
// (the user's episodes; an agent's own replies, episodes with `role: 'assistant'`, stay its own).
const sharedTypes = new Set(['preference', 'profile']);
const isShared = (fact: FactInput) =>
  (fact.type !== undefined && sharedTypes.has(fact.type)) ||
  (fact.type === 'episode' && fact.metadata?.role !== 'assistant');

/**
 * Where each part of an operation goes: with a shared scope, the facts of a shared type to it and
 * the rest to the own scope; everything else (updates, deletes, raw messages) to the own scope.
 */
export function route(
  operation: MemoryOperation,
  scope: Scope,
  shared: Scope | undefined,
): Array<[MemoryOperation, Scope]> {
  if (!shared || operation.kind !== 'add' || !('facts' in operation.write)) return [[operation, scope]];
  const { facts } = operation.write;
  const toShared = facts.filter(isShared);
  const toOwn = facts.filter((fact) => !toShared.includes(fact));
  const routed: Array<[MemoryOperation, Scope]> = [];
  if (toShared.length > 0) routed.push([{ ...operation, write: { facts: toShared } }, shared]);
  if (toOwn.length > 0) routed.push([{ ...operation, write: { facts: toOwn } }, scope]);
  return routed;
}

/** True when a memory was stored under exactly `scope`: no field more, none less. */
export function sameScope(memory: Scope, scope: Scope): boolean {
  return (
    memory.userId === scope.userId &&
    memory.agentId === scope.agentId &&
    memory.runId === scope.runId &&
    memory.appId === scope.appId
  );
}

/** The memories with the first of each id, in order. */
export function uniqueById<M extends Memory>(memories: M[]): M[] {
  const seen = new Set<string>();
  return memories.filter((memory) => !seen.has(memory.id) && seen.add(memory.id));
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** The first `count` items of an array answer (anything else is left for the checks to refuse). */
function firstOf(value: unknown, count: number): unknown {
  return Array.isArray(value) && value.length > count ? value.slice(0, count) : value;
}

function count(amount: number, noun: string): string {
  return `${amount} ${noun}${amount === 1 ? '' : 's'}`;
}

function describeSearch(
  query: string,
  scope: Scope,
  found: TurnSearch,
  reused: boolean,
  durationMs: number,
  { text }: Required<DebugOptions>,
): string {
  const memories = [...found.standing, ...found.hits];
  const ids = text
    ? JSON.stringify(memories.map(({ id, text: memoryText }) => ({ id, text: memoryText })))
    : `[${memories.map((memory) => memory.id).join(', ')}]`;
  return [
    `search ${JSON.stringify(scope)}:`,
    text ? `query ${JSON.stringify(query)},` : `query of ${query.length} characters,`,
    `${count(found.hits.length, 'hit')}, ${found.standing.length} standing,`,
    `block of ${found.memoryBlock.length} characters, memories ${ids}`,
    reused ? '(reused by a tool-loop step)' : `(${Math.round(durationMs)} ms)`,
  ].join(' ');
}

function describeWrite(
  operation: MemoryOperation,
  scope: Scope,
  result: { ok: true; value: MemoryChange[]; attempts: number } | { ok: false; error: MemoryError; attempts: number },
  { text }: Required<DebugOptions>,
): string {
  let what: string;
  if (operation.kind !== 'add') what = `${operation.kind} ${operation.id}`;
  else if ('facts' in operation.write) {
    const facts = operation.write.facts;
    what = `add ${count(facts.length, 'fact')}${text ? ` ${JSON.stringify(facts.map((fact) => fact.text))}` : ''}`;
  } else {
    const messages = operation.write.messages;
    what = `add ${count(messages.length, 'message')}${text ? ` ${JSON.stringify(messages.map((message) => message.content))}` : ''}`;
  }
  const attempts = count(result.attempts, 'attempt');
  const outcome = result.ok
    ? result.value.map((change) => `${change.event}${change.id ? ` ${change.id}` : ''}`).join(', ') || 'no change'
    : `failed (${result.error.name})`;
  return `write ${JSON.stringify(scope)}: ${what} -> ${outcome} (${attempts})`;
}

function isRetryable(error: unknown): boolean {
  if (StoreError.isInstance(error)) return error.retryable;
  return !MemoryError.isInstance(error);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
