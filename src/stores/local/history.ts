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

import type { HistoryEntry } from '../../core/types.js';
import type { Connection } from './connection.js';

/** A history entry of the local store, which also records who made the change. */
export interface LocalHistoryEntry extends HistoryEntry {
  /** Who made the change: the store's `actor` option, or `import`. */
  actor?: string;
}

/** One change to record. */
export interface HistoryRecord {
  memoryId: string;
  event: HistoryEntry['event'];
  oldText?: string | undefined;
  newText?: string | undefined;
  reason?: string | undefined;
  actor: string;
  at: number;
}

interface HistoryRow {
  seq: number;
  memory_id: string;
  event: HistoryEntry['event'];
  old_text: string | null;
  new_text: string | null;
  reason: string | null;
  actor: string | null;
  created_at: number;
}

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
  return rows.map((row, index) => {
    const entry: LocalHistoryEntry = {
      id: String(row.seq),
      memoryId: row.memory_id,
      event: row.event,
      createdAt: new Date(row.created_at),
    };
    const newText = row.event === 'ADD' ? impliedAddText(rows[index + 1], current) : (row.new_text ?? undefined);
    if (row.old_text !== null) entry.oldText = row.old_text;
    if (newText !== undefined) entry.newText = newText;
    if (row.reason !== null) entry.reason = row.reason;
    if (row.actor !== null) entry.actor = row.actor;
    return entry;
  });
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
