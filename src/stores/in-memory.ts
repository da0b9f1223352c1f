/**
 * `inMemoryStore`: the local store's behaviour (word ranking, duplicate merging, history, expiry)
 * without a file, for tests, demos and short-lived processes. Everything is lost on exit.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { InvalidOptionsError, StoreError } from '../core/errors.js';
import { toInvalidOptionsError } from '../core/options.js';
import { parseScope, scopeKey, scopeMatches } from '../core/scope.js';
import type {
  AddOptions,
  ChangeOptions,
  DeleteOptions,
  HistoryEntry,
  ListOptions,
  Memory,
  MemoryChange,
  MemoryHit,
  MemoryPatch,
  MemoryStore,
  MemoryType,
  MemoryWrite,
  MetadataFilter,
  SearchOptions,
} from '../core/types.js';
import { searchTerms, terms } from '../text/text-terms.js';
import { asksForTime } from './contextual-ranking.js';
import { newFacts, type PreparedFact, restatedChange } from './kernel/new-facts.js';
import {
  type MemoryContext,
  planCandidates,
  type RankCandidate,
  rankCandidates,
  rankingSettings,
} from './kernel/ranking.js';
import { contentHash, RestatementIndex, restatement } from './kernel/restatements.js';
import { listSchema, patchSchema, searchSchema, validate } from './kernel/store-input.js';

/** Options of `inMemoryStore`. */
export interface InMemoryStoreOptions {
  /**
   * How alike (0..1, the `restatementOverlap` of their terms) a new fact and a stored one of the same
   * scope and type must be for the new fact to update the stored one instead of being added.
   * Facts with the same text (ignoring case and spacing) always count as the same.
   * @default 0.85
   */
  duplicateThreshold?: number;
}

/** A store with every optional method of `MemoryStore`, so callers need no feature checks. */
export type InMemoryStore = Required<MemoryStore>;

const optionsSchema = z
  .object(
    {
      duplicateThreshold: z
        .number({ error: 'a number above 0 and at most 1' })
        .gt(0, { error: 'a number above 0 and at most 1' })
        .max(1, { error: 'a number above 0 and at most 1' })
        .optional(),
    },
    { error: 'an options object such as { duplicateThreshold: 0.85 }' },
  )
  .strict();

const defaultSearchLimit = 8;
const defaultListLimit = 100;
const maxListLimit = 1000;

/** A history entry before it gets its ids and time; `undefined` fields are left out. */
interface HistoryChange {
  event: HistoryEntry['event'];
  oldText?: string | undefined;
  newText?: string | undefined;
  reason?: string | undefined;
}

interface StoredMemory {
  memory: Memory;
  terms: string[];
  /** The hash of the normalised text, for exact restatements (`contentHash`). */
  hash: string;
  /** Change order, so that memories changed within the same millisecond still sort newest first. */
  sequence: number;
  /** Write order, fixed when the memory is added: what neighbours in a search are. */
  key: number;
}

/**
 * The memories of one exact scope, indexed: by term (search), by type (lists of some types), per
 * type for restatements (the kernel's `RestatementIndex`), in write order (neighbours), with their
 * total length (BM25).
 */
interface ScopeGroup {
  scope: Memory['scope'];
  members: StoredMemory[];
  postings: Map<string, Set<StoredMemory>>;
  byType: Map<MemoryType | undefined, Set<StoredMemory>>;
  restatements: Map<MemoryType | undefined, RestatementIndex<number>>;
  totalTerms: number;
}

// The scope field a group is found by, most selective first (as the local store's indexes).
const lookupFields = ['runId', 'userId', 'agentId'] as const;

/**
 * Creates a store that keeps memories in this process's memory. Search ranks by BM25 over
 * `terms()`; a restated fact updates the memory it restates instead of adding a duplicate.
 *
 * @example
 * const store = inMemoryStore();
 * await store.add({ facts: [{ text: 'Prefers dark mode', type: 'preference' }] }, { scope: { userId: 'u1' } });
 * const hits = await store.search('dark mode', { scope: { userId: 'u1' } });
 */
