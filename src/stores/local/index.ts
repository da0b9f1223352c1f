/**
 * The embedded local store (SQLite through better-sqlite3, loaded on first use) and its embedding
 * helper.
 *
 * @module
 */

export type { Embedder } from '../kernel/embeddings.js';
export type { JsonlSource } from '../kernel/jsonl.js';
export { type OpenAIEmbedderOptions, openaiEmbedder } from '../openai-embedder.js';
export type { LocalHistoryEntry } from './history.js';
export {
  type ExportOptions,
  type ImportResult,
  type LocalStore,
  type LocalStoreOptions,
  localStore,
} from './local-store.js';
