/**
 * The PostgreSQL store's history: appending an entry in the transaction of its change, and
 * reading a memory's entries. The entry and row shapes are the kernel's (`../kernel/history.ts`).
 *
 * @module
 */

import { type HistoryRecord, type HistoryRow, historyEntry, type LocalHistoryEntry } from '../kernel/history.js';
import { timestamp } from './conditions.js';
import type { Database, Transaction } from './pool.js';
import type { StoreTables } from './search.js';

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

/** The entries of one memory, oldest first. */
export async function readHistory(db: Database, tables: StoreTables, id: string): Promise<LocalHistoryEntry[]> {
  const rows = await db.query<HistoryRow>(
    `SELECT seq::float8 AS seq, memory_id, event, old_text, new_text, reason, actor,
       (extract(epoch FROM created_at) * 1000)::float8 AS created_at
     FROM ${tables.schema}.memory_history WHERE memory_id = $1 ORDER BY seq`,
    [id],
  );
  return rows.map((row) => historyEntry(row));
}
