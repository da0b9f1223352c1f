/**
 * Writing facts to PostgreSQL: a fact that restates a memory of the same scope and type updates it
 * (and its history) instead of piling up a duplicate, with the kernel's rules
 * (`../kernel/restatements.ts`): the same normalised text, `restatementOverlap` of the terms at or
 * above `duplicateThreshold`, or, with an embedder, cosine at or above `vectorDuplicateThreshold`.
 *
 * Many processes and machines write at once, so the check and the write of one `add` run in one
 * transaction that holds an advisory lock on the exact scope: two writers of the same fact take
 * turns, the second sees the first's row and updates it. Writers of other scopes do not wait.
 *
 * @module
 */

import { scopeKey } from '../../core/scope.js';
import type { MemoryChange, MemoryType, Scope } from '../../core/types.js';
import type { HistoryRecord } from '../kernel/history.js';
import type { MemoryRow } from '../kernel/memory-rows.js';
import { type AddSettings, type PreparedFact, restatedChange, timeOrderedId } from '../kernel/new-facts.js';
import { bestOverlap, bestSimilarity, probeCount, RestatementIndex, restatement } from '../kernel/restatements.js';
import { parameters, sameScopeCondition, sameTypeCondition, timestamp } from './conditions.js';
import { recordHistory } from './history.js';
import type { Transaction } from './pool.js';
import { memoryColumns } from './rows.js';
import type { StoreTables } from './search.js';
import { similarity, vectorValue } from './vectors.js';

/** A fact ready to write, with the time it was said. */
export interface PostgresFact extends PreparedFact {
  /** `FactInput.createdAt`, else the time of the write, in milliseconds. */
  saidAt: number;
}

// A scope of up to this many memories is read once per `add` and compared in memory (one
// statement); a larger one is asked per fact, through the hash and GIN indexes.
const maxLoadedMemories = 20_000;
const loadedMemoriesPerFact = 100;
const nearDuplicateCandidates = 50;

/** Writes the facts in the transaction `tx`; one change per fact, in order. */
export async function addFacts(
  tx: Transaction,
  tables: StoreTables,
  facts: PostgresFact[],
  scope: Scope,
  settings: AddSettings,
  now: number,
): Promise<MemoryChange[]> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
    `with-memory ${tables.schema} ${scopeKey(scope)}`,
  ]);
  const known = await scopeMemories(tx, tables, scope, now, facts.length);
  // New memories of a scope read whole are written together at the end, in one statement; until
  // then they have negative keys, and restatements within the batch change them in place.
  const pending = new Map<number, PendingMemory>();
  const pendingUpdates: HistoryRecord[] = [];
  const changes: MemoryChange[] = [];
  for (const fact of facts) {
    const existing =
      (await known.sameText(fact)) ??
      (await known.sameWords(fact, settings.duplicateThreshold)) ??
      (await known.sameMeaning(fact, settings.vectorDuplicateThreshold));
    if (existing === undefined && known.defersInserts) {
      const key = -(pending.size + 1);
      const id = timeOrderedId();
      pending.set(key, { id, addedText: fact.text, fact: { ...fact }, createdAt: fact.saidAt });
      known.remember(key, fact);
      changes.push({ event: 'ADD', id, text: fact.text });
      continue;
    }
    if (existing === undefined) {
      const { change, seq } = await insert(tx, tables, fact, scope, settings, now);
      known.remember(seq, fact);
      changes.push(change);
      continue;
    }
    known.forget(existing);
    known.remember(existing, fact);
    const restated = pending.get(existing);
    if (restated) {
      changes.push(restatePending(restated, fact, settings, now, pendingUpdates));
      continue;
    }
    const [row] = await tx.query<MemoryRow>(
      `SELECT ${memoryColumns} FROM ${tables.schema}.memories AS m WHERE m.seq = $1`,
      [existing],
    );
    if (!row) throw new Error('A memory found as restated vanished inside its transaction.');
    changes.push(await restate(tx, tables, row, fact, settings, now));
  }
  await insertPending(tx, tables, [...pending.values()], scope, settings, now);
  for (const record of pendingUpdates) await recordHistory(tx, tables, record);
  return changes;
}

/** A new memory of this batch, not yet written: its latest state, and the text it was added with. */
interface PendingMemory {
  id: string;
  addedText: string;
  fact: PostgresFact;
  createdAt: number;
}

