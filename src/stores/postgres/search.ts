/**
 * Finding and ranking search candidates in PostgreSQL, with the local store's ranking
 * (`../kernel/ranking.ts`): the same terms, BM25, neighbours, vector fusion and recency.
 *
 * The scope's size and length come from `scope_stats`, kept by triggers. A scope of up to
 * `scanLimit` memories (most users) is read whole, in write order, in one statement found by the
 * scope's index: each row's length, and the terms and text of the rows that hold a query term (the
 * GIN-indexable `terms && query` test, evaluated on the row), so the scores equal the local
 * store's. A larger scope is searched the local store's way, through the GIN index inside the
 * scope: each query term's oldest memories of the scope (all of a rare term's, a common term's
 * only when the rare ones match too few, its frequency estimated from how far into the scope they
 * reach), then only those rows; neighbours are looked up for them alone. With an embedder the
 * nearest vectors join them (pgvector's HNSW index, or a scan of the scope's `real[]` vectors).
 *
 * @module
 */

import type { MemoryHit } from '../../core/types.js';
import { asksForTime } from '../contextual-ranking.js';
import { type MemoryRow, rowToMemory } from '../kernel/memory-rows.js';
import {
  estimatedFrequency,
  type MemoryContext,
  planCandidates,
  type RankCandidate,
  type RankedCandidate,
  rankCandidates,
  rankingSettings,
} from '../kernel/ranking.js';
import type { SearchRequest } from '../kernel/search-request.js';
import { type Parameters, parameters, scopeCondition, visibleCondition } from './conditions.js';
import type { Database } from './pool.js';
import { memoryColumns, milliseconds } from './rows.js';
import type { VectorColumn } from './schema.js';
import { indexedDistance, similarity, vectorValue } from './vectors.js';

/** Where the store's tables are and how its vectors are kept. */
export interface StoreTables {
  /** The quoted schema name. */
  schema: string;
  vectors: VectorColumn;
}

/** A candidate; the columns of its `MemoryRow` are given (not null) when it holds a query term. */
interface CandidateRow extends Nullable<Omit<MemoryRow, 'seq' | 'updated_at'>> {
  seq: number;
  length: number;
  terms: string[] | null;
  updated_at: number;
  similarity?: number | null;
}

type Nullable<T> = { [key in keyof T]: T[key] | null };

/** A match of a large scope, as read: whether the search may return it decides if it is ranked. */
interface LargeScopeRow {
  seq: number;
  terms: string[];
  updated_at: number;
  visible: boolean;
  similarity?: number | null;
  /** With a query that asks for time. */
  text?: string;
  /** Memories of the searched set between this one and the next visible match (at most 2). */
  gap?: number | null;
  /** The scope's first and last `seq`, when a query term is common. */
  first?: number;
  last?: number;
}

/** A scope's size and length (from `scope_stats`), and each query term's oldest memories in it. */
interface ScopeTotals {
  size: number;
  terms: number;
  postings: Map<string, number[]>;
}

type Ranked = RankedCandidate<RankCandidate & { row?: CandidateRow }>;

/** A scope of at most this many memories is read whole, in write order; a larger one is searched through its index. */
const scanLimit = 2000;

/** Stands for a neighbour that holds no query term: it lends a candidate nothing. */
const notCandidate = -1;

// Read with the candidates that hold a query term, so the best hits need no second statement.
const hitColumns = ['id', 'text', 'type', 'user_id', 'agent_id', 'run_id', 'app_id'];

