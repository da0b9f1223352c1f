/**
 * Finding and ranking search candidates in PostgreSQL, with the local store's ranking
 * (`../local/ranking.ts`): the same terms, BM25, neighbours, vector fusion and recency.
 *
 * A scope of up to `scanLimit` memories (most users) is read whole, in write order, in one
 * statement found by the scope's index: each row's length, and the terms and text of
 * the rows that hold a query term (the GIN-indexable `terms && query` test, evaluated on the row),
 * so the scores equal the local store's. A larger scope is narrowed first: the rows holding the
 * most distinct query terms (GIN index on `terms`) and, with an embedder, the nearest vectors
 * (pgvector's HNSW index, or a scan of the scope's `real[]` vectors).
 *
 * @module
 */

import type { MemoryHit } from '../../core/types.js';
import { type MemoryContext, type RankCandidate, rankCandidates, rankingSettings } from '../local/ranking.js';
import { type MemoryRow, rowToMemory } from '../local/rows.js';
import type { SearchRequest } from '../local/search.js';
import { parameters, visibleCondition } from './conditions.js';
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

/** A scope of at most this many visible memories is read whole, in write order; a larger one is narrowed first. */
const scanLimit = 2000;

// Read with the candidates that hold a query term, so the best hits need no second statement.
const hitColumns = ['id', 'text', 'type', 'user_id', 'agent_id', 'run_id', 'app_id'];

/** The best memories for the request, best first, with their scores and how they were made. */
export async function searchMemories(
  db: Database,
  tables: StoreTables,
  query: string,
  request: SearchRequest,
): Promise<MemoryHit[]> {
  const { limit, now, queryVector, queryTerms } = request;
  if (limit <= 0) return [];
  const select = (params: ReturnType<typeof parameters>) => {
    const wanted = `${params.add(queryTerms)}::text[]`;
    const vector = queryVector
      ? `, ${similarity(tables.vectors, vectorValue(params, tables.vectors, queryVector), queryVector.length)} AS similarity`
      : '';
    return {
      wanted,
      columns: `m.seq::float8 AS seq, cardinality(m.terms) AS length, ${milliseconds('updated_at')} AS updated_at,
        ${[
          'm.terms AS terms',
          ...hitColumns.map((column) => `m.${column} AS ${column}`),
          'm.metadata::text AS metadata',
          `${milliseconds('created_at')} AS created_at`,
          `${milliseconds('expires_at')} AS expires_at`,
        ]
          .map((column) => `CASE WHEN m.terms && ${wanted} THEN ${column.replace(/ AS (\w+)$/, ' END AS $1')}`)
          .join(', ')}${vector}`,
    };
  };

  const params = parameters();
  const { columns } = select(params);
  const visible = visibleCondition(params, request);
  let rows = await db.query<CandidateRow>(
    `SELECT ${columns} FROM ${tables.schema}.memories AS m WHERE ${visible} ORDER BY m.seq LIMIT ${scanLimit + 1}`,
    params.values,
  );
  if (rows.length === 0) return [];
  // The whole scope, in write order: every memory is a candidate, and neighbours count.
  let size = rows.length;
  const wholeScope = rows.length <= scanLimit;
  if (!wholeScope) {
    const counted = parameters();
    const [{ size: counts } = { size: 0 }] = await db.query<{ size: number }>(
      `SELECT count(*)::float8 AS size FROM ${tables.schema}.memories AS m WHERE ${visibleCondition(counted, request)}`,
      counted.values,
    );
    size = counts;
    rows = await largeScopeCandidates(db, tables, request, select);
  }
  // Lengths come with every row; terms only with the rows that hold a query term. In a large scope
  // the candidates stand for the scope: their average length, their document frequencies.
  const lengths = rows.reduce((sum, row) => sum + row.length, 0);
  const totalTerms = wholeScope ? lengths : (lengths / Math.max(1, rows.length)) * size;
  const documentFrequency = new Map<string, number>();
  const wanted = new Set(queryTerms);
  for (const row of rows) {
    for (const term of new Set(row.terms ?? []))
      if (wanted.has(term)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
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
      const near = (offset: number) => (wholeScope ? rows[index + offset]?.seq : undefined);
      contexts.set(key, {
        text: rows[index]?.text ?? '',
        // Neighbours mean something only when the rows are the whole searched set in write order.
        before: [near(-1), near(-2)].filter((seq): seq is number => seq !== undefined),
        after: [near(1), near(2)].filter((seq): seq is number => seq !== undefined),
      });
    }
    return contexts;
  };
  const best = rankCandidates(query, queryTerms, candidates, { size, totalTerms, documentFrequency }, contextOf, {
    limit,
    threshold: request.threshold,
    now,
  });
  if (best.length === 0) return [];

  const bySeq = new Map<number, MemoryRow>();
  for (const { candidate } of best) if (candidate.row.id !== null) bySeq.set(candidate.key, candidate.row as MemoryRow);
  const missing = best.filter(({ candidate }) => candidate.row.id === null).map(({ candidate }) => candidate.key);
  if (missing.length > 0) {
    // Hits found by their vector alone.
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

/** Candidates of a scope too large to score whole: the rows holding most query terms, and the nearest vectors. */
async function largeScopeCandidates(
  db: Database,
  tables: StoreTables,
  request: SearchRequest,
  select: (params: ReturnType<typeof parameters>) => { wanted: string; columns: string },
): Promise<CandidateRow[]> {
  const { limit, queryVector } = request;
  const found = new Map<number, CandidateRow>();
  if (request.queryTerms.length > 0) {
    const params = parameters();
    const { wanted, columns } = select(params);
    const lexical = await db.query<CandidateRow>(
      `SELECT ${columns} FROM ${tables.schema}.memories AS m
       WHERE m.terms && ${wanted} AND ${visibleCondition(params, request)}
       ORDER BY cardinality(ARRAY(SELECT unnest(m.terms) INTERSECT SELECT unnest(${wanted}))) DESC, m.seq DESC
       LIMIT ${rankingSettings.lexicalPool(limit)}`,
      params.values,
    );
    for (const row of lexical) found.set(row.seq, row);
  }
  if (queryVector) {
    const params = parameters();
    const { columns } = select(params);
    const value = vectorValue(params, tables.vectors, queryVector);
    const order =
      indexedDistance(tables.vectors, value, queryVector.length) ??
      `${similarity(tables.vectors, value, queryVector.length)} DESC NULLS LAST`;
    const dimensions =
      tables.vectors.kind === 'pgvector'
        ? `${tables.vectors.extensionSchema}.vector_dims(m.embedding) = ${queryVector.length}`
        : `cardinality(m.embedding) = ${queryVector.length}`;
    const nearest = await db.query<CandidateRow>(
      `SELECT ${columns} FROM ${tables.schema}.memories AS m
       WHERE ${dimensions} AND ${visibleCondition(params, request)}
       ORDER BY ${order} LIMIT ${rankingSettings.vectorPool(limit)}`,
      params.values,
    );
    for (const row of nearest) if (!found.has(row.seq)) found.set(row.seq, row);
  }
  return [...found.values()];
}
