/**
 * The tables of the PostgreSQL store, all in the schema the store is given, and their migrations.
 * Applied versions are kept in `with_memory_versions` (a name no application's migration tool
 * uses; schemas made before it kept them in `schema_migrations`, which is read once); a schema
 * written by a newer version of with-memory is refused before anything is written to it.
 *
 * Vectors are `vector` (pgvector) when the extension is installed or can be installed, else
 * `real[]`; which one a schema uses is decided when it is created, and read from the column's type
 * afterwards, so every process agrees.
 *
 * @module
 */

import type { Database, Transaction } from './pool.js';

/** The schema version this code writes. */
export const schemaVersion = 2;

/** The table of applied versions. */
const versionTable = 'with_memory_versions';

/** How the schema stores embedding vectors. */
export type VectorColumn = { kind: 'pgvector'; extensionSchema: string } | { kind: 'array' };

/** What the store learns when it opens a schema. */
export interface OpenedSchema {
  vectors: VectorColumn;
}

/** The schema's newer than this code: nothing was written. */
export class NewerSchema extends Error {}

/** A schema name, quoted for SQL (names are checked by the options schema first). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The key of a row's exact scope (alias `alias`), as `scope_stats` and `memory_terms` keep it: a
 * hash, so that a btree entry stays small whatever the scope ids (four of up to 256 characters,
 * up to 4 bytes each, beside a term of up to 2,000 bytes, would pass the 2,704-byte limit).
 */
export function scopeKey(alias: string): string {
  return `encode(sha256(convert_to(json_build_array(${alias}.user_id, ${alias}.agent_id, ${alias}.run_id, ${alias}.app_id)::text, 'UTF8')), 'hex')`;
}

