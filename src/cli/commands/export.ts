/**
 * `with-memory export`: every memory (or a scope's) as JSONL, one memory per line, to stdout or
 * to a file. `with-memory import` reads it back.
 *
 * @module
 */

import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CliError, exitCodes } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { type DatabaseFlags, withStore } from '../open-store.js';
import { countOf, createOutput } from '../output.js';
import { addScopeFlags, hasScopeFlags, type ScopeFlags, scopeFromFlags } from '../scope-flags.js';

interface ExportFlags extends ScopeFlags, DatabaseFlags {
  out?: string;
  json?: boolean;
}

/** Registers `export`. */
export function registerExportCommand(program: Command, io: CliIo): void {
  addScopeFlags(
    program
      .command('export')
      .description("write every memory (or only a scope's, with scope flags) as JSONL, to stdout or --out"),
  )
    .option('-o, --out <file>', 'write to this file instead of stdout (replaced when the export is complete)')
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ExportFlags>();
      const scope = hasScopeFlags(flags) ? scopeFromFlags(flags) : undefined;
      const output = createOutput(io, { json: flags.json === true });
      await withStore(flags, { create: false }, async (store) => {
        const lines = store.export(scope === undefined ? {} : { scope });
        if (flags.out === undefined) {
          await exportToStdout(lines, io);
          return;
        }
        const path = resolve(flags.out);
        const exported = await exportToFile(lines, path, flags.out);
        output.result({ exported, path }, () => `Exported ${countOf(exported, 'memory', 'memories')} to ${flags.out}.`);
      });
    });
}

async function exportToStdout(lines: Readable, io: CliIo): Promise<void> {
  try {
    await pipeline(lines, io.stdout, { end: false });
  } catch (error) {
    // The reader went away (`with-memory export | head`): what it read was all it wanted.
    if ((error as { code?: unknown }).code === 'EPIPE') return;
    throw error;
  }
}

/**
 * Writes beside the target and renames at the end, so that a failed export never leaves a cut
 * file where a complete one was expected.
 */
async function exportToFile(lines: Readable, path: string, shownPath: string): Promise<number> {
  const partial = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  let count = 0;
  async function* counted(source: AsyncIterable<string>): AsyncGenerator<string> {
    for await (const line of source) {
      count += 1;
      yield line;
    }
  }
  try {
    await pipeline(lines, counted, createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') {
      throw new CliError(`cannot write ${shownPath}: its folder does not exist`, exitCodes.usage);
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EISDIR' || code === 'EROFS') {
      throw new CliError(`cannot write ${shownPath} (${code}); choose another --out`, exitCodes.usage);
    }
    throw error;
  }
  return count;
}
