/**
 * `postgresStore`: memory shared by many processes and machines, in PostgreSQL. The local store's
 * behaviour (ranking, restatements, history, expiry, export and import) on a database the team
 * already runs; the connection (a node-postgres `Pool` or `Client`, or PGlite) is the caller's.
 *
 * @module
 */

import { Readable } from 'node:stream';
import { z } from 'zod';
import { InvalidOptionsError, MemoryError, StoreError, type StoreOperation } from '../../core/errors.js';
import { toInvalidOptionsError } from '../../core/options.js';
import { parseScope } from '../../core/scope.js';
import type {
  AddOptions,
  ChangeOptions,
  DeleteOptions,
  ListOptions,
  Memory,
  MemoryChange,
  MemoryHit,
  MemoryPatch,
  MemoryStore,
  MemoryWrite,
  Scope,
  SearchOptions,
} from '../../core/types.js';
import { terms } from '../../text/text-terms.js';
import { listSchema, metadataSchema, patchSchema, validate, validateWrite } from '../kernel/store-input.js';
import { contentHash, prepareFact } from '../local/add-facts.js';
import { type Embedder, embedForWrite } from '../local/embeddings.js';
import type { LocalHistoryEntry } from '../local/history.js';
import {
  checkImportTarget,
  type ImportLine,
  ImportLineError,
  type JsonlSource,
  memoryToJsonLine,
  parseJsonLine,
  readLines,
} from '../local/jsonl.js';
import { type ExportOptions, type ImportResult, searchRequest } from '../local/local-store.js';
import { type MemoryRow, rowScope, rowToMemory } from '../local/rows.js';
import { addFacts, type PostgresFact, recordHistory } from './add-facts.js';
import { parameters, scopeCondition, timestamp, visibleCondition } from './conditions.js';
import { indexableTerms } from './indexable-terms.js';
import { plannerStatistics } from './planner-statistics.js';
import { type Database, database, type PostgresPool, type Transaction } from './pool.js';
import { memoryColumns } from './rows.js';
import { NewerSchema, openSchema, quoteIdentifier } from './schema.js';
import { type StoreTables, searchMemories } from './search.js';
import { hnswIndex, vectorValue } from './vectors.js';

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

const storeName = 'postgres';
const defaultListLimit = 100;
const maxListLimit = 1000;
const importBatchSize = 500;
const exportPageSize = 500;

