/**
 * The embedded local store (SQLite through better-sqlite3, loaded on first use) and its embedding
 * helper.
 *
 * @module
 */

export type { Embedder } from '../kernel/embeddings.js';
export type { ExportOptions, ImportResult } from '../kernel/export-import.js';
export type { LocalHistoryEntry } from '../kernel/history.js';
export type { JsonlSource } from '../kernel/jsonl.js';
export { type OpenAIEmbedderOptions, openaiEmbedder } from '../openai-embedder.js';
export { type LocalStore, type LocalStoreOptions, localStore } from './local-store.js';