/** The best memories for the request, best first, with their scores and how they were made. */
export async function searchMemories(
  db: Database,
  tables: StoreTables,
  query: string,
  request: SearchRequest,
): Promise<MemoryHit[]> {
  if (request.limit <= 0) return [];
  const { totals, rows } = await readScope(db, tables, request);
  if (totals.size === 0) return [];
  const best: Ranked[] =
    totals.size <= scanLimit
      ? rankWholeScope(query, request, rows)
      : await rankLargeScope(db, tables, query, request, totals);
  if (best.length === 0) return [];

  const bySeq = new Map<number, MemoryRow>();
  for (const { candidate } of best)
    if (candidate.row && candidate.row.id !== null) bySeq.set(candidate.key, candidate.row as MemoryRow);
  const missing = best.filter(({ candidate }) => !bySeq.has(candidate.key)).map(({ candidate }) => candidate.key);
  if (missing.length > 0) {
    // Hits found by their vector alone, and those of a large scope.
    const full = await db.query<MemoryRow>(
      `SELECT ${memoryColumns} FROM ${tables.schema}.memories AS m WHERE m.seq = ANY($1::bigint[])`,
      [missing],
    );
    for (const row of full) bySeq.set(Number(row.seq), row);
  }
  return best.flatMap(({ candidate, score, parts }) => {
    const memoryRow = bySeq.get(candidate.key);
    if (!memoryRow) return [];
    const scoreParts = { ...parts };
    if (scoreParts.vector !== undefined) scoreParts.vector = Math.max(0, scoreParts.vector);
    return [{ ...rowToMemory(memoryRow), score, scoreParts }];
  });
}