export function inMemoryStore(options: InMemoryStoreOptions = {}): InMemoryStore {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw toInvalidOptionsError(parsed.error);
  const { duplicateThreshold = 0.85 } = parsed.data;

  const memories = new Map<string, StoredMemory>();
  const byKey = new Map<number, StoredMemory>();
  // The memories of each exact scope, and the groups of each scope id, so that a search or a
  // restatement check reads its own scope's index, never the whole store.
  const byScope = new Map<string, ScopeGroup>();
  const byField = new Map<string, Set<ScopeGroup>>();
  const histories = new Map<string, HistoryEntry[]>();
  let sequence = 0;
  let nextKey = 0;
  let closed = false;

  function groupOf(scope: Memory['scope']): ScopeGroup {
    const key = scopeKey(scope);
    let group = byScope.get(key);
    if (!group) {
      group = {
        scope: { ...scope },
        members: [],
        postings: new Map(),
        byType: new Map(),
        restatements: new Map(),
        totalTerms: 0,
      };
      byScope.set(key, group);
      for (const field of lookupFields) {
        const id = scope[field];
        if (id === undefined) continue;
        const fieldKey = `${field}:${id}`;
        byField.set(fieldKey, (byField.get(fieldKey) ?? new Set()).add(group));
      }
    }
    return group;
  }

  /** The groups inside a searched scope. */
  function groupsIn(scope: Memory['scope']): ScopeGroup[] {
    const field = lookupFields.find((name) => scope[name] !== undefined);
    const found = field ? byField.get(`${field}:${scope[field]}`) : undefined;
    return [...(found ?? [])].filter((group) => scopeMatches(group.scope, scope));
  }

  function index(group: ScopeGroup, stored: StoredMemory): void {
    for (const term of new Set(stored.terms)) {
      let holders = group.postings.get(term);
      if (!holders) {
        holders = new Set();
        group.postings.set(term, holders);
      }
      holders.add(stored);
    }
    restatementsOf(group, stored.memory.type).add(stored.key, stored.hash, stored.terms);
    group.totalTerms += stored.terms.length;
  }

  function unindex(group: ScopeGroup, stored: StoredMemory): void {
    for (const term of new Set(stored.terms)) {
      const holders = group.postings.get(term);
      holders?.delete(stored);
      if (holders?.size === 0) group.postings.delete(term);
    }
    restatementsOf(group, stored.memory.type).forget(stored.key);
    group.totalTerms -= stored.terms.length;
  }

  function restatementsOf(group: ScopeGroup, type: MemoryType | undefined): RestatementIndex<number> {
    let found = group.restatements.get(type);
    if (!found) {
      found = new RestatementIndex();
      group.restatements.set(type, found);
    }
    return found;
  }

  /** Changes a stored memory's text, keeping its group's indexes in step. */
  function retext(stored: StoredMemory, text: string): void {
    const group = groupOf(stored.memory.scope);
    unindex(group, stored);
    stored.memory.text = text;
    Object.assign(stored, indexed(text));
    index(group, stored);
  }

  function put(stored: StoredMemory): void {
    memories.set(stored.memory.id, stored);
    byKey.set(stored.key, stored);
    const group = groupOf(stored.memory.scope);
    group.members.push(stored);
    index(group, stored);
    typed(group, stored);
  }

  function remove(stored: StoredMemory): void {
    memories.delete(stored.memory.id);
    byKey.delete(stored.key);
    const group = groupOf(stored.memory.scope);
    const at = positionOf(group.members, stored.key);
    if (group.members[at] === stored) group.members.splice(at, 1);
    unindex(group, stored);
    untyped(group, stored);
  }

  function typed(group: ScopeGroup, stored: StoredMemory): void {
    const { type } = stored.memory;
    let same = group.byType.get(type);
    if (!same) {
      same = new Set();
      group.byType.set(type, same);
    }
    same.add(stored);
  }

  function untyped(group: ScopeGroup, stored: StoredMemory): void {
    const same = group.byType.get(stored.memory.type);
    same?.delete(stored);
    if (same?.size === 0) group.byType.delete(stored.memory.type);
  }

  /** The group's memories of `types` (all of them without types), in no particular order. */
  function membersOf(group: ScopeGroup, types: MemoryType[] | undefined): StoredMemory[] {
    if (!types) return group.members;
    const found: StoredMemory[] = [];
    for (const type of new Set(types)) for (const stored of group.byType.get(type) ?? []) found.push(stored);
    return found;
  }

  function assertOpen(operation: StoreError['operation']): void {
    if (closed) {
      throw new StoreError('The in-memory store is closed; create a new one with inMemoryStore().', {
        store: 'memory',
        operation,
        retryable: false,
      });
    }
  }

  function record(memoryId: string, entry: HistoryChange, at: Date): void {
    const entries = histories.get(memoryId) ?? [];
    entries.push({ id: randomUUID(), memoryId, createdAt: at, ...withoutUndefined(entry) });
    histories.set(memoryId, entries);
  }

  /** Whether a search or list of these types and metadata may return the memory now. */
  function visibleTo(types: MemoryType[] | undefined, filters: MetadataFilter | undefined, now: number) {
    return ({ memory }: StoredMemory): boolean =>
      !isExpired(memory, now) &&
      (!types || (memory.type !== undefined && types.includes(memory.type))) &&
      (!filters || metadataMatches(memory.metadata, filters));
  }

  /** The unexpired memory of the scope and type that the fact restates (the kernel's rules). */
  function findRestated(fact: PreparedFact, scope: Memory['scope']): StoredMemory | undefined {
    const group = byScope.get(scopeKey(scope));
    if (!group) return undefined;
    const now = Date.now();
    const index = restatementsOf(group, fact.type);
    const alive = (key: number) => {
      const stored = byKey.get(key);
      return stored !== undefined && !isExpired(stored.memory, now);
    };
    const key = index.sameText(fact.contentHash, alive) ?? index.sameWords(fact.terms, duplicateThreshold, alive);
    return key === undefined ? undefined : byKey.get(key);
  }

  /** The nearest visible memories before and after `key` (at most two each), across the groups. */
  function neighboursOf(
    groups: ScopeGroup[],
    key: number,
    visible: (stored: StoredMemory) => boolean,
  ): Pick<MemoryContext, 'before' | 'after'> {
    const before: number[] = [];
    const after: number[] = [];
    for (const group of groups) {
      const at = positionOf(group.members, key);
      for (let index = at - 1, taken = 0; index >= 0 && taken < 2; index -= 1) {
        const stored = group.members[index] as StoredMemory;
        if (!visible(stored)) continue;
        before.push(stored.key);
        taken += 1;
      }
      const start = group.members[at]?.key === key ? at + 1 : at;
      for (let index = start, taken = 0; index < group.members.length && taken < 2; index += 1) {
        const stored = group.members[index] as StoredMemory;
        if (!visible(stored)) continue;
        after.push(stored.key);
        taken += 1;
      }
    }
    if (groups.length === 1) return { before, after };
    return { before: before.sort((x, y) => y - x).slice(0, 2), after: after.sort((x, y) => x - y).slice(0, 2) };
  }

  function search(query: string, options: SearchOptions): MemoryHit[] {
    const scope = parseScope(options.scope);
    // The same checks as the other stores: bad input is an error naming the field, never a TypeError.
    validate(searchSchema, options);
    if (typeof query !== 'string') throw new InvalidOptionsError('query', 'a string');
    const queryTerms = [...new Set(searchTerms(query))];
    const limit = options.limit ?? defaultSearchLimit;
    if (queryTerms.length === 0 || limit === 0) return [];
    const groups = groupsIn(scope);
    let size = 0;
    let totalTerms = 0;
    for (const group of groups) {
      size += group.members.length;
      totalTerms += group.totalTerms;
    }
    if (size === 0) return [];
    const now = Date.now();
    const visible = visibleTo(options.types, options.filters, now);
    const holders: Array<Iterable<StoredMemory>> = [];
    const documentFrequency = new Map<string, number>();
    for (const term of queryTerms) {
      const found = groups.length === 1 ? groups[0]?.postings.get(term) : undefined;
      const list = found ?? groups.flatMap((group) => [...(group.postings.get(term) ?? [])]);
      holders.push(list);
      documentFrequency.set(term, found ? found.size : (list as StoredMemory[]).length);
    }
    // The local store's plan: the oldest memories of a common term stand for it.
    const { termPostingLimit, wholeScopeSize } = rankingSettings;
    const plan =
      size <= wholeScopeSize
        ? { keys: new Set<number>(), wholeScope: true }
        : planCandidates(
            holders.map((found) => {
              const keys = [...found].map((stored) => stored.key);
              return keys.length <= termPostingLimit ? keys : keys.sort((x, y) => x - y).slice(0, termPostingLimit + 1);
            }),
            size,
            limit,
          );
    const chosen = new Set<StoredMemory>();
    if (plan.wholeScope) for (const found of holders) for (const stored of found) chosen.add(stored);
    else for (const key of plan.keys) chosen.add(byKey.get(key) as StoredMemory);
    const candidates: Array<RankCandidate & { stored: StoredMemory }> = [];
    for (const stored of chosen) {
      if (!visible(stored)) continue;
      candidates.push({ key: stored.key, terms: stored.terms, updatedAt: stored.memory.updatedAt.getTime(), stored });
    }
    const withText = asksForTime(query);
    const contextOf = (keys: number[]) => {
      const contexts = new Map<number, MemoryContext>();
      for (const key of keys) {
        const { before, after } = neighboursOf(groups, key, visible);
        contexts.set(key, { text: withText ? (byKey.get(key)?.memory.text ?? '') : '', before, after });
      }
      return contexts;
    };
    const statistics = { size, totalTerms, documentFrequency };
    const threshold = options.threshold ?? 0;
    return rankCandidates(query, queryTerms, candidates, statistics, contextOf, { limit, threshold, now }).map(
      ({ candidate, score, parts }) => {
        const hit = copy(candidate.stored.memory) as MemoryHit;
        hit.score = score;
        hit.scoreParts = parts;
        return hit;
      },
    );
  }

  function addFact(fact: PreparedFact, reason: string | undefined, scope: Memory['scope']): MemoryChange {
    const now = new Date();
    const saidAt = fact.saidAt === undefined ? now : new Date(fact.saidAt);
    const restated = findRestated(fact, scope);
    if (restated) {
      const { memory } = restated;
      const { metadata, saidAgain } = restatement(memory, fact);
      const previous = { id: memory.id, text: memory.text };
      if (memory.text !== fact.text) retext(restated, fact.text);
      memory.metadata = metadata;
      // A back-filled restatement said before the last update must not make the memory look older.
      if (saidAt > memory.updatedAt) memory.updatedAt = saidAt;
      if (fact.expiresAt !== undefined) memory.expiresAt = new Date(fact.expiresAt);
      restated.sequence = ++sequence;
      // Said again word for word: NONE, and nothing for the history (as the other stores).
      const { change, record: entry } = restatedChange(previous, fact.text, saidAgain, { reason, actor: '' }, 0);
      if (entry) record(memory.id, entry, now);
      return change;
    }
    const memory: Memory = {
      id: randomUUID(),
      text: fact.text,
      metadata: fact.metadata,
      scope: { ...scope },
      createdAt: saidAt,
      updatedAt: new Date(saidAt),
    };
    if (fact.type !== undefined) memory.type = fact.type;
    if (fact.expiresAt !== undefined) memory.expiresAt = new Date(fact.expiresAt);
    put({ memory, terms: fact.terms, hash: fact.contentHash, sequence: ++sequence, key: ++nextKey });
    record(memory.id, { event: 'ADD', newText: fact.text, reason }, now);
    return { event: 'ADD', id: memory.id, text: fact.text };
  }

  return {
    name: 'memory',
    extractsFacts: false,

    async search(query: string, options: SearchOptions): Promise<MemoryHit[]> {
      assertOpen('search');
      options.signal?.throwIfAborted();
      return search(query, options);
    },

    async add(write: MemoryWrite, options: AddOptions): Promise<MemoryChange[]> {
      assertOpen('add');
      options.signal?.throwIfAborted();
      const { scope, facts } = newFacts(write, options);
      return facts.map((fact) => addFact(fact, options.reason, scope));
    },

    async get(id: string): Promise<Memory | null> {
      assertOpen('get');
      const stored = memories.get(id);
      return stored && !isExpired(stored.memory, Date.now()) ? copy(stored.memory) : null;
    },

    async list(options: ListOptions): Promise<Memory[]> {
      assertOpen('list');
      const scope = parseScope(options.scope);
      validate(listSchema, options);
      const limit = Math.min(options.limit ?? defaultListLimit, maxListLimit);
      const offset = options.offset ?? 0;
      const visible = visibleTo(options.types, options.filters, Date.now());
      return groupsIn(scope)
        .flatMap((group) => membersOf(group, options.types).filter(visible))
        .sort(newestFirst)
        .slice(offset, offset + limit)
        .map((stored) => copy(stored.memory));
    },

    async update(id: string, patch: MemoryPatch, options: ChangeOptions = {}): Promise<Memory | null> {
      assertOpen('update');
      const text = typeof patch.text === 'string' ? patch.text.trim() : undefined;
      if (text === '') {
        throw new StoreError('A memory cannot be updated to empty text; delete it instead.', {
          store: 'memory',
          operation: 'update',
          retryable: false,
        });
      }
      validate(patchSchema, patch);
      const stored = memories.get(id);
      if (!stored || isExpired(stored.memory, Date.now())) return null;
      const { memory } = stored;
      const previousText = memory.text;
      const now = new Date();
      if (text !== undefined) retext(stored, text);
      if (patch.type !== undefined) {
        // Restatements are looked for among memories of the same type: the memory moves index.
        const group = groupOf(memory.scope);
        unindex(group, stored);
        untyped(group, stored);
        memory.type = patch.type;
        typed(group, stored);
        index(group, stored);
      }
      if (patch.metadata !== undefined) memory.metadata = structuredClone(patch.metadata);
      if (patch.expiresAt === null) delete memory.expiresAt;
      else if (patch.expiresAt !== undefined) memory.expiresAt = new Date(patch.expiresAt);
      memory.updatedAt = now;
      stored.sequence = ++sequence;
      record(id, { event: 'UPDATE', oldText: previousText, newText: memory.text, reason: options.reason }, now);
      return copy(memory);
    },

    async delete(id: string, options: DeleteOptions = {}): Promise<boolean> {
      assertOpen('delete');
      const stored = memories.get(id);
      if (options.erase === true) {
        // Also what an earlier delete left: the words of the history.
        const history = histories.get(id);
        if (!stored && !history) return false;
        if (stored) remove(stored);
        histories.set(id, scrubbed(history ?? []));
        record(id, { event: 'DELETE' }, new Date());
        return true;
      }
      if (!stored) return false;
      remove(stored);
      record(id, { event: 'DELETE', oldText: stored.memory.text, reason: options.reason }, new Date());
      return true;
    },

    async deleteAll(scope): Promise<number> {
      assertOpen('deleteAll');
      const parsedScope = parseScope(scope);
      const now = new Date();
      let deleted = 0;
      for (const group of groupsIn(parsedScope)) {
        byScope.delete(scopeKey(group.scope));
        for (const field of lookupFields) byField.get(`${field}:${group.scope[field]}`)?.delete(group);
        for (const stored of group.members) {
          const id = stored.memory.id;
          memories.delete(id);
          byKey.delete(stored.key);
          // Forgetting a user must not leave their words behind in the history: keep only that
          // changes, and the deletion, happened.
          histories.set(id, scrubbed(histories.get(id) ?? []));
          record(id, { event: 'DELETE' }, now);
          deleted += 1;
        }
      }
      return deleted;
    },

    async history(id: string): Promise<HistoryEntry[]> {
      assertOpen('history');
      return (histories.get(id) ?? []).map((entry) => structuredClone(entry));
    },

    async flush(): Promise<void> {
      assertOpen('flush');
    },

    async close(): Promise<void> {
      closed = true;
      memories.clear();
      byKey.clear();
      byScope.clear();
      byField.clear();
      histories.clear();
    },
  };
}

