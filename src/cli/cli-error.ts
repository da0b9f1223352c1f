/**
 * The expected failures of the `with-memory` command and the exit code each one ends with.
 *
 * @module
 */

/** The exit codes of the `with-memory` command. */
export const exitCodes = {
  ok: 0,
  /** The command was well formed but failed, e.g. no memory has the id given. */
  failure: 1,
  /** Bad usage or input: unknown option, missing file, malformed JSONL line, no scope. */
  usage: 2,
} as const;

/** One of `exitCodes`. */
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/**
 * A failure the command expects: its message (one line: what is wrong, what to do) is printed
 * without a stack trace, and the process ends with `exitCode`. Messages never hold memory text.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
