/**
 * Writing facts: a fact that restates a memory of the same scope and type updates that memory
 * (and its history) instead of piling up a duplicate.
 *
 * A restatement is found in three ways, cheapest first: the same normalised text (its hash); nearly
 * the same words (`restatementOverlap` of `terms()` at or above `duplicateThreshold`, the measure
 * the in-memory store uses: one text's terms must all be in the other, so a swapped word is a new
 * fact); with an embedder, nearly the same meaning (cosine at or above `vectorDuplicateThreshold`).
 *
 * For the comparison, the memories of the scope and type are read once per `add` into an index in
 * memory (terms to memories), unless the scope is large and the write small: then each fact asks
 * SQLite (hash index, FTS index) instead. Facts of one batch see each other either way.
 *
 * @module
 */

import { createHash, randomUUID } from 'node:crypto';
import type { MemoryChange, MemoryType, Scope } from '../../core/types.js';
import { restatementOverlap, terms } from '../../text/text-terms.js';
import { cosine } from '../kernel/embeddings.js';
import type { Connection } from './connection.js';
import { sameScopeAndTypeCondition } from './filters.js';
import { ftsToken, matchExpression } from './fts-query.js';
import { recordHistory } from './history.js';
import { indexTerms, reindexTerms, storeVector } from './index-entries.js';
import { joinTerms, type MemoryRow, memoryColumns, scopeColumns, splitTerms } from './rows.js';
import { bytesToVector } from './vector-bytes.js';

/** A fact ready to write: checked, trimmed, its terms and hash computed outside the transaction. */
export interface PreparedFact {
  text: string;
  type: MemoryType | undefined;
  /** JSON of the metadata (the write's, overridden by the fact's own). */
  metadata: string;
  expiresAt: number | undefined;
  /** When the fact was said (`FactInput.createdAt`), if not now. */
  saidAt: number | undefined;
  terms: string[];
  contentHash: string;
  vector?: Float32Array | undefined;
}

/** How restatements are recognised and changes recorded. */
export interface AddSettings {
  duplicateThreshold: number;
  vectorDuplicateThreshold: number;
  actor: string;
  reason: string | undefined;
}

// Reading a scope's memories costs about 2 µs each; asking SQLite costs about 200 µs per fact. A
// scope is read into memory when that is cheaper, up to this many memories.
const maxLoadedMemories = 20_000;
const loadedMemoriesPerFact = 100;
// Near-duplicate candidates SQLite returns per fact, when the scope is not read into memory.
const nearDuplicateCandidates = 50;
// Terms a memory with the same text must all hold: enough to narrow the FTS lookup to a few rows.
const exactProbeTerms = 8;

/** Computes what a fact's write needs, outside the transaction (it is the slow part). */
export function prepareFact(fact: {
  text: string;
  type: MemoryType | undefined;
  metadata: string;
  expiresAt: number | undefined;
  saidAt: number | undefined;
}): PreparedFact {
  return { ...fact, terms: terms(fact.text), contentHash: contentHash(fact.text) };
}

/** The hash of a text with case, width and spacing normalised away. */
export function contentHash(text: string): string {
  const normalised = text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
  return createHash('sha256').update(normalised).digest('hex').slice(0, 16);
}

/** Writes the facts; call inside a write transaction. Returns one change per fact, in order. */
export function addFacts(
  connection: Connection,
  facts: PreparedFact[],
  scope: Scope,
  settings: AddSettings,
  now: number,
): MemoryChange[] {
  const groups = new Map<string, ScopeMemories>();
  const factsPerType = new Map<string, number>();
  for (const fact of facts) factsPerType.set(typeKey(fact.type), (factsPerType.get(typeKey(fact.type)) ?? 0) + 1);

  return facts.map((fact) => {
    const key = typeKey(fact.type);
    let group = groups.get(key);
    if (!group) {
      group = scopeMemories(connection, scope, fact.type, now, factsPerType.get(key) ?? 1);
      groups.set(key, group);
    }
    const existing =
      group.sameText(fact) ??
      group.sameWords(fact, settings.duplicateThreshold) ??
      group.sameMeaning(fact, settings.vectorDuplicateThreshold);
    if (existing === undefined) {
      const { change, seq } = insert(connection, fact, scope, settings, now);
      group.remember(seq, fact);
      return change;
    }
    const row = connection.statement(`SELECT ${memoryColumns} FROM memories AS m WHERE m.seq = ?`).get(existing) as
      | MemoryRow
      | undefined;
    if (!row) throw new Error('A memory found as restated vanished inside its transaction.');
    group.forget(existing);
    group.remember(existing, fact);
    return restate(connection, row, fact, scope, settings, now);
  });
}

