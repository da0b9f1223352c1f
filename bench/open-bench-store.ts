/**
 * Opens the store a benchmark runs on, by name, each in a fresh place (a temporary file for the
 * local store), and says how to dispose of it afterwards.
 *
 * @module
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MemoryStore } from '../src/core/types.js';
import { inMemoryStore } from '../src/stores/in-memory.js';
import { hashEmbedder, type TextEmbedder } from './hash-embedder.js';
import { mem0OssStore } from './mem0-oss.js';

/** The stores the benchmarks know. */
export const benchStoreKinds = ['local', 'memory', 'mem0-oss'] as const;
export type BenchStoreKind = (typeof benchStoreKinds)[number];

/** The embedders the benchmarks know: none, or the deterministic hashed n-gram stand-in. */
export const benchEmbedderNames = ['none', 'hash'] as const;
export type BenchEmbedderName = (typeof benchEmbedderNames)[number];

/** The dimensions of the `hash` embedder. */
export const hashDimensions = 256;

/** An open store, with the file it lives in (local store) and how to dispose of it. */
export interface BenchStore {
  store: MemoryStore;
  /** The SQLite file, for the local store. */
  path?: string;
  dispose(): Promise<void>;
}

/** The embedder named on the command line, or `undefined` for `none`. */
export function benchEmbedder(name: BenchEmbedderName): TextEmbedder | undefined {
  return name === 'hash' ? hashEmbedder({ dimensions: hashDimensions }) : undefined;
}

/**
 * Opens a fresh store of the given kind. mem0 OSS cannot search without an embedder, so it gets the
 * hash embedder when none is named.
 *
 * @example
 * const { store, dispose } = await openBenchStore('memory', 'none');
 */
export async function openBenchStore(kind: BenchStoreKind, embedderName: BenchEmbedderName): Promise<BenchStore> {
  const embed = benchEmbedder(embedderName);
  if (kind === 'memory') {
    const store = inMemoryStore();
    return { store, dispose: () => store.close() };
  }
  if (kind === 'mem0-oss') {
    const store = await mem0OssStore({
      embed: embed ?? hashEmbedder({ dimensions: hashDimensions }),
      dimensions: hashDimensions,
    });
    return { store, dispose: async () => {} };
  }
  const directory = mkdtempSync(join(tmpdir(), 'with-memory-bench-'));
  const path = join(directory, 'memory.db');
  const { localStore } = await import('../src/stores/local/index.js');
  const store = localStore(embed === undefined ? { path } : { path, embedder: embed });
  return {
    store,
    path,
    dispose: async () => {
      await store.close?.();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
