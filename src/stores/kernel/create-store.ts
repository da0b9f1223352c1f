/**
 * The `MemoryStore` methods, written once over a backend of primitives (the shape of hono's
 * `serveStatic` over each runtime's `getContent`): the kernel checks every input, embeds texts,
 * runs each operation (open once, every failure a `StoreError`, tracked for `flush` and `close`),
 * pages exports and batches imports; a backend holds only its engine's statements.
 *
 * @module
 */

import { Readable } from 'node:stream';
import type { StoreOperation } from '../../core/errors.js';
import { parseScope } from '../../core/scope.js';
import type {
  AddOptions,
  ChangeOptions,
  DeleteOptions,
  ListOptions,
  MemoryChange,
  MemoryHit,
  MemoryPatch,
  MemoryStore,
  MemoryType,
  MemoryWrite,
  Metadata,
  MetadataFilter,
  Scope,
  SearchOptions,
} from '../../core/types.js';
import { type Embedder, embedForWrite } from './embeddings.js';
import { type ExportOptions, exportLines, type ImportResult, type ImportWriter, importLines } from './export-import.js';
import type { LocalHistoryEntry } from './history.js';
import type { JsonlSource } from './jsonl.js';
import { type MemoryRow, rowToMemory } from './memory-rows.js';
import { type AddSettings, newFacts, type PreparedFact } from './new-facts.js';
import { operationRunner } from './operation-runner.js';
import { type SearchRequest, searchRequest } from './search-request.js';
import { closedError, type OwnError, type StoreIdentity, toStoreError } from './store-errors.js';
import { listSchema, patchSchema, validate } from './store-input.js';

/** A list, checked. */
export interface ListRequest {
  scope: Scope;
  types: MemoryType[] | undefined;
  filters: MetadataFilter | undefined;
  limit: number;
  offset: number;
  now: number;
}

/** An update, checked: what changes (text trimmed, with its vector), and who asked why. */
export interface MemoryUpdate {
  text: string | undefined;
  vector: Float32Array | undefined;
  type: MemoryType | undefined;
  metadata: Metadata | undefined;
  /** `null` removes the expiry. */
  expiresAt: Date | null | undefined;
  reason: string | undefined;
  actor: string;
}

/** The primitives of a store's engine; `H` is what `open` gives (a connection, a schema's tables). */
export interface StoreBackend<H> {
  identity: StoreIdentity & { factory: string };
  open(): Promise<H>;
  /** Releases the handle once every operation has settled (`undefined`: it never opened). */
  release(handle: H | undefined): void | Promise<void>;
  /** The failures only this engine knows, as `StoreError`s. */
  ownError?: OwnError;
  /** Text this engine cannot hold as given, made storable (PostgreSQL: NUL). */
  cleanText?(text: string): string;
  search(handle: H, query: string, request: SearchRequest): Promise<MemoryHit[]>;
  addFacts(handle: H, facts: PreparedFact[], scope: Scope, settings: AddSettings): Promise<MemoryChange[]>;
  get(handle: H, id: string, now: number): Promise<MemoryRow | undefined>;
  list(handle: H, request: ListRequest): Promise<MemoryRow[]>;
  update(handle: H, id: string, change: MemoryUpdate): Promise<MemoryRow | undefined>;
  delete(
    handle: H,
    id: string,
    options: { erase: boolean; reason: string | undefined; actor: string },
  ): Promise<boolean>;
  deleteAll(handle: H, scope: Scope): Promise<number>;
  history(handle: H, id: string): Promise<LocalHistoryEntry[]>;
  /** The next page of visible memories (of `scope`, else every one) after row `after`, in row order. */
  exportPage(handle: H, page: { scope: Scope | undefined; after: number; size: number }): Promise<MemoryRow[]>;
  /** Runs an import: `body` writes its batches through the writer (one transaction, or one per batch). */
  importing<T>(handle: H, body: (write: ImportWriter) => Promise<T>): Promise<T>;
}

/** What the kernel does the same for every backend. */
export interface KernelSettings {
  embedder: Embedder | undefined;
  duplicateThreshold: number;
  vectorDuplicateThreshold: number;
  actor: string;
}

