import { AsyncLocalStorage } from 'node:async_hooks';
import { ExtractionError, MemoryError, StoreError, StoreTimeoutError } from './errors.js';
import type { ErrorContext, ErrorStage, ResolvedOptions } from './options.js';
import { checkHits, checkMemories, outsideScopeError } from './store-results.js';
import { createTracing, recordTracedAttempts, recordTracedError, type TurnTracing } from './tracing.js';
import type { Extractor, Memory, MemoryHit, MemoryOperation, MemoryStore, PromptBuilder, Turn } from './types.js';
import { type FailedWrite, registerWriteOwner, toStoreError, trackWrite, withRetries } from './writeback.js';

/** What a provider read from one request. */
export interface TurnRequest {
  /** The text of the last user message that has text (images and files ignored). */
  query: string;
  /** True when the request carries tool results for an earlier request of the same user turn. */
  continuation: boolean;
  /** The same for every request of one user turn (e.g. the index and text of its user message). */
  turnKey: string;
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

/** Builds the pipeline for one wrapper; `owner` is what `flushMemory` is called with. */
export function createPipeline(settings: PipelineSettings, owner: object): MemoryPipeline {
  const { scope, store, search } = settings;
  const list = store.list?.bind(store);
  // Standing memories obey the same `types` and `filters` as the search.
  const standingTypes = ['preference', 'profile'].filter((type) => !search.types || search.types.includes(type));
  const turns = new Map<string, TurnSearch>();
  let lastWrite: Promise<unknown> = Promise.resolve();
  const writing = new AsyncLocalStorage<true>();
  const tracing = createTracing(settings.tracing, store.name, scope);
  registerWriteOwner(owner);

  function report(error: unknown, context: ErrorContext): void {
    recordTracedError(error);
    const memoryError = MemoryError.isInstance(error) ? error : new MemoryError(errorMessage(error), { cause: error });
    if (settings.onError) {
      try {
        settings.onError(memoryError, context);
      } catch {
        // A throwing hook must not break the call it observes.
      }
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
    try {
      hook?.(event);
    } catch {
      // Observation hooks never change the outcome.
    }
  }

  async function find(query: string, traced: TurnTracing): Promise<TurnSearch> {
    const { hits, standing } = await traced.search(query, () => fetchMemories(query));
    let memoryBlock = '';
    if (hits.length > 0 || standing.length > 0) {
      memoryBlock = traced.build(hits.length + standing.length, () => buildBlock(query, hits, standing));
    }
    return { hits, standing, memoryBlock };
  }

  async function fetchMemories(query: string): Promise<Omit<TurnSearch, 'memoryBlock'>> {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const timeout = new StoreTimeoutError(store.name, 'search', search.timeoutMs);
        controller.abort(timeout);
        reject(timeout);
      }, search.timeoutMs);
    });
    deadline.catch(() => {});
    const bounded = <T>(work: () => Promise<T>) => Promise.race([Promise.resolve().then(work), deadline]);

    const [found, listed] = await Promise.allSettled([
      query
        ? bounded(() =>
            store.search(settings.redact ? settings.redact(query) : query, {
              scope,
              limit: search.limit,
              ...(search.threshold !== undefined && { threshold: search.threshold }),
              ...(search.types && { types: search.types }),
              ...(search.filters && { filters: search.filters }),
              signal: controller.signal,
            }),
          )
        : Promise.resolve([]),
      search.profileLimit > 0 && list && standingTypes.length > 0
        ? bounded(() =>
            list({
              scope,
              types: standingTypes,
              ...(search.filters && { filters: search.filters }),
              limit: search.profileLimit,
            }),
          )
        : Promise.resolve([]),
    ]);
    clearTimeout(timer);

    let hits: MemoryHit[] = [];
    if (found.status === 'rejected')
      report(toStoreError(found.reason, store.name, 'search'), { stage: 'search', scope });
    else {
      try {
        const checked = checkHits(found.value, store.name, scope);
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
        const checked = checkMemories(listed.value, store.name, scope);
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

  function buildBlock(query: string, hits: MemoryHit[], standing: Memory[]): string {
    try {
      return settings.prompt.build({ hits, standing, maxTokens: search.maxTokens, now: new Date(), query });
    } catch (error) {
      report(new MemoryError(`The prompt builder failed: ${errorMessage(error)}`, { cause: error }), {
        stage: 'build',
        scope,
      });
      return '';
    }
  }

  // The user's clock (`now`) dates every memory of the turn: one that throws or answers something
  // other than a valid Date must not break the call, nor reach the extractors and the store.
  function turnTime(): Date {
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
    const at = turnTime();
    let found: TurnSearch = { hits: [], standing: [], memoryBlock: '' };
    const traced = await tracing.turn();
    if (settings.mode !== 'write-only') {
      const started = performance.now();
      const remembered = request.continuation ? turns.get(request.turnKey) : undefined;
      found = remembered ?? (await find(request.query, traced));
      if (!remembered) {
        turns.delete(request.turnKey);
        turns.set(request.turnKey, found);
        if (turns.size > rememberedTurns) turns.delete(turns.keys().next().value as string);
      }
      notify(settings.onSearch, {
        query: request.query,
        scope,
        hits: found.hits,
        standing: found.standing,
        memoryBlock: found.memoryBlock,
        reused: remembered !== undefined,
        durationMs: performance.now() - started,
      });
    }
    const injected = [...found.standing, ...found.hits];
    return {
      memoryBlock: found.memoryBlock,
      complete: async (assistantText) => {
        if (settings.mode === 'read-only' || settings.write === false) return;
        turns.delete(request.turnKey);
        // One turn's writes after the other's: a correction must find the fact it corrects stored.
        // A turn completed from inside a write (an extractor calling the wrapped client) must not
        // wait for the write it is part of.
        const turn = { userText: request.query, assistantText, scope, injected, at };
        const run = () => writing.run(true, () => traced.write(() => write(turn)));
        const turnWrites = writing.getStore() ? run() : lastWrite.then(run);
        if (!writing.getStore()) lastWrite = turnWrites;
        const tracked = trackWrite([owner, store], turnWrites);
        if (settings.write === 'await') await tracked;
      },
    };
  }

  async function write(turn: Turn): Promise<FailedWrite[]> {
    const failures: FailedWrite[] = [];
    let extracted: MemoryOperation[] = [];
    try {
      const controller = new AbortController();
      extracted = await settings.extract.extract(turn, { store, signal: controller.signal });
      if (!Array.isArray(extracted)) throw new Error('extract() must resolve to an array of operations');
    } catch (error) {
      extracted = [];
      const extractionError = MemoryError.isInstance(error)
        ? error
        : new ExtractionError(settings.extract.name, errorMessage(error), { cause: error });
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
    }
    // The episode does not depend on the extractor: a failed extraction still keeps what was said.
    const operations = [...(settings.episode?.(turn, extracted) ?? []), ...extracted];

    const writeOne = async (operation: MemoryOperation) => {
      const result = await withRetries(() => apply(operation), isRetryable);
      recordTracedAttempts(result.attempts);
      if (result.ok) {
        notify(settings.onWrite, { scope, operation, changes: result.value, attempts: result.attempts });
      } else {
        const error = toStoreError(result.error, store.name, operation.kind);
        report(error, { stage: 'write', scope, operation, attempts: result.attempts });
        failures.push({ error, operation, scope, attempts: result.attempts });
      }
    };
    // The turn's adds go to the store together (the local store commits them as one transaction);
    // an update or a delete waits for the adds before it, so the turn's changes keep their order.
    let adding: Array<Promise<void>> = [];
    for (const raw of operations) {
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
        continue;
      }
      if (!operation) continue;
      if (settings.shouldWrite) {
        try {
          if (!(await settings.shouldWrite({ operation, scope }))) continue;
        } catch (error) {
          // A policy that cannot decide must not let a write through it was meant to stop.
          report(
            new MemoryError(`shouldWrite threw; the write was skipped: ${errorMessage(error)}`, { cause: error }),
            {
              stage: 'write',
              scope,
              operation,
            },
          );
          continue;
        }
      }
      if (operation.kind === 'add') {
        adding.push(writeOne(operation));
        continue;
      }
      await Promise.all(adding);
      adding = [];
      await writeOne(operation);
    }
    await Promise.all(adding);
    return failures;
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

  async function apply(operation: MemoryOperation) {
    const reason = operation.reason !== undefined ? { reason: operation.reason } : {};
    switch (operation.kind) {
      case 'add':
        return store.add(operation.write, { scope, ...reason });
      case 'update': {
        if (!store.update) throw missingMethod('update');
        const updated = await store.update(operation.id, operation.patch, reason);
        return updated ? [{ event: 'UPDATE' as const, id: operation.id, text: updated.text }] : [];
      }
      case 'delete': {
        if (!store.delete) throw missingMethod('delete');
        const deleted = await store.delete(operation.id, reason);
        return deleted ? [{ event: 'DELETE' as const, id: operation.id }] : [];
      }
    }
  }

  function missingMethod(method: 'update' | 'delete'): StoreError {
    return new StoreError(
      `Store "${store.name}" has no ${method} method, so the extractor's ${method} could not be applied; use a store that offers it or an extractor that only adds.`,
      { store: store.name, operation: method, retryable: false },
    );
  }

  return { begin, report: (error, stage) => report(error, { stage, scope }) };
}

function isRetryable(error: unknown): boolean {
  if (error instanceof StoreError) return error.retryable;
  return !MemoryError.isInstance(error);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