/** A restatement of a memory added earlier in the same batch, as `restate` does it in SQL. */
function restatePending(
  memory: PendingMemory,
  fact: PostgresFact,
  settings: AddSettings,
  now: number,
  updates: HistoryRecord[],
): MemoryChange {
  const { metadata, saidAgain } = restatement(memory.fact, fact);
  const previous = { id: memory.id, text: memory.fact.text };
  memory.fact = {
    ...fact,
    metadata,
    expiresAt: fact.expiresAt ?? memory.fact.expiresAt,
    vector: fact.vector ?? memory.fact.vector,
    saidAt: Math.max(memory.fact.saidAt, fact.saidAt),
  };
  const { change, record } = restatedChange(previous, fact.text, saidAgain, settings, now);
  if (record) updates.push(record);
  return change;
}

/** Writes the batch's new memories and their ADD entries in one statement. */
async function insertPending(
  tx: Transaction,
  tables: StoreTables,
  memories: PendingMemory[],
  scope: Scope,
  settings: AddSettings,
  now: number,
): Promise<void> {
  if (memories.length === 0) return;
  const rows = memories.map(({ id, addedText, fact, createdAt }, position) => ({
    position,
    id,
    added_text: addedText,
    text: fact.text,
    terms: fact.terms,
    type: fact.type ?? null,
    metadata: fact.metadata,
    content_hash: fact.contentHash,
    embedding: fact.vector ? Array.from(fact.vector) : null,
    created_at: timestamp(createdAt),
    updated_at: timestamp(fact.saidAt),
    expires_at: fact.expiresAt === undefined ? null : timestamp(fact.expiresAt),
  }));
  const embedding =
    tables.vectors.kind === 'pgvector' ? `r.embedding::${tables.vectors.extensionSchema}.vector` : 'r.embedding';
  await tx.query(
    `WITH r AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(position integer, id text, added_text text, text text,
         terms text[], type text, metadata jsonb, content_hash text, embedding real[], created_at timestamptz,
         updated_at timestamptz, expires_at timestamptz)
     ), inserted AS (
       INSERT INTO ${tables.schema}.memories (id, text, terms, type, user_id, agent_id, run_id, app_id, metadata,
         content_hash, embedding, created_at, updated_at, expires_at)
       SELECT r.id, r.text, r.terms, r.type, $2, $3, $4, $5, r.metadata, r.content_hash, ${embedding},
         r.created_at, r.updated_at, r.expires_at
       FROM r ORDER BY r.position
     )
     INSERT INTO ${tables.schema}.memory_history (memory_id, event, new_text, reason, actor, created_at)
     SELECT r.id, 'ADD', r.added_text, $6, $7, $8::timestamptz FROM r ORDER BY r.position`,
    [
      JSON.stringify(rows),
      scope.userId ?? null,
      scope.agentId ?? null,
      scope.runId ?? null,
      scope.appId ?? null,
      settings.reason ?? null,
      settings.actor,
      timestamp(now),
    ],
  );
}

interface KnownMemories {
  /** True when the batch's new memories may be written at the end (this index sees them meanwhile). */
  defersInserts: boolean;
  sameText(fact: PostgresFact): Promise<number | undefined>;
  sameWords(fact: PostgresFact, threshold: number): Promise<number | undefined>;
  sameMeaning(fact: PostgresFact, threshold: number): Promise<number | undefined>;
  remember(seq: number, fact: PostgresFact): void;
  forget(seq: number): void;
}

