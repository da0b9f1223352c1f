/**
 * The local store's tables and their migrations. The schema version lives in SQLite's
 * `user_version`; `application_id` marks the file as a with-memory store, so a stray SQLite file of
 * another program is refused instead of written into.
 *
 * A migration only ever moves forward. A file whose version is newer than this code knows is
 * refused before anything is written to it: an older library must not damage a newer file.
 *
 * @module
 */

import type BetterSqlite3 from 'better-sqlite3';

/** The schema version this code writes. */
export const schemaVersion = 2;

/** `application_id` of a with-memory file: 'WMEM'. */
export const applicationId = 0x574d454d;

interface Migration {
  version: number;
  sql: string;
}

const migrations: Migration[] = [
  {
    version: 1,
    sql: `
      -- One row per memory. A deleted memory stays as a tombstone (deleted_at set, text emptied)
      -- until its scope is erased with deleteAll, so its history keeps an owner.
      CREATE TABLE memories (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL,
        -- terms(text), space-separated: what ranking and duplicate detection compare, read
        -- without re-tokenising. The FTS index holds the same terms.
        terms TEXT NOT NULL,
        type TEXT,
        user_id TEXT,
        agent_id TEXT,
        run_id TEXT,
        app_id TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        -- Hash of the normalised text: how an exact restatement is recognised. Not indexed: a
        -- random key would cost every insert more than the lookups it saves (see add-facts.ts).
        content_hash TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER,
        deleted_at INTEGER
      );
      -- Partial: a row without a run (most rows) costs the run index nothing on insert.
      CREATE INDEX memories_user ON memories (user_id, updated_at) WHERE user_id IS NOT NULL;
      CREATE INDEX memories_agent ON memories (agent_id, updated_at) WHERE agent_id IS NOT NULL;
      CREATE INDEX memories_run ON memories (run_id, updated_at) WHERE run_id IS NOT NULL;

      -- Contentless: the text lives only in memories. contentless_delete lets a row be removed
      -- by rowid alone, so the index never depends on re-deriving what was indexed. Full detail,
      -- because bm25() of a contentless table needs the positions (it scores 0 without them).
      CREATE VIRTUAL TABLE memories_fts USING fts5 (
        terms, scope, content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'full'
      );

      -- Unit-length float32 embeddings, when the store has an embedder.
      CREATE TABLE memory_vectors (
        memory_seq INTEGER PRIMARY KEY,
        vector BLOB NOT NULL
      );

      -- Every change. An ADD's text is kept only while it differs from what the memory itself or a
      -- later entry holds (see history.ts), so a million memories are not stored twice.
      CREATE TABLE memory_history (
        seq INTEGER PRIMARY KEY,
        memory_id TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
        old_text TEXT,
        new_text TEXT,
        reason TEXT,
        actor TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX memory_history_memory ON memory_history (memory_id, seq);

      -- A removed row takes its index entry and vector with it, whoever removes it.
      CREATE TRIGGER memories_removed AFTER DELETE ON memories WHEN old.deleted_at IS NULL BEGIN
        DELETE FROM memories_fts WHERE rowid = old.seq;
        DELETE FROM memory_vectors WHERE memory_seq = old.seq;
      END;
      CREATE TRIGGER memories_soft_deleted AFTER UPDATE OF deleted_at ON memories
        WHEN old.deleted_at IS NULL AND new.deleted_at IS NOT NULL BEGIN
        DELETE FROM memories_fts WHERE rowid = old.seq;
        DELETE FROM memory_vectors WHERE memory_seq = old.seq;
      END;
    `,
  },
  {
    version: 2,
    sql: `
      -- How many memories (not deleted) and terms each exact scope holds: the BM25 statistics of a
      -- search, read without counting the scope. Kept by the triggers below.
      CREATE TABLE scope_stats (
        scope_key TEXT PRIMARY KEY,
        user_id TEXT,
        agent_id TEXT,
        run_id TEXT,
        app_id TEXT,
        memories INTEGER NOT NULL,
        terms INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX scope_stats_user ON scope_stats (user_id) WHERE user_id IS NOT NULL;
      CREATE INDEX scope_stats_agent ON scope_stats (agent_id) WHERE agent_id IS NOT NULL;
      CREATE INDEX scope_stats_run ON scope_stats (run_id) WHERE run_id IS NOT NULL;
      INSERT INTO scope_stats (scope_key, user_id, agent_id, run_id, app_id, memories, terms)
        SELECT json_array(user_id, agent_id, run_id, app_id), user_id, agent_id, run_id, app_id, count(*),
          sum(CASE WHEN terms = '' THEN 0 ELSE length(terms) - length(replace(terms, ' ', '')) + 1 END)
        FROM memories WHERE deleted_at IS NULL GROUP BY user_id, agent_id, run_id, app_id;

      CREATE TRIGGER scope_stats_added AFTER INSERT ON memories WHEN new.deleted_at IS NULL BEGIN
        INSERT INTO scope_stats (scope_key, user_id, agent_id, run_id, app_id, memories, terms)
          VALUES (json_array(new.user_id, new.agent_id, new.run_id, new.app_id), new.user_id, new.agent_id,
            new.run_id, new.app_id, 1,
            CASE WHEN new.terms = '' THEN 0 ELSE length(new.terms) - length(replace(new.terms, ' ', '')) + 1 END)
          ON CONFLICT (scope_key) DO UPDATE SET memories = memories + 1, terms = terms + excluded.terms;
      END;
      CREATE TRIGGER scope_stats_changed AFTER UPDATE OF terms, deleted_at, user_id, agent_id, run_id, app_id
        ON memories BEGIN
        UPDATE scope_stats SET memories = memories - 1,
          terms = terms - CASE WHEN old.terms = '' THEN 0 ELSE length(old.terms) - length(replace(old.terms, ' ', '')) + 1 END
          WHERE old.deleted_at IS NULL AND scope_key = json_array(old.user_id, old.agent_id, old.run_id, old.app_id);
        INSERT INTO scope_stats (scope_key, user_id, agent_id, run_id, app_id, memories, terms)
          SELECT json_array(new.user_id, new.agent_id, new.run_id, new.app_id), new.user_id, new.agent_id,
            new.run_id, new.app_id, 1,
            CASE WHEN new.terms = '' THEN 0 ELSE length(new.terms) - length(replace(new.terms, ' ', '')) + 1 END
          WHERE new.deleted_at IS NULL
          ON CONFLICT (scope_key) DO UPDATE SET memories = memories + 1, terms = terms + excluded.terms;
        DELETE FROM scope_stats WHERE memories <= 0;
      END;
      CREATE TRIGGER scope_stats_removed AFTER DELETE ON memories WHEN old.deleted_at IS NULL BEGIN
        UPDATE scope_stats SET memories = memories - 1,
          terms = terms - CASE WHEN old.terms = '' THEN 0 ELSE length(old.terms) - length(replace(old.terms, ' ', '')) + 1 END
          WHERE scope_key = json_array(old.user_id, old.agent_id, old.run_id, old.app_id);
        -- An emptied scope leaves no row: its ids must not outlive deleteAll in the file.
        DELETE FROM scope_stats WHERE scope_key = json_array(old.user_id, old.agent_id, old.run_id, old.app_id)
          AND memories <= 0;
      END;

      -- Scope plus rowid: a memory's neighbours in write order are an index step away. Scope, type
      -- and time: the newest memories of some types (standing preferences) without a scan. The
      -- scope and time indexes of version 1 stay: the newest memories of any type.
      CREATE INDEX memories_user_seq ON memories (user_id) WHERE user_id IS NOT NULL;
      CREATE INDEX memories_agent_seq ON memories (agent_id) WHERE agent_id IS NOT NULL;
      CREATE INDEX memories_run_seq ON memories (run_id) WHERE run_id IS NOT NULL;
      CREATE INDEX memories_user_type ON memories (user_id, type, updated_at) WHERE user_id IS NOT NULL;
      CREATE INDEX memories_agent_type ON memories (agent_id, type, updated_at) WHERE agent_id IS NOT NULL;
      CREATE INDEX memories_run_type ON memories (run_id, type, updated_at) WHERE run_id IS NOT NULL;
    `,
  },
];

