/**
 * How the command prints: JSON with `--json`, compact tables and lines otherwise. Results go to
 * stdout; notes for the person at the terminal go to stderr and never hold memory text.
 *
 * @module
 */

import type { Memory, MemoryHit, Metadata } from '../core/types.js';
import { memoryToJson } from '../stores/kernel/jsonl.js';
import type { CliIo } from './cli-io.js';
import { describeScope } from './scope-flags.js';

/** Adds `--json` to a command. */
export const jsonFlag = ['--json', 'print JSON for programs instead of text'] as const;

/** The printer of one command run. */
export interface Output {
  /** True with `--json`. */
  readonly json: boolean;
  /** Prints the result: `value` as JSON with `--json`, else what `renderText` returns (if anything). */
  result(value: unknown, renderText: () => string): void;
  /** A note on stderr, such as "No memories found." Never pass memory text. */
  note(message: string): void;
  /** The width the text may take on stdout; `undefined` when stdout is not a terminal. */
  readonly width: number | undefined;
}

/** The printer for a run, in JSON or text. */
export function createOutput(io: CliIo, { json }: { json: boolean }): Output {
  return {
    json,
    width: io.stdout.isTTY ? Math.max(io.stdout.columns || 80, 40) : undefined,
    result(value, renderText) {
      if (json) {
        io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
        return;
      }
      const text = renderText();
      if (text !== '') io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    note(message) {
      io.stderr.write(`${message}\n`);
    },
  };
}

// Line breaks would break a table; escape sequences and direction overrides in a memory would
// act on the user's terminal. The JSON output keeps the text exactly as stored.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const unprintable = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** A text made safe to show on one line of a terminal. */
export function displayText(text: string): string {
  return text.replace(unprintable, ' ');
}

/** A date as `YYYY-MM-DD HH:MM`, in UTC. */
export function formatDate(date: Date): string {
  return date.toISOString().slice(0, 16).replace('T', ' ');
}

/** `1 memory`, `3 memories`. */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/**
 * A table with a header row, columns padded to their widest cell. When `width` is given, the
 * last column is cut to fit it (with an ellipsis).
 */
export function renderTable(headers: string[], rows: string[][], width?: number): string {
  const all = [headers, ...rows].map((row) => row.map(displayText));
  const widths = headers.map((_, column) => Math.max(...all.map((row) => row[column]?.length ?? 0)));
  const lines = all.map((row) => {
    const padded = row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)));
    const line = padded.join('  ');
    return width !== undefined && line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
  });
  return lines.map((line) => line.trimEnd()).join('\n');
}

/**
 * A memory for `--json`, its fields in the order of the export format (and the score last), so
 * that a listing reads the same whatever the store filled in first.
 */
export function memoryJson(memory: Memory | MemoryHit): Record<string, unknown> {
  return 'score' in memory ? { ...memoryToJson(memory), score: memory.score } : memoryToJson(memory);
}

/**
 * Memories (or search hits, with their score) as a table: id, type, scope (so a user's own memory
 * and an agent's read apart), last update, metadata (cut short), text.
 */
export function renderMemories(memories: Array<Memory | MemoryHit>, width?: number): string {
  const scored = memories.some((memory) => 'score' in memory);
  const headers = [...(scored ? ['SCORE'] : []), 'ID', 'TYPE', 'SCOPE', 'UPDATED (UTC)', 'METADATA', 'TEXT'];
  const rows = memories.map((memory) => [
    ...(scored ? [('score' in memory ? memory.score : 0).toFixed(2)] : []),
    memory.id,
    memory.type ?? '-',
    describeScope(memory.scope),
    formatDate(memory.updatedAt),
    metadataLabel(memory.metadata),
    memory.text,
  ]);
  return renderTable(headers, rows, width);
}

// Metadata shares the line with the text: long metadata is cut so the text stays in view; the
// full value is in --json and the inspector.
const metadataWidth = 40;

function metadataLabel(metadata: Metadata): string {
  if (Object.keys(metadata).length === 0) return '-';
  const json = JSON.stringify(metadata);
  return json.length > metadataWidth ? `${json.slice(0, metadataWidth - 1)}…` : json;
}
