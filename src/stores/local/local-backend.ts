/**
 * The local store's backend: the kernel's primitives (`../kernel/create-store.ts`) as SQLite
 * statements on one connection to the file, every read and write through the connection's
 * busy-aware `read` and `write`.
 *
 * @module
 */

import { terms } from '../../text/text-terms.js';
import type { StoreBackend } from '../kernel/create-store.js';
import { rowToMemory } from '../kernel/memory-rows.js';
import { addFacts } from './add-facts.js';
import { type Connection, openConnection } from './connection.js';
import { deleteMemory, deleteScope } from './delete-memories.js';
import { fileEraser } from './file-erase.js';
import { readHistory } from './history.js';
import { exportPage, importMemory, listMemories, readMemory, updateMemory } from './memory-statements.js';
import { searchMemories } from './search.js';
import { sqliteError } from './sqlite-errors.js';

/** What the backend needs of the store's options. */
export interface LocalBackendSettings {
  path: string;
  busyTimeoutMs: number;
  synchronous: 'normal' | 'full';
  keepDeletedText: boolean;
  actor: string;
}

/** The backend of the SQLite file at `settings.path`. */
export function localBackend(settings: LocalBackendSettings): StoreBackend<Connection> {
  const { path, busyTimeoutMs, synchronous, keepDeletedText, actor } = settings;
  const eraser = fileEraser(path, busyTimeoutMs);
  return {
    identity: { name: 'local', label: 'The local store', factory: 'localStore' },
    open: () => openConnection(path, { busyTimeoutMs, synchronous }),
    release(connection) {
      eraser.stop();
      connection?.close();
    },
    ownError: (error, operation) => sqliteError(error, operation, path),

    async search(connection, query, request) {
      const found = await connection.read(() => searchMemories(connection, query, request));
      return found.map(({ row, score, parts }) => ({ ...rowToMemory(row), score, scoreParts: parts }));
    },
    addFacts: (connection, facts, scope, addSettings) =>
      connection.write(() => addFacts(connection, facts, scope, addSettings, Date.now())),
    get: (connection, id, now) => connection.read(() => readMemory(connection, id, now)),
    list: (connection, request) => connection.read(() => listMemories(connection, request)),
    update: (connection, id, change) => connection.write(() => updateMemory(connection, id, change)),

    async delete(connection, id, options) {
      const deleted = await connection.write(() => deleteMemory(connection, id, options));
      if (deleted && options.erase) await eraser.eraseFromFile(connection, 'delete');
      return deleted;
    },
    async deleteAll(connection, scope) {
      const { deleted, removed } = await connection.write(() =>
        deleteScope(connection, scope, { keepDeletedText, actor }),
      );
      if (removed) await eraser.eraseFromFile(connection, 'deleteAll');
      else await eraser.emptyWal(connection, 'deleteAll');
      return deleted;
    },

    history: (connection, id) => connection.read(() => readHistory(connection, id)),
    exportPage: (connection, page) => connection.read(() => exportPage(connection, page)),
    // A transaction per batch: the batches before a refused line stay written.
    importing: (connection, body) =>
      body((lines, vectors) => {
        const prepared = lines.map((line) => ({ line, terms: terms(line.memory.text) }));
        return connection.write(() =>
          prepared.map(({ line, terms: textTerms }, index) =>
            importMemory(connection, line, textTerms, vectors?.[index], Date.now()),
          ),
        );
      }),
  };
}
