/**
 * `with-memory history <id>`: every change of one memory, oldest first, with who made it.
 *
 * @module
 */

import type { Command } from 'commander';
import type { LocalHistoryEntry } from '../../stores/local/index.js';
import { CliError, exitCodes } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { type DatabaseFlags, withStore } from '../open-store.js';
import { createOutput, formatDate, renderTable } from '../output.js';

interface HistoryFlags extends DatabaseFlags {
  json?: boolean;
}

/** Registers `history`. */
export function registerHistoryCommand(program: Command, io: CliIo): void {
  program
    .command('history')
    .description('show every change of one memory, oldest first')
    .argument('<id>', 'the id of the memory')
    .action(async (id: string, _options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<HistoryFlags>();
      const output = createOutput(io, { json: flags.json === true });
      const entries = await withStore(flags, { create: false }, (store) => store.history(id));
      if (entries.length === 0) {
        throw new CliError(
          `no memory with id ${id} has a history; \`with-memory list\` shows the ids`,
          exitCodes.failure,
        );
      }
      output.result(entries, () => renderHistory(entries, output.width));
    });
}

function renderHistory(entries: LocalHistoryEntry[], width: number | undefined): string {
  const rows = entries.map((entry) => [
    formatDate(entry.createdAt),
    entry.event,
    entry.actor ?? '-',
    entry.reason ?? '-',
    changeText(entry),
  ]);
  return renderTable(['DATE (UTC)', 'EVENT', 'BY', 'REASON', 'TEXT'], rows, width);
}

function changeText(entry: LocalHistoryEntry): string {
  switch (entry.event) {
    case 'ADD':
      return entry.newText ?? '(erased)';
    case 'UPDATE':
      return `${entry.oldText ?? '(erased)'} -> ${entry.newText ?? '(erased)'}`;
    default:
      return entry.oldText ?? '(erased)';
  }
}
