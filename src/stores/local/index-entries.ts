/**
 * Keeping the FTS index and the vectors in step with the `memories` rows. Removal needs nothing
 * from here: the schema's triggers drop a row's index entry and vector whenever the row goes.
 *
 * @module
 */

import type { Scope } from '../../core/types.js';
import type { Connection } from './connection.js';
import { indexedTerms, scopeTokens } from './fts-query.js';
import { vectorToBytes } from './vector-bytes.js';

/** Indexes a memory's terms under its scope. */
export function indexTerms(connection: Connection, seq: number, textTerms: string[], scope: Scope): void {
  connection
    .statement('INSERT INTO memories_fts (rowid, terms, scope) VALUES (?, ?, ?)')
    .run(seq, indexedTerms(textTerms), scopeTokens(scope).join(' '));
}

/** Replaces a memory's index entry, after its text or scope changed. */
export function reindexTerms(connection: Connection, seq: number, textTerms: string[], scope: Scope): void {
  connection.statement('DELETE FROM memories_fts WHERE rowid = ?').run(seq);
  indexTerms(connection, seq, textTerms, scope);
}

/** Stores (or replaces) a memory's vector. */
export function storeVector(connection: Connection, seq: number, vector: Float32Array): void {
  connection
    .statement('INSERT OR REPLACE INTO memory_vectors (memory_seq, vector) VALUES (?, ?)')
    .run(seq, vectorToBytes(vector));
}
