/**
 * `with-memory list`: the memories of a scope, newest first.
 *
 * @module
 */

import type { Command } from 'commander';
import type { Memory } from '../../core/types.js';
import type { CliIo } from '../cli-io.js';
import { type DatabaseFlags, withStore } from '../open-store.js';
import { collectTypes, wholeNumber } from '../option-values.js';
import { createOutput, memoryJson, renderMemories } from '../output.js';
import { addScopeFlags, describeScope, type ScopeFlags, scopeFromFlags } from '../scope-flags.js';

interface ListFlags extends ScopeFlags, DatabaseFlags {
  type?: string[];
  limit: number;
  offset: number;
  json?: boolean;
}

// The store returns at most this many per call; a longer list is read page by page.
const pageSize = 1000;

/** Registers `list`. */
export function registerListCommand(program: Command, io: CliIo): void {
  addScopeFlags(program.command('list').description('list the memories of a scope, most recently updated first'))
    .option('--type <type>', 'only memories of this type (repeat, or separate types with commas)', collectTypes)
    .option('--limit <n>', 'show at most this many', wholeNumber(1), 100)
    .option('--offset <n>', 'skip this many first', wholeNumber(0), 0)
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ListFlags>();
      const scope = scopeFromFlags(flags);
      const output = createOutput(io, { json: flags.json === true });
      const memories = await withStore(flags, { create: false }, async (store) => {
        const found: Memory[] = [];
        while (found.length < flags.limit) {
          const limit = Math.min(pageSize, flags.limit - found.length);
          const page = await store.list({
            scope,
            limit,
            offset: flags.offset + found.length,
            ...(flags.type === undefined ? {} : { types: flags.type }),
          });
          found.push(...page);
          if (page.length < limit) break;
        }
        return found;
      });
      if (memories.length === 0 && !output.json) {
        output.note(`No memories of ${describeScope(scope)}.`);
        return;
      }
      output.result(memories.map(memoryJson), () => renderMemories(memories, output.width));
    });
}