/** The memories of one scope and type that a batch of facts is compared with. */
interface ScopeMemories {
  /** The memory with the same normalised text. */
  sameText(fact: PreparedFact): number | undefined;
  /** The memory with the most word overlap, at or above the threshold. */
  sameWords(fact: PreparedFact, threshold: number): number | undefined;
  /** The memory with the most similar vector, at or above the threshold. */
  sameMeaning(fact: PreparedFact, threshold: number): number | undefined;
  /** Adds a memory written by this batch, so later facts of the batch see it. */
  remember(seq: number, fact: PreparedFact): void;
  /** Drops what was known of a memory about to be rewritten. */
  forget(seq: number): void;
}

interface LoadedMemories {
  byHash: Map<string, number>;
  hashOf: Map<number, string>;
  terms: Map<number, string[]>;
  postings: Map<string, Set<number>>;
}

function scopeMemories(
  connection: Connection,
  scope: Scope,
  type: MemoryType | undefined,
  now: number,
  factCount: number,
): ScopeMemories {
  const same = sameScopeAndTypeCondition(scope, type, now);
  const limit = Math.min(maxLoadedMemories, Math.max(200, factCount * loadedMemoriesPerFact));
  // Counted before anything is read (the scope's size, then, if that is too many, the memories of
  // this type): a scope too large to read costs no row read for nothing.
  const fits =
    scopeSize(connection, scope) <= limit ||
    (connection
      .statement(`SELECT count(*) FROM (SELECT 1 FROM memories AS m WHERE ${same.sql} LIMIT ?)`)
      .pluck()
      .get(...same.params, limit + 1) as number) <= limit;
  const rows = fits
    ? (connection
        .statement(`SELECT m.seq AS seq, m.terms AS terms, m.content_hash AS hash FROM memories AS m WHERE ${same.sql}`)
        .all(...same.params) as Array<{ seq: number; terms: string; hash: string | null }>)
    : [];
  // Undefined when the scope is too large to read for this write: SQLite is asked per fact.
  const loaded: LoadedMemories | undefined = fits
    ? { byHash: new Map(), hashOf: new Map(), terms: new Map(), postings: new Map() }
    : undefined;
  let vectors: Map<number, Float32Array> | undefined;

  function add(target: LoadedMemories, seq: number, hash: string | null, memoryTerms: string[]): void {
    if (hash !== null) {
      target.byHash.set(hash, seq);
      target.hashOf.set(seq, hash);
    }
    target.terms.set(seq, memoryTerms);
    for (const term of memoryTerms) {
      let seqs = target.postings.get(term);
      if (!seqs) {
        seqs = new Set();
        target.postings.set(term, seqs);
      }
      seqs.add(seq);
    }
  }
  if (loaded) for (const row of rows) add(loaded, row.seq, row.hash, splitTerms(row.terms));

  /** Memories holding at least one of the probe terms, with their terms. */
  function candidates(distinct: string[], probeCount: number): Map<number, string[]> {
    const found = new Map<number, string[]>();
    if (loaded) {
      const { postings, terms: termsBySeq } = loaded;
      // The rarest terms of the scope: the fewest candidates to compare.
      const probes = [...distinct]
        .sort((x, y) => (postings.get(x)?.size ?? 0) - (postings.get(y)?.size ?? 0))
        .slice(0, probeCount);
      for (const probe of probes) {
        for (const seq of postings.get(probe) ?? []) found.set(seq, termsBySeq.get(seq) ?? []);
      }
      return found;
    }
    // Without scope statistics, the longest terms stand in for the rarest.
    const probes = distinct
      .filter((term) => ftsToken(term) !== '')
      .sort((x, y) => y.length - x.length)
      .slice(0, probeCount);
    const expression = matchExpression(scope, probes);
    if (!expression) return found;
    const rows = connection
      .statement(
        `SELECT m.seq AS seq, m.terms AS terms FROM memories_fts JOIN memories AS m ON m.seq = memories_fts.rowid
         WHERE memories_fts MATCH ? AND ${same.sql} ORDER BY memories_fts.rowid DESC LIMIT ${nearDuplicateCandidates}`,
      )
      .all(expression, ...same.params) as Array<{ seq: number; terms: string }>;
    for (const row of rows) found.set(row.seq, splitTerms(row.terms));
    return found;
  }

  function loadVectors(): Map<number, Float32Array> {
    const rows = connection
      .statement(
        `SELECT m.seq AS seq, v.vector AS vector FROM memories AS m JOIN memory_vectors AS v ON v.memory_seq = m.seq WHERE ${same.sql}`,
      )
      .all(...same.params) as Array<{ seq: number; vector: Uint8Array }>;
    return new Map(rows.map((row) => [row.seq, bytesToVector(row.vector)]));
  }

  return {
    sameText(fact) {
      if (loaded) return loaded.byHash.get(fact.contentHash);
      // No index on the hash (a random key would slow every insert): the same text has the same
      // terms, so the FTS index finds it; a text without terms is looked for in the scope's rows.
      const probes = [...new Set(fact.terms)].sort((x, y) => y.length - x.length).slice(0, exactProbeTerms);
      const expression = matchExpression(scope, probes, 'all');
      const row = (
        expression
          ? connection
              .statement(
                `SELECT m.seq AS seq FROM memories_fts JOIN memories AS m ON m.seq = memories_fts.rowid
                 WHERE memories_fts MATCH ? AND ${same.sql} AND m.content_hash = ? LIMIT 1`,
              )
              .get(expression, ...same.params, fact.contentHash)
          : connection
              .statement(`SELECT m.seq AS seq FROM memories AS m WHERE ${same.sql} AND m.content_hash = ? LIMIT 1`)
              .get(...same.params, fact.contentHash)
      ) as { seq: number } | undefined;
      return row?.seq;
    },

    sameWords(fact, threshold) {
      // Two texts made only of stop words would overlap completely without saying the same thing.
      const distinct = [...new Set(fact.terms)];
      if (distinct.length === 0) return undefined;
      // An overlap of `threshold` needs at least ceil(threshold * n) of the fact's n terms in
      // common, so a match holds at least one of any (n - that + 1) of them: those are the probes.
      const probeCount = Math.max(1, distinct.length - Math.ceil(threshold * distinct.length - 1e-9) + 1);
      let best: { seq: number; overlap: number } | undefined;
      for (const [seq, candidateTerms] of candidates(distinct, probeCount)) {
        if (candidateTerms.length === 0) continue;
        const overlap = restatementOverlap(fact.terms, candidateTerms);
        if (overlap >= threshold && overlap > (best?.overlap ?? 0)) best = { seq, overlap };
      }
      return best?.seq;
    },

    sameMeaning(fact, threshold) {
      if (!fact.vector) return undefined;
      vectors ??= loadVectors();
      let best: { seq: number; similarity: number } | undefined;
      for (const [seq, vector] of vectors) {
        const similarity = cosine(fact.vector, vector);
        if (similarity >= threshold && similarity > (best?.similarity ?? -1)) best = { seq, similarity };
      }
      return best?.seq;
    },

    remember(seq, fact) {
      if (loaded) add(loaded, seq, fact.contentHash, fact.terms);
      if (fact.vector) vectors?.set(seq, fact.vector);
    },

    forget(seq) {
      if (!loaded) return;
      for (const term of loaded.terms.get(seq) ?? []) loaded.postings.get(term)?.delete(seq);
      loaded.terms.delete(seq);
      const hash = loaded.hashOf.get(seq);
      if (hash !== undefined && loaded.byHash.get(hash) === seq) loaded.byHash.delete(hash);
      loaded.hashOf.delete(seq);
    },
  };
}

