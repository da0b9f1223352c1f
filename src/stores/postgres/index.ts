/**
 * `with-memory/postgres`: a store on PostgreSQL, shared by many processes and machines. Loads no
 * driver itself: pass a node-postgres `Pool` or `Client`, or a PGlite instance.
 *
 * @module
 */

export type { Embedder } from '../kernel/embeddings.js';
export type { ExportOptions, ImportResult } from '../kernel/export-import.js';
export type { LocalHistoryEntry } from '../kernel/history.js';
export type { JsonlSource } from '../kernel/jsonl.js';
export type { PostgresPool, Queryable } from './pool.js';
export { type PostgresStore, type PostgresStoreOptions, postgresStore } from './postgres-store.js';
