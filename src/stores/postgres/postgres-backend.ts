/**
 * The PostgreSQL store's backend: the kernel's primitives (`../kernel/create-store.ts`) as
 * statements on the caller's pool, in the store's schema (created or checked on first use).
 *
 * @module
 */

import type { StoreBackend } from '../kernel/create-store.js';
import type { ImportEvent } from '../kernel/export-import.js';
import { addFacts } from './add-facts.js';
import { deleteMemory, deleteScope } from './delete-memories.js';
import { readHistory } from './history.js';
import { indexableTerms } from './indexable-terms.js';
import { exportPage, importMemory, listMemories, readMemory, updateMemory } from './memory-statements.js';
import { plannerStatistics } from './planner-statistics.js';
import type { Database } from './pool.js';
import { postgresError } from './postgres-errors.js';
import { openSchema, quoteIdentifier } from './schema.js';
import { type StoreTables, searchMemories } from './search.js';
import { vectorIndexMaker } from './vector-index.js';

/** What the backend needs of the store's options. */
export interface PostgresBackendSettings {
  schema: string;
  keepDeletedText: boolean;
  actor: string;
}

/** The backend of the store in `schema` of the database `db`. */
export function postgresBackend(db: Database, settings: PostgresBackendSettings): StoreBackend<StoreTables> {
  const { schema, keepDeletedText, actor } = settings;
  const quotedSchema = quoteIdentifier(schema);
  const ensureVectorIndex = vectorIndexMaker(db, schema);
  const statistics = plannerStatistics(db, schema);
  return {
    identity: { name: 'postgres', label: 'The PostgreSQL store', factory: 'postgresStore' },
    open: async () => ({ schema: quotedSchema, vectors: (await openSchema(db, schema)).vectors }),
    // The pool is the caller's: the store never ends it.
    release: () => undefined,
    ownError: postgresError,
    cleanText: withoutNul,

    search: (tables, query, request) => searchMemories(db, tables, query, request),
    async addFacts(tables, facts, scope, addSettings) {
      const now = Date.now();
      const ready = facts.map((fact) => ({ ...fact, terms: indexableTerms(fact.terms), saidAt: fact.saidAt ?? now }));
      await ensureVectorIndex(
        tables,
        ready.map((fact) => fact.vector),
      );
      const changes = await db.transaction((tx) => addFacts(tx, tables, ready, scope, addSettings, Date.now()));
      await statistics.written(changes.length);
      return changes;
    },
    get: (tables, id, now) => readMemory(db, tables, id, now),
    list: (tables, request) => listMemories(db, tables, request),
    async update(tables, id, change) {
      await ensureVectorIndex(tables, change.vector && [change.vector]);
      return db.transaction((tx) => updateMemory(tx, tables, id, change));
    },
    delete: (tables, id, options) => db.transaction((tx) => deleteMemory(tx, tables, id, options)),
    deleteAll: (tables, scope) => db.transaction((tx) => deleteScope(tx, tables, scope, { keepDeletedText, actor })),
    history: (tables, id) => readHistory(db, tables, id),
    exportPage: (tables, page) => exportPage(db, tables, page),
    // One transaction for the whole file: a line refused half-way leaves nothing behind. Embedding
    // a batch leaves the transaction idle meanwhile: that is not a stuck writer.
    async importing(tables, body) {
      let written = 0;
      const result = await db.transaction(
        (tx) =>
          body(async (lines, vectors) => {
            await ensureVectorIndex(tables, vectors, tx);
            const events: ImportEvent[] = [];
            for (const [index, line] of lines.entries()) {
              events.push(await importMemory(tx, tables, line, vectors?.[index], Date.now()));
            }
            written += lines.length;
            return events;
          }),
        { mayIdle: true },
      );
      // After the commit: VACUUM cannot run inside a transaction.
      await statistics.written(written);
      return result;
    },
  };
}

/**
 * PostgreSQL text cannot hold U+0000: it is stored as U+FFFD, the replacement character (no other
 * character is changed), so a write is never refused or emptied for it.
 */
function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}
