/**
 * Making an erase reach the bytes of the file. Secure delete zeroes deleted entries, but not the
 * copies of them that a page split or merge left in the unused space of pages still in use (the
 * scope indexes, FTS segments): the file is rewritten without them (VACUUM, about 0.5 s per 50 MB
 * of file), then the WAL is emptied.
 *
 * @module
 */

import { StoreError } from '../../core/errors.js';
import type { Connection } from './connection.js';

const eraseRetryMs = 1000;

/** The erases of one store, and the background retry of one whose WAL could not be emptied yet. */
export interface FileEraser {
  /** Rewrites the file without deleted entries, then empties the WAL. */
  eraseFromFile(connection: Connection, operation: 'delete' | 'deleteAll'): Promise<void>;
  /** Empties the WAL; rejects (retryable) when a reader holds it back, and finishes later. */
  emptyWal(connection: Connection, operation: 'delete' | 'deleteAll'): Promise<void>;
  /** Stops the background retry (on close). */
  stop(): void;
}

/** The eraser of the file at `path`. */
export function fileEraser(path: string, busyTimeoutMs: number): FileEraser {
  // An erase whose WAL could not be emptied yet: tried again every second until it is (never
  // keeping the process alive for it); closing the last connection to the file empties it too.
  let eraseRetry: ReturnType<typeof setInterval> | undefined;
  function finishEraseLater(connection: Connection): void {
    if (eraseRetry !== undefined) return;
    eraseRetry = setInterval(() => {
      connection.truncateWal(0).then(
        (done) => {
          if (done) {
            clearInterval(eraseRetry);
            eraseRetry = undefined;
          }
        },
        () => undefined,
      );
    }, eraseRetryMs);
    eraseRetry.unref();
  }

  /**
   * Empties the WAL, where old versions of the pages (with the erased text) stay until then; a
   * connection still reading an older state of the file holds that back: the erase is reported
   * unfinished, and finished in the background.
   */
  async function emptyWal(connection: Connection, operation: 'delete' | 'deleteAll'): Promise<void> {
    if (await connection.truncateWal(busyTimeoutMs)) return;
    finishEraseLater(connection);
    throw new StoreError(
      `The local store's ${operation} removed the memories, but another connection kept reading ${path}, so old copies of their pages stay in its WAL (${path}-wal) until that read ends; the store finishes the erase then (or call ${operation} again). Raise busyTimeoutMs to wait longer.`,
      { store: 'local', operation, retryable: true },
    );
  }

  return {
    async eraseFromFile(connection, operation) {
      await connection.vacuum();
      await emptyWal(connection, operation);
    },
    emptyWal,
    stop() {
      clearInterval(eraseRetry);
      eraseRetry = undefined;
    },
  };
}
