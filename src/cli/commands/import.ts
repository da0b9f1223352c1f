/**
 * `with-memory import <file>`: reads JSONL written by `export` and stores each memory under its
 * own id and scope, keeping its dates. The file is checked first: a malformed line stops the
 * import before anything is written, naming the line.
 *
 * @module
 */

import { createReadStream, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { ImportResult } from '../../stores/local/index.js';
import { ImportLineError, parseJsonLine, readLines } from '../../stores/local/jsonl.js';
import { CliError, exitCodes } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { importProgress } from '../import-progress.js';
import { type DatabaseFlags, withStore } from '../open-store.js';
import { countOf, createOutput } from '../output.js';

interface ImportFlags extends DatabaseFlags {
  json?: boolean;
}

/** Registers `import`. */
export function registerImportCommand(program: Command, io: CliIo): void {
  program
    .command('import')
    .description('read memories from a JSONL file written by export; an id already stored is updated')
    .argument('<file>', 'the JSONL file')
    .action(async (file: string, _options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ImportFlags>();
      const output = createOutput(io, { json: flags.json === true });
      checkReadable(file);
      const total = await checkLines(file);
      const result = await withStore(flags, { create: true }, async (store) => {
        const progress = importProgress(io, total);
        try {
          return await store.import(numberedLines(file, () => progress.tick()));
        } finally {
          progress.stop();
        }
      });
      output.result(result, () => describeImport(result));
    });
}

function checkReadable(file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') throw new CliError(`no file at ${file}; check the path`, exitCodes.usage);
    throw new CliError(`cannot read ${file} (${String(code)})`, exitCodes.usage);
  }
  if (!isFile)
    throw new CliError(`${file} is not a file; pass a JSONL file written by with-memory export`, exitCodes.usage);
}

/** Reads the whole file once, checking every line; returns how many memories it holds. */
async function checkLines(file: string): Promise<number> {
  let count = 0;
  try {
    for await (const { line, lineNumber } of readLines(createReadStream(file))) {
      parseJsonLine(line, lineNumber);
      count += 1;
    }
  } catch (error) {
    if (error instanceof ImportLineError) {
      // The message names the line and the field, never the line's content.
      const problem = error.message.replace(/^Line/, 'line').replace(/\.$/, '');
      throw new CliError(`${file}: ${problem}; nothing was imported, fix that line and try again`, exitCodes.usage);
    }
    const code = (error as { code?: unknown }).code;
    throw new CliError(`cannot read ${file} (${String(code ?? 'read error')})`, exitCodes.usage);
  }
  return count;
}

/**
 * The file's lines for the store, one memory at a time so that the bar can count them. Blank lines
 * are given back too, so a line number in an error still matches the file.
 */
async function* numberedLines(file: string, onLine: () => void): AsyncGenerator<string> {
  let previous = 0;
  for await (const { line, lineNumber } of readLines(createReadStream(file))) {
    yield `${'\n'.repeat(lineNumber - previous - 1)}${line}\n`;
    previous = lineNumber;
    onLine();
  }
}

function describeImport(result: ImportResult): string {
  const total = result.added + result.updated + result.unchanged;
  return `Imported ${countOf(total, 'memory', 'memories')}: ${result.added} added, ${result.updated} updated, ${result.unchanged} unchanged.`;
}
