/**
 * The failures only the local store knows (a file it cannot open, SQLite's result codes), as
 * `StoreError`s that say what to do; the kernel maps every other failure.
 *
 * @module
 */

import { StoreError, type StoreOperation } from '../../core/errors.js';
import { isBusy } from './connection.js';
import { CannotOpen } from './schema.js';

const storeName = 'local';

/** The `StoreError` of a SQLite failure on the file at `path`, else `undefined`. */
export function sqliteError(error: unknown, operation: StoreOperation, path: string): StoreError | undefined {
  if (error instanceof CannotOpen) {
    return new StoreError(error.message, { store: storeName, operation: 'open', retryable: false, cause: error });
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE')) return undefined;
  if (isBusy(error)) {
    return new StoreError(
      `The local store's ${operation} waited too long for ${path}, which another process kept locked; try again, or raise busyTimeoutMs.`,
      { store: storeName, operation, retryable: true, cause: error },
    );
  }
  const hint =
    code === 'SQLITE_NOTADB'
      ? ' The file is not a SQLite database; point localStore({ path }) at another file.'
      : code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM')
        ? ' Check that the folder exists or can be created, and that this process may write to it.'
        : code.startsWith('SQLITE_CORRUPT')
          ? ' The file is damaged; restore it from an export or a copy.'
          : '';
  return new StoreError(`The local store's ${operation} failed on ${path || 'its file'} (${code}).${hint}`, {
    store: storeName,
    operation,
    retryable: /^SQLITE_(IOERR|FULL|PROTOCOL|NOMEM|INTERRUPT)/.test(code),
    cause: error,
  });
}
