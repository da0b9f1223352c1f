/**
 * Opens the store a command works on (`--db`, else `WITH_MEMORY_DB`, else
 * `.with-memory/memory.db`) and closes it when the command is done. A `postgres://` URL opens the
 * PostgreSQL store instead of a SQLite file (node-postgres is loaded only then).
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { InvalidOptionsError } from '../core/errors.js';
import { type LocalStore, localStore } from '../stores/local/index.js';
import type { PostgresStore } from '../stores/postgres/index.js';
import { CliError, exitCodes } from './cli-error.js';

/** The options every command that touches the database has. */
export interface DatabaseFlags {
  db?: string;
}

/** A store the commands work on: both have history, export and import. */
export type CliStore = LocalStore | PostgresStore;

/** Adds `--db <path>` to a command. */
export const dbFlag = [
  '--db <path|url>',
  'the SQLite file, or a postgres:// URL (?schema=name picks the schema) (default: $WITH_MEMORY_DB, else .with-memory/memory.db)',
] as const;

const postgresUrl = /^postgres(?:ql)?:\/\//;

/**
 * Runs `work` with the store of `--db` and where it lives, for people (the file's path, or the
 * server, database and schema, never a password), closing it afterwards. Unless `create` is set, a database
 * file that does not exist is an error (exit code 2) instead of a new, empty file: a mistyped
 * path must not look like an empty store.
 */
export async function withStore<T>(
  flags: DatabaseFlags,
  { create }: { create: boolean },
  work: (store: CliStore, location: string) => Promise<T>,
): Promise<T> {
  const location = flags.db ?? process.env.WITH_MEMORY_DB?.trim();
  if (location !== undefined && postgresUrl.test(location)) return withPostgresStore(location, work);
  let store: LocalStore;
  try {
    // The history records changes made here as made by `cli`.
    store = localStore(flags.db === undefined ? { actor: 'cli' } : { path: flags.db, actor: 'cli' });
  } catch (error) {
    if (InvalidOptionsError.isInstance(error) && error.path === 'path') {
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
    return await work(store, store.path);
  } finally {
    await store.close();
  }
}

async function withPostgresStore<T>(url: string, work: (store: CliStore, location: string) => Promise<T>): Promise<T> {
  let connection: URL;
  try {
    connection = new URL(url);
  } catch {
    throw new CliError('invalid --db: expected a file path or a postgres://user@host/database URL', exitCodes.usage);
  }
  const schema = connection.searchParams.get('schema') ?? undefined;
  connection.searchParams.delete('schema');
  const { postgresStore } = await import('../stores/postgres/index.js');
  const pg = await import('pg').catch(() => {
    throw new CliError('a postgres:// --db needs the pg package: npm install pg', exitCodes.usage);
  });
  const pool = new pg.default.Pool({ connectionString: connection.href, max: 2 });
  try {
    let store: PostgresStore;
    try {
      store = postgresStore({ pool, actor: 'cli', ...(schema === undefined ? {} : { schema }) });
    } catch (error) {
      if (InvalidOptionsError.isInstance(error))
        throw new CliError(`invalid --db schema: expected ${error.expected}`, exitCodes.usage);
      throw error;
    }
    try {
      return await work(
        store,
        `${connection.protocol}//${connection.host}${connection.pathname} (schema ${store.schema})`,
      );
    } finally {
      await store.close();
    }
  } finally {
    await pool.end();
  }
}
