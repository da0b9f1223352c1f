/**
 * `localStore`: the embedded default store. One SQLite file (better-sqlite3, WAL), FTS5 ranking,
 * optional embeddings, history, export and import; safe with several processes on one file.
 *
 * @module
 */

import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { InvalidOptionsError, MemoryError, StoreError, type StoreOperation } from '../../core/errors.js';
import { toInvalidOptionsError } from '../../core/options.js';
import { parseScope } from '../../core/scope.js';
import type {
  AddOptions,
  ChangeOptions,
  DeleteOptions,
  FactInput,
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
import { type Embedder, embedForWrite, embedTexts } from '../kernel/embeddings.js';
import {
  checkImportTarget,
  type ImportLine,
  ImportLineError,
  type JsonlSource,
  memoryToJsonLine,
  parseJsonLine,
  readLines,
} from '../kernel/jsonl.js';
import {
  listSchema,
  metadataSchema,
  patchSchema,
  searchSchema,
  validate,
  validateWrite,
} from '../kernel/store-input.js';
import { addFacts, contentHash, type PreparedFact, prepareFact } from './add-facts.js';
import { type Connection, isBusy, openConnection } from './connection.js';
import { scopeCondition, visibleCondition } from './filters.js';
import { queryTerms } from './fts-query.js';
import { type LocalHistoryEntry, readHistory, recordHistory, scrubHistory } from './history.js';
import { indexTerms, reindexTerms, storeVector } from './index-entries.js';
import { joinTerms, type MemoryRow, memoryColumns, rowScope, rowToMemory, scopeColumns } from './rows.js';
import { CannotOpen } from './schema.js';
import { type SearchRequest, searchMemories } from './search.js';

/** Options of `localStore`. */
export interface LocalStoreOptions {
  /**
   * The SQLite file. Created, with its folder, on first use. `':memory:'` keeps everything in this
   * process only.
   * @default process.env.WITH_MEMORY_DB, else '.with-memory/memory.db' under the current directory
   */
  path?: string;
  /**
   * Turns texts into embedding vectors; when set, vectors are stored with each memory and search
   * fuses word and vector similarity. See `openaiEmbedder`.
   */
  embedder?: Embedder;
  /**
   * How alike (0..1, the `restatementOverlap` of their terms) a new fact and a stored one of the same scope
   * and type must be for the new fact to update the stored one instead of being added. Facts with
   * the same text (ignoring case, width and spacing) always count as the same.
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
   * `deleteAll` keeps, in the history, the text of the memories it deletes. Off by default:
   * forgetting a user keeps only that a deletion happened.
   * @default false
   */
  keepDeletedText?: boolean;
  /**
   * How long an operation keeps trying while another process holds the file, in milliseconds,
   * before it rejects with a retryable `StoreError`.
   * @default 10000
   */
  busyTimeoutMs?: number;
  /**
   * `normal`: a write that resolved survives a crash or kill of the process (WAL, synchronous
   * NORMAL). `full`: it also survives a power cut or OS crash, at the cost of an fsync per write.
   * @default 'normal'
   */
  synchronous?: 'normal' | 'full';
  /**
   * Who the history says made the changes of this store (the CLI passes `cli`).
   * @default 'with-memory'
   */
  actor?: string;
}

/** Options of `LocalStore.export`. */
export interface ExportOptions {
  /** Only the memories of this scope (matched as in `search`). @default every memory */
  scope?: Scope;
}

/** What `LocalStore.import` did. */
export interface ImportResult {
  /** Memories that were not in the store. */
  added: number;
  /** Memories whose id was in the store with other content. */
  updated: number;
  /** Memories already in the store as they are. */
  unchanged: number;
}

/** The local store: every optional `MemoryStore` method, plus export and import. */
export interface LocalStore extends Required<MemoryStore> {
  readonly name: 'local';
  readonly extractsFacts: false;
  /** The absolute path of the SQLite file. */
  readonly path: string;
  /** A memory's changes, oldest first, with who made each. */
  history(id: string): Promise<LocalHistoryEntry[]>;
  /**
   * The memories (unexpired) as JSONL, one memory per line; pipe it to a file. Read page by page,
   * so a large store is never held in memory.
   */
  export(options?: ExportOptions): Readable;
  /**
   * Reads JSONL written by `export` (a file stream, or lines) and stores each memory under its own
   * id, keeping its dates: an id already present in the line's scope is updated. An id of another
   * scope's memory, or of a deleted memory, is refused (an import never moves or revives a memory).
   * Lines are written in batches of 500; an invalid or refused line rejects naming its line number,
   * and the batches before it stay written.
   * With an embedder, vectors are computed anew.
   */
  import(source: JsonlSource): Promise<ImportResult>;
}

const storeName = 'local';
const defaultPath = '.with-memory/memory.db';
const defaultSearchLimit = 8;
const defaultListLimit = 100;
const maxListLimit = 1000;
const importBatchSize = 500;
const exportPageSize = 500;
const eraseRetryMs = 1000;

const optionsSchema = z
  .object(
    {
      path: z.string({ error: 'a file path' }).trim().min(1, { error: 'a non-empty file path' }).optional(),
      embedder: z
        .custom<Embedder>((value) => typeof value === 'function', {
          error: 'a function (texts) => Promise<number[][]>',
        })
        .optional(),
      duplicateThreshold: z
        .number({ error: 'a number above 0 and at most 1' })
        .gt(0, { error: 'a number above 0 and at most 1' })
        .max(1, { error: 'a number above 0 and at most 1' })
        .optional(),
      vectorDuplicateThreshold: z
        .number({ error: 'a number above 0 and at most 1' })
        .gt(0, { error: 'a number above 0 and at most 1' })
        .max(1, { error: 'a number above 0 and at most 1' })
        .optional(),
      keepDeletedText: z.boolean({ error: 'true or false' }).optional(),
      busyTimeoutMs: z
        .number({ error: 'a number of milliseconds (0 or more)' })
        .int({ error: 'a whole number of milliseconds' })
        .min(0, { error: 'a number of milliseconds (0 or more)' })
        .optional(),
      synchronous: z.enum(['normal', 'full'], { error: "'normal' or 'full'" }).optional(),
      actor: z.string({ error: 'a string' }).trim().min(1, { error: 'a non-empty string' }).max(256).optional(),
    },
    { error: "an options object such as { path: '.with-memory/memory.db' }" },
  )
  .strict();

/**
 * Creates the embedded local store: a SQLite file that survives restarts, searched by BM25 (and by
 * vector similarity when given an `embedder`), with a history of every change. Cheap to call: the
 * file is opened, and better-sqlite3 loaded, on the first operation.
 *
 * @example
 * import { localStore, withMemory } from 'with-memory';
 * const store = localStore({ path: '.with-memory/memory.db' });
 * await store.add({ facts: [{ text: 'Prefers Celsius', type: 'preference' }] }, { scope: { userId: 'u1' } });
 * const hits = await store.search('temperature units', { scope: { userId: 'u1' } });
 */
export function localStore(options: LocalStoreOptions = {}): LocalStore {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw toInvalidOptionsError(parsed.error);
  const {
    embedder,
    duplicateThreshold = 0.85,
    vectorDuplicateThreshold = 0.95,
    keepDeletedText = false,
    busyTimeoutMs = 10_000,
    synchronous = 'normal',
    actor = 'with-memory',
  } = parsed.data;
  const configuredPath = parsed.data.path ?? nonEmpty(process.env.WITH_MEMORY_DB) ?? defaultPath;
  // The CLI takes a PostgreSQL URL in WITH_MEMORY_DB; the library must not make a file of it.
  if (/^postgres(?:ql)?:\/\//i.test(configuredPath)) {
    throw new InvalidOptionsError(
      parsed.data.path === undefined ? 'WITH_MEMORY_DB' : 'path',
      'a SQLite file path, not a PostgreSQL URL; for PostgreSQL pass store: postgresStore({ pool }) from with-memory/postgres',
    );
  }
  const path = configuredPath === ':memory:' ? configuredPath : resolve(configuredPath);

  let opening: Promise<Connection> | undefined;
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();

  function connect(): Promise<Connection> {
    opening ??= openConnection(path, { busyTimeoutMs, synchronous }).catch((error: unknown) => {
      // The next operation tries again: the file may have been busy, or fixed meanwhile.
      opening = undefined;
      throw toStoreError(error, 'open', path);
    });
    return opening;
  }

  /** Runs an operation: open first, every failure a `StoreError`, tracked for `flush` and `close`. */
  function run<T>(operation: StoreOperation, work: (connection: Connection) => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(closedError(operation));
    const task = (async () => work(await connect()))().catch((error: unknown) => {
      throw toStoreError(error, operation, path);
    });
    inFlight.add(task);
    const forget = () => inFlight.delete(task);
    task.then(forget, forget);
    return task;
  }

  const embed = (texts: string[], operation: StoreOperation) =>
    embedForWrite(embedder, texts, { store: storeName, operation });

  // An erase whose WAL could not be emptied yet: tried again every second until it is (never
  // keeping the process alive for it); closing the last connection to the file empties it too.
  let eraseRetry: ReturnType<typeof setInterval> | undefined;
  function finishEraseLater(connection: Connection): void {
    if (eraseRetry !== undefined) return;
    eraseRetry = setInterval(() => {
      connection.truncateWal(0).then(
        (done) => {
          if (done) {
            clearInterval(eraseRetry);
            eraseRetry = undefined;
          }
        },
        () => undefined,
      );
    }, eraseRetryMs);
    eraseRetry.unref();
  }

  /**
   * Makes an erase reach the bytes of the file. Secure delete zeroes deleted entries, but not the
   * copies of them that a page split or merge left in the unused space of pages still in use (the
   * scope indexes, FTS segments): the file is rewritten without them (VACUUM, about 0.5 s per
   * 50 MB of file), then the WAL is emptied.
   */
  async function eraseFromFile(connection: Connection, operation: 'delete' | 'deleteAll' = 'delete'): Promise<void> {
    await connection.vacuum();
    await emptyWal(connection, operation);
  }

  /**
   * Empties the WAL, where old versions of the pages (with the erased text) stay until then; a
   * connection still reading an older state of the file holds that back: the erase is reported
   * unfinished, and finished in the background.
   */
  async function emptyWal(connection: Connection, operation: 'delete' | 'deleteAll'): Promise<void> {
    if (await connection.truncateWal(busyTimeoutMs)) return;
    finishEraseLater(connection);
    throw new StoreError(
      `The local store's ${operation} removed the memories, but another connection kept reading ${path}, so old copies of their pages stay in its WAL (${path}-wal) until that read ends; the store finishes the erase then (or call ${operation} again). Raise busyTimeoutMs to wait longer.`,
      { store: storeName, operation, retryable: true },
    );
  }

  function readMemory(connection: Connection, id: string, now: number): MemoryRow | undefined {
    return connection
      .statement(
        `SELECT ${memoryColumns} FROM memories AS m
         WHERE m.id = ? AND m.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > ?)`,
      )
      .get(id, now) as MemoryRow | undefined;
  }

  const store: LocalStore = {
    name: storeName,
    extractsFacts: false,
    path,

    search(query: string, searchOptions: SearchOptions): Promise<MemoryHit[]> {
      return run('search', async (connection) => {
        const request = await searchRequest(query, searchOptions, embedder);
        if (!request) return [];
        const found = await connection.read(() => searchMemories(connection, query, request));
        return found.map(({ row, score, parts }) => ({ ...rowToMemory(row), score, scoreParts: parts }));
      });
    },

    add(write: MemoryWrite, addOptions: AddOptions): Promise<MemoryChange[]> {
      return run('add', async (connection) => {
        addOptions.signal?.throwIfAborted();
        const scope = parseScope(addOptions.scope);
        const baseMetadata = addOptions.metadata === undefined ? {} : validate(metadataSchema, addOptions.metadata);
        const checked = validateWrite(write);
        // This store does not distil facts, but a write of raw messages must not be lost: each user
        // message is kept as a fact, as the user said it.
        const facts: FactInput[] =
          'messages' in checked
            ? checked.messages
                .filter((message) => message.role === 'user')
                .map(({ content }) => ({ text: content, type: 'fact' }))
            : (checked.facts as FactInput[]);
        const prepared: PreparedFact[] = [];
        for (const fact of facts) {
          const text = fact.text.trim();
          if (text === '') continue;
          prepared.push(
            prepareFact({
              text,
              type: fact.type,
              metadata: JSON.stringify({ ...baseMetadata, ...fact.metadata }),
              expiresAt: fact.expiresAt?.getTime(),
              saidAt: fact.createdAt?.getTime(),
            }),
          );
        }
        if (prepared.length === 0) return [];
        const vectors = await embed(
          prepared.map((fact) => fact.text),
          'add',
        );
        prepared.forEach((fact, index) => {
          fact.vector = vectors?.[index];
        });
        addOptions.signal?.throwIfAborted();
        const settings = { duplicateThreshold, vectorDuplicateThreshold, actor, reason: addOptions.reason };
        return connection.write(() => addFacts(connection, prepared, scope, settings, Date.now()));
      });
    },

    get(id: string): Promise<Memory | null> {
      return run('get', async (connection) => {
        const row = await connection.read(() => readMemory(connection, String(id), Date.now()));
        return row ? rowToMemory(row) : null;
      });
    },

    list(listOptions: ListOptions): Promise<Memory[]> {
      return run('list', async (connection) => {
        const scope = parseScope(listOptions.scope);
        const { limit = defaultListLimit, offset = 0, types, filters } = validate(listSchema, listOptions);
        const wanted = Math.min(limit, maxListLimit);
        const rows = await connection.read(() => {
          const now = Date.now();
          const newest = (only: string[] | undefined, count: number, skip: number) => {
            const visible = visibleCondition({ scope, types: only, filters, now });
            return connection
              .statement(
                `SELECT ${memoryColumns} FROM memories AS m WHERE ${visible.sql}
                 ORDER BY m.updated_at DESC, m.seq DESC LIMIT ? OFFSET ?`,
              )
              .all(...visible.params, count, skip) as MemoryRow[];
          };
          if (types === undefined || types.length <= 1) return newest(types, wanted, offset);
          // One walk of the (scope, type, updated_at) index per type, merged: SQLite would otherwise
          // read every memory of those types to sort them.
          return [...new Set(types)]
            .flatMap((type) => newest([type], offset + wanted, 0))
            .sort((x, y) => y.updated_at - x.updated_at || y.seq - x.seq)
            .slice(offset, offset + wanted);
        });
        return rows.map(rowToMemory);
      });
    },

    update(id: string, patch: MemoryPatch, changeOptions: ChangeOptions = {}): Promise<Memory | null> {
      return run('update', async (connection) => {
        const checked = validate(patchSchema, patch);
        const text = checked.text?.trim();
        const textTerms = text === undefined ? undefined : terms(text);
        const vector = text === undefined ? undefined : (await embed([text], 'update'))?.[0];
        const row = await connection.write(() => {
          const now = Date.now();
          const existing = readMemory(connection, String(id), now);
          if (!existing) return undefined;
          const next = {
            text: text ?? existing.text,
            type: checked.type ?? existing.type,
            metadata: checked.metadata === undefined ? existing.metadata : JSON.stringify(checked.metadata),
            expiresAt: checked.expiresAt === undefined ? existing.expires_at : (checked.expiresAt?.getTime() ?? null),
          };
          connection
            .statement(
              `UPDATE memories SET text = ?, terms = coalesce(?, terms), type = ?, metadata = ?, content_hash = ?,
               expires_at = ?, updated_at = ? WHERE seq = ?`,
            )
            .run(
              next.text,
              textTerms ? joinTerms(textTerms) : null,
              next.type,
              next.metadata,
              contentHash(next.text),
              next.expiresAt,
              now,
              existing.seq,
            );
          const scope = rowToMemory(existing).scope;
          if (textTerms && next.text !== existing.text) reindexTerms(connection, existing.seq, textTerms, scope);
          if (vector) storeVector(connection, existing.seq, vector);
          recordHistory(connection, {
            memoryId: existing.id,
            event: 'UPDATE',
            oldText: existing.text,
            newText: next.text,
            reason: changeOptions.reason,
            actor,
            at: now,
          });
          const updated: MemoryRow = {
            ...existing,
            text: next.text,
            type: next.type,
            metadata: next.metadata,
            expires_at: next.expiresAt,
            updated_at: now,
          };
          return updated;
        });
        return row ? rowToMemory(row) : null;
      });
    },

    delete(id: string, deleteOptions: DeleteOptions = {}): Promise<boolean> {
      return run('delete', async (connection) => {
        const erase = deleteOptions.erase === true;
        const deleted = await connection.write(() => {
          const now = Date.now();
          const existing = connection
            .statement('SELECT seq, id, text, deleted_at FROM memories WHERE id = ?')
            .get(String(id)) as (Pick<MemoryRow, 'seq' | 'id' | 'text'> & { deleted_at: number | null }) | undefined;
          // An erase also takes what an earlier delete left: the tombstone and its history's words.
          if (!existing || (existing.deleted_at !== null && !erase)) return false;
          if (erase) {
            scrubHistory(connection, 'SELECT ?', [existing.id]);
            connection.statement('DELETE FROM memories WHERE seq = ?').run(existing.seq);
            connection.statement(`INSERT INTO memories_fts (memories_fts) VALUES ('optimize')`).run();
            recordHistory(connection, { memoryId: existing.id, event: 'DELETE', actor, at: now });
            return true;
          }
          // A tombstone keeps the scope, so deleteAll of that scope can still find and scrub this
          // memory's history; the text goes (the history's DELETE entry keeps it, as an audit trail).
          connection
            .statement(
              `UPDATE memories SET deleted_at = ?, updated_at = ?, text = '', terms = '', metadata = '{}', content_hash = NULL
               WHERE seq = ?`,
            )
            .run(now, now, existing.seq);
          recordHistory(connection, {
            memoryId: existing.id,
            event: 'DELETE',
            oldText: existing.text,
            reason: deleteOptions.reason,
            actor,
            at: now,
          });
          return true;
        });
        if (deleted && erase) await eraseFromFile(connection);
        return deleted;
      });
    },

    deleteAll(scope: Scope): Promise<number> {
      return run('deleteAll', async (connection) => {
        const parsedScope = parseScope(scope);
        const inScope = scopeCondition(parsedScope);
        const { deleted, removed } = await connection.write(() => {
          const now = Date.now();
          const { count } = connection
            .statement(`SELECT count(*) AS count FROM memories AS m WHERE ${inScope.sql} AND m.deleted_at IS NULL`)
            .get(...inScope.params) as { count: number };
          const { total } = connection
            .statement(`SELECT count(*) AS total FROM memories AS m WHERE ${inScope.sql}`)
            .get(...inScope.params) as { total: number };
          if (total === 0) return { deleted: 0, removed: false };
          if (!keepDeletedText) {
            scrubHistory(connection, `SELECT m.id FROM memories AS m WHERE ${inScope.sql}`, inScope.params);
          }
          connection
            .statement(
              `INSERT INTO memory_history (memory_id, event, old_text, actor, created_at)
               SELECT m.id, 'DELETE', CASE WHEN ? THEN m.text END, ?, ? FROM memories AS m
               WHERE ${inScope.sql} AND m.deleted_at IS NULL ORDER BY m.seq`,
            )
            .run(keepDeletedText ? 1 : 0, actor, now, ...inScope.params);
          connection.statement(`DELETE FROM memories AS m WHERE ${inScope.sql}`).run(...inScope.params);
          // Rewrites the index without the deleted entries: until a merge, FTS5 keeps a deleted
          // row's terms in its segments, only marked as deleted.
          connection.statement(`INSERT INTO memories_fts (memories_fts) VALUES ('optimize')`).run();
          return { deleted: count, removed: true };
        });
        if (removed) await eraseFromFile(connection, 'deleteAll');
        else await emptyWal(connection, 'deleteAll');
        return deleted;
      });
    },

    history(id: string): Promise<LocalHistoryEntry[]> {
      return run('history', (connection) => connection.read(() => readHistory(connection, String(id))));
    },

    flush(): Promise<void> {
      if (closed) return Promise.reject(closedError('flush'));
      // Every write is durable when its promise resolves; flushing only waits for those under way.
      return Promise.allSettled([...inFlight]).then(() => undefined);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      clearInterval(eraseRetry);
      const connection = await opening?.catch(() => undefined);
      connection?.close();
    },

    export(exportOptions: ExportOptions = {}): Readable {
      return Readable.from(exportLines(exportOptions));
    },

    import(source: JsonlSource): Promise<ImportResult> {
      return run('import', async (connection) => {
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
          const prepared = lines.map((line) => ({ line, terms: terms(line.memory.text) }));
          const outcome = await connection.write(() =>
            prepared.map(({ line, terms: textTerms }, index) =>
              importMemory(connection, line, textTerms, vectors?.[index], Date.now()),
            ),
          );
          for (const event of outcome) result[event] += 1;
        };
        for await (const { line, lineNumber } of readLines(source)) {
          batch.push({ memory: parseJsonLine(line, lineNumber), lineNumber });
          if (batch.length >= importBatchSize) await flushBatch();
        }
        await flushBatch();
        return result;
      });
    },
  };

  async function* exportLines(exportOptions: ExportOptions): AsyncGenerator<string> {
    const scope = exportOptions.scope === undefined ? undefined : parseScopeFor('export', exportOptions.scope);
    let after = 0;
    for (;;) {
      const rows: MemoryRow[] = await run('export', (connection) =>
        connection.read(() => {
          const visible = scope
            ? visibleCondition({ scope, now: Date.now() })
            : { sql: 'm.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > ?)', params: [Date.now()] };
          return connection
            .statement(
              `SELECT ${memoryColumns} FROM memories AS m WHERE m.seq > ? AND ${visible.sql} ORDER BY m.seq LIMIT ?`,
            )
            .all(after, ...visible.params, exportPageSize) as MemoryRow[];
        }),
      );
      for (const row of rows) yield `${memoryToJsonLine(rowToMemory(row))}\n`;
      const last = rows.at(-1);
      if (!last || rows.length < exportPageSize) return;
      after = last.seq;
    }
  }

  function importMemory(
    connection: Connection,
    { memory, lineNumber }: ImportLine,
    textTerms: string[],
    vector: Float32Array | undefined,
    now: number,
  ): keyof ImportResult {
    const existing = connection
      .statement(`SELECT ${memoryColumns}, m.deleted_at AS deleted_at FROM memories AS m WHERE m.id = ?`)
      .get(memory.id) as (MemoryRow & { deleted_at: number | null }) | undefined;
    checkImportTarget(
      existing && { scope: rowScope(existing), deleted: existing.deleted_at !== null },
      memory,
      lineNumber,
    );
    const values = [
      memory.text,
      joinTerms(textTerms),
      memory.type ?? null,
      ...scopeColumns(memory.scope),
      JSON.stringify(memory.metadata),
      contentHash(memory.text),
      memory.createdAt.getTime(),
      memory.updatedAt.getTime(),
      memory.expiresAt?.getTime() ?? null,
    ] as const;
    if (!existing) {
      const result = connection
        .statement(
          `INSERT INTO memories (text, terms, type, user_id, agent_id, run_id, app_id, metadata, content_hash, created_at, updated_at, expires_at, id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(...values, memory.id);
      const seq = Number(result.lastInsertRowid);
      indexTerms(connection, seq, textTerms, memory.scope);
      if (vector) storeVector(connection, seq, vector);
      recordHistory(connection, { memoryId: memory.id, event: 'ADD', reason: 'import', actor: 'import', at: now });
      return 'added';
    }
    if (memoryToJsonLine(rowToMemory(existing)) === memoryToJsonLine(memory)) return 'unchanged';
    connection
      .statement(
        `UPDATE memories SET text = ?, terms = ?, type = ?, user_id = ?, agent_id = ?, run_id = ?, app_id = ?, metadata = ?,
         content_hash = ?, created_at = ?, updated_at = ?, expires_at = ? WHERE id = ?`,
      )
      .run(...values, memory.id);
    connection.statement('DELETE FROM memories_fts WHERE rowid = ?').run(existing.seq);
    indexTerms(connection, existing.seq, textTerms, memory.scope);
    if (vector) storeVector(connection, existing.seq, vector);
    recordHistory(connection, {
      memoryId: memory.id,
      event: 'UPDATE',
      oldText: existing.text,
      newText: memory.text,
      reason: 'import',
      actor: 'import',
      at: now,
    });
    return 'updated';
  }

  return store;
}

/**
 * A search's checked options, its query terms and, with an embedder, its vector (a failing
 * embedder costs the vector half of the ranking, not the search); `undefined` when the query holds
 * nothing to search by. Shared with the PostgreSQL store.
 */
export async function searchRequest(
  query: unknown,
  searchOptions: SearchOptions,
  embedder: Embedder | undefined,
): Promise<SearchRequest | undefined> {
  searchOptions.signal?.throwIfAborted();
  const scope = parseScope(searchOptions.scope);
  const { limit = defaultSearchLimit, threshold = 0, types, filters } = validate(searchSchema, searchOptions);
  if (typeof query !== 'string') throw new InvalidOptionsError('query', 'a string');
  const terms = queryTerms(query);
  let queryVector: Float32Array | undefined;
  if (embedder && query.trim() !== '') {
    queryVector = await embedTexts(embedder, [query]).then(
      (vectors) => vectors[0],
      () => undefined,
    );
    searchOptions.signal?.throwIfAborted();
  }
  if (terms.length === 0 && !queryVector) return undefined;
  return { scope, types, filters, queryTerms: terms, queryVector, limit, threshold, now: Date.now() };
}

function parseScopeFor(operation: StoreOperation, scope: Scope): Scope {
  try {
    return parseScope(scope);
  } catch (error) {
    throw toStoreError(error, operation, '');
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value?.trim() ? value.trim() : undefined;
}

function closedError(operation: StoreOperation): StoreError {
  return new StoreError('The local store is closed; create a new one with localStore().', {
    store: storeName,
    operation,
    retryable: false,
  });
}

/** Every failure as a `StoreError` that says what to do, without memory text in its message. */
function toStoreError(error: unknown, operation: StoreOperation, path: string): StoreError {
  if (StoreError.isInstance(error)) return error;
  if (InvalidOptionsError.isInstance(error)) {
    return new StoreError(`The local store's ${operation} was given invalid input: ${error.message}`, {
      store: storeName,
      operation,
      retryable: false,
      cause: error,
    });
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new StoreError(`The local store's ${operation} was aborted.`, {
      store: storeName,
      operation,
      retryable: true,
      cause: error,
    });
  }
  if (error instanceof CannotOpen) {
    return new StoreError(error.message, { store: storeName, operation: 'open', retryable: false, cause: error });
  }
  if (error instanceof ImportLineError) {
    return new StoreError(error.message, { store: storeName, operation, retryable: false, cause: error });
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE')) {
    if (isBusy(error)) {
      return new StoreError(
        `The local store's ${operation} waited too long for ${path}, which another process kept locked; try again, or raise busyTimeoutMs.`,
        { store: storeName, operation, retryable: true, cause: error },
      );
    }
    const hint =
      code === 'SQLITE_NOTADB'
        ? ' The file is not a SQLite database; point localStore({ path }) at another file.'
        : code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM')
          ? ' Check that the folder exists or can be created, and that this process may write to it.'
          : code.startsWith('SQLITE_CORRUPT')
            ? ' The file is damaged; restore it from an export or a copy.'
            : '';
    return new StoreError(`The local store's ${operation} failed on ${path || 'its file'} (${code}).${hint}`, {
      store: storeName,
      operation,
      retryable: /^SQLITE_(IOERR|FULL|PROTOCOL|NOMEM|INTERRUPT)/.test(code),
      cause: error,
    });
  }
  if (MemoryError.isInstance(error)) {
    return new StoreError(`The local store's ${operation} failed: ${error.message}`, {
      store: storeName,
      operation,
      retryable: false,
      cause: error,
    });
  }
  return new StoreError(`The local store's ${operation} failed; see the cause.`, {
    store: storeName,
    operation,
    retryable: true,
    cause: error,
  });
}
