/**
 * The write half of a turn: run the extractor, make the turn's episodes, apply the policies
 * (`redact`, `ttl`, `shouldWrite`) to each operation, route it to its scope, and store it with
 * retries, each step bounded by `writeTimeoutMs`. Never rejects: every write that fails for good is
 * reported and returned, for `flushMemory` to list.
 *
 * @module
 */

import { ExtractionError, errorMessage, MemoryError, StoreError, StoreTimeoutError } from './errors.js';
import { checkOperations } from './extracted-operations.js';
import type { DebugOptions, ResolvedOptions } from './options.js';
import { count, type Reporter } from './report.js';
import { sameScope, scopeMatches } from './scope.js';
import { checkMemories } from './store-results.js';
import { withinTime } from './time-limit.js';
import { recordTracedAttempts } from './tracing.js';
import type { FactInput, MemoryChange, MemoryOperation, Scope, Turn } from './types.js';
import { type FailedWrite, toStoreError, withRetries } from './writeback.js';

/** What the write reads the options for. */
export type TurnWriteSettings = Pick<
  ResolvedOptions,
  'store' | 'extract' | 'episode' | 'redact' | 'ttl' | 'shouldWrite' | 'writeTimeoutMs' | 'onWrite'
>;

/**
 * Writes a turn: its episodes, then what the extractor made of it, in order. `firstPassDone` is
 * called once every operation had its first attempt (the next turn of the scope may start then);
 * the promise resolves after the last retry, with the writes that failed for good.
 */