const threshold = z
  .number({ error: 'a number above 0 and at most 1' })
  .gt(0, { error: 'a number above 0 and at most 1' })
  .max(1, { error: 'a number above 0 and at most 1' });
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
      embedder: z
        .custom<Embedder>((value) => typeof value === 'function', {
          error: 'a function (texts) => Promise<number[][]>',
        })
        .optional(),
      duplicateThreshold: threshold.optional(),
      vectorDuplicateThreshold: threshold.optional(),
      keepDeletedText: z.boolean({ error: 'true or false' }).optional(),
      actor: z.string({ error: 'a string' }).trim().min(1, { error: 'a non-empty string' }).max(256).optional(),
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
    duplicateThreshold = 0.85,
    vectorDuplicateThreshold = 0.95,
    keepDeletedText = false,
    actor = 'with-memory',
    lockTimeoutMs = 10_000,
  } = parsed.data;
  const db = database(pool, { lockTimeoutMs });
  const quotedSchema = quoteIdentifier(schema);
  const statistics = plannerStatistics(db, schema);

  let opening: Promise<StoreTables> | undefined;
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();
  const indexedDimensions = new Set<number>();

  function open(): Promise<StoreTables> {
    opening ??= openSchema(db, schema).then(
      ({ vectors }) => ({ schema: quotedSchema, vectors }),
      (error: unknown) => {
        // The next operation tries again: the server may have been down, or fixed meanwhile.
        opening = undefined;
        throw toStoreError(error, 'open');
      },
    );
    return opening;
  }

  /** Runs an operation: schema first, every failure a `StoreError`, tracked for `flush` and `close`. */
  function run<T>(operation: StoreOperation, work: (tables: StoreTables) => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(closedError(operation));
    const task = (async () => work(await open()))().catch((error: unknown) => {
      throw toStoreError(error, operation);
    });
    inFlight.add(task);
    const forget = () => inFlight.delete(task);
    task.then(forget, forget);
    return task;
  }

  const embed = (texts: string[], operation: StoreOperation) =>
    embedForWrite(embedder, texts, { store: storeName, operation });

  /**
   * With pgvector, the HNSW index of this vector length, made once per length: in its own
   * transaction, or in `inside` (an import's, which a second connection would wait for).
   */
  async function ensureVectorIndex(
    tables: StoreTables,
    vectors: Float32Array[] | undefined,
    inside?: Transaction,
  ): Promise<void> {
    const dimensions = vectors?.[0]?.length;
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
  }

  async function readMemory(tx: Transaction | Database, tables: StoreTables, id: string, now: number, lock = false) {
    const [row] = await tx.query<MemoryRow>(
      `SELECT ${memoryColumns} FROM ${tables.schema}.memories AS m
       WHERE m.id = $1 AND m.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > $2::timestamptz)
       ${lock ? 'FOR UPDATE' : ''}`,
      [id, timestamp(now)],
    );
    return row;
  }

  const store: PostgresStore = {
    name: storeName,
    extractsFacts: false,
    schema,

    search(query: string, searchOptions: SearchOptions): Promise<MemoryHit[]> {
      return run('search', async (tables) => {
        const request = await searchRequest(query, searchOptions, embedder);
        return request ? searchMemories(db, tables, query, request) : [];
      });
    },

    add(write: MemoryWrite, addOptions: AddOptions): Promise<MemoryChange[]> {
      return run('add', async (tables) => {
        addOptions.signal?.throwIfAborted();
        const scope = parseScope(addOptions.scope);
        const baseMetadata = addOptions.metadata === undefined ? {} : validate(metadataSchema, addOptions.metadata);
        const checked = validateWrite(write);
        // This store does not distil facts, but a write of raw messages must not be lost: each user
        // message is kept as a fact, as the user said it.
        const facts =
          'messages' in checked
            ? checked.messages
                .filter((message) => message.role === 'user')
                .map(({ content }) => ({ text: content, type: 'fact', createdAt: undefined }))
            : checked.facts;
        const now = Date.now();
        const prepared: PostgresFact[] = [];
        for (const fact of facts) {
          const text = withoutNul(fact.text).trim();
          if (text === '') continue;
          const saidAt = fact.createdAt?.getTime() ?? now;
          const ready = prepareFact({
            text,
            type: fact.type,
            metadata: JSON.stringify({ ...baseMetadata, ...('metadata' in fact ? fact.metadata : undefined) }),
            expiresAt: 'expiresAt' in fact ? fact.expiresAt?.getTime() : undefined,
            saidAt,
          });
          prepared.push({ ...ready, terms: indexableTerms(ready.terms), saidAt });
        }
        if (prepared.length === 0) return [];
        const vectors = await embed(
          prepared.map((fact) => fact.text),
          'add',
        );
        prepared.forEach((fact, index) => {
          fact.vector = vectors?.[index];
        });
        await ensureVectorIndex(tables, vectors);
        addOptions.signal?.throwIfAborted();
        const settings = { duplicateThreshold, vectorDuplicateThreshold, actor, reason: addOptions.reason };
        const changes = await db.transaction((tx) => addFacts(tx, tables, prepared, scope, settings, Date.now()));
        await statistics.written(changes.length);
        return changes;
      });
    },

    get(id: string): Promise<Memory | null> {
      return run('get', async (tables) => {
        const row = await readMemory(db, tables, String(id), Date.now());
        return row ? rowToMemory(row) : null;
      });
    },

    list(listOptions: ListOptions): Promise<Memory[]> {
      return run('list', async (tables) => {
        const scope = parseScope(listOptions.scope);
        const { limit = defaultListLimit, offset = 0, types, filters } = validate(listSchema, listOptions);
        const params = parameters();
        const visible = visibleCondition(params, { scope, types, filters, now: Date.now() });
        const rows = await db.query<MemoryRow>(
          `SELECT ${memoryColumns} FROM ${tables.schema}.memories AS m WHERE ${visible}
           ORDER BY m.updated_at DESC, m.seq DESC LIMIT ${params.add(Math.min(limit, maxListLimit))} OFFSET ${params.add(offset)}`,
          params.values,
        );
        return rows.map(rowToMemory);
      });
    },

    update(id: string, patch: MemoryPatch, changeOptions: ChangeOptions = {}): Promise<Memory | null> {
      return run('update', async (tables) => {
        const checked = validate(patchSchema, patch);
        const text = checked.text === undefined ? undefined : withoutNul(checked.text).trim();
        const vectors = text === undefined ? undefined : await embed([text], 'update');
        await ensureVectorIndex(tables, vectors);
        const row = await db.transaction(async (tx) => {
          const now = Date.now();
          const existing = await readMemory(tx, tables, String(id), now, true);
          if (!existing) return undefined;
          const params = parameters();
          const setText =
            text === undefined
              ? ''
              : `text = ${params.add(text)}, terms = ${params.add(indexableTerms(terms(text)))}::text[], content_hash = ${params.add(contentHash(text))},`;
          const vector = vectors?.[0];
          const [updated] = await tx.query<MemoryRow>(
            `UPDATE ${tables.schema}.memories AS m SET ${setText}
               type = coalesce(${params.add(checked.type ?? null)}, m.type),
               metadata = coalesce(${params.add(checked.metadata === undefined ? null : JSON.stringify(checked.metadata))}::jsonb, m.metadata),
               expires_at = ${checked.expiresAt === undefined ? 'm.expires_at' : `${params.add(checked.expiresAt === null ? null : timestamp(checked.expiresAt.getTime()))}::timestamptz`},
               ${vector ? `embedding = ${vectorValue(params, tables.vectors, vector)},` : ''}
               updated_at = ${params.add(timestamp(now))}::timestamptz
             WHERE m.seq = ${params.add(existing.seq)} RETURNING ${memoryColumns}`,
            params.values,
          );
          await recordHistory(tx, tables, {
            memoryId: existing.id,
            event: 'UPDATE',
            oldText: existing.text,
            newText: updated?.text,
            reason: changeOptions.reason,
            actor,
            at: now,
          });
          return updated;
        });
        return row ? rowToMemory(row) : null;
      });
    },

    delete(id: string, deleteOptions: DeleteOptions = {}): Promise<boolean> {
      return run('delete', (tables) =>
        db.transaction(async (tx) => {
          const now = Date.now();
          if (deleteOptions.erase === true) {
            // The row (live, or the tombstone of an earlier delete) and its history's words go.
            const [erased] = await tx.query<{ id: string }>(
              `DELETE FROM ${tables.schema}.memories WHERE id = $1 RETURNING id`,
              [String(id)],
            );
            if (!erased) return false;
            await tx.query(
              `UPDATE ${tables.schema}.memory_history SET old_text = NULL, new_text = NULL, reason = NULL WHERE memory_id = $1`,
              [erased.id],
            );
            await recordHistory(tx, tables, { memoryId: erased.id, event: 'DELETE', actor, at: now });
            return true;
          }
          // A tombstone keeps the scope, so deleteAll of that scope can still find and scrub this
          // memory's history; the text goes (the history's DELETE entry keeps it, as an audit trail).
          const [existing] = await tx.query<{ id: string; text: string }>(
            `UPDATE ${tables.schema}.memories AS m SET deleted_at = $2::timestamptz, updated_at = $2::timestamptz,
               text = '', terms = '{}', metadata = '{}', content_hash = NULL, embedding = NULL
             FROM (SELECT seq, text FROM ${tables.schema}.memories WHERE id = $1 AND deleted_at IS NULL FOR UPDATE) AS old
             WHERE m.seq = old.seq RETURNING m.id, old.text`,
            [String(id), timestamp(now)],
          );
          if (!existing) return false;
          await recordHistory(tx, tables, {
            memoryId: existing.id,
            event: 'DELETE',
            oldText: existing.text,
            reason: deleteOptions.reason,
            actor,
            at: now,
          });
          return true;
        }),
      );
    },

    deleteAll(scope: Scope): Promise<number> {
      return run('deleteAll', async (tables) => {
        const parsedScope = parseScope(scope);
        return db.transaction(async (tx) => {
          const params = parameters();
          const inScope = scopeCondition(params, parsedScope);
          const ids = `SELECT m.id FROM ${tables.schema}.memories AS m WHERE ${inScope}`;
          if (!keepDeletedText) {
            await tx.query(
              `UPDATE ${tables.schema}.memory_history SET old_text = NULL, new_text = NULL, reason = NULL
               WHERE memory_id IN (${ids})`,
              params.values,
            );
          }
          const keep = params.add(keepDeletedText);
          const by = params.add(actor);
          const at = params.add(timestamp(Date.now()));
          // Rows, vectors and index entries go with the DELETE; the history keeps that they existed.
          const [{ count } = { count: 0 }] = await tx.query<{ count: number }>(
            `WITH deleted AS (
               DELETE FROM ${tables.schema}.memories AS m WHERE ${inScope} RETURNING m.seq, m.id, m.text, m.deleted_at
             ), entries AS (
               INSERT INTO ${tables.schema}.memory_history (memory_id, event, old_text, actor, created_at)
               SELECT id, 'DELETE', CASE WHEN ${keep}::boolean THEN text END, ${by}, ${at}::timestamptz
               FROM deleted WHERE deleted_at IS NULL ORDER BY seq
             )
             SELECT count(*) FILTER (WHERE deleted_at IS NULL)::integer AS count FROM deleted`,
            params.values,
          );
          return count;
        });
      });
    },

    history(id: string): Promise<LocalHistoryEntry[]> {
      return run('history', async (tables) => {
        const rows = await db.query<HistoryRow>(
          `SELECT seq::float8 AS seq, memory_id, event, old_text, new_text, reason, actor,
             (extract(epoch FROM created_at) * 1000)::float8 AS created_at
           FROM ${tables.schema}.memory_history WHERE memory_id = $1 ORDER BY seq`,
          [String(id)],
        );
        return rows.map(historyEntry);
      });
    },

    vectorStorage(): Promise<'pgvector' | 'real[]'> {
      return run('get', async (tables) => (tables.vectors.kind === 'pgvector' ? 'pgvector' : 'real[]'));
    },

    flush(): Promise<void> {
      if (closed) return Promise.reject(closedError('flush'));
      // Every write is committed when its promise resolves; flushing only waits for those under way.
      return Promise.allSettled([...inFlight]).then(() => undefined);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
    },

    export(exportOptions: ExportOptions = {}): Readable {
      return Readable.from(exportLines(exportOptions));
    },

    import(source: JsonlSource): Promise<ImportResult> {
      return run('import', async (tables) => {
        // One transaction for the whole file: a line refused half-way leaves nothing behind.
        const imported = await db.transaction(
          async (tx) => {
            const result: ImportResult = { added: 0, updated: 0, unchanged: 0 };
            let batch: ImportLine[] = [];
            const flushBatch = async () => {
              const lines = batch;
              batch = [];
              if (lines.length === 0) return;
              const vectors = await embed(
                lines.map(({ memory }) => memory.text),
                'import',
              );
              await ensureVectorIndex(tables, vectors, tx);
              for (const [index, line] of lines.entries()) {
                result[await importMemory(tx, tables, line, vectors?.[index], Date.now())] += 1;
              }
            };
            for await (const { line, lineNumber } of readLines(source)) {
              const memory = parseJsonLine(line, lineNumber);
              batch.push({ memory: { ...memory, text: withoutNul(memory.text) }, lineNumber });
              if (batch.length >= importBatchSize) await flushBatch();
            }
            await flushBatch();
            return result;
            // Embedding a batch leaves the transaction idle meanwhile: that is not a stuck writer.
          },
          { mayIdle: true },
        );
        await statistics.written(imported.added + imported.updated);
        return imported;
      });
    },
  };

  async function* exportLines(exportOptions: ExportOptions): AsyncGenerator<string> {
    let scope: Scope | undefined;
    try {
      scope = exportOptions.scope === undefined ? undefined : parseScope(exportOptions.scope);
    } catch (error) {
      throw toStoreError(error, 'export');
    }
    let after = 0;
    for (;;) {
      const rows = await run('export', (tables) => {
        const params = parameters();
        const now = Date.now();
        const visible = scope
          ? visibleCondition(params, { scope, now })
          : `m.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > ${params.add(timestamp(now))}::timestamptz)`;
        return db.query<MemoryRow>(
          `SELECT ${memoryColumns} FROM ${tables.schema}.memories AS m
           WHERE m.seq > ${params.add(after)} AND ${visible} ORDER BY m.seq LIMIT ${exportPageSize}`,
          params.values,
        );
      });
      for (const row of rows) yield `${memoryToJsonLine(rowToMemory(row))}\n`;
      const last = rows.at(-1);
      if (!last || rows.length < exportPageSize) return;
      after = last.seq;
    }
  }

  async function importMemory(
    tx: Transaction,
    tables: StoreTables,
    { memory, lineNumber }: ImportLine,
    vector: Float32Array | undefined,
    now: number,
  ): Promise<keyof ImportResult> {
    const [existing] = await tx.query<MemoryRow & { deleted: boolean }>(
      `SELECT ${memoryColumns}, m.deleted_at IS NOT NULL AS deleted FROM ${tables.schema}.memories AS m
       WHERE m.id = $1 FOR UPDATE`,
      [memory.id],
    );
    checkImportTarget(existing && { scope: rowScope(existing), deleted: existing.deleted }, memory, lineNumber);
    if (existing && memoryToJsonLine(rowToMemory(existing)) === memoryToJsonLine(memory)) return 'unchanged';
    const params = parameters();
    const value = (item: unknown) => params.add(item);
    const columns = {
      text: value(memory.text),
      terms: `${value(indexableTerms(terms(memory.text)))}::text[]`,
      type: value(memory.type ?? null),
      user_id: value(memory.scope.userId ?? null),
      agent_id: value(memory.scope.agentId ?? null),
      run_id: value(memory.scope.runId ?? null),
      app_id: value(memory.scope.appId ?? null),
      metadata: `${value(JSON.stringify(memory.metadata))}::jsonb`,
      content_hash: value(contentHash(memory.text)),
      embedding: vector ? vectorValue(params, tables.vectors, vector) : 'NULL',
      created_at: `${value(timestamp(memory.createdAt.getTime()))}::timestamptz`,
      updated_at: `${value(timestamp(memory.updatedAt.getTime()))}::timestamptz`,
      expires_at: `${value(memory.expiresAt ? timestamp(memory.expiresAt.getTime()) : null)}::timestamptz`,
    };
    if (!existing) {
      await tx.query(
        `INSERT INTO ${tables.schema}.memories (id, ${Object.keys(columns).join(', ')})
         VALUES (${value(memory.id)}, ${Object.values(columns).join(', ')})`,
        params.values,
      );
    } else {
      await tx.query(
        `UPDATE ${tables.schema}.memories SET ${Object.entries(columns)
          .map(([column, placeholder]) => `${column} = ${placeholder}`)
          .join(', ')} WHERE id = ${value(memory.id)}`,
        params.values,
      );
    }
    await recordHistory(
      tx,
      tables,
      existing
        ? {
            memoryId: memory.id,
            event: 'UPDATE',
            oldText: existing.text,
            newText: memory.text,
            reason: 'import',
            actor: 'import',
            at: now,
          }
        : { memoryId: memory.id, event: 'ADD', newText: memory.text, reason: 'import', actor: 'import', at: now },
    );
    return existing ? 'updated' : 'added';
  }

  return store;
}

