/**
 * The SQLite connection of a local store: loads better-sqlite3 on first use, opens (and creates)
 * the file, applies the pragmas, migrates, and runs every read and write so that another process
 * holding the file never surfaces as `SQLITE_BUSY`.
 *
 * @module
 */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import { CannotOpen, checkCompatible, migrate } from './schema.js';

/** An open database with cached statements and contention-proof transactions. */
export interface Connection {
  readonly db: BetterSqlite3.Database;
  /** A prepared statement, prepared once per SQL text. */
  statement(sql: string): BetterSqlite3.Statement;
  /**
   * Runs `work` (synchronous, reads only) in one read transaction, trying again while another
   * process holds a lock.
   */
  read<T>(work: () => T): Promise<T>;
  /**
   * Runs `work` in a `BEGIN IMMEDIATE` transaction, trying again while another process writes.
   * Writes asked for in the same turn of the event loop (the adds of one turn, the writes of every
   * request a busy server answered in that turn) share one transaction, each in its own savepoint:
   * one that throws is undone alone, and they cost one commit.
   */
  write<T>(work: () => T): Promise<T>;
  /**
   * Copies the WAL into the database file and empties it, so no old page versions stay behind,
   * trying for up to `waitMs`. True when it could (another connection reading an older state of
   * the file holds frames back until its read ends).
   */
  truncateWal(waitMs: number): Promise<boolean>;
  /**
   * Rewrites the file with its live content only (VACUUM): the one way SQLite has to drop the
   * copies of deleted entries that moving cells between pages leaves in their unused space.
   */
  vacuum(): Promise<void>;
  close(): void;
}

/** How the connection behaves. */
export interface ConnectionSettings {
  /** How long to keep trying while another process holds the file, in milliseconds. */
  busyTimeoutMs: number;
  /** `normal` survives a crash of the process; `full` also survives a power cut. */
  synchronous: 'normal' | 'full';
}

// How long SQLite itself waits for a lock before handing control back: short, because that wait
// blocks the event loop; the async retry around it does the long waiting.
const blockingWaitMs = 100;
const maxCachedStatements = 500;

/**
 * better-sqlite3 without a native build for this Node: its install script did not run (npm 11
 * runs install scripts only once approved, pnpm before `pnpm approve-builds`, `--ignore-scripts`)
 * or it was built for another Node version.
 */
function isMissingNativeBuild(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /bindings file|better_sqlite3\.node|NODE_MODULE_VERSION|invalid ELF header/i.test(message);
}

function nativeBuildError(error: unknown): CannotOpen {
  const cause = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  return new CannotOpen(
    `better-sqlite3, which the local store needs, has no native build for this Node (${cause}): its install script did not run (npm 11 runs install scripts only once approved, pnpm only after \`pnpm approve-builds\`, or --ignore-scripts was given), or it was built for another Node version. Fix: \`npm rebuild better-sqlite3\` (with npm 11, \`npm install-scripts approve better-sqlite3\` first), or \`pnpm approve-builds\` then \`pnpm rebuild better-sqlite3\`; or pass another store.`,
    { cause: error },
  );
}

/** better-sqlite3's constructor, loaded on first use, with an error that says how to fix a missing build. */
async function loadDriver(): Promise<typeof BetterSqlite3> {
  // Loaded here, not at import, so that importing with-memory never loads the native module.
  const { default: Database } = await import('better-sqlite3').catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw nativeBuildError(error);
    throw new CannotOpen(
      `better-sqlite3, which the local store needs, is not installed (${(error as Error).message.split('\n')[0]}); run \`npm install better-sqlite3\`, or pass another store.`,
      { cause: error },
    );
  });
  return Database;
}

