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
  /** Runs `work` in one transaction: all of it is committed, or none of it. */
  transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T>;
}

/** Statements inside a transaction. */
export interface Transaction {
  query<Row>(text: string, values?: unknown[]): Promise<Row[]>;
}

/** Wraps the user's pool. */
export function database(pool: PostgresPool): Database {
  const rowsOf = async <Row>(target: Queryable, text: string, values: unknown[] = []): Promise<Row[]> =>
    (await target.query(text, values)).rows as Row[];

  if (isPool(pool)) {
    const connect = async () => (await pool.connect()) as PooledClient;
    return {
      query: (text, values) => rowsOf(pool, text, values),
      async transaction(work) {
        const client = await connect();
        try {
          await client.query('BEGIN');
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
      transaction: (work) => transaction((inner) => work({ query: (text, values) => rowsOf(inner, text, values) })),
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
    transaction: (work) =>
      inTurn(async () => {
        await pool.query('BEGIN');
        try {
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
