/**
 * `postgresStore`: memory shared by many processes and machines, in PostgreSQL. The local store's
 * behaviour (ranking, restatements, history, expiry, export and import) on a database the team
 * already runs; the connection (a node-postgres `Pool` or `Client`, or PGlite) is the caller's.
 *
 * @module
 */

import type { Readable } from 'node:stream';
import { z } from 'zod';
import { toInvalidOptionsError } from '../../core/options.js';
import type { MemoryStore } from '../../core/types.js';
import { createStore } from '../kernel/create-store.js';
import type { Embedder } from '../kernel/embeddings.js';
import type { ExportOptions, ImportResult } from '../kernel/export-import.js';
import type { LocalHistoryEntry } from '../kernel/history.js';
import type { JsonlSource } from '../kernel/jsonl.js';
import { sharedOptionDefaults, sharedOptionFields } from '../kernel/store-options.js';
import { database, type PostgresPool } from './pool.js';
import { postgresBackend } from './postgres-backend.js';

/** Options of `postgresStore`. */
export interface PostgresStoreOptions {
  /**
   * The connection: a node-postgres `Pool` (best: transactions run on a client of their own) or
   * `Client`, a PGlite instance, or anything with `query(text, values) -> Promise<{ rows }>`. The
   * store never ends it: close it yourself after `store.close()`.
   */
  pool: PostgresPool;
  /**
   * The PostgreSQL schema that holds the store's tables, created on first use.
   * @default 'with_memory'
   */
  schema?: string;
  /**
   * Turns texts into embedding vectors; when set, vectors are stored with each memory and search
   * fuses word and vector similarity. See `openaiEmbedder`.
   */
  embedder?: Embedder;
  /**
   * How alike (0..1, the `restatementOverlap` of their terms) a new fact and a stored one of the
   * same scope and type must be for the new fact to update the stored one.
   * @default 0.85
   */
  duplicateThreshold?: number;
  /**
   * With an embedder: the cosine similarity (0..1) at or above which a new fact updates a stored
   * one of the same scope and type.
   * @default 0.95
   */
  vectorDuplicateThreshold?: number;
  /**
   * `deleteAll` keeps, in the history, the text of the memories it deletes.
   * @default false
   */
  keepDeletedText?: boolean;
  /**
   * Who the history says made the changes of this store (the CLI passes `cli`).
   * @default 'with-memory'
   */
  actor?: string;
  /**
   * How long a write waits for a lock another writer holds before it rejects with a retryable
   * `StoreError`, in milliseconds; also how long a transaction of this store may sit idle (its
   * process paused or stuck mid-write) before the server ends it and frees its locks.
   * @default 10000
   */
  lockTimeoutMs?: number;
}

/** The PostgreSQL store: every optional `MemoryStore` method, plus export and import. */
export interface PostgresStore extends Required<MemoryStore> {
  readonly name: 'postgres';
  readonly extractsFacts: false;
  /** The schema that holds the tables. */
  readonly schema: string;
  /** A memory's changes, oldest first, with who made each. */
  history(id: string): Promise<LocalHistoryEntry[]>;
  /** How vectors are kept: `pgvector` (the `vector` type, HNSW index) or `real[]`. Opens the schema. */
  vectorStorage(): Promise<'pgvector' | 'real[]'>;
  /** The memories (unexpired) as JSONL, one memory per line, read page by page. */
  export(options?: ExportOptions): Readable;
  /**
   * Reads JSONL written by `export` and stores each memory under its own id, keeping its dates;
   * an id already present in the line's scope is updated, an id of another scope's memory or of a
   * deleted memory is refused. All or nothing: one transaction, so a line that is refused (named
   * by its number) leaves the store as it was.
   */
  import(source: JsonlSource): Promise<ImportResult>;
}

const optionsSchema = z
  .object(
    {
      pool: z.custom<PostgresPool>((value) => typeof (value as { query?: unknown } | null)?.query === 'function', {
        error: 'a pg Pool or Client, or a PGlite instance (anything with query(text, values))',
      }),
      schema: z
        .string({ error: 'a schema name' })
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'a lowercase PostgreSQL name: letters, digits, _ (at most 63)' })
        // The store's tables and version table need a schema of their own, not a shared or system one.
        .refine((name) => name !== 'public' && name !== 'information_schema' && !name.startsWith('pg_'), {
          error: "a schema of the store's own, not public, information_schema or pg_*",
        })
        .optional(),
      ...sharedOptionFields,
      lockTimeoutMs: z
        .number({ error: 'a number of milliseconds (1 or more)' })
        .int({ error: 'a whole number of milliseconds' })
        .min(1, { error: 'a number of milliseconds (1 or more)' })
        .max(2_147_483_647, { error: 'at most 2147483647 milliseconds' })
        .optional(),
    },
    { error: 'an options object such as { pool: new pg.Pool() }' },
  )
  .strict();

/**
 * Creates a store on PostgreSQL, shared by every process and machine that uses the same database
 * and schema. Cheap to call: the schema is created (or checked) on the first operation.
 *
 * @example
 * import pg from 'pg';
 * import { postgresStore } from 'with-memory/postgres';
 * const store = postgresStore({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) });
 * await store.add({ facts: [{ text: 'Prefers Celsius', type: 'preference' }] }, { scope: { userId: 'u1' } });
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw toInvalidOptionsError(parsed.error);
  const {
    pool,
    schema = 'with_memory',
    embedder,
    duplicateThreshold = sharedOptionDefaults.duplicateThreshold,
    vectorDuplicateThreshold = sharedOptionDefaults.vectorDuplicateThreshold,
    keepDeletedText = sharedOptionDefaults.keepDeletedText,
    actor = sharedOptionDefaults.actor,
    lockTimeoutMs = 10_000,
  } = parsed.data;
  const db = database(pool, { lockTimeoutMs });
  const { methods, run } = createStore(postgresBackend(db, { schema, keepDeletedText, actor }), {
    embedder,
    duplicateThreshold,
    vectorDuplicateThreshold,
    actor,
  });
  return {
    name: 'postgres',
    extractsFacts: false,
    schema,
    ...methods,
    vectorStorage: () => run('get', async (tables) => (tables.vectors.kind === 'pgvector' ? 'pgvector' : 'real[]')),
  };
}