async function scopeMemories(
  tx: Transaction,
  tables: StoreTables,
  scope: Scope,
  now: number,
  factCount: number,
): Promise<KnownMemories> {
  const limit = Math.min(maxLoadedMemories, Math.max(200, factCount * loadedMemoriesPerFact));
  const params = parameters();
  const rows = await tx.query<{
    seq: number;
    type: string | null;
    hash: string | null;
    terms: string[];
    has_vector: boolean;
  }>(
    `SELECT m.seq::float8 AS seq, m.type, m.content_hash AS hash, m.terms, m.embedding IS NOT NULL AS has_vector
     FROM ${tables.schema}.memories AS m WHERE ${sameScopeCondition(params, scope, now)} LIMIT ${limit + 1}`,
    params.values,
  );
  if (rows.length > limit) return askedPerFact(tx, tables, scope, now);
  // The scope's vectors, read when a fact first needs them (none to read in a scope without any);
  // those of the batch are kept as they are written, and take the place of the stored ones.
  let stored: Map<number, { type: string | null; vector: Float32Array }> | undefined;
  const recent = new Map<number, { type: string | null; vector: Float32Array }>();
  const withVectors = rows.filter((row) => row.has_vector).map((row) => row.seq);
  const loadVectors = async () => {
    const loaded = new Map<number, { type: string | null; vector: Float32Array }>();
    if (withVectors.length === 0) return loaded;
    const stored = await tx.query<{ seq: number; type: string | null; vector: number[] }>(
      `SELECT m.seq::float8 AS seq, m.type, m.embedding::real[] AS vector FROM ${tables.schema}.memories AS m
       WHERE m.seq = ANY($1::bigint[])`,
      [withVectors],
    );
    for (const row of stored) loaded.set(row.seq, { type: row.type, vector: Float32Array.from(row.vector) });
    return loaded;
  };

  // One index per type: a restatement is of the same type, or both without one.
  const indexes = new Map<string | null, RestatementIndex<number>>();
  const typeOf = new Map<number, string | null>();
  const indexOf = (type: MemoryType | null | undefined) => {
    let index = indexes.get(type ?? null);
    if (!index) {
      index = new RestatementIndex();
      indexes.set(type ?? null, index);
    }
    return index;
  };
  const add = (seq: number, type: string | null, hash: string | null, memoryTerms: string[]) => {
    typeOf.set(seq, type);
    indexOf(type).add(seq, hash, memoryTerms);
  };
  for (const row of rows) add(row.seq, row.type, row.hash, row.terms);

  return {
    defersInserts: true,
    async sameText(fact) {
      return indexOf(fact.type).sameText(fact.contentHash);
    },
    async sameWords(fact, threshold) {
      return indexOf(fact.type).sameWords(fact.terms, threshold);
    },
    async sameMeaning(fact, threshold) {
      if (!fact.vector) return undefined;
      stored ??= await loadVectors();
      const sameType = function* (): Generator<[number, Float32Array]> {
        for (const vectors of [stored ?? new Map(), recent]) {
          for (const [seq, memory] of vectors) {
            if (memory.type !== (fact.type ?? null) || (vectors === stored && recent.has(seq))) continue;
            yield [seq, memory.vector];
          }
        }
      };
      return bestSimilarity(fact.vector, sameType(), threshold);
    },
    remember(seq, fact) {
      add(seq, fact.type ?? null, fact.contentHash, fact.terms);
      if (fact.vector) recent.set(seq, { type: fact.type ?? null, vector: fact.vector });
    },
    forget(seq) {
      recent.delete(seq);
      if (!typeOf.has(seq)) return;
      indexOf(typeOf.get(seq)).forget(seq);
      typeOf.delete(seq);
    },
  };
}

/** A scope too large to read for this write: each fact asks PostgreSQL (hash and GIN indexes). */
function askedPerFact(tx: Transaction, tables: StoreTables, scope: Scope, now: number): KnownMemories {
  const from = (params: ReturnType<typeof parameters>, type: MemoryType | undefined) =>
    `FROM ${tables.schema}.memories AS m WHERE ${sameScopeCondition(params, scope, now)} AND ${sameTypeCondition(params, type)}`;
  return {
    defersInserts: false,
    async sameText(fact) {
      const params = parameters();
      const [row] = await tx.query<{ seq: number }>(
        `SELECT m.seq::float8 AS seq ${from(params, fact.type)} AND m.content_hash = ${params.add(fact.contentHash)} LIMIT 1`,
        params.values,
      );
      return row?.seq;
    },
    async sameWords(fact, threshold) {
      const distinct = [...new Set(fact.terms)];
      if (distinct.length === 0) return undefined;
      // Without the scope's statistics, the longest terms stand in for the rarest.
      const probes = distinct.sort((x, y) => y.length - x.length).slice(0, probeCount(distinct.length, threshold));
      const params = parameters();
      const rows = await tx.query<{ seq: number; terms: string[] }>(
        `SELECT m.seq::float8 AS seq, m.terms ${from(params, fact.type)} AND m.terms && ${params.add(probes)}::text[]
         ORDER BY m.seq DESC LIMIT ${nearDuplicateCandidates}`,
        params.values,
      );
      return bestOverlap(
        fact.terms,
        rows.map((row) => [row.seq, row.terms] as const),
        threshold,
      );
    },
    sameMeaning: (fact, threshold) => sameMeaning(tx, tables, scope, fact, threshold, now),
    // Facts written by this batch are rows of the transaction already: the statements see them.
    remember() {},
    forget() {},
  };
}

