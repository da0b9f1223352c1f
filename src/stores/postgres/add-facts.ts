/**
 * Writing facts to PostgreSQL: a fact that restates a memory of the same scope and type updates it
 * (and its history) instead of piling up a duplicate, with the local store's rules
 * (`../local/add-facts.ts`): the same normalised text, `restatementOverlap` of the terms at or
 * above `duplicateThreshold`, or, with an embedder, cosine at or above `vectorDuplicateThreshold`.
 *
 * Many processes and machines write at once, so the check and the write of one `add` run in one
 * transaction that holds an advisory lock on the exact scope: two writers of the same fact take
 * turns, the second sees the first's row and updates it. Writers of other scopes do not wait.
 *
 * @module
 */

import { isDeepStrictEqual } from 'node:util';
import { scopeKey } from '../../core/scope.js';
import type { MemoryChange, MemoryType, Scope } from '../../core/types.js';
import { restatementOverlap } from '../../text/text-terms.js';
import { cosine } from '../kernel/embeddings.js';
import { type AddSettings, type PreparedFact, timeOrderedId } from '../local/add-facts.js';
import type { MemoryRow } from '../local/rows.js';
import { parameters, sameScopeCondition, sameTypeCondition, timestamp } from './conditions.js';
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
  const before = JSON.parse(memory.fact.metadata) as Record<string, unknown>;
  const metadata = { ...before, ...(JSON.parse(fact.metadata) as Record<string, unknown>) };
  const previousText = memory.fact.text;
  memory.fact = {
    ...fact,
    metadata: JSON.stringify(metadata),
    expiresAt: fact.expiresAt ?? memory.fact.expiresAt,
    vector: fact.vector ?? memory.fact.vector,
    saidAt: Math.max(memory.fact.saidAt, fact.saidAt),
  };
  if (previousText === fact.text && isDeepStrictEqual(before, metadata)) {
    return { event: 'NONE', id: memory.id, text: fact.text };
  }
  updates.push({
    memoryId: memory.id,
    event: 'UPDATE',
    oldText: previousText,
    newText: fact.text,
    reason: settings.reason,
    actor: settings.actor,
    at: now,
  });
  return { event: 'UPDATE', id: memory.id, text: fact.text, previousText };
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
    metadata: JSON.parse(fact.metadata) as unknown,
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

interface Loaded {
  type: string | null;
  hash: string | null;
  terms: string[];
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

  const memories = new Map<number, Loaded>();
  const byHash = new Map<string, number>();
  const postings = new Map<string, Set<number>>();
  const key = (type: MemoryType | null | undefined, value: string) =>
    `${type ?? ''}\u0000${type == null ? 0 : 1}\u0000${value}`;
  const add = (seq: number, memory: Loaded) => {
    memories.set(seq, memory);
    if (memory.hash !== null) byHash.set(key(memory.type, memory.hash), seq);
    for (const term of memory.terms) {
      const postingKey = key(memory.type, term);
      let seqs = postings.get(postingKey);
      if (!seqs) {
        seqs = new Set();
        postings.set(postingKey, seqs);
      }
      seqs.add(seq);
    }
  };
  for (const row of rows) add(row.seq, { type: row.type, hash: row.hash, terms: row.terms });

