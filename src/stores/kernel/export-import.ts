/**
 * Export and import, as every SQL store does them: the export read page by page (a large store is
 * never held in memory), the import read line by line and written in batches, each line's target
 * checked the same way.
 *
 * @module
 */

import type { Memory, Scope } from '../../core/types.js';
import {
  checkImportTarget,
  type ImportLine,
  type JsonlSource,
  memoryToJsonLine,
  parseJsonLine,
  readLines,
} from './jsonl.js';

/** Options of a store's `export`. */
export interface ExportOptions {
  /** Only the memories of this scope (matched as in `search`). @default every memory */
  scope?: Scope;
}

/** What a store's `import` did. */
export interface ImportResult {
  /** Memories that were not in the store. */
  added: number;
  /** Memories whose id was in the store with other content. */
  updated: number;
  /** Memories already in the store as they are. */
  unchanged: number;
}

/** What an import did with one line. */
export type ImportEvent = keyof ImportResult;

/** Writes a batch of lines (with their vectors, given an embedder); one event per line, in order. */
export type ImportWriter = (lines: ImportLine[], vectors: Float32Array[] | undefined) => Promise<ImportEvent[]>;

const exportPageSize = 500;
const importBatchSize = 500;

/**
 * The JSONL lines of an export: `page(after, size)` reads the next page of memories after the
 * position `after` (0 first), with the position of each.
 */
export async function* exportLines(
  page: (after: number, size: number) => Promise<Array<{ position: number; memory: Memory }>>,
): AsyncGenerator<string> {
  let after = 0;
  for (;;) {
    const found = await page(after, exportPageSize);
    for (const { memory } of found) yield `${memoryToJsonLine(memory)}\n`;
    const last = found.at(-1);
    if (!last || found.length < exportPageSize) return;
    after = last.position;
  }
}

/**
 * Imports the lines of `source` in batches: each batch's vectors made by `embed`, then written by
 * `write`. `cleanText` is the store's rule for text it cannot hold as given.
 */
export async function importLines(
  source: JsonlSource,
  embed: (texts: string[]) => Promise<Float32Array[] | undefined>,
  write: ImportWriter,
  cleanText: (text: string) => string,
): Promise<ImportResult> {
  const result: ImportResult = { added: 0, updated: 0, unchanged: 0 };
  let batch: ImportLine[] = [];
  const flushBatch = async () => {
    const lines = batch;
    batch = [];
    if (lines.length === 0) return;
    const vectors = await embed(lines.map(({ memory }) => memory.text));
    for (const event of await write(lines, vectors)) result[event] += 1;
  };
  for await (const { line, lineNumber } of readLines(source)) {
    const memory = parseJsonLine(line, lineNumber);
    batch.push({ memory: { ...memory, text: cleanText(memory.text) }, lineNumber });
    if (batch.length >= importBatchSize) await flushBatch();
  }
  await flushBatch();
  return result;
}

/**
 * What importing a line does to the memory stored under its id (`undefined`: none): refused (an
 * `ImportLineError`) when that memory is of another scope or deleted, else added, updated, or
 * left unchanged when it is already as the line says.
 */
export function importEvent(existing: { memory: Memory; deleted: boolean } | undefined, line: ImportLine): ImportEvent {
  checkImportTarget(
    existing && { scope: existing.memory.scope, deleted: existing.deleted },
    line.memory,
    line.lineNumber,
  );
  if (!existing) return 'added';
  return memoryToJsonLine(existing.memory) === memoryToJsonLine(line.memory) ? 'unchanged' : 'updated';
}
