/**
 * With pgvector, the HNSW index of each vector length, made once per length and process.
 *
 * @module
 */

import type { Database, Transaction } from './pool.js';
import type { StoreTables } from './search.js';
import { hnswIndex } from './vectors.js';

/**
 * Makes sure the index of these vectors' length exists: in its own transaction, or in `inside`
 * (an import's, which a second connection would wait for).
 */
export type EnsureVectorIndex = (
  tables: StoreTables,
  vectors: Array<Float32Array | undefined> | undefined,
  inside?: Transaction,
) => Promise<void>;

/** The index maker of one store (schema `schema`). */
export function vectorIndexMaker(db: Database, schema: string): EnsureVectorIndex {
  const indexedDimensions = new Set<number>();
  return async (tables, vectors, inside) => {
    const dimensions = vectors?.find((vector) => vector !== undefined)?.length;
    if (dimensions === undefined || indexedDimensions.has(dimensions)) return;
    const sql = hnswIndex(tables.schema, tables.vectors, dimensions);
    if (sql) {
      // Two processes creating the same index at once would collide on its name: they take turns.
      const create = async (tx: Transaction) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`with-memory schema ${schema}`]);
        await tx.query(sql);
      };
      await (inside ? create(inside) : db.transaction(create));
    }
    indexedDimensions.add(dimensions);
  };
}
