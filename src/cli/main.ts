/**
 * The `with-memory` command: its program definition, and `runCli`, which runs it on arguments and
 * returns the exit code instead of ending the process.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { MemoryError, StoreError } from '../core/errors.js';
import { CliError, exitCodes } from './cli-error.js';
import { type CliIo, processIo } from './cli-io.js';
import { registerAddCommand } from './commands/add.js';
import { registerExportCommand } from './commands/export.js';
import { registerForgetCommand } from './commands/forget.js';
import { registerHistoryCommand } from './commands/history.js';
import { registerImportCommand } from './commands/import.js';
import { registerInspectCommand } from './commands/inspect.js';
import { registerListCommand } from './commands/list.js';
import { registerMcpCommand } from './commands/mcp.js';
import { registerSearchCommand } from './commands/search.js';
import { registerStatsCommand } from './commands/stats.js';
import { dbFlag } from './open-store.js';
import { jsonFlag } from './output.js';

const programName = 'with-memory';

/** The `with-memory` program, writing to `io`; it throws instead of exiting. */
export function createProgram(io: CliIo): Command {
  const program = new Command(programName)
    .description(
      'Inspect and manage the memories of a with-memory store: a SQLite file, or PostgreSQL with --db postgres://…',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(usageLine(programName, text)),
    })
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    // Global, so that they may come before or after the command's name.
    .option(...dbFlag)
    .option(...jsonFlag)
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 1 failed (e.g. no memory with that id), 2 bad usage or input.
Run \`${programName} <command> --help\` for a command's options.`,
    );
  const version = packageVersion();
  if (version !== undefined) program.version(version, '-V, --version', 'print the version');

  registerListCommand(program, io);
  registerSearchCommand(program, io);
  registerAddCommand(program, io);
  registerForgetCommand(program, io);
  registerHistoryCommand(program, io);
  registerExportCommand(program, io);
  registerImportCommand(program, io);
  registerStatsCommand(program, io);
  registerInspectCommand(program, io);
  registerMcpCommand(program, io, version ?? '0.0.0');

  for (const command of program.commands) {
    const name = `${programName} ${command.name()}`;
    command.configureOutput({ outputError: (text, write) => write(usageLine(name, text)) });
  }
  return program;
}

/**
 * Runs the command on `argv` (the arguments after the program name) and resolves with its exit
 * code: 0 done, 1 failed, 2 bad usage or input. Expected failures are printed as one line on
 * stderr, without a stack trace.
 *
 * @example
 * process.exitCode = await runCli(['list', '--user', 'user_42']);
 */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = createProgram(io);
  let commandName = programName;
  program.hook('preAction', (_, actionCommand) => {
    commandName = `${programName} ${actionCommand.name()}`;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the message (or the help) already.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    const { message, exitCode } = describeFailure(error);
    io.stderr.write(`${commandName}: ${message}\n`);
    return exitCode;
  }
}

function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (StoreError.isInstance(error)) {
    // The store speaks to library users; here the file is chosen with --db.
    let message = error.message.replace(/localStore\(\{ path \}\)/g, '--db');
    // The command has no other way to show the cause (file-system errors, mostly).
    if (message.endsWith('see the cause.') && error.cause instanceof Error) {
      message = message.replace(/see the cause\.$/, `the cause: ${error.cause.message}`);
    }
    return { message, exitCode: isWrongFile(error) ? exitCodes.usage : exitCodes.failure };
  }
  if (MemoryError.isInstance(error)) return { message: error.message, exitCode: exitCodes.failure };
  // A bug, not an expected failure: still one line, with a way to see more.
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (process.env.WITH_MEMORY_DEBUG) console.error(error);
  return {
    message: `unexpected error (${detail}); set WITH_MEMORY_DEBUG=1 to see the stack trace`,
    exitCode: exitCodes.failure,
  };
}

/**
 * True when the file `--db` names cannot be opened as a store, and trying again will not help (not
 * a with-memory database, a newer schema, no permission): the user must pick another file.
 */
function isWrongFile(error: StoreError): boolean {
  return error.operation === 'open' && !error.retryable;
}

/** A commander error message as one line: `with-memory list: unknown option '--x'; see …`. */
function usageLine(command: string, text: string): string {
  const problem = text
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()
    .replace(/\.$/, '');
  return `${command}: ${problem}; see \`${command} --help\`\n`;
}

function packageVersion(): string | undefined {
  // src/cli/main.ts and the built dist/cli/index.js are both two folders below package.json.
  try {
    const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
    const manifest = JSON.parse(readFileSync(join(dirname(here), '..', '..', 'package.json'), 'utf8'));
    return typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}