/**
 * PostgreSQL text cannot hold U+0000: it is stored as U+FFFD, the replacement character (no other
 * character is changed), so a write is never refused or emptied for it.
 */
function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}

interface HistoryRow {
  seq: number;
  memory_id: string;
  event: LocalHistoryEntry['event'];
  old_text: string | null;
  new_text: string | null;
  reason: string | null;
  actor: string | null;
  created_at: number;
}

function historyEntry(row: HistoryRow): LocalHistoryEntry {
  const entry: LocalHistoryEntry = {
    id: String(row.seq),
    memoryId: row.memory_id,
    event: row.event,
    createdAt: new Date(row.created_at),
  };
  if (row.old_text !== null) entry.oldText = row.old_text;
  if (row.new_text !== null) entry.newText = row.new_text;
  if (row.reason !== null) entry.reason = row.reason;
  if (row.actor !== null) entry.actor = row.actor;
  return entry;
}

function closedError(operation: StoreOperation): StoreError {
  return new StoreError('The PostgreSQL store is closed; create a new one with postgresStore().', {
    store: storeName,
    operation,
    retryable: false,
  });
}

// SQLSTATE classes where trying again may help: connection trouble, a serialisation failure or
// deadlock, too many connections or out of resources, the server shutting down.
const retryableStates = /^(08|40|53|57P|55P03)/;

