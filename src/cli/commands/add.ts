/**
 * `with-memory add <text>`: stores one memory in a scope. A text the scope already holds (or
 * nearly) updates that memory instead, as every write does.
 *
 * @module
 */

import type { Command } from 'commander';
import type { FactInput, MemoryChange } from '../../core/types.js';
import { CliError, exitCodes } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { type DatabaseFlags, withStore } from '../open-store.js';
import { jsonObject } from '../option-values.js';
import { createOutput } from '../output.js';
import { addScopeFlags, type ScopeFlags, scopeFromFlags } from '../scope-flags.js';

interface AddFlags extends ScopeFlags, DatabaseFlags {
  type?: string;
  metadata?: Record<string, unknown>;
  json?: boolean;
}

/** Registers `add`. */
export function registerAddCommand(program: Command, io: CliIo): void {
  addScopeFlags(
    program.command('add').description('remember a text for a scope').argument('<text>', 'the memory, in quotes'),
  )
    .option('--type <type>', 'its type: preference, profile, fact, task, event, summary, or your own')
    .option('--metadata <json>', 'data to keep beside it, as a JSON object', jsonObject)
    .action(async (text: string, _options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<AddFlags>();
      const scope = scopeFromFlags(flags);
      if (text.trim() === '') throw new CliError('the text is empty; pass the memory in quotes', exitCodes.usage);
      if (flags.type?.trim() === '')
        throw new CliError('the --type is empty; pass a type such as fact', exitCodes.usage);
      const output = createOutput(io, { json: flags.json === true });
      const fact: FactInput = { text };
      if (flags.type !== undefined) fact.type = flags.type.trim();
      if (flags.metadata !== undefined) fact.metadata = flags.metadata;
      const changes = await withStore(flags, { create: true }, (store) =>
        store.add({ facts: [fact] }, { scope, reason: 'with-memory add' }),
      );
      const change: MemoryChange = changes[0] ?? { event: 'NONE' };
      output.result(change, () => describeChange(change));
    });
}

function describeChange(change: MemoryChange): string {
  const id = change.id ?? '(no id)';
  switch (change.event) {
    case 'ADD':
      return `Added ${id}.`;
    case 'UPDATE':
      return `Updated ${id}, which said nearly the same.`;
    case 'NONE':
      return `Already remembered as ${id}; nothing changed.`;
    default:
      return `${change.event} ${id}`;
  }
}
