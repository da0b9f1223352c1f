/**
 * The JSONL format of `export()` and `import()`: one memory per line, as JSON, dates as ISO
 * strings. Embeddings are not exported: an import computes them again with the importing store's
 * embedder, which is also how a store moves to another embedding model.
 *
 * ```json
 * {"id":"…","text":"Prefers Celsius","type":"preference","scope":{"userId":"u1"},"metadata":{},"createdAt":"2025-01-01T10:00:00.000Z","updatedAt":"2025-01-01T10:00:00.000Z"}
 * ```
 *
 * @module
 */

import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { scopeKey, scopeSchema } from '../../core/scope.js';
import type { Memory, Scope } from '../../core/types.js';
import { memoryTypeSchema, metadataSchema } from './store-input.js';

/** What an import reads: lines of text, or chunks of a file split anywhere (a `ReadStream`). */
export type JsonlSource = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/** A memory as a JSON object, its fields in the order of the export format. */
export function memoryToJson(memory: Memory): Record<string, unknown> {
  const json: Record<string, unknown> = { id: memory.id, text: memory.text };
  if (memory.type !== undefined) json.type = memory.type;
  json.scope = memory.scope;
  json.metadata = memory.metadata;
  json.createdAt = memory.createdAt.toISOString();
  json.updatedAt = memory.updatedAt.toISOString();
  if (memory.expiresAt !== undefined) json.expiresAt = memory.expiresAt.toISOString();
  return json;
}

/** One line of an export, without its line break. */
export function memoryToJsonLine(memory: Memory): string {
  return JSON.stringify(memoryToJson(memory));
}

const isoDate = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), { error: 'an ISO date' })
  .transform((value) => new Date(value));

const lineSchema = z.object({
  id: z.string().trim().min(1).max(256),
  text: z.string().refine((value) => value.trim() !== '', { error: 'non-empty text' }),
  type: memoryTypeSchema.optional(),
  scope: scopeSchema,
  metadata: metadataSchema.default({}),
  createdAt: isoDate,
  updatedAt: isoDate,
  expiresAt: isoDate.optional(),
});

/** A line of an import that is not a memory; its message names the line, never its content. */
export class ImportLineError extends Error {}

/** Parses one line of an export; throws an `ImportLineError` naming the line and the field that is wrong. */
export function parseJsonLine(line: string, lineNumber: number): Memory {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ImportLineError(`Line ${lineNumber} of the import is not JSON.`);
  }
  const parsed = lineSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ImportLineError(
      `Line ${lineNumber} of the import has an invalid \`${issue?.path.join('.') || '(line)'}\`: ${issue?.message ?? 'invalid'}.`,
    );
  }
  const { id, text, type, scope, metadata, createdAt, updatedAt, expiresAt } = parsed.data;
  const memory: Memory = { id, text: text.trim(), metadata, scope: cleanScope(scope), createdAt, updatedAt };
  if (type !== undefined) memory.type = type;
  if (expiresAt !== undefined) memory.expiresAt = expiresAt;
  return memory;
}

/** A parsed line of an import, with its line number for the errors that name it. */
export interface ImportLine {
  memory: Memory;
  lineNumber: number;
}

/** What a store holds under the id of a line being imported. */
export interface ImportTarget {
  scope: Scope;
  deleted: boolean;
}

/**
 * Refuses a line whose id is a memory of another scope, or a deleted memory: an import updates
 * memories of the line's own scope, and never moves a memory to another user nor revives one.
 */
export function checkImportTarget(target: ImportTarget | undefined, memory: Memory, lineNumber: number): void {
  if (target === undefined) return;
  if (target.deleted) {
    throw new ImportLineError(
      `Line ${lineNumber} of the import has the id of a deleted memory, which an import does not revive; give the line a new id.`,
    );
  }
  if (scopeKey(target.scope) !== scopeKey(memory.scope)) {
    throw new ImportLineError(
      `Line ${lineNumber} of the import has the id of a memory of another scope, which an import does not move; give the line a new id, or the scope of that memory.`,
    );
  }
}

/** The non-blank lines of a source, with their line numbers, however its chunks are cut. */
export async function* readLines(source: JsonlSource): AsyncGenerator<{ line: string; lineNumber: number }> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNumber = 0;
  let atStart = true;
  for await (const chunk of source as AsyncIterable<string | Uint8Array>) {
    pending +=
      typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    // A byte-order mark (editors on Windows write one) opens the file, not the first memory.
    if (atStart && pending !== '') {
      atStart = false;
      if (pending.startsWith('\uFEFF')) pending = pending.slice(1);
    }
    let start = 0;
    for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n', start)) {
      const line = pending.slice(start, newline).replace(/\r$/, '');
      start = newline + 1;
      lineNumber += 1;
      if (line.trim() !== '') yield { line, lineNumber };
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending.trim() !== '') yield { line: pending.replace(/\r$/, ''), lineNumber: lineNumber + 1 };
}

function cleanScope(scope: { [field in keyof Scope]?: string | undefined }): Scope {
  return Object.fromEntries(Object.entries(scope).filter(([, value]) => value !== undefined)) as Scope;
}
