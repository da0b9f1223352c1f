/**
 * The in-memory store's memories, indexed: by id, by write order, and per exact scope by term
 * (search), by type (lists of some types), per type for restatements (the kernel's
 * `RestatementIndex`), in write order (neighbours), with their total length (BM25). A search or a
 * restatement check reads its own scope's index, never the whole store.
 *
 * @module
 */

import { scopeKey, scopeMatches } from '../../core/scope.js';
import type { Memory, MemoryType, MetadataFilter } from '../../core/types.js';
import { terms } from '../../text/text-terms.js';
import type { PreparedFact } from '../kernel/new-facts.js';
import type { MemoryContext } from '../kernel/ranking.js';
import { contentHash, RestatementIndex } from '../kernel/restatements.js';

/** A memory as the store holds it. */
export interface StoredMemory {
  memory: Memory;
  terms: string[];
  /** The hash of the normalised text, for exact restatements (`contentHash`). */
  hash: string;
  /** Change order, so that memories changed within the same millisecond still sort newest first. */
  sequence: number;
  /** Write order, fixed when the memory is added: what neighbours in a search are. */
  key: number;
}

/** The memories of one exact scope, indexed. */
export interface ScopeGroup {
  scope: Memory['scope'];
  members: StoredMemory[];
  postings: Map<string, Set<StoredMemory>>;
  byType: Map<MemoryType | undefined, Set<StoredMemory>>;
  restatements: Map<MemoryType | undefined, RestatementIndex<number>>;
  totalTerms: number;
}

// The scope field a group is found by, most selective first (as the local store's indexes).
const lookupFields = ['runId', 'userId', 'agentId'] as const;

/** Every memory of one in-memory store. */
export class MemoryIndex {
  readonly memories = new Map<string, StoredMemory>();
  readonly byKey = new Map<number, StoredMemory>();
  readonly #byScope = new Map<string, ScopeGroup>();
  readonly #byField = new Map<string, Set<ScopeGroup>>();
  #sequence = 0;
  #key = 0;

  /** The next change order. */
  nextSequence(): number {
    this.#sequence += 1;
    return this.#sequence;
  }

  /** The next write order. */
  nextKey(): number {
    this.#key += 1;
    return this.#key;
  }

  groupOf(scope: Memory['scope']): ScopeGroup {
    const key = scopeKey(scope);
    let group = this.#byScope.get(key);
    if (!group) {
      group = {
        scope: { ...scope },
        members: [],
        postings: new Map(),
        byType: new Map(),
        restatements: new Map(),
        totalTerms: 0,
      };
      this.#byScope.set(key, group);
      for (const field of lookupFields) {
        const id = scope[field];
        if (id === undefined) continue;
        const fieldKey = `${field}:${id}`;
        this.#byField.set(fieldKey, (this.#byField.get(fieldKey) ?? new Set()).add(group));
      }
    }
    return group;
  }

  /** The groups inside a searched scope. */
  groupsIn(scope: Memory['scope']): ScopeGroup[] {
    const field = lookupFields.find((name) => scope[name] !== undefined);
    const found = field ? this.#byField.get(`${field}:${scope[field]}`) : undefined;
    return [...(found ?? [])].filter((group) => scopeMatches(group.scope, scope));
  }

  /** Adds a new memory. */
  put(stored: StoredMemory): void {
    this.memories.set(stored.memory.id, stored);
    this.byKey.set(stored.key, stored);
    const group = this.groupOf(stored.memory.scope);
    group.members.push(stored);
    this.#index(group, stored);
    typed(group, stored);
  }

  /** Removes a memory. */
  remove(stored: StoredMemory): void {
    this.memories.delete(stored.memory.id);
    this.byKey.delete(stored.key);
    const group = this.groupOf(stored.memory.scope);
    const at = positionOf(group.members, stored.key);
    if (group.members[at] === stored) group.members.splice(at, 1);
    this.#unindex(group, stored);
    untyped(group, stored);
  }

  /** Removes every memory of a group, and the group; returns them. */
  removeGroup(group: ScopeGroup): StoredMemory[] {
    this.#byScope.delete(scopeKey(group.scope));
    for (const field of lookupFields) this.#byField.get(`${field}:${group.scope[field]}`)?.delete(group);
    for (const stored of group.members) {
      this.memories.delete(stored.memory.id);
      this.byKey.delete(stored.key);
    }
    return group.members;
  }

