/**
 * mem0 open source (`Memory` from `mem0ai/oss`) in process, configured to run offline for the
 * benchmarks: its in-memory vector store (SQLite `:memory:`), an in-memory history, the given
 * deterministic embedder through mem0's `langchain` embedder provider (which only duck-types
 * `embedQuery`/`embedDocuments`), and no LLM call (writes use `infer: false`).
 *
 * @module
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MemoryStore } from '../src/core/types.js';
import { mem0Store } from '../src/stores/mem0/index.js';
import type { TextEmbedder } from './hash-embedder.js';

/** The part of mem0's OSS `Memory` the benchmarks call directly. */
export interface Mem0OssMemory {
  add(messages: Array<{ role: string; content: string }>, config: Record<string, unknown>): Promise<unknown>;
  search(query: string, config: Record<string, unknown>): Promise<{ results: Array<Record<string, unknown>> }>;
  reset?(): Promise<void>;
}

/**
 * Creates an offline mem0 OSS `Memory`. mem0 reads `MEM0_TELEMETRY` and `MEM0_DIR` when it is
 * imported, so they are set first (telemetry off, a temporary directory instead of `~/.mem0`).
 *
 * @example
 * const memory = await createMem0Memory({ embed: hashEmbedder(), dimensions: 256 });
 */
export async function createMem0Memory(options: { embed: TextEmbedder; dimensions: number }): Promise<Mem0OssMemory> {
  process.env.MEM0_TELEMETRY = 'false';
  process.env.MEM0_DIR ??= mkdtempSync(join(tmpdir(), 'with-memory-bench-mem0-'));
  const { Memory } = await import('mem0ai/oss');
  const { embed, dimensions } = options;
  const model = {
    embedQuery: async (text: string) => (await embed([text]))[0] ?? [],
    embedDocuments: (texts: string[]) => embed(texts),
  };
  const memory = new Memory({
    embedder: { provider: 'langchain', config: { model } },
    vectorStore: { provider: 'memory', config: { collectionName: 'bench', dimension: dimensions, dbPath: ':memory:' } },
    // Never called: every write is `infer: false`. A key is set so that construction does not look for one.
    llm: { provider: 'openai', config: { apiKey: 'not-used-offline', model: 'not-used' } },
    historyStore: { provider: 'memory', config: {} },
  } as ConstructorParameters<typeof Memory>[0]);
  return memory as unknown as Mem0OssMemory;
}

/** mem0 OSS behind with-memory's `mem0Store` adapter, as a user would plug it in. */
export async function mem0OssStore(options: { embed: TextEmbedder; dimensions: number }): Promise<MemoryStore> {
  const memory = await createMem0Memory(options);
  return mem0Store({ memory: memory as never, timeoutMs: 600_000 });
}

/**
 * mem0 OSS as a target of the store benchmark: a fresh in-process `Memory` for each size, behind
 * `mem0Store`, with the given embedder. It keeps everything in memory, so it has no file size.
 */
export function mem0OssTarget(options: { embed: TextEmbedder; dimensions: number }): {
  name: string;
  open(): Promise<{ store: MemoryStore; fileBytes(): number | null; dispose(): Promise<void> }>;
} {
  return {
    name: 'mem0-oss',
    async open() {
      const store = await mem0OssStore(options);
      return { store, fileBytes: () => null, dispose: async () => {} };
    },
  };
}
