/**
 * Memory rows as SQLite holds them: the columns to select, and the stored form of the terms.
 * The row shape and `rowToMemory` are the kernel's (`../kernel/memory-rows.ts`).
 *
 * @module
 */

/** The columns of a `MemoryRow`, for a table aliased `m`. */
export const memoryColumns =
  'm.seq, m.id, m.text, m.type, m.user_id, m.agent_id, m.run_id, m.app_id, m.metadata, m.created_at, m.updated_at, m.expires_at';

/** The stored form of a memory's terms (`terms()` never yields a term with a space). */
export function joinTerms(memoryTerms: string[]): string {
  return memoryTerms.join(' ');
}

/** A memory's terms back from their stored form. */
export function splitTerms(stored: string): string[] {
  return stored === '' ? [] : stored.split(' ');
}
