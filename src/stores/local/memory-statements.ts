/**
 * The local store's statements for one memory or one page of them: get, list, update, export and
 * import. Each runs inside the connection's read or write (see `local-backend.ts`).
 *
 * @module
 */

import type { Scope } from '../../core/types.js';
import { terms } from '../../text/text-terms.js';
import type { ListRequest, MemoryUpdate } from '../kernel/create-store.js';
import { type ImportEvent, importEvent } from '../kernel/export-import.js';
import type { ImportLine } from '../kernel/jsonl.js';
import { type MemoryRow, rowToMemory, scopeColumns } from '../kernel/memory-rows.js';
import { contentHash } from '../kernel/restatements.js';
import type { Connection } from './connection.js';
import { visibleCondition } from './filters.js';
import { recordHistory } from './history.js';
import { indexTerms, reindexTerms, storeVector } from './index-entries.js';
import { joinTerms, memoryColumns } from './rows.js';

/** A memory that is neither deleted nor expired. */
export function readMemory(connection: Connection, id: string, now: number): MemoryRow | undefined {
  return connection
    .statement(
      `SELECT ${memoryColumns} FROM memories AS m
       WHERE m.id = ? AND m.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > ?)`,
    )
    .get(id, now) as MemoryRow | undefined;
}

/** The newest memories of a list. */
export function listMemories(connection: Connection, { scope, types, filters, limit, offset, now }: ListRequest) {
  const newest = (only: string[] | undefined, count: number, skip: number) => {
    const visible = visibleCondition({ scope, types: only, filters, now });
    return connection
      .statement(
        `SELECT ${memoryColumns} FROM memories AS m WHERE ${visible.sql}
         ORDER BY m.updated_at DESC, m.seq DESC LIMIT ? OFFSET ?`,
      )
      .all(...visible.params, count, skip) as MemoryRow[];
  };
  if (types === undefined || types.length <= 1) return newest(types, limit, offset);
  // One walk of the (scope, type, updated_at) index per type, merged: SQLite would otherwise
  // read every memory of those types to sort them.
  return [...new Set(types)]
    .flatMap((type) => newest([type], offset + limit, 0))
    .sort((x, y) => y.updated_at - x.updated_at || y.seq - x.seq)
    .slice(offset, offset + limit);
}

/** Applies an update; `undefined` when there is no such memory. */
export function updateMemory(connection: Connection, id: string, change: MemoryUpdate): MemoryRow | undefined {
  const now = Date.now();
  const existing = readMemory(connection, id, now);
  if (!existing) return undefined;
  const textTerms = change.text === undefined ? undefined : terms(change.text);
  const next = {
    text: change.text ?? existing.text,
    type: change.type ?? existing.type,
    metadata: change.metadata === undefined ? existing.metadata : JSON.stringify(change.metadata),
    expiresAt: change.expiresAt === undefined ? existing.expires_at : (change.expiresAt?.getTime() ?? null),
  };
  connection
    .statement(
      `UPDATE memories SET text = ?, terms = coalesce(?, terms), type = ?, metadata = ?, content_hash = ?,
       expires_at = ?, updated_at = ? WHERE seq = ?`,
    )
    .run(
      next.text,
      textTerms ? joinTerms(textTerms) : null,
      next.type,
      next.metadata,
      contentHash(next.text),
      next.expiresAt,
      now,
      existing.seq,
    );
  const scope = rowToMemory(existing).scope;
  if (textTerms && next.text !== existing.text) reindexTerms(connection, existing.seq, textTerms, scope);
  if (change.vector) storeVector(connection, existing.seq, change.vector);
  recordHistory(connection, {
    memoryId: existing.id,
    event: 'UPDATE',
    oldText: existing.text,
    newText: next.text,
    reason: change.reason,
    actor: change.actor,
    at: now,
  });
  return {
    ...existing,
    text: next.text,
    type: next.type,
    metadata: next.metadata,
    expires_at: next.expiresAt,
    updated_at: now,
  };
}

/** A page of an export: visible memories (of `scope`, else every one) after row `after`. */
export function exportPage(
  connection: Connection,
  { scope, after, size }: { scope: Scope | undefined; after: number; size: number },
): MemoryRow[] {
  const visible = scope
    ? visibleCondition({ scope, now: Date.now() })
    : { sql: 'm.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > ?)', params: [Date.now()] };
  return connection
    .statement(`SELECT ${memoryColumns} FROM memories AS m WHERE m.seq > ? AND ${visible.sql} ORDER BY m.seq LIMIT ?`)
    .all(after, ...visible.params, size) as MemoryRow[];
}

/** Writes one imported line under its own id, keeping its dates; call inside a write. */
export function importMemory(
  connection: Connection,
  line: ImportLine,
  textTerms: string[],
  vector: Float32Array | undefined,
  now: number,
): ImportEvent {
  const { memory } = line;
  const existing = connection
    .statement(`SELECT ${memoryColumns}, m.deleted_at AS deleted_at FROM memories AS m WHERE m.id = ?`)
    .get(memory.id) as (MemoryRow & { deleted_at: number | null }) | undefined;
  const event = importEvent(existing && { memory: rowToMemory(existing), deleted: existing.deleted_at !== null }, line);
  if (event === 'unchanged') return event;
  const values = [
    memory.text,
    joinTerms(textTerms),
    memory.type ?? null,
    ...scopeColumns(memory.scope),
    JSON.stringify(memory.metadata),
    contentHash(memory.text),
    memory.createdAt.getTime(),
    memory.updatedAt.getTime(),
    memory.expiresAt?.getTime() ?? null,
  ] as const;
  if (!existing) {
    const result = connection
      .statement(
        `INSERT INTO memories (text, terms, type, user_id, agent_id, run_id, app_id, metadata, content_hash, created_at, updated_at, expires_at, id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...values, memory.id);
    const seq = Number(result.lastInsertRowid);
    indexTerms(connection, seq, textTerms, memory.scope);
    if (vector) storeVector(connection, seq, vector);
    recordHistory(connection, { memoryId: memory.id, event: 'ADD', reason: 'import', actor: 'import', at: now });
    return event;
  }
  connection
    .statement(
      `UPDATE memories SET text = ?, terms = ?, type = ?, user_id = ?, agent_id = ?, run_id = ?, app_id = ?, metadata = ?,
       content_hash = ?, created_at = ?, updated_at = ?, expires_at = ? WHERE id = ?`,
    )
    .run(...values, memory.id);
  connection.statement('DELETE FROM memories_fts WHERE rowid = ?').run(existing.seq);
  indexTerms(connection, existing.seq, textTerms, memory.scope);
  if (vector) storeVector(connection, existing.seq, vector);
  recordHistory(connection, {
    memoryId: memory.id,
    event: 'UPDATE',
    oldText: existing.text,
    newText: memory.text,
    reason: 'import',
    actor: 'import',
    at: now,
  });
  return event;
}