  /** Changes a stored memory's text, keeping its group's indexes in step. */
  retext(stored: StoredMemory, text: string): void {
    const group = this.groupOf(stored.memory.scope);
    this.#unindex(group, stored);
    stored.memory.text = text;
    Object.assign(stored, indexed(text));
    this.#index(group, stored);
  }

  /** Changes a stored memory's type: restatements are looked for among memories of one type. */
  retype(stored: StoredMemory, type: MemoryType): void {
    const group = this.groupOf(stored.memory.scope);
    this.#unindex(group, stored);
    untyped(group, stored);
    stored.memory.type = type;
    typed(group, stored);
    this.#index(group, stored);
  }

  /** The unexpired memory of the scope and type that the fact restates (the kernel's rules). */
  findRestated(fact: PreparedFact, scope: Memory['scope'], threshold: number): StoredMemory | undefined {
    const group = this.#byScope.get(scopeKey(scope));
    if (!group) return undefined;
    const now = Date.now();
    const restatements = restatementsOf(group, fact.type);
    const alive = (key: number) => {
      const stored = this.byKey.get(key);
      return stored !== undefined && !isExpired(stored.memory, now);
    };
    const key = restatements.sameText(fact.contentHash, alive) ?? restatements.sameWords(fact.terms, threshold, alive);
    return key === undefined ? undefined : this.byKey.get(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.memories.clear();
    this.byKey.clear();
    this.#byScope.clear();
    this.#byField.clear();
  }

  #index(group: ScopeGroup, stored: StoredMemory): void {
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

  #unindex(group: ScopeGroup, stored: StoredMemory): void {
    for (const term of new Set(stored.terms)) {
      const holders = group.postings.get(term);
      holders?.delete(stored);
      if (holders?.size === 0) group.postings.delete(term);
    }
    restatementsOf(group, stored.memory.type).forget(stored.key);
    group.totalTerms -= stored.terms.length;
  }
}

/** What a memory's text is searched and compared by. */
export function indexed(text: string): Pick<StoredMemory, 'terms' | 'hash'> {
  return { terms: terms(text), hash: contentHash(text) };
}

/** The group's memories of `types` (all of them without types), in no particular order. */
export function membersOf(group: ScopeGroup, types: MemoryType[] | undefined): StoredMemory[] {
  if (!types) return group.members;
  const found: StoredMemory[] = [];
  for (const type of new Set(types)) for (const stored of group.byType.get(type) ?? []) found.push(stored);
  return found;
}

/** Whether a search or list of these types and metadata may return the memory now. */
export function visibleTo(types: MemoryType[] | undefined, filters: MetadataFilter | undefined, now: number) {
  return ({ memory }: StoredMemory): boolean =>
    !isExpired(memory, now) &&
    (!types || (memory.type !== undefined && types.includes(memory.type))) &&
    (!filters || metadataMatches(memory.metadata, filters));
}

/** The nearest visible memories before and after `key` (at most two each), across the groups. */
export function neighboursOf(
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

/** Newest change first. */
export function newestFirst(x: StoredMemory, y: StoredMemory): number {
  return y.memory.updatedAt.getTime() - x.memory.updatedAt.getTime() || y.sequence - x.sequence;
}

/** Whether the memory has expired at `now`. */
export function isExpired(memory: Memory, now: number): boolean {
  return memory.expiresAt !== undefined && memory.expiresAt.getTime() <= now;
}

function restatementsOf(group: ScopeGroup, type: MemoryType | undefined): RestatementIndex<number> {
  let found = group.restatements.get(type);
  if (!found) {
    found = new RestatementIndex();
    group.restatements.set(type, found);
  }
  return found;
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

function metadataMatches(metadata: Memory['metadata'], filters: MetadataFilter): boolean {
  return Object.entries(filters).every(([key, wanted]) =>
    Array.isArray(wanted) ? (wanted as unknown[]).includes(metadata[key]) : metadata[key] === wanted,
  );
}

/** A copy for a caller: changing a returned memory must never change what the store holds. */
export function copy(memory: Memory): Memory {
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
