/**
 * What `postgresStore` needs of a database connection, and running work in one transaction on it,
 * whether it is a node-postgres `Pool`, a single `Client`, or PGlite.
 *
 * @module
 */

/** Runs one parameterised statement. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * A connection to PostgreSQL: anything with `query(text, values) -> { rows }`. A node-postgres
 * `Pool` (each transaction on a client of its own, from `connect()`), a node-postgres `Client`
 * (one connection: the store runs one operation at a time on it), or a PGlite instance (its
 * `transaction()`).
 */
export interface PostgresPool extends Queryable {
  /** A pool's `connect()`, which lends a client (a `Client`'s connects itself, and is not called). */
  connect?(): Promise<unknown>;
  transaction?<T>(work: (transaction: Queryable) => Promise<T>): Promise<T>;
}

/** A client lent by a pool's `connect()`. */
interface PooledClient extends Queryable {
  release(error?: Error | boolean): void;
}

/** A node-postgres `Pool`, told from a `Client` (which has `connect()` too) by its client counts. */
function isPool(pool: PostgresPool): pool is PostgresPool & { connect(): Promise<unknown> } {
  return typeof pool.connect === 'function' && typeof (pool as { totalCount?: unknown }).totalCount === 'number';
}

/** Runs statements and transactions on a pool, one way whatever the pool is. */
export interface Database {
  query<Row>(text: string, values?: unknown[]): Promise<Row[]>;
  /**
   * Runs `work` in one transaction: all of it is committed, or none of it. A lock it waits for
   * longer than `lockTimeoutMs` fails it (SQLSTATE 55P03); unless `mayIdle`, the server also ends
   * it when it sits idle that long (its process paused or stuck), so its locks never block others.
   */
  transaction<T>(work: (transaction: Transaction) => Promise<T>, options?: { mayIdle?: boolean }): Promise<T>;
}

/** How the store's transactions are bounded. */
export interface TransactionLimits {
  /** How long a transaction waits for a lock, and may sit idle, in milliseconds. */
  lockTimeoutMs: number;
}

/** Statements inside a transaction. */
export interface Transaction {
  query<Row>(text: string, values?: unknown[]): Promise<Row[]>;
}

/** Wraps the user's pool. */
export function database(pool: PostgresPool, { lockTimeoutMs }: TransactionLimits): Database {
  const rowsOf = async <Row>(target: Queryable, text: string, values: unknown[] = []): Promise<Row[]> =>
    (await target.query(text, values)).rows as Row[];
  // Local to the transaction: the caller's other uses of the connection keep their own settings.
  const bound = (target: Queryable, mayIdle = false) =>
    target.query(
      `SELECT set_config('lock_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $2, true)`,
      [`${lockTimeoutMs}ms`, mayIdle ? '0' : `${lockTimeoutMs}ms`],
    );

  if (isPool(pool)) {
    const connect = async () => (await pool.connect()) as PooledClient;
    return {
      query: (text, values) => rowsOf(pool, text, values),
      async transaction(work, options) {
        const client = await connect();
        try {
          await client.query('BEGIN');
          await bound(client, options?.mayIdle);
          const result = await work({ query: (text, values) => rowsOf(client, text, values) });
          await client.query('COMMIT');
          client.release();
          return result;
        } catch (error) {
          // A client whose rollback fails is broken: released with the error, the pool drops it.
          await client.query('ROLLBACK').then(
            () => client.release(),
            () => client.release(true),
          );
          throw error;
        }
      },
    };
  }
  if (typeof pool.transaction === 'function') {
    const transaction = pool.transaction.bind(pool);
    return {
      query: (text, values) => rowsOf(pool, text, values),
      transaction: (work, options) =>
        transaction(async (inner) => {
          await bound(inner, options?.mayIdle);
          return work({ query: (text, values) => rowsOf(inner, text, values) });
        }),
    };
  }
  // One connection: a statement of another operation sent between BEGIN and COMMIT would join
  // the transaction, so operations take turns.
  let queue: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    query: (text, values) => inTurn(() => rowsOf(pool, text, values)),
    transaction: (work, options) =>
      inTurn(async () => {
        await pool.query('BEGIN');
        try {
          await bound(pool, options?.mayIdle);
          const result = await work({ query: (text, values) => rowsOf(pool, text, values) });
          await pool.query('COMMIT');
          return result;
        } catch (error) {
          await pool.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
  };
}