function migrations(schema: string, vectorType: string): Array<{ version: number; sql: string }> {
  const s = quoteIdentifier(schema);
  return [
    {
      version: 1,
      sql: `
        -- One row per memory. A deleted memory stays as a tombstone (deleted_at set, text emptied)
        -- until its scope is erased with deleteAll, so its history keeps an owner.
        CREATE TABLE ${s}.memories (
          seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          id text NOT NULL UNIQUE,
          text text NOT NULL,
          -- terms(text), repeats kept: what ranking and duplicate detection compare, and what the
          -- GIN index finds, so the index and the JavaScript ranking agree term for term.
          terms text[] NOT NULL,
          type text,
          user_id text,
          agent_id text,
          run_id text,
          app_id text,
          metadata jsonb NOT NULL DEFAULT '{}',
          -- Hash of the normalised text: how an exact restatement is recognised.
          content_hash text,
          embedding ${vectorType},
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL,
          expires_at timestamptz,
          deleted_at timestamptz
        );
        CREATE INDEX memories_user ON ${s}.memories (user_id, seq) WHERE user_id IS NOT NULL;
        CREATE INDEX memories_agent ON ${s}.memories (agent_id, seq) WHERE agent_id IS NOT NULL;
        CREATE INDEX memories_run ON ${s}.memories (run_id, seq) WHERE run_id IS NOT NULL;
        CREATE INDEX memories_terms ON ${s}.memories USING gin (terms);
        CREATE INDEX memories_content_hash ON ${s}.memories (content_hash);

        CREATE TABLE ${s}.memory_history (
          seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          memory_id text NOT NULL,
          event text NOT NULL,
          old_text text,
          new_text text,
          reason text,
          actor text,
          created_at timestamptz NOT NULL
        );
        CREATE INDEX memory_history_memory ON ${s}.memory_history (memory_id, seq);
      `,
    },
    {
      version: 2,
      // What the search of a large scope reads instead of the scope (see search.ts), kept by
      // statement triggers: each scope's size and length, and each term's memories by scope in
      // write order. And the indexes a list walks, newest first.
      sql: `
        CREATE TABLE ${s}.scope_stats (
          scope_key text PRIMARY KEY,
          user_id text,
          agent_id text,
          run_id text,
          app_id text,
          -- Memories not deleted, whatever their type, metadata or expiry, and their terms.
          memories bigint NOT NULL,
          terms bigint NOT NULL
        );
        CREATE INDEX scope_stats_user ON ${s}.scope_stats (user_id) WHERE user_id IS NOT NULL;
        CREATE INDEX scope_stats_agent ON ${s}.scope_stats (agent_id) WHERE agent_id IS NOT NULL;
        CREATE INDEX scope_stats_run ON ${s}.scope_stats (run_id) WHERE run_id IS NOT NULL;
        CREATE INDEX scope_stats_app ON ${s}.scope_stats (app_id) WHERE app_id IS NOT NULL;
        -- The memories (not deleted) of each term in each exact scope, in write order: a term's
        -- oldest memories of a scope are one index range, however common the term.
        CREATE TABLE ${s}.memory_terms (
          scope_key text NOT NULL,
          term text NOT NULL,
          seq bigint NOT NULL,
          PRIMARY KEY (scope_key, term, seq)
        );
        CREATE INDEX memory_terms_seq ON ${s}.memory_terms (seq);
        CREATE TYPE ${s}.scope_change AS (user_id text, agent_id text, run_id text, app_id text, memories bigint, terms bigint);
        CREATE FUNCTION ${s}.apply_scope_stats(changes ${s}.scope_change[]) RETURNS void LANGUAGE sql AS $body$
          INSERT INTO ${s}.scope_stats AS t (scope_key, user_id, agent_id, run_id, app_id, memories, terms)
          SELECT ${scopeKey('c')}, c.user_id, c.agent_id, c.run_id, c.app_id, sum(c.memories), sum(c.terms)
          FROM unnest(changes) AS c GROUP BY c.user_id, c.agent_id, c.run_id, c.app_id
          HAVING sum(c.memories) <> 0 OR sum(c.terms) <> 0
          ON CONFLICT (scope_key) DO UPDATE SET memories = t.memories + excluded.memories, terms = t.terms + excluded.terms
        $body$;
        -- No line of the body ends in a semicolon: the runner splits statements there.
        CREATE FUNCTION ${s}.index_memories() RETURNS trigger LANGUAGE plpgsql AS $body$
          BEGIN IF TG_OP <> 'INSERT' THEN
            DELETE FROM ${s}.memory_terms AS p USING old_rows AS o WHERE p.seq = o.seq; END IF; IF TG_OP <> 'DELETE' THEN
            INSERT INTO ${s}.memory_terms (scope_key, term, seq)
              SELECT DISTINCT ${scopeKey('n')}, t.term, n.seq FROM new_rows AS n, unnest(n.terms) AS t(term)
              WHERE n.deleted_at IS NULL; END IF; IF TG_OP = 'INSERT' THEN
            PERFORM ${s}.apply_scope_stats(ARRAY(SELECT (user_id, agent_id, run_id, app_id, 1, cardinality(terms))::${s}.scope_change FROM new_rows WHERE deleted_at IS NULL)); ELSIF TG_OP = 'DELETE' THEN
            PERFORM ${s}.apply_scope_stats(ARRAY(SELECT (user_id, agent_id, run_id, app_id, -1, -cardinality(terms))::${s}.scope_change FROM old_rows WHERE deleted_at IS NULL)); ELSE
            PERFORM ${s}.apply_scope_stats(ARRAY(SELECT (user_id, agent_id, run_id, app_id, 1, cardinality(terms))::${s}.scope_change FROM new_rows WHERE deleted_at IS NULL
              UNION ALL SELECT (user_id, agent_id, run_id, app_id, -1, -cardinality(terms))::${s}.scope_change FROM old_rows WHERE deleted_at IS NULL)); END IF; RETURN NULL; END
        $body$;
        CREATE TRIGGER memories_added AFTER INSERT ON ${s}.memories REFERENCING NEW TABLE AS new_rows
          FOR EACH STATEMENT EXECUTE FUNCTION ${s}.index_memories();
        CREATE TRIGGER memories_changed AFTER UPDATE ON ${s}.memories REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
          FOR EACH STATEMENT EXECUTE FUNCTION ${s}.index_memories();
        CREATE TRIGGER memories_removed AFTER DELETE ON ${s}.memories REFERENCING OLD TABLE AS old_rows
          FOR EACH STATEMENT EXECUTE FUNCTION ${s}.index_memories();
        SELECT ${s}.apply_scope_stats(ARRAY(SELECT (user_id, agent_id, run_id, app_id, 1, cardinality(terms))::${s}.scope_change FROM ${s}.memories WHERE deleted_at IS NULL));
        INSERT INTO ${s}.memory_terms (scope_key, term, seq)
          SELECT DISTINCT ${scopeKey('m')}, t.term, m.seq FROM ${s}.memories AS m, unnest(m.terms) AS t(term)
          WHERE m.deleted_at IS NULL;
        CREATE INDEX memories_app ON ${s}.memories (app_id, seq) WHERE app_id IS NOT NULL;
        CREATE INDEX memories_user_updated ON ${s}.memories (user_id, updated_at DESC, seq DESC) WHERE user_id IS NOT NULL;
        CREATE INDEX memories_agent_updated ON ${s}.memories (agent_id, updated_at DESC, seq DESC) WHERE agent_id IS NOT NULL;
        CREATE INDEX memories_run_updated ON ${s}.memories (run_id, updated_at DESC, seq DESC) WHERE run_id IS NOT NULL;
        CREATE INDEX memories_app_updated ON ${s}.memories (app_id, updated_at DESC, seq DESC) WHERE app_id IS NOT NULL;
      `,
    },
  ];
}

