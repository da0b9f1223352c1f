/**
 * What `with-memory import` fills in for lines written by other tools, which carry a text and a
 * scope but no id or dates of ours.
 *
 * - No `id`: one is derived from the scope, type and text (a UUID-shaped SHA-256), so importing
 *   the same file twice updates those memories instead of storing them twice, and two identical
 *   lines are one memory.
 * - No `createdAt`: the `updatedAt` given, else the time of the import. No `updatedAt`: the
 *   `createdAt`. Dates that are given are kept.
 *
 * Everything else is checked as an exported line is (`parseJsonLine`).
 *
 * @module
 */

import { createHash } from 'node:crypto';

/** A line with the missing id and dates filled in, and whether it got an id. */
export interface CompletedLine {
  line: string;
  newId: boolean;
}

/** Fills in a line's missing id and dates; a line that is not a JSON object is returned as it is. */
export function completeLine(line: string, importedAt: Date): CompletedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { line, newId: false };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { line, newId: false };
  const memory = value as Record<string, unknown>;
  const newId = memory.id === undefined;
  if (!newId && memory.createdAt !== undefined && memory.updatedAt !== undefined) return { line, newId };
  const createdAt = memory.createdAt ?? memory.updatedAt ?? importedAt.toISOString();
  const completed = {
    ...(newId ? { id: derivedId(memory) } : {}),
    ...memory,
    createdAt,
    updatedAt: memory.updatedAt ?? createdAt,
  };
  return { line: JSON.stringify(completed), newId };
}

function derivedId({ scope, type, text }: Record<string, unknown>): string {
  const fields = (scope ?? {}) as Record<string, unknown>;
  const identity = JSON.stringify([
    fields.userId ?? null,
    fields.agentId ?? null,
    fields.runId ?? null,
    fields.appId ?? null,
    type ?? null,
    typeof text === 'string' ? text.trim() : text,
  ]);
  const hex = createHash('sha256').update(identity).digest('hex');
  // UUID version 8 (custom), RFC 9562 variant.
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