  return {
    defersInserts: true,
    async sameText(fact) {
      return byHash.get(key(fact.type, fact.contentHash));
    },
    async sameWords(fact, threshold) {
      const distinct = [...new Set(fact.terms)];
      if (distinct.length === 0) return undefined;
      // The rarest terms of the scope: any match holds one of them (see the local store).
      const probes = distinct
        .sort((x, y) => (postings.get(key(fact.type, x))?.size ?? 0) - (postings.get(key(fact.type, y))?.size ?? 0))
        .slice(0, probeCount(distinct.length, threshold));
      let best: { seq: number; overlap: number } | undefined;
      for (const probe of probes) {
        for (const seq of postings.get(key(fact.type, probe)) ?? []) {
          const memory = memories.get(seq);
          if (!memory || memory.terms.length === 0) continue;
          const overlap = restatementOverlap(fact.terms, memory.terms);
          if (overlap >= threshold && overlap > (best?.overlap ?? 0)) best = { seq, overlap };
        }
      }
      return best?.seq;
    },
    async sameMeaning(fact, threshold) {
      if (!fact.vector) return undefined;
      stored ??= await loadVectors();
      let best: { seq: number; similarity: number } | undefined;
      for (const vectors of [stored, recent]) {
        for (const [seq, memory] of vectors) {
          if (memory.type !== (fact.type ?? null) || (vectors === stored && recent.has(seq))) continue;
          const similarity = cosine(fact.vector, memory.vector);
          if (similarity >= threshold && similarity > (best?.similarity ?? -1)) best = { seq, similarity };
        }
      }
      return best?.seq;
    },
    remember(seq, fact) {
      add(seq, { type: fact.type ?? null, hash: fact.contentHash, terms: fact.terms });
      if (fact.vector) recent.set(seq, { type: fact.type ?? null, vector: fact.vector });
    },
    forget(seq) {
      recent.delete(seq);
      const memory = memories.get(seq);
      if (!memory) return;
      memories.delete(seq);
      for (const term of memory.terms) postings.get(key(memory.type, term))?.delete(seq);
      if (memory.hash !== null && byHash.get(key(memory.type, memory.hash)) === seq)
        byHash.delete(key(memory.type, memory.hash));
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
      let best: { seq: number; overlap: number } | undefined;
      for (const row of rows) {
        const overlap = restatementOverlap(fact.terms, row.terms);
        if (overlap >= threshold && overlap > (best?.overlap ?? 0)) best = { seq: row.seq, overlap };
      }
      return best?.seq;
    },
    sameMeaning: (fact, threshold) => sameMeaning(tx, tables, scope, fact, threshold, now),
    // Facts written by this batch are rows of the transaction already: the statements see them.
    remember() {},
    forget() {},
  };
}

/**
 * An overlap of `threshold` needs at least ceil(threshold * n) of the fact's n terms in common, so
 * a match holds at least one of any (n - that + 1) of them: those are the probes.
 */
function probeCount(distinctTerms: number, threshold: number): number {
  return Math.max(1, distinctTerms - Math.ceil(threshold * distinctTerms - 1e-9) + 1);
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
         ${value(scope.appId ?? null)}, ${value(fact.metadata)}::jsonb, ${value(fact.contentHash)}, ${vector},
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
  const before = JSON.parse(existing.metadata) as Record<string, unknown>;
  const metadata = { ...before, ...(JSON.parse(fact.metadata) as Record<string, unknown>) };
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
  if (existing.text === fact.text && isDeepStrictEqual(before, metadata)) {
    return { event: 'NONE', id: existing.id, text: fact.text };
  }
  await recordHistory(tx, tables, {
    memoryId: existing.id,
    event: 'UPDATE',
    oldText: existing.text,
    newText: fact.text,
    reason: settings.reason,
    actor: settings.actor,
    at: now,
  });
  return { event: 'UPDATE', id: existing.id, text: fact.text, previousText: existing.text };
}

/** One history entry to append. */
export interface HistoryRecord {
  memoryId: string;
  event: 'ADD' | 'UPDATE' | 'DELETE';
  oldText?: string | undefined;
  newText?: string | undefined;
  reason?: string | undefined;
  actor: string;
  at: number;
}

/** Appends a history entry; call in the transaction of the change itself. */
export async function recordHistory(tx: Transaction, tables: StoreTables, record: HistoryRecord): Promise<void> {
  await tx.query(
    `INSERT INTO ${tables.schema}.memory_history (memory_id, event, old_text, new_text, reason, actor, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz)`,
    [
      record.memoryId,
      record.event,
      record.oldText ?? null,
      record.newText ?? null,
      record.reason ?? null,
      record.actor,
      timestamp(record.at),
    ],
  );
}
