/**
 * Memory rows as the PostgreSQL store selects them: in the shape of the kernel's `MemoryRow` (times
 * in milliseconds, metadata as JSON text), so one `rowToMemory` serves both SQL stores and every driver
 * (node-postgres, PGlite) returns the same plain values.
 *
 * @module
 */

/** A timestamptz column of `m` in milliseconds since the epoch. */
export function milliseconds(column: string): string {
  return `(extract(epoch FROM m.${column}) * 1000)::float8`;
}

/** The columns of a `MemoryRow` (see `../kernel/memory-rows.ts`), for a table aliased `m`. */
export const memoryColumns = [
  'm.seq::float8 AS seq',
  'm.id',
  'm.text',
  'm.type',
  'm.user_id',
  'm.agent_id',
  'm.run_id',
  'm.app_id',
  'm.metadata::text AS metadata',
  `${milliseconds('created_at')} AS created_at`,
  `${milliseconds('updated_at')} AS updated_at`,
  `${milliseconds('expires_at')} AS expires_at`,
].join(', ');
