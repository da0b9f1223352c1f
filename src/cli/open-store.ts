/**
 * Opens the local store a command works on (`--db`, else `WITH_MEMORY_DB`, else
 * `.with-memory/memory.db`) and closes it when the command is done.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { InvalidOptionsError } from '../core/errors.js';
import { type LocalStore, localStore } from '../stores/local/index.js';
import { CliError, exitCodes } from './cli-error.js';

/** The options every command that touches the database has. */
export interface DatabaseFlags {
  db?: string;
}

/** Adds `--db <path>` to a command. */
export const dbFlag = [
  '--db <path>',
  'the SQLite file (default: $WITH_MEMORY_DB, else .with-memory/memory.db)',
] as const;

/**
 * Runs `work` with the store of `--db`, closing it afterwards. Unless `create` is set, a database
 * file that does not exist is an error (exit code 2) instead of a new, empty file: a mistyped
 * path must not look like an empty store.
 */
export async function withStore<T>(
  flags: DatabaseFlags,
  { create }: { create: boolean },
  work: (store: LocalStore) => Promise<T>,
): Promise<T> {
  let store: LocalStore;
  try {
    // The history records changes made here as made by `cli`.
    store = localStore(flags.db === undefined ? { actor: 'cli' } : { path: flags.db, actor: 'cli' });
  } catch (error) {
    if (error instanceof InvalidOptionsError && error.path === 'path') {
      throw new CliError(`invalid --db: expected ${error.expected}`, exitCodes.usage);
    }
    throw error;
  }
  if (!create && store.path !== ':memory:' && !existsSync(store.path)) {
    throw new CliError(
      `no memory database at ${store.path}; pass --db <path> or set WITH_MEMORY_DB to the file to use`,
      exitCodes.usage,
    );
  }
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
