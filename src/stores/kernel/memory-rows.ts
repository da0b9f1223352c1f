/**
 * Memory rows as the SQL stores select them (times in milliseconds, metadata as JSON text), and
 * the `Memory` objects callers get: always new objects, so changing a returned memory never
 * changes the store.
 *
 * @module
 */

import type { Memory, Metadata, Scope } from '../../core/types.js';

/** A `memories` row as the SQL stores' SELECTs read it. */
export interface MemoryRow {
  seq: number;
  id: string;
  text: string;
  type: string | null;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  app_id: string | null;
  metadata: string;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
}

/** A fresh `Memory` for a row. */
export function rowToMemory(row: MemoryRow): Memory {
  const memory: Memory = {
    id: row.id,
    text: row.text,
    metadata: JSON.parse(row.metadata) as Metadata,
    scope: rowScope(row),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
  if (row.type !== null) memory.type = row.type;
  if (row.expires_at !== null) memory.expiresAt = new Date(row.expires_at);
  return memory;
}

/** The scope of a row, with only the fields it has. */
export function rowScope(row: Pick<MemoryRow, 'user_id' | 'agent_id' | 'run_id' | 'app_id'>): Scope {
  const scope: Scope = {};
  if (row.user_id !== null) scope.userId = row.user_id;
  if (row.agent_id !== null) scope.agentId = row.agent_id;
  if (row.run_id !== null) scope.runId = row.run_id;
  if (row.app_id !== null) scope.appId = row.app_id;
  return scope;
}

/** The scope's four columns, `null` where the scope has no such field. */
export function scopeColumns(scope: Scope): [string | null, string | null, string | null, string | null] {
  return [scope.userId ?? null, scope.agentId ?? null, scope.runId ?? null, scope.appId ?? null];
}