/** Opens the file (creating its folder), checks it is ours, applies the pragmas and migrates. */
async function openFile(
  Database: typeof BetterSqlite3,
  path: string,
  settings: ConnectionSettings,
): Promise<BetterSqlite3.Database> {
  const inMemory = path === ':memory:';
  if (!inMemory) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw new CannotOpen(
        `The folder of ${path} could not be created (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path and this process's permissions, or set localStore({ path }) or WITH_MEMORY_DB.`,
        { cause: error },
      );
    }
  }
  let db: BetterSqlite3.Database;
  try {
    db = new Database(path, { timeout: Math.min(blockingWaitMs, settings.busyTimeoutMs) });
  } catch (error) {
    // better-sqlite3 loads its native build here, not at import: a missing build fails here.
    throw isMissingNativeBuild(error) ? nativeBuildError(error) : error;
  }
  const retrying = <T>(work: () => T) => retryWhileBusy(work, settings.busyTimeoutMs);
  try {
    // Read-only checks first: a file this code cannot read must not be touched. One read
    // transaction, so that the version, the application id and the tables are read from one
    // state of the file: another process creating the schema in between read as "tables of
    // another program".
    await retrying(() => db.transaction(() => checkCompatible(db, path)).deferred());
    if (!inMemory) await retrying(() => db.pragma('journal_mode = WAL'));
    db.pragma(`synchronous = ${settings.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // Deleted content is overwritten with zeros, not left in free space: deletion really deletes.
    db.pragma('secure_delete = ON');
    db.pragma('temp_store = MEMORY');
    db.pragma('foreign_keys = OFF');
    await retrying(() => db.transaction(() => migrate(db, path)).immediate());
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Loads better-sqlite3, opens `path` (creating its folder), and brings its schema up to date. */
export async function openConnection(path: string, settings: ConnectionSettings): Promise<Connection> {
  const inMemory = path === ':memory:';
  const db = await openFile(await loadDriver(), path, settings);
  const retrying = <T>(work: () => T) => retryWhileBusy(work, settings.busyTimeoutMs);
  const statements = new Map<string, BetterSqlite3.Statement>();
  let queued: QueuedWrite[] | undefined;
  // One transaction function for every read and write: better-sqlite3 builds five wrappers for each
  // `db.transaction` call. Nested, it is a savepoint.
  const inTransaction = db.transaction((work: () => unknown) => work());

  // One transaction for every write queued since the last: each in a savepoint, so a write that
  // throws rolls back alone and rejects alone. Busy means the whole transaction is tried again.
  async function commitQueued(): Promise<void> {
    const writes = queued ?? [];
    queued = undefined;
    let outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
    try {
      outcomes = await retrying(() => {
        // A write alone needs no savepoint: its transaction is its own.
        const only = writes.length === 1 ? writes[0] : undefined;
        if (only) return [{ ok: true as const, value: inTransaction.immediate(only.work) }];
        return db
          .transaction(() =>
            writes.map(({ work }) => {
              try {
                return { ok: true as const, value: inTransaction(work) };
              } catch (error) {
                if (isBusy(error)) throw error;
                return { ok: false as const, error };
              }
            }),
          )
          .immediate();
      });
    } catch (error) {
      for (const write of writes) write.reject(error);
      return;
    }
    outcomes.forEach((outcome, index) => {
      const write = writes[index] as QueuedWrite;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }

  return {
    db,
    statement(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= maxCachedStatements) statements.clear();
        statement = db.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
    // In one read transaction: a consistent state of the file for all of a read's statements, and
    // one WAL read lock instead of one per statement (a point query costs 8 µs of CPU alone, 1 µs
    // in a transaction).
    read: <T>(work: () => T) => retrying(() => inTransaction.deferred(work) as T),
    write: <T>(work: () => T) =>
      new Promise<T>((resolve, reject) => {
        if (!queued) {
          queued = [];
          // At the end of this turn of the event loop: a commit costs more CPU than most writes
          // (WAL frames for every page touched), so the busier the process, the more writes
          // share one. A write alone waits only for the rest of this turn.
          setImmediate(() => void commitQueued());
        }
        queued.push({ work, resolve: resolve as (value: unknown) => void, reject });
      }),
    async truncateWal(waitMs) {
      if (inMemory) return true;
      const deadline = Date.now() + waitMs;
      for (;;) {
        const [result] = (await retrying(() => db.pragma('wal_checkpoint(TRUNCATE)'))) as Array<{ busy: number }>;
        if (result?.busy === 0) return true;
        if (Date.now() >= deadline) return false;
        await sleep(25);
      }
    },
    async vacuum() {
      await retrying(() => db.exec('VACUUM'));
    },
    close() {
      statements.clear();
      try {
        // Keeps the query planner's statistics current; cheap, and only when they are stale.
        db.pragma('optimize');
      } catch {
        // Another process writing must not make close fail.
      }
      db.close();
    },
  };
}

/** A write waiting for the transaction it will share. */
interface QueuedWrite {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** True for SQLite's "another connection holds the lock" errors, which a later try can get past. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

async function retryWhileBusy<T>(work: () => T, busyTimeoutMs: number): Promise<T> {
  const deadline = Date.now() + busyTimeoutMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      // Jittered, growing pauses: two processes that collided should not collide again in step.
      await sleep(Math.min(50, 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
    }
  }
}