/** Ranks a small scope read whole, in write order: every visible memory is a candidate, and neighbours count. */
function rankWholeScope(query: string, request: SearchRequest, rows: CandidateRow[]) {
  const { queryTerms } = request;
  const documentFrequency = new Map<string, number>();
  const queried = new Set(queryTerms);
  for (const row of rows) {
    for (const term of new Set(row.terms ?? []))
      if (queried.has(term)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  }
  const candidates = rows.map((row) => {
    const candidate: RankCandidate & { row: CandidateRow } = {
      key: row.seq,
      terms: row.terms ?? [],
      updatedAt: row.updated_at,
      row,
    };
    if (row.similarity !== undefined && row.similarity !== null) candidate.similarity = row.similarity;
    return candidate;
  });
  const position = new Map(rows.map((row, index) => [row.seq, index]));
  const contextOf = (keys: number[]) => {
    const contexts = new Map<number, MemoryContext>();
    for (const key of keys) {
      const index = position.get(key) ?? -1;
      const near = (offset: number) => rows[index + offset]?.seq;
      contexts.set(key, {
        text: rows[index]?.text ?? '',
        before: [near(-1), near(-2)].filter((seq): seq is number => seq !== undefined),
        after: [near(1), near(2)].filter((seq): seq is number => seq !== undefined),
      });
    }
    return contexts;
  };
  const totalTerms = rows.reduce((sum, row) => sum + row.length, 0);
  const statistics = { size: rows.length, totalTerms, documentFrequency };
  return rankCandidates(query, queryTerms, candidates, statistics, contextOf, request);
}

/** Ranks a large scope from its index: the rows of each query term's oldest memories, and the nearest vectors. */
async function rankLargeScope(
  db: Database,
  tables: StoreTables,
  query: string,
  request: SearchRequest,
  totals: ScopeTotals,
) {
  const { queryTerms, queryVector, limit } = request;
  const { postings } = totals;
  const table = `${tables.schema}.memories AS m`;
  // However large a share of the scope the matches are, only they are read: a walk of a large
  // scope costs more in PostgreSQL than reading the matches by key.
  const { keys } = planCandidates(postings.values(), totals.size, limit);
  const params = parameters();
  const vector = queryVector ? vectorValue(params, tables.vectors, queryVector) : undefined;
  const similarityColumn =
    vector && queryVector ? `, ${similarity(tables.vectors, vector, queryVector.length)} AS similarity` : '';
  const columns = `m.seq, m.terms AS terms, ${milliseconds('updated_at')} AS updated_at,
    (${visibleCondition(params, request)}) AS visible${similarityColumn}`;
  const scope = inScope(params, request);
  const withText = asksForTime(query);
  // A common term's frequency is estimated from how far into the scope its oldest memories reach:
  // the scope's first and last `seq` (two index seeks) come with the rows.
  const common = [...postings.values()].some((seqs) => seqs.length > rankingSettings.termPostingLimit);
  const span = common
    ? `, (SELECT m.seq FROM ${table} WHERE ${scope} ORDER BY m.seq LIMIT 1)::float8 AS first,
       (SELECT m.seq FROM ${table} WHERE ${scope} ORDER BY m.seq DESC LIMIT 1)::float8 AS last`
    : '';
  // Neighbours: for each visible match, how many memories of the searched set lie between it and
  // the next visible match in write order (at most 2, one short index walk). What a neighbour
  // lends depends on its own words only, so the others need not be known.
  const rows = await db.query<LargeScopeRow>(
    `WITH found AS MATERIALIZED (SELECT ${columns}${withText ? ', m.text' : ''} FROM ${table}
       WHERE m.seq = ANY(${params.add([...keys])}::bigint[]) AND ${scope}),
     ordered AS (SELECT found.*, CASE WHEN found.visible THEN lead(found.seq) OVER (PARTITION BY found.visible ORDER BY found.seq) END AS next FROM found)
     SELECT ordered.seq::float8 AS seq, ordered.terms, ordered.updated_at, ordered.visible${similarityColumn ? ', ordered.similarity' : ''}${withText ? ', ordered.text' : ''}, CASE WHEN ordered.next = ordered.seq + 1 THEN 0
       WHEN ordered.next IS NOT NULL THEN (SELECT count(*) FROM (SELECT 1 FROM ${table}
         WHERE ${visibleCondition(params, request)} AND m.seq > ordered.seq AND m.seq < ordered.next LIMIT 2) AS x) END::integer AS gap${span}
     FROM ordered ORDER BY ordered.seq`,
    params.values,
  );
  const contexts = neighbourContexts(rows);
  if (vector && queryVector) {
    const order =
      indexedDistance(tables.vectors, vector, queryVector.length) ??
      `${similarity(tables.vectors, vector, queryVector.length)} DESC NULLS LAST`;
    const dimensions =
      tables.vectors.kind === 'pgvector'
        ? `${tables.vectors.extensionSchema}.vector_dims(m.embedding) = ${queryVector.length}`
        : `cardinality(m.embedding) = ${queryVector.length}`;
    const nearest = await db.query<LargeScopeRow>(
      `SELECT ${columns.replace('m.seq,', 'm.seq::float8 AS seq,')} FROM ${table} WHERE ${dimensions} AND m.seq <> ALL(${params.add([...keys])}::bigint[])
         AND ${visibleCondition(params, request)}
       ORDER BY ${order} LIMIT ${rankingSettings.vectorPool(limit)}`,
      params.values,
    );
    rows.push(...nearest);
  }

  // Rare terms were counted on all their memories; common terms' frequencies are estimated.
  const queried = new Set(queryTerms);
  const documentFrequency = new Map<string, number>(queryTerms.map((term) => [term, 0]));
  for (const row of rows) {
    if (!keys.has(row.seq)) continue;
    for (const term of new Set(row.terms)) {
      if (queried.has(term)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    }
  }
  const [first, last] = [rows[0]?.first ?? 0, rows[0]?.last ?? 0];
  for (const term of queryTerms) {
    const sampleEnd = postings.get(term)?.[rankingSettings.termPostingLimit];
    if (sampleEnd === undefined) continue;
    const share = (sampleEnd - first + 1) / Math.max(1, last - first + 1);
    documentFrequency.set(term, estimatedFrequency(totals.size, share));
  }
  const candidates = rows
    .filter((row) => row.visible)
    .map((row) => {
      const candidate: RankCandidate = { key: row.seq, terms: row.terms, updatedAt: row.updated_at };
      if (row.similarity !== undefined && row.similarity !== null) candidate.similarity = row.similarity;
      return candidate;
    });
  const statistics = { size: totals.size, totalTerms: totals.terms, documentFrequency };
  return rankCandidates(query, queryTerms, candidates, statistics, () => contexts, request);
}

/** Memories of the scope (alias `m`), deleted ones left out: what a term's frequency counts. */
function inScope(params: Parameters, request: SearchRequest): string {
  return `${scopeCondition(params, request.scope)} AND m.deleted_at IS NULL`;
}

/**
 * The scope's size and length, from `scope_stats`, in one statement with either the whole scope
 * (at most `scanLimit` memories: each row's length, and the columns of the rows that hold a query
 * term, found by the GIN-indexable `terms && query` test evaluated on the row) or, for a larger
 * scope, each distinct query term's oldest memories in it (up to `termPostingLimit + 1`: one index
 * range of `memory_terms` per exact scope).
 */
async function readScope(
  db: Database,
  tables: StoreTables,
  request: SearchRequest,
): Promise<{ totals: ScopeTotals; rows: CandidateRow[] }> {
  const { queryTerms, queryVector } = request;
  const params = parameters();
  const sample = rankingSettings.termPostingLimit + 1;
  const wanted = `${params.add(queryTerms)}::text[]`;
  const vector = queryVector
    ? `, ${similarity(tables.vectors, vectorValue(params, tables.vectors, queryVector), queryVector.length)} AS similarity`
    : '';
  const columns = [
    'm.terms AS terms',
    ...hitColumns.map((column) => `m.${column} AS ${column}`),
    'm.metadata::text AS metadata',
    `${milliseconds('created_at')} AS created_at`,
    `${milliseconds('expires_at')} AS expires_at`,
  ].map((column) => `CASE WHEN m.terms && ${wanted} THEN ${column.replace(/ AS (\w+)$/, ' END AS $1')}`);
  const rows = await db.query<
    CandidateRow & { scope_size: number; scope_terms: number; postings: Record<string, number[]> | null }
  >(
    `WITH scopes AS MATERIALIZED (SELECT m.scope_key, m.memories, m.terms FROM ${tables.schema}.scope_stats AS m
       WHERE ${scopeCondition(params, request.scope)} AND m.memories > 0),
     totals AS (SELECT coalesce(sum(scopes.memories), 0)::float8 AS size, coalesce(sum(scopes.terms), 0)::float8 AS terms
       FROM scopes)
     SELECT totals.size AS scope_size, totals.terms AS scope_terms, CASE WHEN totals.size > ${scanLimit} THEN
       (SELECT json_object_agg(t.term, ARRAY(SELECT p.seq::float8 FROM scopes, LATERAL (SELECT p.seq
           FROM ${tables.schema}.memory_terms AS p WHERE p.scope_key = scopes.scope_key AND p.term = t.term
           ORDER BY p.seq LIMIT ${sample}) AS p ORDER BY p.seq LIMIT ${sample}))
         FROM unnest(${params.add([...new Set(queryTerms)])}::text[]) AS t(term)) END AS postings, whole.*
     FROM totals LEFT JOIN (SELECT m.seq::float8 AS seq, cardinality(m.terms) AS length,
         ${milliseconds('updated_at')} AS updated_at, ${columns.join(', ')}${vector}
       FROM ${tables.schema}.memories AS m
       WHERE (SELECT totals.size FROM totals) <= ${scanLimit} AND ${visibleCondition(params, request)}) AS whole
       ON true
     ORDER BY whole.seq`,
    params.values,
  );
  const [first] = rows;
  return {
    totals: {
      size: first?.scope_size ?? 0,
      terms: first?.scope_terms ?? 0,
      postings: new Map(Object.entries(first?.postings ?? {})),
    },
    rows: rows.filter((row) => row.seq !== null),
  };
}

/**
 * The contexts of the visible matches, read in write order with the count of the searched set's
 * memories between each and the next (`gap`): a neighbour is a match when nothing lies between,
 * and the memories between stand in as `notCandidate`.
 */
function neighbourContexts(rows: LargeScopeRow[]): Map<number, MemoryContext> {
  const visible = rows.filter((row) => row.visible);
  // The two nearest on one side: a match when nothing of the searched set lies between.
  const side = (index: number, step: -1 | 1): number[] => {
    const near: number[] = [];
    for (let from = index; near.length < 2; from += step) {
      const next = visible[from + step];
      const gap = visible[step === 1 ? from : from - 1]?.gap;
      if (next === undefined || gap === undefined || gap === null) break;
      for (let filler = 0; filler < gap && near.length < 2; filler += 1) near.push(notCandidate);
      if (near.length < 2) near.push(next.seq);
    }
    return near;
  };
  return new Map(
    visible.map((row, index) => [row.seq, { text: row.text ?? '', before: side(index, -1), after: side(index, 1) }]),
  );
}
