/**
 * Finding search candidates in SQLite; `ranking.ts` scores them.
 *
 * A scope of up to `rankingSettings.scanLimit` memories (most users) is scored whole, in write
 * order, from the terms stored in each row: BM25 with the exact statistics of the scope and the
 * neighbour weights, as the in-memory store computes them. A larger scope is narrowed first by the FTS5 index (restricted to the scope inside the index,
 * best BM25 first). With an embedder, every vector of the scope is compared with the query's.
 *
 * @module
 */

import type { MemoryType, MetadataFilter, Scope } from '../../core/types.js';
import { asksForTime } from '../contextual-ranking.js';
import type { Connection } from './connection.js';
import { bytesToVector, cosine } from './embeddings.js';
import { type Condition, visibleCondition } from './filters.js';
import { matchExpression } from './fts-query.js';
import { type LexicalCorpus, type RankCandidate, rankingSettings, scoreCandidates } from './ranking.js';
import { type MemoryRow, memoryColumns, splitTerms } from './rows.js';

/** A search, once its query has been turned into terms (and a vector). */
export interface SearchRequest {
  scope: Scope;
  types?: MemoryType[] | undefined;
  filters?: MetadataFilter | undefined;
  queryTerms: string[];
  queryVector?: Float32Array | undefined;
  limit: number;
  threshold: number;
  now: number;
}

interface CandidateRow {
  seq: number;
  terms: string;
  updated_at: number;
  text?: string;
  vector?: Uint8Array | null;
}

/** The best memories for the request, best first, with their scores. */
export function searchMemories(
  connection: Connection,
  query: string,
  request: SearchRequest,
): Array<{ row: MemoryRow; score: number }> {
  const { limit, now, queryVector, queryTerms } = request;
  if (limit <= 0) return [];
  const visible = visibleCondition(request);
  const { scanLimit } = rankingSettings;
  const bounded = connection
    .statement(`SELECT count(*) AS size FROM (SELECT 1 FROM memories AS m WHERE ${visible.sql} LIMIT ?)`)
    .get(...visible.params, scanLimit + 1) as { size: number };
  if (bounded.size === 0) return [];

  let rows: CandidateRow[];
  let candidates: RankCandidate[];
  const corpus: LexicalCorpus = { size: bounded.size };
  if (bounded.size <= scanLimit) {
    // The whole scope, in write order: every memory is a candidate, and neighbours count.
    rows = connection
      .statement(
        `SELECT m.seq AS seq, m.terms AS terms, m.updated_at AS updated_at${queryVector ? ', v.vector AS vector' : ''}
         FROM memories AS m${queryVector ? ' LEFT JOIN memory_vectors AS v ON v.memory_seq = m.seq' : ''}
         WHERE ${visible.sql} ORDER BY m.seq`,
      )
      .all(...visible.params) as CandidateRow[];
    let totalLength = 0;
    const matching: number[] = [];
    candidates = rows.map((row) => {
      totalLength += termCount(row.terms);
      // Splitting only the memories that hold a query term: the others score 0 on words anyway.
      const holds = queryTerms.some((term) => holdsTerm(row.terms, term));
      if (holds) matching.push(row.seq);
      return candidateOf(row, holds ? splitTerms(row.terms) : [], queryVector);
    });
    corpus.averageLength = totalLength / rows.length;
    corpus.wholeSetInWriteOrder = true;
    if (matching.length > 0 && asksForTime(query)) {
      const texts = new Map(
        (
          connection
            .statement(
              'SELECT m.seq AS seq, m.text AS text FROM memories AS m WHERE m.seq IN (SELECT value FROM json_each(?))',
            )
            .all(JSON.stringify(matching)) as Array<{ seq: number; text: string }>
        ).map((row) => [row.seq, row.text]),
      );
      rows.forEach((row, index) => {
        const text = texts.get(row.seq);
        const candidate = candidates[index];
        if (text !== undefined && candidate) candidate.text = text;
      });
    }
  } else {
    corpus.size = (
      connection
        .statement(`SELECT count(*) AS size FROM memories AS m WHERE ${visible.sql}`)
        .get(...visible.params) as {
        size: number;
      }
    ).size;
    rows = largeScopeCandidates(connection, request, visible);
    candidates = rows.map((row) => {
      const candidate = candidateOf(row, splitTerms(row.terms), queryVector);
      if (row.text !== undefined) candidate.text = row.text;
      return candidate;
    });
  }

  const scores = scoreCandidates(query, queryTerms, candidates, corpus, now);
  const best = rows
    .map((row, index) => ({ row, score: scores[index] ?? 0 }))
    .filter((hit) => hit.score > 0 && hit.score >= request.threshold)
    .sort((x, y) => y.score - x.score || y.row.updated_at - x.row.updated_at || y.row.seq - x.row.seq)
    .slice(0, limit);
  if (best.length === 0) return [];

  const full = connection
    .statement(`SELECT ${memoryColumns} FROM memories AS m WHERE m.seq IN (SELECT value FROM json_each(?))`)
    .all(JSON.stringify(best.map((hit) => hit.row.seq))) as MemoryRow[];
  const bySeq = new Map(full.map((row) => [row.seq, row]));
  return best.flatMap((hit) => {
    const row = bySeq.get(hit.row.seq);
    return row ? [{ row, score: hit.score }] : [];
  });
}

