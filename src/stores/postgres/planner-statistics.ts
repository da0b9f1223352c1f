/**
 * Keeps the planner's statistics of the store's tables fresh enough for its plans. PostgreSQL
 * plans a search, a list or a restatement probe from what `ANALYZE` last saw of a table; a table
 * never analysed is planned as a small one, and a scope's every row is then read and sorted where
 * an index would have found a few (a search of a 100,000-memory scope went from a few
 * milliseconds to tens, a `list` from under one to ten). Autovacuum analyses a table once a tenth
 * of it changed, but it may be off, or a minute behind a bulk load; so the store analyses its
 * tables itself (VACUUM ANALYZE) when `memories` has grown by half (and 256 kB, about a thousand
 * memories) since they were last analysed. Growth is read from the table's size, which deleting
 * memories does not shrink: a store that deletes as much as it adds is not analysed for it.
 *
 * @module
 */

import type { Database } from './pool.js';
import { quoteIdentifier } from './schema.js';

/** Facts a store writes between two looks at its tables' growth (a look is one catalogue read). */
const factsBetweenChecks = 200;

/** Pages (8 kB) `memories` may gain beyond half its analysed size before it is analysed again. */
const growthAllowance = 32;

/** What a store tells about its writes. */
export interface PlannerStatistics {
  /** `facts` were written: now and then, the tables are analysed if they have grown. */
  written(facts: number): Promise<void>;
}

/** The statistics keeper of the store's tables in `schema`. */
export function plannerStatistics(db: Database, schema: string): PlannerStatistics {
  const s = quoteIdentifier(schema);
  let sinceCheck = 0;
  return {
    async written(facts) {
      sinceCheck += facts;
      if (sinceCheck < factsBetweenChecks) return;
      sinceCheck = 0;
      try {
        await refreshIfGrown(db, s);
      } catch {
        // The facts are committed: a refresh that fails (a statement_timeout of the caller's
        // role, say) must not turn a done write into an error; the next check tries again.
      }
    },
  };
}

/** VACUUM (ANALYZE) of the tables of schema `s` (quoted) when `memories` has grown enough. */
async function refreshIfGrown(db: Database, s: string): Promise<void> {
  // The table's pages now (its file's size), and those the planner knows of (as of the last
  // VACUUM or ANALYZE; 0 before).
  const [grown] = await db.query<{ stale: boolean }>(
    `SELECT pg_relation_size(c.oid) / current_setting('block_size')::integer > ${growthAllowance} + 1.5 * c.relpages AS stale
     FROM pg_class AS c WHERE c.oid = to_regclass($1)`,
    [`${s}.memories`],
  );
  if (!grown?.stale) return;
  // VACUUM too: it marks the pages all visible, so the term index answers alone (index-only
  // scans), and frees the rows restatements left behind. It reads a sample for the
  // statistics, blocks no reader or writer, and skips a table another process is vacuuming.
  await db.query(`VACUUM (ANALYZE, SKIP_LOCKED) ${s}.memories, ${s}.memory_terms, ${s}.scope_stats`);
}