/** A SQL store's methods: every optional `MemoryStore` method, plus history, export and import. */
export interface KernelStore extends Required<Omit<MemoryStore, 'name' | 'extractsFacts'>> {
  history(id: string): Promise<LocalHistoryEntry[]>;
  export(options?: ExportOptions): Readable;
  import(source: JsonlSource): Promise<ImportResult>;
}

const defaultListLimit = 100;
const maxListLimit = 1000;

/** The store's methods over `backend`, and its runner (for a store's own extra methods). */
export function createStore<H>(
  backend: StoreBackend<H>,
  settings: KernelSettings,
): { methods: KernelStore; run: <T>(operation: StoreOperation, work: (handle: H) => Promise<T>) => Promise<T> } {
  const { identity, cleanText = (text: string) => text } = backend;
  const { embedder, actor } = settings;
  const asStoreError = (error: unknown, operation: StoreOperation) =>
    toStoreError(error, operation, identity, backend.ownError);
  const { run, flush, close } = operationRunner({
    open: () => backend.open(),
    toStoreError: asStoreError,
    closedError: (operation) => closedError(operation, identity, identity.factory),
    release: (handle) => backend.release(handle),
  });
  const embed = (texts: string[], operation: StoreOperation) =>
    embedForWrite(embedder, texts, { store: identity.name, operation });

  async function* exported(options: ExportOptions): AsyncGenerator<string> {
    let scope: Scope | undefined;
    try {
      scope = options.scope === undefined ? undefined : parseScope(options.scope);
    } catch (error) {
      throw asStoreError(error, 'export');
    }
    const page = (after: number, size: number) =>
      run('export', async (handle) =>
        (await backend.exportPage(handle, { scope, after, size })).map((row) => ({
          position: row.seq,
          memory: rowToMemory(row),
        })),
      );
    yield* exportLines(page);
  }

  const methods: KernelStore = {
    search: (query: string, options: SearchOptions) =>
      run('search', async (handle) => {
        const request = await searchRequest(query, options, embedder);
        return request ? backend.search(handle, query, request) : [];
      }),

    add: (write: MemoryWrite, options: AddOptions) =>
      run('add', async (handle) => {
        options.signal?.throwIfAborted();
        const { scope, facts } = newFacts(write, options, cleanText);
        if (facts.length === 0) return [];
        const vectors = await embed(
          facts.map((fact) => fact.text),
          'add',
        );
        facts.forEach((fact, index) => {
          fact.vector = vectors?.[index];
        });
        options.signal?.throwIfAborted();
        return backend.addFacts(handle, facts, scope, { ...settings, reason: options.reason });
      }),

    get: (id: string) =>
      run('get', async (handle) => {
        const row = await backend.get(handle, String(id), Date.now());
        return row ? rowToMemory(row) : null;
      }),

    list: (options: ListOptions) =>
      run('list', async (handle) => {
        const scope = parseScope(options.scope);
        const { limit = defaultListLimit, offset = 0, types, filters } = validate(listSchema, options);
        const request = { scope, types, filters, limit: Math.min(limit, maxListLimit), offset, now: Date.now() };
        return (await backend.list(handle, request)).map(rowToMemory);
      }),

    update: (id: string, patch: MemoryPatch, options: ChangeOptions = {}) =>
      run('update', async (handle) => {
        const checked = validate(patchSchema, patch);
        const text = checked.text === undefined ? undefined : cleanText(checked.text).trim();
        const vector = text === undefined ? undefined : (await embed([text], 'update'))?.[0];
        const change = { ...checked, text, vector, reason: options.reason, actor };
        const row = await backend.update(handle, String(id), change as MemoryUpdate);
        return row ? rowToMemory(row) : null;
      }),

    delete: (id: string, options: DeleteOptions = {}) =>
      run('delete', (handle) =>
        backend.delete(handle, String(id), { erase: options.erase === true, reason: options.reason, actor }),
      ),

    deleteAll: (scope: Scope) => run('deleteAll', async (handle) => backend.deleteAll(handle, parseScope(scope))),

    history: (id: string) => run('history', (handle) => backend.history(handle, String(id))),

    flush,
    close,

    export: (options: ExportOptions = {}) => Readable.from(exported(options)),

    import: (source: JsonlSource) =>
      run('import', (handle) =>
        backend.importing(handle, (write) => importLines(source, (texts) => embed(texts, 'import'), write, cleanText)),
      ),
  };
  return { methods, run };
}