function candidateOf(row: CandidateRow, memoryTerms: string[], queryVector: Float32Array | undefined): RankCandidate {
  const candidate: RankCandidate = { terms: memoryTerms, updatedAt: row.updated_at };
  if (queryVector && row.vector) candidate.similarity = cosine(queryVector, bytesToVector(row.vector));
  return candidate;
}

/** Whether the stored terms (space-separated) hold `term` as a whole term. */
function holdsTerm(stored: string, term: string): boolean {
  for (let at = stored.indexOf(term); at !== -1; at = stored.indexOf(term, at + 1)) {
    const end = at + term.length;
    if ((at === 0 || stored.charCodeAt(at - 1) === 32) && (end === stored.length || stored.charCodeAt(end) === 32)) {
      return true;
    }
  }
  return false;
}

/** How many terms the stored form holds, without splitting it. */
function termCount(stored: string): number {
  if (stored === '') return 0;
  let count = 1;
  for (let at = stored.indexOf(' '); at !== -1; at = stored.indexOf(' ', at + 1)) count += 1;
  return count;
}

/** Candidates of a scope too large to score whole: best BM25 matches, and best vectors. */
function largeScopeCandidates(connection: Connection, request: SearchRequest, visible: Condition): CandidateRow[] {
  const { limit, queryVector } = request;
  const rows = new Map<number, CandidateRow>();
  const expression = matchExpression(request.scope, request.queryTerms);
  if (expression) {
    const lexical = connection
      .statement(
        `SELECT m.seq AS seq, m.terms AS terms, m.text AS text, m.updated_at AS updated_at${queryVector ? ', v.vector AS vector' : ''}
         FROM memories_fts JOIN memories AS m ON m.seq = memories_fts.rowid
         ${queryVector ? 'LEFT JOIN memory_vectors AS v ON v.memory_seq = m.seq' : ''}
         WHERE memories_fts MATCH ? AND ${visible.sql}
         ORDER BY bm25(memories_fts, 1.0, 0.0) LIMIT ?`,
      )
      .all(expression, ...visible.params, rankingSettings.lexicalPool(limit)) as CandidateRow[];
    for (const row of lexical) rows.set(row.seq, row);
  }
  if (queryVector) {
    const vectors = connection
      .statement(
        `SELECT m.seq AS seq, v.vector AS vector FROM memories AS m JOIN memory_vectors AS v ON v.memory_seq = m.seq
         WHERE ${visible.sql}`,
      )
      .all(...visible.params) as Array<{ seq: number; vector: Uint8Array }>;
    const best = vectors
      .filter(({ seq }) => !rows.has(seq))
      .map(({ seq, vector }) => ({ seq, similarity: cosine(queryVector, bytesToVector(vector)) }))
      .sort((x, y) => y.similarity - x.similarity)
      .slice(0, rankingSettings.vectorPool(limit))
      .map(({ seq }) => seq);
    if (best.length > 0) {
      const byVector = connection
        .statement(
          `SELECT m.seq AS seq, m.terms AS terms, m.text AS text, m.updated_at AS updated_at, v.vector AS vector
           FROM memories AS m JOIN memory_vectors AS v ON v.memory_seq = m.seq
           WHERE m.seq IN (SELECT value FROM json_each(?))`,
        )
        .all(JSON.stringify(best)) as CandidateRow[];
      for (const row of byVector) rows.set(row.seq, row);
    }
  }
  return [...rows.values()];
}
