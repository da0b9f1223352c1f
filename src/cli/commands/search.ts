/**
 * `with-memory search <query>`: the memories of a scope that best match a query, as the
 * pipeline would find them before a call.
 *
 * @module
 */

import type { Command } from 'commander';
import type { SearchOptions } from '../../core/types.js';
import type { CliIo } from '../cli-io.js';
import { type DatabaseFlags, withStore } from '../open-store.js';
import { collectTypes, scoreValue, wholeNumber } from '../option-values.js';
import { createOutput, memoryJson, renderMemories } from '../output.js';
import { addScopeFlags, describeScope, type ScopeFlags, scopeFromFlags } from '../scope-flags.js';

interface SearchFlags extends ScopeFlags, DatabaseFlags {
  type?: string[];
  limit: number;
  threshold?: number;
  json?: boolean;
}

/** Registers `search`. */
export function registerSearchCommand(program: Command, io: CliIo): void {
  addScopeFlags(
    program
      .command('search')
      .description('search the memories of a scope, best match first')
      .argument('<query>', 'what to look for, in words'),
  )
    .option('--type <type>', 'only memories of this type (repeat, or separate types with commas)', collectTypes)
    .option('--limit <n>', 'show at most this many', wholeNumber(1), 8)
    .option('--threshold <score>', 'the lowest score (0 to 1) a match may have', scoreValue)
    .action(async (query: string, _options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<SearchFlags>();
      const scope = scopeFromFlags(flags);
      const output = createOutput(io, { json: flags.json === true });
      const options: SearchOptions = { scope, limit: flags.limit };
      if (flags.type !== undefined) options.types = flags.type;
      if (flags.threshold !== undefined) options.threshold = flags.threshold;
      const hits = await withStore(flags, { create: false }, (store) => store.search(query, options));
      if (hits.length === 0 && !output.json) {
        output.note(`No memories of ${describeScope(scope)} match.`);
        return;
      }
      output.result(hits.map(memoryJson), () => renderMemories(hits, output.width));
    });
}