export async function writeTurn(
  turn: Turn,
  shared: Scope | undefined,
  settings: TurnWriteSettings,
  reporter: Reporter,
  firstPassDone: () => void = () => {},
): Promise<FailedWrite[]> {
  const failures: FailedWrite[] = [];
  const extracted = await extract(turn, settings, reporter, failures);
  // The episode does not depend on the extractor: a failed extraction still keeps what was said.
  let episodes: MemoryOperation[] = [];
  try {
    episodes = settings.episode?.(turn, extracted) ?? [];
  } catch (error) {
    reporter.report(
      new MemoryError(`The episode of the turn could not be made: ${errorMessage(error)}`, { cause: error }),
      { stage: 'extract', scope: turn.scope },
    );
  }
  const operations = [...episodes, ...extracted];

  // The turn's adds go to the store together (the local store commits them as one transaction);
  // an update or a delete waits for the first attempt of the adds before it, so the turn's
  // changes keep their order. Retries run on their own, beside later turns.
  const settled: Array<Promise<void>> = [];
  let adding: Array<Promise<void>> = [];
  for (const raw of operations) {
    const admitted = await admit(raw, turn, settings, reporter, failures);
    if (!admitted) continue;
    if (admitted.kind !== 'add') {
      await Promise.all(adding);
      adding = [];
    }
    for (const [operation, scope] of route(admitted, turn.scope, shared)) {
      const { firstAttempt, done } = writeOne({ operation, scope, shared }, settings, reporter, failures);
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
async function extract(
  turn: Turn,
  { extract: extractor, store, writeTimeoutMs }: TurnWriteSettings,
  reporter: Reporter,
  failures: FailedWrite[],
): Promise<MemoryOperation[]> {
  const { scope } = turn;
  const { name } = extractor;
  let returned: unknown;
  try {
    returned = await withinTime(
      writeTimeoutMs,
      (signal) => extractor.extract(turn, { store, signal }),
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
    reporter.report(extractionError, { stage: 'extract', scope, operation });
    failures.push({ error: extractionError, operation, scope, attempts: 1 });
    return [];
  }
  // H4: a malformed operation is reported and skipped; the rest of the turn is written.
  const { valid, malformed } = checkOperations(returned);
  for (const { index, problem } of malformed) {
    reporter.report(new ExtractionError(name, `operation ${index} is malformed (${problem}); it was skipped.`), {
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
  settings: TurnWriteSettings,
  reporter: Reporter,
  failures: FailedWrite[],
): Promise<MemoryOperation | undefined> {
  const { scope } = turn;
  const { shouldWrite, writeTimeoutMs } = settings;
  let operation: MemoryOperation | undefined;
  try {
    operation = applyPolicies(raw, turn.at, settings);
  } catch (error) {
    // Writing the text unredacted is not an option; the write is reported instead.
    const policyError = new MemoryError(`redact threw; the write was not stored: ${errorMessage(error)}`, {
      cause: error,
    });
    reporter.report(policyError, { stage: 'write', scope, operation: raw });
    failures.push({ error: policyError, operation: raw, scope, attempts: 0 });
    return undefined;
  }
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
    reporter.report(policyError, { stage: 'write', scope, operation });
    failures.push({ error: policyError, operation, scope, attempts: 0 });
    return undefined;
  }
}

/**
 * An operation with `redact` applied to every text and `ttl` to every expiry it does not set;
 * every fact is dated `at` (when its turn was) unless it says otherwise. Undefined when no text is
 * left to write.
 */
export function applyPolicies(
  operation: MemoryOperation,
  at: Date,
  settings: Pick<TurnWriteSettings, 'redact' | 'ttl'>,
): MemoryOperation | undefined {
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

/** One operation bound for one scope; `shared` is the turn's shared scope, which its targets may be in. */
interface ScopedOperation {
  operation: MemoryOperation;
  scope: Scope;
  shared: Scope | undefined;
}

/** Stores one operation with retries; `firstAttempt` settles after the first try, `done` after the last. */
function writeOne(
  write: ScopedOperation,
  settings: TurnWriteSettings,
  reporter: Reporter,
  failures: FailedWrite[],
): { firstAttempt: Promise<void>; done: Promise<void> } {
  const { operation, scope } = write;
  const { store, writeTimeoutMs } = settings;
  let firstAttemptDone = () => {};
  const firstAttempt = new Promise<void>((resolve) => {
    firstAttemptDone = resolve;
  });
  // H2: each attempt is bounded; a store that never answers costs an attempt, not the wrapper.
  const attempt = () =>
    withinTime(
      writeTimeoutMs,
      (signal) => apply(write, settings, signal),
      () => new StoreTimeoutError(store.name, operation.kind, writeTimeoutMs),
    );
  const done = withRetries(attempt, isRetryable, firstAttemptDone)
    .then((result) => {
      recordTracedAttempts(result.attempts);
      if (result.ok) {
        reporter.notify(settings.onWrite, { scope, operation, changes: result.value, attempts: result.attempts });
        reporter.log((options) => describeWrite(operation, scope, result, options));
        return;
      }
      const error = toStoreError(result.error, store.name, operation.kind);
      reporter.report(error, { stage: 'write', scope, operation, attempts: result.attempts });
      failures.push({ error, operation, scope, attempts: result.attempts });
      reporter.log((options) => describeWrite(operation, scope, { ...result, error }, options));
    })
    .finally(firstAttemptDone);
  return { firstAttempt, done };
}

async function apply(
  { operation, scope, shared }: ScopedOperation,
  { store }: TurnWriteSettings,
  signal: AbortSignal,
): Promise<MemoryChange[]> {
  const reason = operation.reason !== undefined ? { reason: operation.reason } : {};
  switch (operation.kind) {
    case 'add':
      return store.add(operation.write, { scope, ...reason, signal });
    case 'update': {
      if (!store.update) throw missingMethod(store.name, 'update');
      await checkTarget(operation.id, 'update', { scope, shared }, store);
      const updated = await store.update(operation.id, operation.patch, reason);
      return updated ? [{ event: 'UPDATE' as const, id: operation.id, text: updated.text }] : [];
    }
    case 'delete': {
      if (!store.delete) throw missingMethod(store.name, 'delete');
      await checkTarget(operation.id, 'delete', { scope, shared }, store);
      const deleted = await store.delete(operation.id, reason);
      return deleted ? [{ event: 'DELETE' as const, id: operation.id }] : [];
    }
  }
}

// L7: an extractor names the memory it changes by id; the turn's scope must hold it, or one
// user's turn could rewrite or erase another user's memory.
async function checkTarget(
  id: string,
  kind: 'update' | 'delete',
  { scope, shared }: Omit<ScopedOperation, 'operation'>,
  store: TurnWriteSettings['store'],
): Promise<void> {
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
      {
        store: store.name,
        operation: kind,
        retryable: false,
      },
    );
  }
}

function missingMethod(store: string, method: 'update' | 'delete'): StoreError {
  return new StoreError(
    `Store "${store}" has no ${method} method, so the extractor's ${method} could not be applied; use a store that offers it or an extractor that only adds.`,
    { store, operation: method, retryable: false },
  );
}

function isRetryable(error: unknown): boolean {
  if (StoreError.isInstance(error)) return error.retryable;
  return !MemoryError.isInstance(error);
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
