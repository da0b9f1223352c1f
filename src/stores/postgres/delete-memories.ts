/**
 * The PostgreSQL store's deletes: one memory (a tombstone, or with `erase` nothing at all) and
 * every memory of a scope, each in its own transaction.
 *
 * @module
 */

import type { Scope } from '../../core/types.js';
import { parameters, scopeCondition, timestamp } from './conditions.js';
import { recordHistory } from './history.js';
import type { Transaction } from './pool.js';
import type { StoreTables } from './search.js';

/** Deletes one memory in `tx`; false when there was none (or, without `erase`, only a tombstone). */
export async function deleteMemory(
  tx: Transaction,
  tables: StoreTables,
  id: string,
  { erase, reason, actor }: { erase: boolean; reason: string | undefined; actor: string },
): Promise<boolean> {
  const now = Date.now();
  if (erase) {
    // The row (live, or the tombstone of an earlier delete) and its history's words go.
    const [erased] = await tx.query<{ id: string }>(
      `DELETE FROM ${tables.schema}.memories WHERE id = $1 RETURNING id`,
      [id],
    );
    if (!erased) return false;
    await tx.query(
      `UPDATE ${tables.schema}.memory_history SET old_text = NULL, new_text = NULL, reason = NULL WHERE memory_id = $1`,
      [erased.id],
    );
    await recordHistory(tx, tables, { memoryId: erased.id, event: 'DELETE', actor, at: now });
    return true;
  }
  // A tombstone keeps the scope, so deleteAll of that scope can still find and scrub this
  // memory's history; the text goes (the history's DELETE entry keeps it, as an audit trail).
  const [existing] = await tx.query<{ id: string; text: string }>(
    `UPDATE ${tables.schema}.memories AS m SET deleted_at = $2::timestamptz, updated_at = $2::timestamptz,
       text = '', terms = '{}', metadata = '{}', content_hash = NULL, embedding = NULL
     FROM (SELECT seq, text FROM ${tables.schema}.memories WHERE id = $1 AND deleted_at IS NULL FOR UPDATE) AS old
     WHERE m.seq = old.seq RETURNING m.id, old.text`,
    [id, timestamp(now)],
  );
  if (!existing) return false;
  await recordHistory(tx, tables, {
    memoryId: existing.id,
    event: 'DELETE',
    oldText: existing.text,
    reason,
    actor,
    at: now,
  });
  return true;
}

/** Deletes every memory of the scope in `tx` (tombstones included); the count of live ones. */
export async function deleteScope(
  tx: Transaction,
  tables: StoreTables,
  scope: Scope,
  { keepDeletedText, actor }: { keepDeletedText: boolean; actor: string },
): Promise<number> {
  const params = parameters();
  const inScope = scopeCondition(params, scope);
  const ids = `SELECT m.id FROM ${tables.schema}.memories AS m WHERE ${inScope}`;
  if (!keepDeletedText) {
    await tx.query(
      `UPDATE ${tables.schema}.memory_history SET old_text = NULL, new_text = NULL, reason = NULL
       WHERE memory_id IN (${ids})`,
      params.values,
    );
  }
  const keep = params.add(keepDeletedText);
  const by = params.add(actor);
  const at = params.add(timestamp(Date.now()));
  // Rows, vectors and index entries go with the DELETE; the history keeps that they existed.
  const [{ count } = { count: 0 }] = await tx.query<{ count: number }>(
    `WITH deleted AS (
       DELETE FROM ${tables.schema}.memories AS m WHERE ${inScope} RETURNING m.seq, m.id, m.text, m.deleted_at
     ), entries AS (
       INSERT INTO ${tables.schema}.memory_history (memory_id, event, old_text, actor, created_at)
       SELECT id, 'DELETE', CASE WHEN ${keep}::boolean THEN text END, ${by}, ${at}::timestamptz
       FROM deleted WHERE deleted_at IS NULL ORDER BY seq
     )
     SELECT count(*) FILTER (WHERE deleted_at IS NULL)::integer AS count FROM deleted`,
    params.values,
  );
  return count;
}