async function sameMeaning(
  tx: Transaction,
  tables: StoreTables,
  scope: Scope,
  fact: PostgresFact,
  threshold: number,
  now: number,
): Promise<number | undefined> {
  if (!fact.vector) return undefined;
  const params = parameters();
  const value = vectorValue(params, tables.vectors, fact.vector);
  const [row] = await tx.query<{ seq: number }>(
    `SELECT seq FROM (
       SELECT m.seq::float8 AS seq, ${similarity(tables.vectors, value, fact.vector.length)} AS similarity
       FROM ${tables.schema}.memories AS m
       WHERE ${sameScopeCondition(params, scope, now)} AND ${sameTypeCondition(params, fact.type)} AND m.embedding IS NOT NULL
     ) AS scored WHERE similarity >= ${params.add(threshold)} ORDER BY similarity DESC LIMIT 1`,
    params.values,
  );
  return row?.seq;
}

async function insert(
  tx: Transaction,
  tables: StoreTables,
  fact: PostgresFact,
  scope: Scope,
  settings: AddSettings,
  now: number,
): Promise<{ change: MemoryChange; seq: number }> {
  const id = timeOrderedId();
  const params = parameters();
  const value = (item: unknown) => params.add(item);
  const said = `${value(timestamp(fact.saidAt))}::timestamptz`;
  const expires = `${value(fact.expiresAt === undefined ? null : timestamp(fact.expiresAt))}::timestamptz`;
  const vector = fact.vector ? vectorValue(params, tables.vectors, fact.vector) : 'NULL';
  // The memory and its ADD entry in one statement: one round trip per new memory.
  const [row] = await tx.query<{ seq: number }>(
    `WITH inserted AS (
       INSERT INTO ${tables.schema}.memories (id, text, terms, type, user_id, agent_id, run_id, app_id, metadata,
         content_hash, embedding, created_at, updated_at, expires_at)
       VALUES (${value(id)}, ${value(fact.text)}, ${value(fact.terms)}::text[], ${value(fact.type ?? null)},
         ${value(scope.userId ?? null)}, ${value(scope.agentId ?? null)}, ${value(scope.runId ?? null)},
         ${value(scope.appId ?? null)}, ${value(JSON.stringify(fact.metadata))}::jsonb, ${value(fact.contentHash)}, ${vector},
         ${said}, ${said}, ${expires})
       RETURNING seq, id, text
     ), entry AS (
       INSERT INTO ${tables.schema}.memory_history (memory_id, event, new_text, reason, actor, created_at)
       SELECT id, 'ADD', text, ${value(settings.reason ?? null)}, ${value(settings.actor)},
         ${value(timestamp(now))}::timestamptz FROM inserted
     )
     SELECT seq::float8 AS seq FROM inserted`,
    params.values,
  );
  if (!row) throw new Error('The insert of a memory returned no row.');
  return { change: { event: 'ADD', id, text: fact.text }, seq: row.seq };
}

async function restate(
  tx: Transaction,
  tables: StoreTables,
  existing: MemoryRow,
  fact: PostgresFact,
  settings: AddSettings,
  now: number,
): Promise<MemoryChange> {
  const { metadata, saidAgain } = restatement({ text: existing.text, metadata: JSON.parse(existing.metadata) }, fact);
  const params = parameters();
  // Said again: fresh again (recency, expiry), unless it was said before the memory last changed.
  await tx.query(
    `UPDATE ${tables.schema}.memories AS m SET text = ${params.add(fact.text)}, terms = ${params.add(fact.terms)}::text[],
       metadata = ${params.add(JSON.stringify(metadata))}::jsonb, content_hash = ${params.add(fact.contentHash)},
       updated_at = greatest(m.updated_at, ${params.add(timestamp(fact.saidAt))}::timestamptz),
       expires_at = coalesce(${params.add(fact.expiresAt === undefined ? null : timestamp(fact.expiresAt))}::timestamptz, m.expires_at)
       ${fact.vector ? `, embedding = ${vectorValue(params, tables.vectors, fact.vector)}` : ''}
     WHERE m.seq = ${params.add(existing.seq)}`,
    params.values,
  );
  const { change, record } = restatedChange(existing, fact.text, saidAgain, settings, now);
  if (record) await recordHistory(tx, tables, record);
  return change;
}
