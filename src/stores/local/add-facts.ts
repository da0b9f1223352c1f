/**
 * Writing facts to SQLite: a fact that restates a memory of the same scope and type updates that
 * memory (and its history) instead of piling up a duplicate, by the kernel's rules
 * (`../kernel/restatements.ts`: the same text, the same words, the same meaning).
 *
 * For the comparison, the memories of the scope and type are read once per `add` into an index in
 * memory (terms to memories), unless the scope is large and the write small: then each fact asks
 * SQLite (hash index, FTS index) instead. Facts of one batch see each other either way.
 *
 * @module
 */

import type { MemoryChange, MemoryType, Scope } from '../../core/types.js';
import { type MemoryRow, scopeColumns } from '../kernel/memory-rows.js';
import {
  type AddSettings,
  addedChange,
  type PreparedFact,
  restatedChange,
  timeOrderedId,
} from '../kernel/new-facts.js';
import { bestOverlap, bestSimilarity, probeCount, RestatementIndex, restatement } from '../kernel/restatements.js';
import type { Connection } from './connection.js';
import { sameScopeAndTypeCondition } from './filters.js';
import { ftsToken, matchExpression } from './fts-query.js';
import { recordHistory } from './history.js';
import { indexTerms, reindexTerms, storeVector } from './index-entries.js';
import { joinTerms, memoryColumns, splitTerms } from './rows.js';
import { bytesToVector } from './vector-bytes.js';

// Reading a scope's memories costs about 2 µs each; asking SQLite costs about 200 µs per fact. A
// scope is read into memory when that is cheaper, up to this many memories.
const maxLoadedMemories = 20_000;
const loadedMemoriesPerFact = 100;
// Near-duplicate candidates SQLite returns per fact, when the scope is not read into memory.
const nearDuplicateCandidates = 50;
// Terms a memory with the same text must all hold: enough to narrow the FTS lookup to a few rows.
const exactProbeTerms = 8;

/** Writes the facts; call inside a write transaction. Returns one change per fact, in order. */
export function addFacts(
  connection: Connection,
  facts: PreparedFact[],
  scope: Scope,
  settings: AddSettings,
  now: number,
): MemoryChange[] {
  const groups = new Map<string, ScopeMemories>();
  const factsPerType = new Map<string, number>();
  for (const fact of facts) factsPerType.set(typeKey(fact.type), (factsPerType.get(typeKey(fact.type)) ?? 0) + 1);

  return facts.map((fact) => {
    const key = typeKey(fact.type);
    let group = groups.get(key);
    if (!group) {
      group = scopeMemories(connection, scope, fact.type, now, factsPerType.get(key) ?? 1);
      groups.set(key, group);
    }
    const existing =
      group.sameText(fact) ??
      group.sameWords(fact, settings.duplicateThreshold) ??
      group.sameMeaning(fact, settings.vectorDuplicateThreshold);
    if (existing === undefined) {
      const { change, seq } = insert(connection, fact, scope, settings, now);
      group.remember(seq, fact);
      return change;
    }
    const row = connection.statement(`SELECT ${memoryColumns} FROM memories AS m WHERE m.seq = ?`).get(existing) as
      | MemoryRow
      | undefined;
    if (!row) throw new Error('A memory found as restated vanished inside its transaction.');
    group.forget(existing);
    group.remember(existing, fact);
    return restate(connection, row, fact, scope, settings, now);
  });
}

/** The memories of one scope and type that a batch of facts is compared with. */
interface ScopeMemories {
  /** The memory with the same normalised text. */
  sameText(fact: PreparedFact): number | undefined;
  /** The memory with the most word overlap, at or above the threshold. */
  sameWords(fact: PreparedFact, threshold: number): number | undefined;
  /** The memory with the most similar vector, at or above the threshold. */
  sameMeaning(fact: PreparedFact, threshold: number): number | undefined;
  /** Adds a memory written by this batch, so later facts of the batch see it. */
  remember(seq: number, fact: PreparedFact): void;
  /** Drops what was known of a memory about to be rewritten. */
  forget(seq: number): void;
}

