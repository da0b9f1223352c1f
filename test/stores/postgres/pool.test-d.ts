import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { expectTypeOf, it } from 'vitest';
import type { PostgresPool, PostgresStoreOptions } from '../../../src/stores/postgres/index.js';

it('takes a pg Pool, a pg Client or PGlite as its pool, and nothing without query()', () => {
  expectTypeOf<pg.Pool>().toExtend<PostgresPool>();
  expectTypeOf<pg.Client>().toExtend<PostgresPool>();
  expectTypeOf<PGlite>().toExtend<PostgresPool>();
  expectTypeOf<{ execute(sql: string): Promise<unknown> }>().not.toExtend<PostgresStoreOptions['pool']>();
});
