/**
 * The audit trail every SQL store keeps: one entry per ADD, UPDATE and DELETE, with old and new
 * text, reason, actor and time. The entry callers get, the change a store records, and the row
 * its table holds.
 *
 * @module
 */

import type { HistoryEntry } from '../../core/types.js';

/** A history entry of the local and PostgreSQL stores, which also record who made the change. */
export interface LocalHistoryEntry extends HistoryEntry {
  /** Who made the change: the store's `actor` option, or `import`. */
  actor?: string;
}

/** One change to record, in the transaction of the change itself. */
export interface HistoryRecord {
  memoryId: string;
  event: HistoryEntry['event'];
  oldText?: string | undefined;
  newText?: string | undefined;
  reason?: string | undefined;
  actor: string;
  at: number;
}

/** A `memory_history` row as the stores select it (time in milliseconds). */
export interface HistoryRow {
  seq: number;
  memory_id: string;
  event: HistoryEntry['event'];
  old_text: string | null;
  new_text: string | null;
  reason: string | null;
  actor: string | null;
  created_at: number;
}

/** The entry of a row; `newText` where the store rebuilds it (the local store's ADD entries). */
export function historyEntry(
  row: HistoryRow,
  newText: string | undefined = row.new_text ?? undefined,
): LocalHistoryEntry {
  const entry: LocalHistoryEntry = {
    id: String(row.seq),
    memoryId: row.memory_id,
    event: row.event,
    createdAt: new Date(row.created_at),
  };
  if (row.old_text !== null) entry.oldText = row.old_text;
  if (newText !== undefined) entry.newText = newText;
  if (row.reason !== null) entry.reason = row.reason;
  if (row.actor !== null) entry.actor = row.actor;
  return entry;
}
