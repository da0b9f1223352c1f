/**
 * The SQL conditions that decide which memories a statement may touch (scope, type, metadata,
 * expiry, deletion), with every value a numbered parameter, never part of the SQL text.
 *
 * @module
 */

import type { MemoryType, Scope } from '../../core/types.js';
import { scopeColumns } from '../kernel/memory-rows.js';
import type { VisibleFilter } from '../kernel/search-request.js';

/** The parameters of one statement: `add` returns the placeholder (`$3`) of a new value. */
export interface Parameters {
  values: unknown[];
  add(value: unknown): string;
}

/** A fresh parameter list. */
export function parameters(): Parameters {
  const values: unknown[] = [];
  return {
    values,
    add(value) {
      values.push(value);
      return `$${values.length}`;
    },
  };
}

const scopeColumnNames = ['user_id', 'agent_id', 'run_id', 'app_id'] as const;

/** A time as the parameter of a `timestamptz`. */
export function timestamp(milliseconds: number): string {
  return new Date(milliseconds).toISOString();
}

/**
 * Memories (alias `m`) a read may return: every field the scope gives matches exactly, of one of
 * `types`, matching every metadata filter, neither expired nor deleted.
 */
export function visibleCondition(params: Parameters, { scope, types, filters, now }: VisibleFilter): string {
  const parts = [scopeMatch(params, scope, false), ...liveParts(params, now)];
  if (types !== undefined) parts.push(`m.type = ANY(${params.add(types)}::text[])`);
  for (const [key, wanted] of Object.entries(filters ?? {})) {
    const values = Array.isArray(wanted) ? wanted : [wanted];
    // jsonb containment compares the key exactly and tells strings, numbers and booleans apart.
    if (values.length === 0) parts.push('false');
    else
      parts.push(
        `(${values.map((value) => `m.metadata @> ${params.add(JSON.stringify({ [key]: value }))}::jsonb`).join(' OR ')})`,
      );
  }
  return parts.join(' AND ');
}

/** The memories of exactly this scope (absent fields absent too), alive: where restatements are looked for. */
export function sameScopeCondition(params: Parameters, scope: Scope, now: number): string {
  return [scopeMatch(params, scope, true), ...liveParts(params, now)].join(' AND ');
}

/** The type condition of a restatement: the same type, or both without one. */
export function sameTypeCondition(params: Parameters, type: MemoryType | undefined): string {
  return type === undefined ? 'm.type IS NULL' : `m.type = ${params.add(type)}`;
}

/** Every row of the scope, deleted or expired ones included: what `deleteAll` removes. */
export function scopeCondition(params: Parameters, scope: Scope): string {
  return scopeMatch(params, scope, false);
}

/** Not deleted, not expired at `now`. */
function liveParts(params: Parameters, now: number): string[] {
  return [
    'm.deleted_at IS NULL',
    `(m.expires_at IS NULL OR m.expires_at > ${params.add(timestamp(now))}::timestamptz)`,
  ];
}

function scopeMatch(params: Parameters, scope: Scope, exact: boolean): string {
  const parts: string[] = [];
  scopeColumns(scope).forEach((value, index) => {
    const column = `m.${scopeColumnNames[index]}`;
    if (value !== null) parts.push(`${column} = ${params.add(value)}`);
    else if (exact) parts.push(`${column} IS NULL`);
  });
  return parts.join(' AND ') || 'false';
}
