/**
 * Finding search candidates in SQLite; `ranking.ts` scores them.
 *
 * Each query term's memories come from the FTS5 index, restricted to the scope inside the index:
 * all of them for a term of at most `termPostingLimit` memories of the scope, the oldest ones for
 * a more common term (read only when the rarer terms match too few). The scope's size and length
 * come from `scope_stats`, kept by triggers. Only the matches are read, and neighbours are looked
 * up by `seq` for the best of them, so a search costs what its matches cost, not the scope. When
 * the matches are a large share of the scope, one walk of the scope in write order is cheaper and
 * is taken instead. A small scope (at most `wholeScopeSize` memories) takes one FTS query for all
 * its matches and one walk of its index, which reads no text, for their neighbours; a tiny one (at
 * most `tinyScopeSize`) only the walk, which reads its terms too. With an
 * embedder, every vector of the scope is compared with the query's.
 *
 * @module
 */

import type { Scope, ScoreParts } from '../../core/types.js';
import { asksForTime } from '../contextual-ranking.js';
import { cosine } from '../kernel/embeddings.js';
import type { MemoryRow } from '../kernel/memory-rows.js';
import {
  estimatedFrequency,
  type MemoryContext,
  planCandidates,
  type RankCandidate,
  rankCandidates,
  rankingSettings,
} from '../kernel/ranking.js';
import type { SearchRequest } from '../kernel/search-request.js';
import type { Connection } from './connection.js';
import { type Condition, scopeCondition, visibleCondition } from './filters.js';
import { ftsToken, matchExpression } from './fts-query.js';
import { memoryColumns, splitTerms } from './rows.js';
import { bytesToVector } from './vector-bytes.js';

/**
 * A scope of at most this many memories is read whole without asking the FTS index at all: one
 * walk of the scope's index costs less than a MATCH, whose cost grows with the query terms'
 * postings in the whole file (every scope's), not with this scope.
 */
const tinyScopeSize = 100;

interface ScopeRow {
  seq: number;
  terms: string;
  updated_at: number;
  /** 1 when the search may return the memory (type, metadata, expiry), else 0. */
  visible: number;
}

/** The best memories for the request, best first, with their scores and how they were made. */
export function searchMemories(
  connection: Connection,
  query: string,
  request: SearchRequest,
): Array<{ row: MemoryRow; score: number; parts: ScoreParts }> {
  const { limit, queryVector, queryTerms } = request;
  if (limit <= 0) return [];
  const inScope = scopeCondition(request.scope);
  const totals = connection
    .statement(`SELECT total(m.memories) AS size, total(m.terms) AS terms FROM scope_stats AS m WHERE ${inScope.sql}`)
    .get(...inScope.params) as { size: number; terms: number };
  if (totals.size === 0) return [];
  const visible = visibleCondition(request);
  // A tiny scope is read whole, in one walk of its index. A small one is planned as a whole: its
  // matches come from one FTS query, and its visible memories' order (for neighbours) from a walk
  // of the scope's index that reads no text.
  const planned = totals.size <= rankingSettings.wholeScopeSize;
  const small = planned && totals.size > tinyScopeSize;

  // Each distinct FTS token's oldest memories in the scope (FTS5 walks its lists fastest that way):
  // all of them unless the token is common.
  const postings = new Map<string, number[]>();
  for (const token of planned ? [] : new Set(queryTerms.map(ftsToken))) {
    const expression = matchExpression(request.scope, [token]);
    if (!expression) continue;
    const seqs = connection
      .statement('SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rowid LIMIT ?')
      .pluck()
      .all(expression, rankingSettings.termPostingLimit + 1) as number[];
    postings.set(token, seqs);
  }
  const plan = planCandidates(postings.values(), totals.size, limit);
  const queried = new Set(queryTerms);
  const documentFrequency = new Map<string, number>(queryTerms.map((term) => [term, 0]));
  const candidates: RankCandidate[] = [];
  let contextOf: (keys: number[]) => Map<number, MemoryContext>;
  const withText = asksForTime(query);

  const read = small
    ? readMatches(connection, request.scope, queryTerms, inScope, visible)
    : plan.wholeScope
      ? readScope(connection, inScope, visible)
      : readRows(connection, [...plan.keys], inScope, visible);
  const inOrder: number[] = small ? visibleOrder(connection, visible) : [];
  // The row each query term was last counted in: a term counts once per memory.
  const countedIn = new Map<string, number>();
  for (const row of read) {
    if (row.visible === 1 && !small) inOrder.push(row.seq);
    if (row.terms === '' || (plan.wholeScope && !holdsAny(row.terms, queryTerms))) continue;
    const memoryTerms = splitTerms(row.terms);
    for (const term of memoryTerms) {
      if (!queried.has(term) || countedIn.get(term) === row.seq) continue;
      countedIn.set(term, row.seq);
      documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    }
    if (row.visible === 1) candidates.push({ key: row.seq, terms: memoryTerms, updatedAt: row.updated_at });
  }
  if (plan.wholeScope) {
    const position = new Map(inOrder.map((seq, index) => [seq, index]));
    contextOf = (keys) => {
      const texts = withText ? readTexts(connection, keys) : undefined;
      return new Map(
        keys.map((key) => {
          const at = position.get(key) ?? 0;
          const before = [inOrder[at - 1], inOrder[at - 2]].filter((seq) => seq !== undefined);
          const after = [inOrder[at + 1], inOrder[at + 2]].filter((seq) => seq !== undefined);
          return [key, { text: texts?.get(key) ?? '', before, after }];
        }),
      );
    };
  } else {
    // Common terms' frequencies are estimated; the rare ones were counted on all their memories.
    let span: { first: number; last: number } | undefined;
    for (const term of queryTerms) {
      const sampleEnd = postings.get(ftsToken(term))?.[rankingSettings.termPostingLimit];
      if (sampleEnd === undefined) continue;
      span ??= seqSpan(connection, inScope);
      const share = (sampleEnd - span.first + 1) / Math.max(1, span.last - span.first + 1);
      documentFrequency.set(term, estimatedFrequency(totals.size, share));
    }
    contextOf = (keys) => contexts(connection, keys, visible, withText);
  }
  if (queryVector) addSimilarities(connection, candidates, queryVector, visible, limit);

  const statistics = { size: totals.size, totalTerms: totals.terms, documentFrequency };
  const best = rankCandidates(query, queryTerms, candidates, statistics, contextOf, request);
  if (best.length === 0) return [];
  const full = connection
    .statement(`SELECT ${memoryColumns} FROM memories AS m WHERE m.seq IN (SELECT value FROM json_each(?))`)
    .all(JSON.stringify(best.map((hit) => hit.candidate.key))) as MemoryRow[];
  const bySeq = new Map(full.map((row) => [row.seq, row]));
  return best.flatMap((hit) => {
    const row = bySeq.get(hit.candidate.key);
    return row ? [{ row, score: hit.score, parts: hit.parts }] : [];
  });
}