/** History entries without their words (texts and reasons): only that changes happened. */
function scrubbed(entries: HistoryEntry[]): HistoryEntry[] {
  return entries.map(({ oldText, newText, reason, ...entry }) => entry);
}

/** What a memory's text is searched and compared by. */
function indexed(text: string): Pick<StoredMemory, 'terms' | 'hash'> {
  return { terms: terms(text), hash: contentHash(text) };
}

/** Where `key` is, or would go, in members sorted by key. */
function positionOf(members: StoredMemory[], key: number): number {
  let low = 0;
  let high = members.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((members[middle] as StoredMemory).key < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

function newestFirst(x: StoredMemory, y: StoredMemory): number {
  return y.memory.updatedAt.getTime() - x.memory.updatedAt.getTime() || y.sequence - x.sequence;
}

function isExpired(memory: Memory, now: number): boolean {
  return memory.expiresAt !== undefined && memory.expiresAt.getTime() <= now;
}

function metadataMatches(metadata: Memory['metadata'], filters: MetadataFilter): boolean {
  return Object.entries(filters).every(([key, wanted]) =>
    Array.isArray(wanted) ? (wanted as unknown[]).includes(metadata[key]) : metadata[key] === wanted,
  );
}

// Callers get copies: changing a returned memory must never change what the store holds.
function copy(memory: Memory): Memory {
  const copied: Memory = {
    id: memory.id,
    text: memory.text,
    // Metadata is free-form JSON: only a deep copy keeps nested values apart.
    metadata: Object.keys(memory.metadata).length === 0 ? {} : structuredClone(memory.metadata),
    scope: { ...memory.scope },
    createdAt: new Date(memory.createdAt),
    updatedAt: new Date(memory.updatedAt),
  };
  if (memory.type !== undefined) copied.type = memory.type;
  if (memory.expiresAt) copied.expiresAt = new Date(memory.expiresAt);
  return copied;
}

function withoutUndefined(change: HistoryChange): Pick<HistoryEntry, 'event' | 'oldText' | 'newText' | 'reason'> {
  const entry: Pick<HistoryEntry, 'event' | 'oldText' | 'newText' | 'reason'> = { event: change.event };
  if (change.oldText !== undefined) entry.oldText = change.oldText;
  if (change.newText !== undefined) entry.newText = change.newText;
  if (change.reason !== undefined) entry.reason = change.reason;
  return entry;
}