/**
 * Creates or upgrades the schema. Two processes opening a new schema at once take turns (an
 * advisory lock), so the tables are created once.
 */
export async function openSchema(db: Database, schema: string): Promise<OpenedSchema> {
  const s = quoteIdentifier(schema);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`with-memory schema ${schema}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${s}.${versionTable} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await adoptOldVersions(tx, schema);
    const [{ version } = { version: 0 }] = await tx.query<{ version: number | null }>(
      `SELECT coalesce(max(version), 0)::integer AS version FROM ${s}.${versionTable}`,
    );
    const current = version ?? 0;
    if (current > schemaVersion) {
      throw new NewerSchema(
        `The PostgreSQL schema "${schema}" was written by a newer version of with-memory (schema version ${current}; this version reads up to ${schemaVersion}). Upgrade with-memory, or give postgresStore({ schema }) another schema.`,
      );
    }
    if (current < schemaVersion) {
      const vectorType = current === 0 ? await vectorTypeForNewSchema(tx) : 'real[]';
      for (const migration of migrations(schema, vectorType)) {
        if (migration.version <= current) continue;
        // One statement per query: the extended protocol (PGlite, prepared statements) takes no more.
        for (const statement of migration.sql.split(/;\s*\n/)) if (statement.trim() !== '') await tx.query(statement);
        await tx.query(`INSERT INTO ${s}.${versionTable} (version) VALUES ($1)`, [migration.version]);
      }
    }
    return { vectors: await vectorColumn(tx, schema) };
  });
}

/**
 * A schema this store made before its versions had a table of their own kept them in
 * `schema_migrations`: copied once, when the store's own tables are there beside it. An
 * application's `schema_migrations` in a schema without them is never read.
 */
async function adoptOldVersions(tx: Transaction, schema: string): Promise<void> {
  const s = quoteIdentifier(schema);
  const [known] = await tx.query<{ versions: number }>(
    `SELECT count(*)::integer AS versions FROM ${s}.${versionTable}`,
  );
  if ((known?.versions ?? 0) > 0) return;
  const [old] = await tx.query<{ ours: boolean }>(
    `SELECT to_regclass(format('%I.schema_migrations', $1::text)) IS NOT NULL
       AND to_regclass(format('%I.memories', $1::text)) IS NOT NULL
       AND to_regclass(format('%I.memory_history', $1::text)) IS NOT NULL AS ours`,
    [schema],
  );
  if (!old?.ours) return;
  await tx.query(
    `INSERT INTO ${s}.${versionTable} (version, applied_at) SELECT version, applied_at FROM ${s}.schema_migrations`,
  );
}

/** `vector` (schema-qualified) when pgvector is installed or can be, else `real[]`. */
async function vectorTypeForNewSchema(tx: Transaction): Promise<string> {
  const [available] = await tx.query<{ installed: boolean }>(
    `SELECT installed_version IS NOT NULL AS installed FROM pg_available_extensions WHERE name = 'vector'`,
  );
  if (!available) return 'real[]';
  if (!available.installed) {
    // Installing may need rights this role lacks: a failure leaves the transaction usable.
    await tx.query('SAVEPOINT with_memory_vector');
    try {
      await tx.query('CREATE EXTENSION IF NOT EXISTS vector');
      await tx.query('RELEASE SAVEPOINT with_memory_vector');
    } catch {
      await tx.query('ROLLBACK TO SAVEPOINT with_memory_vector');
      return 'real[]';
    }
  }
  const [extension] = await tx.query<{ schema: string }>(
    `SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'vector'`,
  );
  return extension ? `${extension.schema}.vector` : 'real[]';
}

async function vectorColumn(tx: Transaction, schema: string): Promise<VectorColumn> {
  const [column] = await tx.query<{ type: string; type_schema: string }>(
    `SELECT t.typname AS type, t.typnamespace::regnamespace::text AS type_schema
     FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid
     WHERE a.attrelid = format('%I.memories', $1::text)::regclass AND a.attname = 'embedding'`,
    [schema],
  );
  return column?.type === 'vector' ? { kind: 'pgvector', extensionSchema: column.type_schema } : { kind: 'array' };
}