/** Whether the stored terms (space-separated) hold one of `wanted` as a whole term, without splitting them. */
function holdsAny(stored: string, wanted: string[]): boolean {
  for (const term of wanted) {
    for (let at = stored.indexOf(term); at !== -1; at = stored.indexOf(term, at + 1)) {
      const end = at + term.length;
      if ((at === 0 || stored.charCodeAt(at - 1) === 32) && (end === stored.length || stored.charCodeAt(end) === 32))
        return true;
    }
  }
  return false;
}

/** Every memory of the scope, in write order. */
function readScope(connection: Connection, inScope: Condition, visible: Condition): ScopeRow[] {
  return connection
    .statement(
      `SELECT m.seq AS seq, m.terms AS terms, m.updated_at AS updated_at, (${visible.sql}) AS visible
       FROM ${scopeTable(inScope)} WHERE ${inScope.sql} AND m.deleted_at IS NULL ORDER BY m.seq`,
    )
    .all(...visible.params, ...inScope.params) as ScopeRow[];
}

/** The memories of the scope that hold one of the query's terms (all, whether visible or not). */
function readMatches(
  connection: Connection,
  scope: Scope,
  queryTerms: string[],
  inScope: Condition,
  visible: Condition,
): ScopeRow[] {
  const expression = matchExpression(scope, queryTerms);
  if (!expression) return [];
  return connection
    .statement(
      `SELECT m.seq AS seq, m.terms AS terms, m.updated_at AS updated_at, (${visible.sql}) AS visible
       FROM memories AS m WHERE m.seq IN (SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?)
       AND ${inScope.sql} AND m.deleted_at IS NULL`,
    )
    .all(...visible.params, expression, ...inScope.params) as ScopeRow[];
}

/** The `seq` of every memory of the scope a search may return, in write order. */
function visibleOrder(connection: Connection, visible: Condition): number[] {
  return connection
    .statement(`SELECT m.seq FROM ${scopeTable(visible)} WHERE ${visible.sql} ORDER BY m.seq`)
    .pluck()
    .all(...visible.params) as number[];
}

/** The rows of `seqs` that belong to the scope. */
function readRows(connection: Connection, seqs: number[], inScope: Condition, visible: Condition): ScopeRow[] {
  if (seqs.length === 0) return [];
  return connection
    .statement(
      `SELECT m.seq AS seq, m.terms AS terms, m.updated_at AS updated_at, (${visible.sql}) AS visible
       FROM memories AS m WHERE m.seq IN (SELECT value FROM json_each(?)) AND ${inScope.sql}`,
    )
    .all(...visible.params, JSON.stringify(seqs), ...inScope.params) as ScopeRow[];
}

function readTexts(connection: Connection, seqs: number[]): Map<number, string> {
  const rows = connection
    .statement('SELECT m.seq AS seq, m.text AS text FROM memories AS m WHERE m.seq IN (SELECT value FROM json_each(?))')
    .all(JSON.stringify(seqs)) as Array<{ seq: number; text: string }>;
  return new Map(rows.map((row) => [row.seq, row.text]));
}

