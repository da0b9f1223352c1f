/**
 * The databases the PostgreSQL store is tested on: the real server (PostgreSQL 15 on
 * 127.0.0.1:5432, `.ci/run` starts it; `WITH_MEMORY_TEST_DATABASE_URL` points elsewhere) and
 * PGlite with its pgvector extension. Every test file works in schemas of its own and drops them.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import pg from 'pg';
import { afterAll } from 'vitest';

import { serverUrl } from './server-url.js';

export { serverUrl };

/** A schema name no other test run uses. */
export function uniqueSchema(label: string): string {
  return `wm_test_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * A pool on the real server for this test file; the schemas it hands out are dropped, and the pool
 * ended, after the file's tests.
 */
export function serverDatabase(label: string): { pool: pg.Pool; schema(): string } {
  const pool = new pg.Pool({ connectionString: serverUrl, max: 4 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });
  return {
    pool,
    schema() {
      const schema = uniqueSchema(label);
      schemas.push(schema);
      return schema;
    },
  };
}

/**
 * One PGlite database with pgvector for this test file (starting one takes seconds), closed after
 * its tests; every store gets a schema of its own in it.
 */
export function pgliteDatabase(): { pool(): PGlite; schema(): string } {
  let database: PGlite | undefined;
  afterAll(async () => {
    await database?.close();
  });
  return {
    pool: () => {
      database ??= new PGlite({ extensions: { vector } });
      return database;
    },
    schema: () => uniqueSchema('lite'),
  };
}
