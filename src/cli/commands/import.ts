/**
 * `with-memory import <file>`: reads JSONL written by `export` (or by another tool: lines without
 * an id or dates get them, see `import-line-defaults.ts`) and stores each memory under its id and
 * scope, keeping its dates. The file is checked first: a malformed line stops the import before
 * anything is written, naming the line. `--dry-run` stops after that check.
 *
 * @module
 */

import { createReadStream, statSync } from 'node:fs';
import type { Command } from 'commander';
import { ImportLineError, parseJsonLine, readLines } from '../../stores/kernel/jsonl.js';
import type { ImportResult } from '../../stores/local/index.js';
import { CliError, exitCodes } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { completeLine } from '../import-line-defaults.js';
import { importProgress } from '../import-progress.js';
import { type DatabaseFlags, withStore } from '../open-store.js';
import { countOf, createOutput } from '../output.js';

interface ImportFlags extends DatabaseFlags {
  dryRun?: boolean;
  json?: boolean;
}

/** What the check of a file found. */
interface CheckedFile {
  /** Memories in the file. */
  memories: number;
  /** Memories whose line had no id, and get one derived from their content. */
  newIds: number;
}

/** Registers `import`. */
export function registerImportCommand(program: Command, io: CliIo): void {
  program
    .command('import')
    .description('read memories from JSONL (as export writes; id and dates optional); an id already stored is updated')
    .argument('<file>', 'the JSONL file')
    .option('--dry-run', 'check the file and say what it holds, without writing anything')
    .action(async (file: string, _options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ImportFlags>();
      const output = createOutput(io, { json: flags.json === true });
      // One time for the check and the write, so that both see the same lines.
      const importedAt = new Date();
      checkReadable(file);
      const checked = await checkLines(file, importedAt);
      if (flags.dryRun === true) {
        output.result({ dryRun: true, ...checked }, () => describeCheck(checked));
        return;
      }
      const result = await withStore(flags, { create: true }, async (store) => {
        const progress = importProgress(io, checked.memories);
        try {
          return await store.import(numberedLines(file, importedAt, () => progress.tick()));
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

/** Reads the whole file once, checking every line; says how many memories it holds. */
async function checkLines(file: string, importedAt: Date): Promise<CheckedFile> {
  const checked: CheckedFile = { memories: 0, newIds: 0 };
  try {
    for await (const { line, lineNumber } of readLines(createReadStream(file))) {
      const completed = completeLine(line, importedAt);
      parseJsonLine(completed.line, lineNumber);
      checked.memories += 1;
      if (completed.newId) checked.newIds += 1;
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
  return checked;
}

/**
 * The file's lines for the store, one memory at a time so that the bar can count them. Blank lines
 * are given back too, so a line number in an error still matches the file.
 */
async function* numberedLines(file: string, importedAt: Date, onLine: () => void): AsyncGenerator<string> {
  let previous = 0;
  for await (const { line, lineNumber } of readLines(createReadStream(file))) {
    yield `${'\n'.repeat(lineNumber - previous - 1)}${completeLine(line, importedAt).line}\n`;
    previous = lineNumber;
    onLine();
  }
}

function describeImport(result: ImportResult): string {
  const total = result.added + result.updated + result.unchanged;
  return `Imported ${countOf(total, 'memory', 'memories')}: ${result.added} added, ${result.updated} updated, ${result.unchanged} unchanged.`;
}

function describeCheck({ memories, newIds }: CheckedFile): string {
  const ids = newIds === 0 ? '' : ` (${countOf(newIds, 'line has', 'lines have')} no id and will get one)`;
  return `The file holds ${countOf(memories, 'memory', 'memories')}, every line valid${ids}. Nothing was written (--dry-run).`;
}
