/**
 * The SQL conditions that decide which memories a read may see: scope, type, metadata, not
 * expired, not deleted. Values always travel as bound parameters, never inside the SQL text.
 *
 * @module
 */

import type { MemoryType, MetadataValue, Scope } from '../../core/types.js';
import { scopeColumns } from '../kernel/memory-rows.js';
import type { VisibleFilter } from '../kernel/search-request.js';

/** A WHERE fragment and its parameters, in order. */
export interface Condition {
  sql: string;
  params: unknown[];
  /** The `memories` index of the scope column the condition looks rows up by (scope plus rowid). */
  index?: string;
}

const scopeColumnNames = ['user_id', 'agent_id', 'run_id', 'app_id'] as const;

/**
 * Memories (table alias `m`) a read may return: every field the scope gives matches exactly,
 * of one of `types`, matching every metadata filter, neither expired nor deleted.
 */
export function visibleCondition({ scope, types, filters, now }: VisibleFilter): Condition {
  const scopePart = scopeMatch(scope, false);
  const parts: string[] = [scopePart.sql, 'm.deleted_at IS NULL', '(m.expires_at IS NULL OR m.expires_at > ?)'];
  const params: unknown[] = [...scopePart.params, now];
  const condition: Condition = { sql: '', params };
  if (scopePart.index) condition.index = scopePart.index;
  if (types !== undefined) {
    // An empty list asks for no type at all, so it matches nothing (as in the in-memory store).
    if (types.length === 0) parts.push('0');
    else {
      parts.push(`m.type IN (${types.map(() => '?').join(', ')})`);
      params.push(...types);
    }
  }
  for (const [key, wanted] of Object.entries(filters ?? {})) {
    const metadata = metadataCondition(key, Array.isArray(wanted) ? wanted : [wanted]);
    parts.push(metadata.sql);
    params.push(...metadata.params);
  }
  condition.sql = parts.join(' AND ');
  return condition;
}

/**
 * The memories of exactly this scope (fields the scope does not give must be absent too) and this
 * type: where a restated fact looks for the memory it restates.
 */
export function sameScopeAndTypeCondition(scope: Scope, type: MemoryType | undefined, now: number): Condition {
  const scopePart = scopeMatch(scope, true);
  return {
    sql: `${scopePart.sql} AND m.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > ?) AND ${type === undefined ? '+m.type IS NULL' : '+m.type = ?'}`,
    params: type === undefined ? [...scopePart.params, now] : [...scopePart.params, now, type],
  };
}

/**
 * Every row of the scope, deleted or expired ones included: what `deleteAll` removes, and the rows
 * (of `memories` or `scope_stats`, aliased `m`) a search's statistics count.
 */
export function scopeCondition(scope: Scope): Condition {
  return scopeMatch(scope, false);
}

// Which index a scope is looked up by, most selective first: a run is one session of one user, a
// user has memories with several agents, an agent serves every user. The other fields are
// compared with a unary + so that SQLite, which has no statistics on a new file, cannot pick the
// index of an agent shared by every user (or of the absent run_id, NULL in every row).
const indexPreference = [2, 0, 1] as const;
const scopeIndexes = ['memories_user_seq', 'memories_agent_seq', 'memories_run_seq'] as const;

/**
 * Every field the scope gives, compared exactly; with `exact`, the fields it does not give must be
 * absent too (NULL).
 */
function scopeMatch(scope: Scope, exact: boolean): Condition {
  const values = scopeColumns(scope);
  const indexed = indexPreference.find((index) => values[index] !== null);
  const parts: string[] = [];
  const params: unknown[] = [];
  values.forEach((value, index) => {
    const column = `${index === indexed ? '' : '+'}m.${scopeColumnNames[index]}`;
    if (value !== null) {
      parts.push(`${column} = ?`);
      params.push(value);
    } else if (exact) parts.push(`${column} IS NULL`);
  });
  const condition: Condition = { sql: parts.join(' AND ') || '0', params };
  if (indexed !== undefined) condition.index = scopeIndexes[indexed];
  return condition;
}

// json_each compares the key exactly (no JSON path to escape) and tells strings, numbers and
// booleans apart, so `true` never matches 1 and "1" never matches 1.
function metadataCondition(key: string, values: MetadataValue[]): Condition {
  if (values.length === 0) return { sql: '0', params: [] };
  const alternatives: string[] = [];
  const params: unknown[] = [key];
  for (const value of values) {
    if (typeof value === 'boolean') alternatives.push(value ? "je.type = 'true'" : "je.type = 'false'");
    else if (typeof value === 'number') {
      alternatives.push("(je.type IN ('integer', 'real') AND je.value = ?)");
      params.push(value);
    } else {
      alternatives.push("(je.type = 'text' AND je.value = ?)");
      params.push(value);
    }
  }
  return {
    sql: `EXISTS (SELECT 1 FROM json_each(m.metadata) AS je WHERE je.key = ? AND (${alternatives.join(' OR ')}))`,
    params,
  };
}