function insert(
  connection: Connection,
  fact: PreparedFact,
  scope: Scope,
  settings: AddSettings,
  now: number,
): { change: MemoryChange; seq: number } {
  const id = timeOrderedId();
  const result = connection
    .statement(
      `INSERT INTO memories (id, text, terms, type, user_id, agent_id, run_id, app_id, metadata, content_hash, created_at, updated_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      id,
      fact.text,
      joinTerms(fact.terms),
      fact.type ?? null,
      ...scopeColumns(scope),
      fact.metadata,
      fact.contentHash,
      fact.saidAt ?? now,
      fact.saidAt ?? now,
      fact.expiresAt ?? null,
    );
  const seq = Number(result.lastInsertRowid);
  indexTerms(connection, seq, fact.terms, scope);
  if (fact.vector) storeVector(connection, seq, fact.vector);
  recordHistory(connection, {
    memoryId: id,
    event: 'ADD',
    newText: fact.text,
    reason: settings.reason,
    actor: settings.actor,
    at: now,
  });
  return { change: { event: 'ADD', id, text: fact.text }, seq };
}

function restate(
  connection: Connection,
  existing: MemoryRow,
  fact: PreparedFact,
  scope: Scope,
  settings: AddSettings,
  now: number,
): MemoryChange {
  const metadata = JSON.stringify({ ...JSON.parse(existing.metadata), ...JSON.parse(fact.metadata) });
  const expiresAt = fact.expiresAt ?? existing.expires_at;
  // A back-filled restatement said before the last update must not make the memory look older.
  const updatedAt = Math.max(existing.updated_at, fact.saidAt ?? now);
  connection
    .statement(
      'UPDATE memories SET text = ?, terms = ?, metadata = ?, content_hash = ?, updated_at = ?, expires_at = ? WHERE seq = ?',
    )
    .run(fact.text, joinTerms(fact.terms), metadata, fact.contentHash, updatedAt, expiresAt, existing.seq);
  if (fact.vector) storeVector(connection, existing.seq, fact.vector);
  if (existing.text === fact.text && existing.metadata === metadata) {
    // Said again, word for word: nothing to record, but it is fresh again (recency, expiry).
    return { event: 'NONE', id: existing.id, text: fact.text };
  }
  if (existing.text !== fact.text) reindexTerms(connection, existing.seq, fact.terms, scope);
  recordHistory(connection, {
    memoryId: existing.id,
    event: 'UPDATE',
    oldText: existing.text,
    newText: fact.text,
    reason: settings.reason,
    actor: settings.actor,
    at: now,
  });
  return { event: 'UPDATE', id: existing.id, text: fact.text, previousText: existing.text };
}

/** How many memories the exact scope holds, of every type (kept by triggers in `scope_stats`). */
function scopeSize(connection: Connection, scope: Scope): number {
  return (
    (connection
      .statement('SELECT memories FROM scope_stats WHERE scope_key = json_array(?, ?, ?, ?)')
      .pluck()
      .get(...scopeColumns(scope)) as number | undefined) ?? 0
  );
}

function typeKey(type: MemoryType | undefined): string {
  return type === undefined ? '' : `:${type}`;
}

/**
 * A UUID in the version 7 layout (milliseconds first, then random): ids sort by creation, and new
 * rows land at the end of the id indexes instead of on random pages, which keeps writes fast.
 */
export function timeOrderedId(): string {
  const hex = Date.now().toString(16).padStart(12, '0') + randomUUID().replaceAll('-', '').slice(12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
