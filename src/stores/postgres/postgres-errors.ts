/**
 * The failures only the PostgreSQL store knows (a newer schema, SQLSTATEs, an unreachable server)
 * as `StoreError`s that say what to do; the kernel maps every other failure.
 *
 * @module
 */

import { StoreError, type StoreOperation } from '../../core/errors.js';
import { NewerSchema } from './schema.js';

const storeName = 'postgres';

// SQLSTATE classes where trying again may help: connection trouble, a serialisation failure or
// deadlock, too many connections or out of resources, the server shutting down.
const retryableStates = /^(08|40|53|57P|55P03)/;

/** The `StoreError` of a PostgreSQL failure, else `undefined`. */
export function postgresError(error: unknown, operation: StoreOperation): StoreError | undefined {
  const as = (message: string, retryable: boolean) =>
    new StoreError(message, { store: storeName, operation, retryable, cause: error });
  if (error instanceof NewerSchema)
    return new StoreError(error.message, { store: storeName, operation: 'open', retryable: false, cause: error });
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '55P03') {
    return as(
      `The PostgreSQL store's ${operation} waited longer than lockTimeoutMs for a lock another writer holds (a process paused or stuck mid-write?); it was not applied, try again.`,
      true,
    );
  }
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return as(
      `The PostgreSQL store's ${operation} failed (SQLSTATE ${code}${error instanceof Error ? `: ${error.message}` : ''}).`,
      retryableStates.test(code),
    );
  }
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return as(
      `The PostgreSQL store could not reach the server (${code}); check that it runs and the connection settings.`,
      true,
    );
  }
  return undefined;
}
