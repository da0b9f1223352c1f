/**
 * The read half of a turn: search the store with the user's message, list the standing
 * preferences and profile, check what came back, and build the memory block to inject. Memory
 * trouble is reported and costs the memories, never the call.
 *
 * @module
 */

import { errorMessage, MemoryError, StoreTimeoutError } from './errors.js';
import type { DebugOptions, ResolvedOptions } from './options.js';
import { count, isThenable, type Reporter } from './report.js';
import { sameScope } from './scope.js';
import { checkHits, checkMemories, outsideScopeError } from './store-results.js';
import { withinTime } from './time-limit.js';
import type { TurnTracing } from './tracing.js';
import type { TurnScopes } from './turn-scope.js';
import type { Memory, MemoryHit, Scope } from './types.js';
import { toStoreError } from './writeback.js';

/** What the search reads the options for. */
export type TurnSearchSettings = Pick<ResolvedOptions, 'store' | 'search' | 'redact' | 'prompt'>;

/** The memories found for a turn, and the block built from them. */
export interface TurnSearch {
  hits: MemoryHit[];
  standing: Memory[];
  /** The block to inject; `''` when nothing was found or the builder failed. */
  memoryBlock: string;
}

/** What a turn's search found, before the block is built. */
export type FoundMemories = Omit<TurnSearch, 'memoryBlock'>;

// What stands in every prompt, whatever the query: what the user is and prefers.
const standingTypes = ['preference', 'profile'];

/** Searches the turn's scopes for `query` and builds the memory block. Never rejects for the store. */
export async function searchTurn(
  query: string,
  { scope, shared }: TurnScopes,
  settings: TurnSearchSettings,
  reporter: Reporter,
  traced: TurnTracing,
): Promise<TurnSearch> {
  const { hits, standing } = await traced.search(query, () =>
    shared ? searchWithShared(query, scope, shared, settings, reporter) : searchScope(query, scope, settings, reporter),
  );
  let memoryBlock = '';
  if (hits.length > 0 || standing.length > 0) {
    memoryBlock = traced.build(hits.length + standing.length, () =>
      buildBlock({ query, hits, standing, scope }, settings, reporter),
    );
  }
  return { hits, standing, memoryBlock };
}

/**
 * The memories of the own scope and those stored under exactly the shared one (a search under
 * `{ userId }` also finds every agent's own memories of that user, which are not shared), merged
 * best first, standing ones newest first, each within its limit.
 */
export async function searchWithShared(
  query: string,
  scope: Scope,
  shared: Scope,
  settings: TurnSearchSettings,
  reporter: Reporter,
): Promise<FoundMemories> {
  const { search } = settings;
  const [own, common] = await Promise.all([
    searchScope(query, scope, settings, reporter),
    searchScope(query, shared, settings, reporter),
  ]);
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

/**
 * Searches one scope and lists its standing memories at once, each under `search.timeoutMs`;
 * either may fail on its own (reported), leaving the other's memories.
 */
export async function searchScope(
  query: string,
  scope: Scope,
  { store, search, redact }: TurnSearchSettings,
  reporter: Reporter,
): Promise<FoundMemories> {
  const timedOut = () => new StoreTimeoutError(store.name, 'search', search.timeoutMs);
  // Standing memories obey the same `types` and `filters` as the search.
  const types = standingTypes.filter((type) => !search.types || search.types.includes(type));
  const [found, listed] = await Promise.allSettled([
    query
      ? withinTime(
          search.timeoutMs,
          (signal) =>
            store.search(redact ? redact(query) : query, {
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
    search.profileLimit > 0 && store.list && types.length > 0
      ? withinTime(
          search.timeoutMs,
          () =>
            store.list?.({
              scope,
              types,
              ...(search.filters && { filters: search.filters }),
              limit: search.profileLimit,
            }),
          timedOut,
        )
      : Promise.resolve([]),
  ]);
  const report = (error: unknown) => reporter.report(error, { stage: 'search', scope });

  let hits: MemoryHit[] = [];
  if (found.status === 'rejected') report(toStoreError(found.reason, store.name, 'search'));
  else {
    try {
      // L1: what the call asked for and no more is read, so a store answering a million hits
      // costs the time-out at most, not seconds of checking after it.
      const checked = checkHits(firstOf(found.value, search.limit), store.name, scope);
      hits = checked.hits.sort((a, b) => b.score - a.score);
      if (checked.outside > 0) report(outsideScopeError(store.name, 'search', checked.outside));
    } catch (error) {
      report(error);
    }
  }
  let standing: Memory[] = [];
  if (listed.status === 'rejected') report(toStoreError(listed.reason, store.name, 'list'));
  else {
    try {
      const checked = checkMemories(firstOf(listed.value, search.profileLimit + hits.length), store.name, scope);
      const hitIds = new Set(hits.map((hit) => hit.id));
      standing = checked.memories.filter((memory) => !hitIds.has(memory.id)).slice(0, search.profileLimit);
      if (checked.outside > 0) report(outsideScopeError(store.name, 'list', checked.outside));
    } catch (error) {
      report(error);
    }
  }
  return { hits, standing };
}

/**
 * The block the prompt builder makes of the memories; `''` (reported with stage `build`) when the
 * builder throws or answers anything but a string with text.
 */
export function buildBlock(
  { query, hits, standing, scope }: FoundMemories & { query: string; scope: Scope },
  { prompt, search }: Pick<TurnSearchSettings, 'prompt' | 'search'>,
  reporter: Reporter,
): string {
  let block: unknown;
  try {
    block = prompt.build({ hits, standing, maxTokens: search.maxTokens, now: new Date(), query });
  } catch (error) {
    reporter.report(new MemoryError(`The prompt builder failed: ${errorMessage(error)}`, { cause: error }), {
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
  reporter.report(
    new MemoryError(
      `The prompt builder returned ${got} instead of a string (build must be synchronous); nothing was injected.`,
    ),
    { stage: 'build', scope },
  );
  return '';
}

/** The memories with the first of each id, in order. */
export function uniqueById<M extends Memory>(memories: M[]): M[] {
  const seen = new Set<string>();
  return memories.filter((memory) => !seen.has(memory.id) && seen.add(memory.id));
}

/** The debug line of a search: sizes, counts, ids and the scope; text only with `debug.text`. */
export function describeSearch(
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

/** The first `limit` items of an array answer (anything else is left for the checks to refuse). */
function firstOf(value: unknown, limit: number): unknown {
  return Array.isArray(value) && value.length > limit ? value.slice(0, limit) : value;
}
