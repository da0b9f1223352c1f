/**
 * The PostgreSQL store's statements for one memory or one page of them: get, list, update,
 * export and import.
 *
 * @module
 */

import type { Scope } from '../../core/types.js';
import { terms } from '../../text/text-terms.js';
import type { ListRequest, MemoryUpdate } from '../kernel/create-store.js';
import { type ImportEvent, importEvent } from '../kernel/export-import.js';
import type { ImportLine } from '../kernel/jsonl.js';
import { type MemoryRow, rowToMemory } from '../kernel/memory-rows.js';
import { contentHash } from '../kernel/restatements.js';
import { parameters, timestamp, visibleCondition } from './conditions.js';
import { recordHistory } from './history.js';
import { indexableTerms } from './indexable-terms.js';
import type { Database, Transaction } from './pool.js';
import { memoryColumns } from './rows.js';
import type { StoreTables } from './search.js';
import { vectorValue } from './vectors.js';

/** A memory that is neither deleted nor expired; with `lock`, locked for the transaction. */
export async function readMemory(
  tx: Transaction | Database,
  tables: StoreTables,
  id: string,
  now: number,
  lock = false,
): Promise<MemoryRow | undefined> {
  const [row] = await tx.query<MemoryRow>(
    `SELECT ${memoryColumns} FROM ${tables.schema}.memories AS m
     WHERE m.id = $1 AND m.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > $2::timestamptz)
     ${lock ? 'FOR UPDATE' : ''}`,
    [id, timestamp(now)],
  );
  return row;
}

/** The newest memories of a list. */
export async function listMemories(db: Database, tables: StoreTables, request: ListRequest): Promise<MemoryRow[]> {
  const { scope, types, filters, limit, offset, now } = request;
  const params = parameters();
  const visible = visibleCondition(params, { scope, types, filters, now });
  return db.query<MemoryRow>(
    `SELECT ${memoryColumns} FROM ${tables.schema}.memories AS m WHERE ${visible}
     ORDER BY m.updated_at DESC, m.seq DESC LIMIT ${params.add(limit)} OFFSET ${params.add(offset)}`,
    params.values,
  );
}

/** Applies an update in `tx`; `undefined` when there is no such memory. */
export async function updateMemory(
  tx: Transaction,
  tables: StoreTables,
  id: string,
  change: MemoryUpdate,
): Promise<MemoryRow | undefined> {
  const { text, vector } = change;
  const now = Date.now();
  const existing = await readMemory(tx, tables, id, now, true);
  if (!existing) return undefined;
  const params = parameters();
  const setText =
    text === undefined
      ? ''
      : `text = ${params.add(text)}, terms = ${params.add(indexableTerms(terms(text)))}::text[], content_hash = ${params.add(contentHash(text))},`;
  const [updated] = await tx.query<MemoryRow>(
    `UPDATE ${tables.schema}.memories AS m SET ${setText}
       type = coalesce(${params.add(change.type ?? null)}, m.type),
       metadata = coalesce(${params.add(change.metadata === undefined ? null : JSON.stringify(change.metadata))}::jsonb, m.metadata),
       expires_at = ${change.expiresAt === undefined ? 'm.expires_at' : `${params.add(change.expiresAt === null ? null : timestamp(change.expiresAt.getTime()))}::timestamptz`},
       ${vector ? `embedding = ${vectorValue(params, tables.vectors, vector)},` : ''}
       updated_at = ${params.add(timestamp(now))}::timestamptz
     WHERE m.seq = ${params.add(existing.seq)} RETURNING ${memoryColumns}`,
    params.values,
  );
  await recordHistory(tx, tables, {
    memoryId: existing.id,
    event: 'UPDATE',
    oldText: existing.text,
    newText: updated?.text,
    reason: change.reason,
    actor: change.actor,
    at: now,
  });
  return updated;
}

/** A page of an export: visible memories (of `scope`, else every one) after row `after`. */
export function exportPage(
  db: Database,
  tables: StoreTables,
  { scope, after, size }: { scope: Scope | undefined; after: number; size: number },
): Promise<MemoryRow[]> {
  const params = parameters();
  const now = Date.now();
  const visible = scope
    ? visibleCondition(params, { scope, now })
    : `m.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > ${params.add(timestamp(now))}::timestamptz)`;
  return db.query<MemoryRow>(
    `SELECT ${memoryColumns} FROM ${tables.schema}.memories AS m
     WHERE m.seq > ${params.add(after)} AND ${visible} ORDER BY m.seq LIMIT ${size}`,
    params.values,
  );
}

/** Writes one imported line under its own id, keeping its dates, in the import's transaction. */
export async function importMemory(
  tx: Transaction,
  tables: StoreTables,
  line: ImportLine,
  vector: Float32Array | undefined,
  now: number,
): Promise<ImportEvent> {
  const { memory } = line;
  const [existing] = await tx.query<MemoryRow & { deleted: boolean }>(
    `SELECT ${memoryColumns}, m.deleted_at IS NOT NULL AS deleted FROM ${tables.schema}.memories AS m
     WHERE m.id = $1 FOR UPDATE`,
    [memory.id],
  );
  const event = importEvent(existing && { memory: rowToMemory(existing), deleted: existing.deleted }, line);
  if (event === 'unchanged') return event;
  const params = parameters();
  const value = (item: unknown) => params.add(item);
  const columns = {
    text: value(memory.text),
    terms: `${value(indexableTerms(terms(memory.text)))}::text[]`,
    type: value(memory.type ?? null),
    user_id: value(memory.scope.userId ?? null),
    agent_id: value(memory.scope.agentId ?? null),
    run_id: value(memory.scope.runId ?? null),
    app_id: value(memory.scope.appId ?? null),
    metadata: `${value(JSON.stringify(memory.metadata))}::jsonb`,
    content_hash: value(contentHash(memory.text)),
    embedding: vector ? vectorValue(params, tables.vectors, vector) : 'NULL',
    created_at: `${value(timestamp(memory.createdAt.getTime()))}::timestamptz`,
    updated_at: `${value(timestamp(memory.updatedAt.getTime()))}::timestamptz`,
    expires_at: `${value(memory.expiresAt ? timestamp(memory.expiresAt.getTime()) : null)}::timestamptz`,
  };
  if (!existing) {
    await tx.query(
      `INSERT INTO ${tables.schema}.memories (id, ${Object.keys(columns).join(', ')})
       VALUES (${value(memory.id)}, ${Object.values(columns).join(', ')})`,
      params.values,
    );
  } else {
    await tx.query(
      `UPDATE ${tables.schema}.memories SET ${Object.entries(columns)
        .map(([column, placeholder]) => `${column} = ${placeholder}`)
        .join(', ')} WHERE id = ${value(memory.id)}`,
      params.values,
    );
  }
  const at = { reason: 'import', actor: 'import', at: now };
  await recordHistory(
    tx,
    tables,
    existing
      ? { memoryId: memory.id, event: 'UPDATE', oldText: existing.text, newText: memory.text, ...at }
      : { memoryId: memory.id, event: 'ADD', newText: memory.text, ...at },
  );
  return event;
}
