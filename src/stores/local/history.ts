/**
 * The audit trail of the local store: one entry per ADD, UPDATE and DELETE, with old and new
 * text, reason, actor and time.
 *
 * An ADD entry does not store its text: it is always what the next entry calls the old text, or,
 * with no next entry, the memory's current text. Reading rebuilds it, so a bulk import of a million
 * memories does not write every text twice.
 *
 * @module
 */

import { type HistoryRecord, type HistoryRow, historyEntry, type LocalHistoryEntry } from '../kernel/history.js';
import type { Connection } from './connection.js';

/** Appends an entry; call inside the write transaction of the change itself. */
export function recordHistory(connection: Connection, record: HistoryRecord): void {
  connection
    .statement(
      'INSERT INTO memory_history (memory_id, event, old_text, new_text, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    .run(
      record.memoryId,
      record.event,
      record.oldText ?? null,
      record.event === 'ADD' ? null : (record.newText ?? null),
      record.reason ?? null,
      record.actor,
      record.at,
    );
}

/** The entries of one memory, oldest first. */
export function readHistory(connection: Connection, memoryId: string): LocalHistoryEntry[] {
  const rows = connection
    .statement(
      'SELECT seq, memory_id, event, old_text, new_text, reason, actor, created_at FROM memory_history WHERE memory_id = ? ORDER BY seq',
    )
    .all(memoryId) as HistoryRow[];
  if (rows.length === 0) return [];
  const current = connection.statement('SELECT text, deleted_at FROM memories WHERE id = ?').get(memoryId) as
    | { text: string; deleted_at: number | null }
    | undefined;
  return rows.map((row, index) =>
    historyEntry(row, row.event === 'ADD' ? impliedAddText(rows[index + 1], current) : (row.new_text ?? undefined)),
  );
}

/**
 * Forgets the words of every entry of the memories selected by `memoryIdsSql` (a SELECT of ids),
 * keeping only that changes happened: for `deleteAll` without `keepDeletedText`.
 */
export function scrubHistory(connection: Connection, memoryIdsSql: string, params: unknown[]): void {
  connection
    .statement(
      `UPDATE memory_history SET old_text = NULL, new_text = NULL, reason = NULL WHERE memory_id IN (${memoryIdsSql})`,
    )
    .run(...params);
}

function impliedAddText(
  next: HistoryRow | undefined,
  current: { text: string; deleted_at: number | null } | undefined,
): string | undefined {
  if (next) return next.old_text ?? undefined;
  return current && current.deleted_at === null ? current.text : undefined;
}
