/**
 * `with-memory forget <id>` deletes one memory, its text kept in the history (an audit trail);
 * `--erase` erases it completely, history words included. `with-memory forget --user <id>` (or any
 * scope) deletes every memory of the scope, with its index entries and the words of its history,
 * after asking, unless `--yes` is given.
 *
 * @module
 */

import type { Command } from 'commander';
import type { Scope } from '../../core/types.js';
import { CliError, exitCodes } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { confirm } from '../confirm.js';
import { type CliStore, type DatabaseFlags, withStore } from '../open-store.js';
import { countOf, createOutput, type Output } from '../output.js';
import { addScopeFlags, describeScope, hasScopeFlags, type ScopeFlags, scopeFromFlags } from '../scope-flags.js';

interface ForgetFlags extends ScopeFlags, DatabaseFlags {
  yes?: boolean;
  erase?: boolean;
  json?: boolean;
}

const countPageSize = 1000;

/** Registers `forget`. */
export function registerForgetCommand(program: Command, io: CliIo): void {
  addScopeFlags(
    program
      .command('forget')
      .description('delete one memory by its id, or every memory of a scope (--user <id>, --agent <id>, --run <id>)')
      .argument('[id]', 'the id of the memory to delete (its history keeps the text unless --erase)'),
  )
    .option('-y, --yes', 'delete a whole scope without asking')
    .option('--erase', 'with an id: erase the memory completely, the text in its history included')
    .action(async (id: string | undefined, _options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ForgetFlags>();
      const output = createOutput(io, { json: flags.json === true });
      if (id !== undefined) {
        if (hasScopeFlags(flags)) {
          throw new CliError('give a memory id or scope flags, not both', exitCodes.usage);
        }
        await forgetOne(id, flags, output);
        return;
      }
      if (!hasScopeFlags(flags)) {
        throw new CliError(
          'say what to forget: a memory id, or --user <id> (or --agent, --run) for all memories of a scope',
          exitCodes.usage,
        );
      }
      await forgetScope(scopeFromFlags(flags), flags, io, output);
    });
}

async function forgetOne(id: string, flags: ForgetFlags, output: Output): Promise<void> {
  const erase = flags.erase === true;
  const deleted = await withStore(flags, { create: false }, (store) =>
    store.delete(id, { reason: 'with-memory forget', erase }),
  );
  if (!deleted) {
    throw new CliError(`no memory with id ${id}; \`with-memory list\` shows the ids`, exitCodes.failure);
  }
  output.result({ deleted: 1, id, erased: erase }, () =>
    erase
      ? `Erased ${id}, with the text of its history.`
      : `Forgot ${id}. Its history keeps the text; \`with-memory forget ${id} --erase\` erases that too.`,
  );
}

async function forgetScope(scope: Scope, flags: ForgetFlags, io: CliIo, output: Output): Promise<void> {
  const described = describeScope(scope);
  const deleted = await withStore(flags, { create: false }, async (store) => {
    const count = await countMemories(store, scope);
    if (count > 0 && flags.yes !== true) {
      if (io.stdin.isTTY !== true) {
        throw new CliError(
          `refusing to forget ${countOf(count, 'memory', 'memories')} of ${described} without confirmation; pass --yes`,
          exitCodes.usage,
        );
      }
      const all = count === 1 ? 'the 1 memory' : `all ${count} memories`;
      if (!(await confirm(io, `Forget ${all} of ${described}?`))) {
        throw new CliError('cancelled; nothing was forgotten', exitCodes.failure);
      }
    }
    // Even with no memory left, this erases what deleted memories of the scope left in the history.
    return store.deleteAll(scope);
  });
  output.result({ deleted, scope }, () =>
    deleted === 0
      ? `No memories of ${described}; nothing to forget.`
      : `Forgot ${countOf(deleted, 'memory', 'memories')} of ${described}.`,
  );
}

async function countMemories(store: CliStore, scope: Scope): Promise<number> {
  let count = 0;
  for (;;) {
    const page = await store.list({ scope, limit: countPageSize, offset: count });
    count += page.length;
    if (page.length < countPageSize) return count;
  }
}
