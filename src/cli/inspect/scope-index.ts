/**
 * The scopes a store holds memories for, with how many each, for the inspector's list of users.
 * Read from the store's export, page by page: `MemoryStore` has no way to list scopes, and every
 * store the CLI opens can export.
 *
 * @module
 */

import type { Scope } from '../../core/types.js';
import { type JsonlSource, readLines } from '../../stores/kernel/jsonl.js';

/** One exact scope (every id a memory carries) and how many memories carry it. */
export interface ScopeCount {
  scope: Scope;
  memories: number;
}

const fields = ['userId', 'agentId', 'runId', 'appId'] as const;

/** Counts the memories of each exact scope in `lines` (JSONL as `export` writes it), sorted by ids. */
export async function indexScopes(lines: JsonlSource): Promise<ScopeCount[]> {
  const counts = new Map<string, ScopeCount>();
  for await (const { line } of readLines(lines)) {
    const { scope } = JSON.parse(line) as { scope: Scope };
    const exact: Scope = {};
    for (const field of fields) if (scope[field] !== undefined) exact[field] = scope[field];
    const key = JSON.stringify(fields.map((field) => exact[field] ?? null));
    const counted = counts.get(key);
    if (counted) counted.memories += 1;
    else counts.set(key, { scope: exact, memories: 1 });
  }
  return [...counts.values()].sort((a, b) => compareScopes(a.scope, b.scope));
}

function compareScopes(a: Scope, b: Scope): number {
  for (const field of fields) {
    // A scope without the field (e.g. the user alone) comes before the narrower ones.
    const order = (a[field] ?? '').localeCompare(b[field] ?? '');
    if (order !== 0) return order;
  }
  return 0;
}