function scopeMemories(
  connection: Connection,
  scope: Scope,
  type: MemoryType | undefined,
  now: number,
  factCount: number,
): ScopeMemories {
  const same = sameScopeAndTypeCondition(scope, type, now);
  const limit = Math.min(maxLoadedMemories, Math.max(200, factCount * loadedMemoriesPerFact));
  // Counted before anything is read (the scope's size, then, if that is too many, the memories of
  // this type): a scope too large to read costs no row read for nothing.
  const fits =
    scopeSize(connection, scope) <= limit ||
    (connection
      .statement(`SELECT count(*) FROM (SELECT 1 FROM memories AS m WHERE ${same.sql} LIMIT ?)`)
      .pluck()
      .get(...same.params, limit + 1) as number) <= limit;
  // Undefined when the scope is too large to read for this write: SQLite is asked per fact.
  let loaded: RestatementIndex<number> | undefined;
  if (fits) {
    loaded = new RestatementIndex();
    const rows = connection
      .statement(`SELECT m.seq AS seq, m.terms AS terms, m.content_hash AS hash FROM memories AS m WHERE ${same.sql}`)
      .all(...same.params) as Array<{ seq: number; terms: string; hash: string | null }>;
    for (const row of rows) loaded.add(row.seq, row.hash, splitTerms(row.terms));
  }
  let vectors: Map<number, Float32Array> | undefined;

  /** Memories holding at least one of the probe terms, through the FTS index, with their terms. */
  function indexedCandidates(factTerms: string[], threshold: number): Map<number, string[]> {
    const found = new Map<number, string[]>();
    const distinct = [...new Set(factTerms)];
    // Without scope statistics, the longest terms stand in for the rarest.
    const probes = distinct
      .filter((term) => ftsToken(term) !== '')
      .sort((x, y) => y.length - x.length)
      .slice(0, probeCount(distinct.length, threshold));
    const expression = matchExpression(scope, probes);
    if (!expression) return found;
    const rows = connection
      .statement(
        `SELECT m.seq AS seq, m.terms AS terms FROM memories_fts JOIN memories AS m ON m.seq = memories_fts.rowid
         WHERE memories_fts MATCH ? AND ${same.sql} ORDER BY memories_fts.rowid DESC LIMIT ${nearDuplicateCandidates}`,
      )
      .all(expression, ...same.params) as Array<{ seq: number; terms: string }>;
    for (const row of rows) found.set(row.seq, splitTerms(row.terms));
    return found;
  }

  function loadVectors(): Map<number, Float32Array> {
    const rows = connection
      .statement(
        `SELECT m.seq AS seq, v.vector AS vector FROM memories AS m JOIN memory_vectors AS v ON v.memory_seq = m.seq WHERE ${same.sql}`,
      )
      .all(...same.params) as Array<{ seq: number; vector: Uint8Array }>;
    return new Map(rows.map((row) => [row.seq, bytesToVector(row.vector)]));
  }

  return {
    sameText(fact) {
      if (loaded) return loaded.sameText(fact.contentHash);
      // No index on the hash (a random key would slow every insert): the same text has the same
      // terms, so the FTS index finds it; a text without terms is looked for in the scope's rows.
      const probes = [...new Set(fact.terms)].sort((x, y) => y.length - x.length).slice(0, exactProbeTerms);
      const expression = matchExpression(scope, probes, 'all');
      const row = (
        expression
          ? connection
              .statement(
                `SELECT m.seq AS seq FROM memories_fts JOIN memories AS m ON m.seq = memories_fts.rowid
                 WHERE memories_fts MATCH ? AND ${same.sql} AND m.content_hash = ? LIMIT 1`,
              )
              .get(expression, ...same.params, fact.contentHash)
          : connection
              .statement(`SELECT m.seq AS seq FROM memories AS m WHERE ${same.sql} AND m.content_hash = ? LIMIT 1`)
              .get(...same.params, fact.contentHash)
      ) as { seq: number } | undefined;
      return row?.seq;
    },

    sameWords(fact, threshold) {
      if (loaded) return loaded.sameWords(fact.terms, threshold);
      if (fact.terms.length === 0) return undefined;
      return bestOverlap(fact.terms, indexedCandidates(fact.terms, threshold), threshold);
    },

    sameMeaning(fact, threshold) {
      if (!fact.vector) return undefined;
      vectors ??= loadVectors();
      return bestSimilarity(fact.vector, vectors, threshold);
    },

    remember(seq, fact) {
      loaded?.add(seq, fact.contentHash, fact.terms);
      if (fact.vector) vectors?.set(seq, fact.vector);
    },

    forget(seq) {
      loaded?.forget(seq);
    },
  };
}

function insert(
  connection: Connection,
  fact: PreparedFact,
  scope: Scope,
  settings: AddSettings,
  now: number,
): { change: MemoryChange; seq: number } {
  const id = timeOrderedId();
  const result = connection
    .statement(
      `INSERT INTO memories (id, text, terms, type, user_id, agent_id, run_id, app_id, metadata, content_hash, created_at, updated_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      id,
      fact.text,
      joinTerms(fact.terms),
      fact.type ?? null,
      ...scopeColumns(scope),
      JSON.stringify(fact.metadata),
      fact.contentHash,
      fact.saidAt ?? now,
      fact.saidAt ?? now,
      fact.expiresAt ?? null,
    );
  const seq = Number(result.lastInsertRowid);
  indexTerms(connection, seq, fact.terms, scope);
  if (fact.vector) storeVector(connection, seq, fact.vector);
  const { change, record } = addedChange(id, fact.text, settings, now);
  recordHistory(connection, record);
  return { change, seq };
}

function restate(
  connection: Connection,
  existing: MemoryRow,
  fact: PreparedFact,
  scope: Scope,
  settings: AddSettings,
  now: number,
): MemoryChange {
  const { metadata, saidAgain } = restatement({ text: existing.text, metadata: JSON.parse(existing.metadata) }, fact);
  const expiresAt = fact.expiresAt ?? existing.expires_at;
  // A back-filled restatement said before the last update must not make the memory look older.
  const updatedAt = Math.max(existing.updated_at, fact.saidAt ?? now);
  connection
    .statement(
      'UPDATE memories SET text = ?, terms = ?, metadata = ?, content_hash = ?, updated_at = ?, expires_at = ? WHERE seq = ?',
    )
    .run(
      fact.text,
      joinTerms(fact.terms),
      JSON.stringify(metadata),
      fact.contentHash,
      updatedAt,
      expiresAt,
      existing.seq,
    );
  if (fact.vector) storeVector(connection, existing.seq, fact.vector);
  if (existing.text !== fact.text) reindexTerms(connection, existing.seq, fact.terms, scope);
  const { change, record } = restatedChange(existing, fact.text, saidAgain, settings, now);
  if (record) recordHistory(connection, record);
  return change;
}

/** How many memories the exact scope holds, of every type (kept by triggers in `scope_stats`). */
function scopeSize(connection: Connection, scope: Scope): number {
  return (
    (connection
      .statement('SELECT memories FROM scope_stats WHERE scope_key = json_array(?, ?, ?, ?)')
      .pluck()
      .get(...scopeColumns(scope)) as number | undefined) ?? 0
  );
}

function typeKey(type: MemoryType | undefined): string {
  return type === undefined ? '' : `:${type}`;
}
