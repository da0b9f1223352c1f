/**
 * Keeps the planner's statistics of the store's tables fresh enough for its plans. PostgreSQL
 * plans a search, a list or a restatement probe from what `ANALYZE` last saw of a table; a table
 * never analysed is planned as a small one, and a scope's every row is then read and sorted where
 * an index would have found a few (a search of a 100,000-memory scope went from a few
 * milliseconds to tens, a `list` from under one to ten). Autovacuum analyses a table once a tenth
 * of it changed, but it may be off, or a minute behind a bulk load; so the store analyses its
 * tables itself when `memories` has grown by half (and 1,000 rows) since they were last analysed.
 *
 * @module
 */

import type { Database } from './pool.js';
import { quoteIdentifier } from './schema.js';

/** Facts a store writes between two looks at its tables' growth (a look is one index seek). */
const factsBetweenChecks = 200;

/** Rows `memories` may gain beyond half its analysed size before it is analysed again. */
const growthAllowance = 1000;

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
      // The largest `seq` is how many rows were ever written (one seek of the primary key); the
      // table's `reltuples` how many the planner knows of (-1 before the first ANALYZE).
      const stale = `(SELECT max(m.seq) FROM ${s}.memories AS m) > ${growthAllowance} + 1.5 * greatest(c.reltuples, 0)`;
      const [grown] = await db.query<{ stale: boolean }>(
        `SELECT coalesce(${stale}, false) AS stale FROM pg_class AS c WHERE c.oid = to_regclass($1)`,
        [`${s}.memories`],
      );
      if (!grown?.stale) return;
      // One process analyses; the others carry on. ANALYZE reads a sample (30,000 rows at most),
      // and blocks no reader or writer.
      await db.transaction(async (tx) => {
        const [lock] = await tx.query<{ taken: boolean }>(
          'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS taken',
          [`with-memory analyse ${schema}`],
        );
        if (lock?.taken) await tx.query(`ANALYZE ${s}.memories, ${s}.memory_terms, ${s}.scope_stats`);
      });
    },
  };
}