/** Every failure as a `StoreError` that says what to do, without memory text in its message. */
function toStoreError(error: unknown, operation: StoreOperation): StoreError {
  if (StoreError.isInstance(error)) return error;
  const as = (message: string, retryable: boolean) =>
    new StoreError(message, { store: storeName, operation, retryable, cause: error });
  if (error instanceof NewerSchema)
    return new StoreError(error.message, { store: storeName, operation: 'open', retryable: false, cause: error });
  if (InvalidOptionsError.isInstance(error))
    return as(`The PostgreSQL store's ${operation} was given invalid input: ${error.message}`, false);
  if (error instanceof ImportLineError) return as(error.message, false);
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return as(`The PostgreSQL store's ${operation} was aborted.`, true);
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '55P03') {
    return as(
      `The PostgreSQL store's ${operation} waited longer than lockTimeoutMs for a lock another writer holds (a process paused or stuck mid-write?); it was not applied, try again.`,
      true,
    );
  }
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return as(
      `The PostgreSQL store's ${operation} failed (SQLSTATE ${code}${error instanceof Error ? `: ${error.message}` : ''}).`,
      retryableStates.test(code),
    );
  }
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return as(
      `The PostgreSQL store could not reach the server (${code}); check that it runs and the connection settings.`,
      true,
    );
  }
  if (MemoryError.isInstance(error)) return as(`The PostgreSQL store's ${operation} failed: ${error.message}`, false);
  return as(`The PostgreSQL store's ${operation} failed; see the cause.`, true);
}
