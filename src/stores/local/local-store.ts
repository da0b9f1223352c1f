/**
 * `localStore`: the embedded default store. One SQLite file (better-sqlite3, WAL), FTS5 ranking,
 * optional embeddings, history, export and import; safe with several processes on one file.
 *
 * @module
 */

import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { InvalidOptionsError } from '../../core/errors.js';
import { toInvalidOptionsError } from '../../core/options.js';
import type { MemoryStore } from '../../core/types.js';
import { createStore } from '../kernel/create-store.js';
import type { Embedder } from '../kernel/embeddings.js';
import type { ExportOptions, ImportResult } from '../kernel/export-import.js';
import type { LocalHistoryEntry } from '../kernel/history.js';
import type { JsonlSource } from '../kernel/jsonl.js';
import { sharedOptionDefaults, sharedOptionFields } from '../kernel/store-options.js';
import { localBackend } from './local-backend.js';

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

const defaultPath = '.with-memory/memory.db';

const optionsSchema = z
  .object(
    {
      path: z.string({ error: 'a file path' }).trim().min(1, { error: 'a non-empty file path' }).optional(),
      ...sharedOptionFields,
      busyTimeoutMs: z
        .number({ error: 'a number of milliseconds (0 or more)' })
        .int({ error: 'a whole number of milliseconds' })
        .min(0, { error: 'a number of milliseconds (0 or more)' })
        .optional(),
      synchronous: z.enum(['normal', 'full'], { error: "'normal' or 'full'" }).optional(),
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
    duplicateThreshold = sharedOptionDefaults.duplicateThreshold,
    vectorDuplicateThreshold = sharedOptionDefaults.vectorDuplicateThreshold,
    keepDeletedText = sharedOptionDefaults.keepDeletedText,
    busyTimeoutMs = 10_000,
    synchronous = 'normal',
    actor = sharedOptionDefaults.actor,
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
  const { methods } = createStore(localBackend({ path, busyTimeoutMs, synchronous, keepDeletedText, actor }), {
    embedder,
    duplicateThreshold,
    vectorDuplicateThreshold,
    actor,
  });
  return { name: 'local', extractsFacts: false, path, ...methods };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value?.trim() ? value.trim() : undefined;
}