/** Why the store cannot be opened; its message says what to do. */
export class CannotOpen extends Error {}

/**
 * Checks, before anything is written, that the file is a with-memory store this code can read (or
 * an empty file). Throws `CannotOpen` with the message to show.
 */
export function checkCompatible(db: BetterSqlite3.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const application = db.pragma('application_id', { simple: true }) as number;
  if (application !== 0 && application !== applicationId) {
    throw new CannotOpen(
      `${path} is a SQLite file of another program, not a with-memory store; point localStore({ path }) at another file.`,
    );
  }
  if (version > schemaVersion) {
    throw new CannotOpen(
      `${path} was written by a newer version of with-memory (schema version ${version}; this version reads up to ${schemaVersion}). The file was left untouched: upgrade with-memory, or point localStore({ path }) at another file.`,
    );
  }
  if (application === 0 && version === 0) {
    const tables = db.prepare("SELECT count(*) AS count FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").get() as {
      count: number;
    };
    if (tables.count > 0) {
      throw new CannotOpen(
        `${path} holds tables of another program, not a with-memory store; point localStore({ path }) at another file.`,
      );
    }
  }
}

/**
 * Brings the schema up to `schemaVersion`. Runs inside the caller's write transaction, so two
 * processes opening a new file at once cannot both create it.
 */
export function migrate(db: BetterSqlite3.Database, path: string): void {
  checkCompatible(db, path);
  const version = db.pragma('user_version', { simple: true }) as number;
  for (const migration of migrations) {
    if (migration.version <= version) continue;
    db.exec(migration.sql);
    if (migration.version === 1) db.pragma(`application_id = ${applicationId}`);
    db.pragma(`user_version = ${migration.version}`);
  }
}
