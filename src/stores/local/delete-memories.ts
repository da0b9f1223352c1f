/**
 * The local store's deletes: one memory (a tombstone, or with `erase` nothing at all) and every
 * memory of a scope. Each runs inside a write; the backend then makes the erase reach the file.
 *
 * @module
 */

import type { Scope } from '../../core/types.js';
import type { MemoryRow } from '../kernel/memory-rows.js';
import type { Connection } from './connection.js';
import { scopeCondition } from './filters.js';
import { recordHistory, scrubHistory } from './history.js';

/** Deletes one memory; false when there was none (or, without `erase`, only a tombstone). */
export function deleteMemory(
  connection: Connection,
  id: string,
  { erase, reason, actor }: { erase: boolean; reason: string | undefined; actor: string },
): boolean {
  const now = Date.now();
  const existing = connection.statement('SELECT seq, id, text, deleted_at FROM memories WHERE id = ?').get(id) as
    | (Pick<MemoryRow, 'seq' | 'id' | 'text'> & { deleted_at: number | null })
    | undefined;
  // An erase also takes what an earlier delete left: the tombstone and its history's words.
  if (!existing || (existing.deleted_at !== null && !erase)) return false;
  if (erase) {
    scrubHistory(connection, 'SELECT ?', [existing.id]);
    connection.statement('DELETE FROM memories WHERE seq = ?').run(existing.seq);
    connection.statement(`INSERT INTO memories_fts (memories_fts) VALUES ('optimize')`).run();
    recordHistory(connection, { memoryId: existing.id, event: 'DELETE', actor, at: now });
    return true;
  }
  // A tombstone keeps the scope, so deleteAll of that scope can still find and scrub this
  // memory's history; the text goes (the history's DELETE entry keeps it, as an audit trail).
  connection
    .statement(
      `UPDATE memories SET deleted_at = ?, updated_at = ?, text = '', terms = '', metadata = '{}', content_hash = NULL
       WHERE seq = ?`,
    )
    .run(now, now, existing.seq);
  recordHistory(connection, { memoryId: existing.id, event: 'DELETE', oldText: existing.text, reason, actor, at: now });
  return true;
}

/**
 * Deletes every memory of the scope (tombstones included); `deleted` counts the live ones,
 * `removed` says whether any row went.
 */
export function deleteScope(
  connection: Connection,
  scope: Scope,
  { keepDeletedText, actor }: { keepDeletedText: boolean; actor: string },
): { deleted: number; removed: boolean } {
  const inScope = scopeCondition(scope);
  const now = Date.now();
  const { count } = connection
    .statement(`SELECT count(*) AS count FROM memories AS m WHERE ${inScope.sql} AND m.deleted_at IS NULL`)
    .get(...inScope.params) as { count: number };
  const { total } = connection
    .statement(`SELECT count(*) AS total FROM memories AS m WHERE ${inScope.sql}`)
    .get(...inScope.params) as { total: number };
  if (total === 0) return { deleted: 0, removed: false };
  if (!keepDeletedText) {
    scrubHistory(connection, `SELECT m.id FROM memories AS m WHERE ${inScope.sql}`, inScope.params);
  }
  connection
    .statement(
      `INSERT INTO memory_history (memory_id, event, old_text, actor, created_at)
       SELECT m.id, 'DELETE', CASE WHEN ? THEN m.text END, ?, ? FROM memories AS m
       WHERE ${inScope.sql} AND m.deleted_at IS NULL ORDER BY m.seq`,
    )
    .run(keepDeletedText ? 1 : 0, actor, now, ...inScope.params);
  connection.statement(`DELETE FROM memories AS m WHERE ${inScope.sql}`).run(...inScope.params);
  // Rewrites the index without the deleted entries: until a merge, FTS5 keeps a deleted
  // row's terms in its segments, only marked as deleted.
  connection.statement(`INSERT INTO memories_fts (memories_fts) VALUES ('optimize')`).run();
  return { deleted: count, removed: true };
}