/** `memories AS m`, walked by the scope's index (scope plus rowid, so in write order). */
function scopeTable(condition: Condition): string {
  // Without statistics SQLite may walk the rowids of every scope instead of this scope's index.
  return condition.index ? `memories AS m INDEXED BY ${condition.index}` : 'memories AS m';
}

/** The first and last `seq` of the scope: how far a sample of a term's memories reaches into it. */
function seqSpan(connection: Connection, inScope: Condition): { first: number; last: number } {
  // Two index seeks; min() and max() in one query would walk the whole scope.
  const end = (order: 'ASC' | 'DESC') =>
    (connection
      .statement(`SELECT m.seq FROM ${scopeTable(inScope)} WHERE ${inScope.sql} ORDER BY m.seq ${order} LIMIT 1`)
      .pluck()
      .get(...inScope.params) as number | undefined) ?? 0;
  return { first: end('ASC'), last: end('DESC') };
}

/**
 * Text and neighbours (in write order, within the searched set) of the given memories. The rows
 * just before and after each (`seq` ± 1, ± 2) are checked first: in a scope written in one go they
 * are its neighbours. Only where one of them is not in the searched set (another scope's memory,
 * another type) is the scope's index walked to the next one that is.
 */
function contexts(
  connection: Connection,
  seqs: number[],
  visible: Condition,
  withText: boolean,
): Map<number, MemoryContext> {
  const probes = new Set<number>();
  for (const seq of seqs) for (const step of [-2, -1, 1, 2]) probes.add(seq + step);
  const near = new Set(
    connection
      .statement(`SELECT m.seq FROM memories AS m WHERE m.seq IN (SELECT value FROM json_each(?)) AND ${visible.sql}`)
      .pluck()
      .all(JSON.stringify([...probes]), ...visible.params) as number[],
  );
  const texts = withText ? readTexts(connection, seqs) : undefined;
  const found = new Map<number, MemoryContext>();
  const walkBefore: number[] = [];
  const walkAfter: number[] = [];
  for (const seq of seqs) {
    const before = near.has(seq - 1) && near.has(seq - 2) ? [seq - 1, seq - 2] : undefined;
    const after = near.has(seq + 1) && near.has(seq + 2) ? [seq + 1, seq + 2] : undefined;
    if (!before) walkBefore.push(seq);
    if (!after) walkAfter.push(seq);
    found.set(seq, { text: texts?.get(seq) ?? '', before: before ?? [], after: after ?? [] });
  }
  for (const [side, list] of [
    ['before', walkBefore],
    ['after', walkAfter],
  ] as const) {
    if (list.length === 0) continue;
    const rows = connection
      .statement(
        `SELECT c.value AS seq, (SELECT group_concat(seq) FROM (SELECT m.seq AS seq FROM ${scopeTable(visible)}
           WHERE ${visible.sql} AND m.seq ${side === 'before' ? '< c.value ORDER BY m.seq DESC' : '> c.value ORDER BY m.seq'}
           LIMIT 2)) AS neighbours
         FROM json_each(?) AS c`,
      )
      .all(...visible.params, JSON.stringify(list)) as Array<{ seq: number; neighbours: string | null }>;
    for (const row of rows) {
      const context = found.get(row.seq);
      if (context) context[side] = row.neighbours === null ? [] : row.neighbours.split(',').map(Number);
    }
  }
  return found;
}

/**
 * Compares every vector of the searched set with the query's: the lexical candidates get their
 * similarity, and the best of the others join them as candidates found by meaning.
 */
function addSimilarities(
  connection: Connection,
  candidates: RankCandidate[],
  queryVector: Float32Array,
  visible: Condition,
  limit: number,
): void {
  const similarities = (
    connection
      .statement(
        `SELECT m.seq AS seq, v.vector AS vector FROM memories AS m JOIN memory_vectors AS v ON v.memory_seq = m.seq
         WHERE ${visible.sql}`,
      )
      .all(...visible.params) as Array<{ seq: number; vector: Uint8Array }>
  ).map((row) => ({ seq: row.seq, similarity: cosine(queryVector, bytesToVector(row.vector)) }));
  const bySeq = new Map(similarities.map((entry) => [entry.seq, entry.similarity]));
  const lexical = new Set<number>();
  for (const candidate of candidates) {
    lexical.add(candidate.key);
    const similarity = bySeq.get(candidate.key);
    if (similarity !== undefined) candidate.similarity = similarity;
  }
  const best = similarities
    .filter((entry) => !lexical.has(entry.seq))
    .sort((x, y) => y.similarity - x.similarity)
    .slice(0, rankingSettings.vectorPool(limit));
  if (best.length === 0) return;
  const rows = connection
    .statement(
      'SELECT m.seq AS seq, m.terms AS terms, m.updated_at AS updated_at FROM memories AS m WHERE m.seq IN (SELECT value FROM json_each(?))',
    )
    .all(JSON.stringify(best.map((entry) => entry.seq))) as ScopeRow[];
  for (const row of rows) {
    const similarity = bySeq.get(row.seq);
    candidates.push({
      key: row.seq,
      terms: splitTerms(row.terms),
      updatedAt: row.updated_at,
      ...(similarity !== undefined && { similarity }),
    });
  }
}
