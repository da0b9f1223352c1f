/**
 * The PostgreSQL store as a store-benchmark target: a fresh schema on the server of
 * `WITH_MEMORY_BENCH_DATABASE_URL` (default: the local server, database `test`) per size, dropped
 * afterwards.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import type { TextEmbedder } from './hash-embedder.js';
import type { StoreBenchTarget } from './store.js';

const defaultUrl = 'postgres://postgres@127.0.0.1:5432/test';

/** `postgresStore` on a pg Pool, with the embedder the local store gets. */
export function postgresTarget(embed: TextEmbedder | undefined): StoreBenchTarget {
  return {
    name: 'postgres',
    async open() {
      const { default: pg } = await import('pg');
      const { postgresStore } = await import('../src/stores/postgres/index.js');
      const pool = new pg.Pool({ connectionString: process.env.WITH_MEMORY_BENCH_DATABASE_URL ?? defaultUrl, max: 4 });
      const schema = `wm_bench_${randomBytes(4).toString('hex')}`;
      const store = postgresStore(embed ? { pool, schema, embedder: embed } : { pool, schema });
      return {
        store,
        fileBytes: () => null,
        async dispose() {
          await store.close();
          await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await pool.end();
        },
      };
    },
  };
}
