/**
 * The streams a run of the `with-memory` command reads and writes, so that tests can give it a
 * terminal of their own.
 *
 * @module
 */

/** A stream that may be a terminal. */
export interface TerminalStream {
  isTTY?: boolean;
  /** The terminal's width in characters, when it is one. */
  columns?: number;
}

/** Where a run of the command reads answers and writes its output. */
export interface CliIo {
  stdin: NodeJS.ReadableStream & TerminalStream;
  /** What the user asked for: memories, JSON, JSONL. Memory text is written here only. */
  stdout: NodeJS.WritableStream & TerminalStream;
  /** Errors, prompts, progress and notes; never memory text. */
  stderr: NodeJS.WritableStream & TerminalStream;
}

/** The process's own streams. */
export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}
