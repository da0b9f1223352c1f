/**
 * Store benchmark: add throughput (batched, one `add` per user), search latency (p50/p95), recall
 * and file size, for the local store, the in-memory store and mem0 OSS in process, and, when named,
 * the PostgreSQL store on a server, at several sizes. The local store, PostgreSQL and mem0 get the
 * same deterministic embedder (`hashEmbedder`, a stand-in, not a semantic model) unless
 * `embedder: 'none'`.
 *
 *   npm run bench -- store [--sizes 10000,100000] [--stores local,memory,mem0-oss] [--json file]
 *   npm run bench -- store --store postgres   (the local store and PostgreSQL, in one run)
 *   npx tsx bench/store.ts [--sizes 10000,100000] [--million] [--stores local,memory] [--json file]
 *
 * The workload is deterministic (seeded): sentence-like memories of many users, 100 per user, and
 * queries that ask about one of a user's memories in other words.
 *
 * @module
 */

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FactInput, MemoryStore, Scope } from '../src/core/types.js';
import { inMemoryStore } from '../src/stores/in-memory.js';
import { localStore } from '../src/stores/local/index.js';
import { hashEmbedder, type TextEmbedder } from './hash-embedder.js';
import { markdownTable } from './markdown-table.js';
import { mem0OssTarget } from './mem0-oss.js';
import { percentile, round } from './percentiles.js';
import { postgresTarget } from './postgres-target.js';

/** One user's memories in the workload. */
export interface WorkloadUser {
  scope: Scope;
  facts: FactInput[];
}

/** A search of the workload: a question about one of the user's memories. */
export interface WorkloadQuery {
  scope: Scope;
  query: string;
  /** The text of the memory the query asks about. */
  expected: string;
}

/** What the benchmark stores and searches. */
export interface Workload {
  users: WorkloadUser[];
  queries: WorkloadQuery[];
}

/** Options of `generateWorkload`. */
export interface WorkloadOptions {
  /** How many memories in all. */
  count: number;
  /** @default 100 */
  memoriesPerUser?: number;
  /** @default 1000 */
  queryCount?: number;
  /** @default 42 */
  seed?: number;
}

/** A store under test, opened fresh for each size. */
export interface StoreBenchTarget {
  name: string;
  /** The largest size this target is run at (it is left out above). @default no limit */
  maxSize?: number;
  open(): Promise<{ store: MemoryStore; fileBytes(): number | null; dispose(): Promise<void> }>;
}

/** The measurements of one store at one size. */
export interface StoreBenchResult {
  /** Memories stored per second, adding one batch per user. */
  addsPerSec: number;
  /**
   * Single-fact adds per second from 50 writers at once (a server's users, each in their own
   * scope); null when the adds did not finish in time.
   */
  concurrentAddsPerSec: number | null;
  /** Median search latency, in milliseconds; null when the adds did not finish in time. */
  searchP50Ms: number | null;
  searchP95Ms: number | null;
  /** Database file plus WAL, in bytes; null for stores without a file. */
  fileBytes: number | null;
  /**
   * Percent of the queries whose memory is among the 8 hits (null when no search was measured).
   * The queries reword the memory, so this measures the ranking, not exact lookup.
   */
  recallAt8: number | null;
  /** Memories stored (restated facts are merged, so this can be a little under the size). */
  memories: number;
  /** Set when the store ran out of its time budget and the numbers cover only part of the size. */
  note?: string;
}

/** Results by size (as a string key) and store name. */
export type StoreBenchResults = Record<string, Record<string, StoreBenchResult>>;

const names = [
  'Ava',
  'Bruno',
  'Chiara',
  'Dmitri',
  'Elif',
  'Farid',
  'Greta',
  'Hiro',
  'Ines',
  'Jonas',
  'Kemi',
  'Lucia',
  'Mateo',
  'Nadia',
  'Oskar',
  'Priya',
];
const foods = [
  'oat milk',
  'dark chocolate',
  'sourdough',
  'ramen',
  'falafel',
  'espresso',
  'green tea',
  'mango',
  'paella',
  'kimchi',
  'pesto',
  'tofu',
  'lentil soup',
  'blueberries',
  'goat cheese',
  'pho',
  'tacos',
  'risotto',
  'hummus',
  'pierogi',
];
const places = [
  'Lisbon',
  'Osaka',
  'Nairobi',
  'Toronto',
  'Krakow',
  'Lima',
  'Hanoi',
  'Oslo',
  'Seville',
  'Melbourne',
  'Tbilisi',
  'Quito',
  'Porto',
  'Zagreb',
  'Accra',
  'Busan',
  'Tallinn',
  'Cusco',
  'Bergen',
  'Marrakesh',
];
const hobbies = [
  'bouldering',
  'watercolour painting',
  'chess',
  'trail running',
  'pottery',
  'birdwatching',
  'salsa dancing',
  'woodworking',
  'sailing',
  'knitting',
  'photography',
  'gardening',
  'fencing',
  'baking bread',
  'cycling',
  'origami',
  'archery',
  'beekeeping',
  'kayaking',
  'calligraphy',
];
const jobs = [
  'nurse',
  'data engineer',
  'architect',
  'teacher',
  'pharmacist',
  'pilot',
  'chef',
  'lawyer',
  'electrician',
  'translator',
  'designer',
  'accountant',
  'veterinarian',
  'journalist',
  'firefighter',
  'librarian',
];
const tools = [
  'Python',
  'Rust',
  'TypeScript',
  'Excel',
  'Figma',
  'Blender',
  'Kubernetes',
  'Postgres',
  'Notion',
  'Linear',
  'Jira',
  'Vim',
  'Emacs',
  'VS Code',
  'Tableau',
  'Go',
];
const days = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const times = ['early morning', 'lunch time', 'late afternoon', 'the evening', 'weekends', 'late at night'];
const colours = ['teal', 'mustard yellow', 'navy', 'forest green', 'burgundy', 'lavender', 'charcoal', 'coral'];
const pets = ['a beagle', 'two cats', 'a parrot', 'a tortoise', 'a rabbit', 'goldfish', 'a greyhound', 'a hamster'];

type Pick = <T>(list: readonly T[]) => T;

// Each template yields a memory and a question about it that shares only some of its words.
const templates: Array<(pick: Pick, number: number) => { fact: FactInput; query: string }> = [
  (pick) => {
    const food = pick(foods);
    return {
      fact: { text: `The user prefers ${food} for breakfast on ${pick(days)}s`, type: 'preference' },
      query: `what does the user eat for breakfast, ${food}?`,
    };
  },
  (pick) => {
    const place = pick(places);
    return {
      fact: { text: `The user is planning a trip to ${place} with ${pick(names)} in ${pick(times)}`, type: 'event' },
      query: `who is travelling to ${place}?`,
    };
  },
  (pick) => {
    const hobby = pick(hobbies);
    return {
      fact: {
        text: `The user has been doing ${hobby} every ${pick(days)} for ${2 + (hobby.length % 9)} years`,
        type: 'fact',
      },
      query: `how long has the user practised ${hobby}`,
    };
  },
  (pick) => {
    const job = pick(jobs);
    return {
      fact: { text: `The user works as a ${job} at a small company in ${pick(places)}`, type: 'profile' },
      query: `what is the user's job, ${job}?`,
    };
  },
  (pick) => {
    const tool = pick(tools);
    return {
      fact: { text: `The user writes most reports in ${tool} and dislikes ${pick(tools)}`, type: 'preference' },
      query: `which tool does the user like, ${tool}`,
    };
  },
  (pick) => {
    const pet = pick(pets);
    return {
      fact: { text: `The user lives with ${pet} and ${pick(names)}, their flatmate`, type: 'profile' },
      query: `does the user have pets like ${pet}`,
    };
  },
  (pick) => {
    const colour = pick(colours);
    return {
      fact: { text: `The user painted the kitchen ${colour} last ${pick(days)}`, type: 'event' },
      query: `what colour is the kitchen, ${colour}?`,
    };
  },
  (pick, number) => {
    const name = pick(names);
    return {
      fact: {
        text: `Meeting ${number} with ${name} moved to ${pick(times)} on ${pick(days)} about ${pick(hobbies)}`,
        type: 'task',
      },
      query: `when is the meeting with ${name}`,
    };
  },
  (pick) => {
    const food = pick(foods);
    return {
      fact: { text: `The user is allergic to ${food} and avoids ${pick(foods)} at restaurants`, type: 'profile' },
      query: `allergies to ${food}`,
    };
  },
  (pick, number) => {
    const place = pick(places);
    return {
      fact: {
        text: `Order ${number} of ${pick(foods)} ships to the office in ${place} by ${pick(days)}`,
        type: 'task',
      },
      query: `shipping to ${place} order ${number}`,
    };
  },
];

/**
 * The benchmark's workload: `count` sentence-like memories of `count / memoriesPerUser` users, and
 * `queryCount` questions, each about a memory of one of them. The same options give the same
 * workload on every machine.
 */
export function generateWorkload({
  count,
  memoriesPerUser = 100,
  queryCount = 1000,
  seed = 42,
}: WorkloadOptions): Workload {
  const random = mulberry32(seed);
  const pick: Pick = (list) => list[Math.floor(random() * list.length)] as (typeof list)[number];
  const users: WorkloadUser[] = [];
  const questions: Array<{ userIndex: number; query: string; expected: string }> = [];
  for (let made = 0, userIndex = 0; made < count; userIndex += 1) {
    const scope: Scope = { userId: `user-${userIndex}`, agentId: userIndex % 3 === 0 ? 'support' : 'assistant' };
    const facts: FactInput[] = [];
    for (let index = 0; index < memoriesPerUser && made < count; index += 1, made += 1) {
      const template = templates[Math.floor(random() * templates.length)] ?? templates[0];
      if (!template) break;
      const { fact, query } = template(pick, made);
      facts.push(fact);
      if (questions.length < queryCount * 4) questions.push({ userIndex, query, expected: fact.text });
    }
    users.push({ scope, facts });
  }
  const queries: WorkloadQuery[] = [];
  for (let index = 0; index < queryCount; index += 1) {
    const question = questions[Math.floor(random() * questions.length)];
    const user = question && users[question.userIndex];
    if (question && user) {
      queries.push({
        scope: { userId: user.scope.userId as string },
        query: question.query,
        expected: question.expected,
      });
    }
  }
  return { users, queries };
}

/** Dimensions of the embedder the local store and mem0 share. */
const embedderDimensions = 256;

/** Largest size mem0 OSS runs at by default: its search compares every vector of the collection. */
const mem0MaxSize = 10_000;

/**
 * The local store, the in-memory store, mem0 OSS (in process, `infer: false`) and the PostgreSQL
 * store, each in a fresh place. `embed` is given to the local store, PostgreSQL and mem0 alike;
 * mem0 cannot search without one, so with `embed` undefined it still gets the hash embedder (and
 * the others none). `embed` has no default: a default would also replace an explicit `undefined`.
 */
export function defaultTargets(embed: TextEmbedder | undefined): StoreBenchTarget[] {
  return [
    {
      name: 'local',
      async open() {
        const folder = mkdtempSync(join(tmpdir(), 'with-memory-bench-'));
        const path = join(folder, 'memory.db');
        const store = localStore(embed ? { path, embedder: embed } : { path });
        return {
          store,
          fileBytes: () => fileSize(path) + fileSize(`${path}-wal`),
          async dispose() {
            await store.close();
            rmSync(folder, { recursive: true, force: true });
          },
        };
      },
    },
    {
      name: 'memory',
      async open() {
        const store = inMemoryStore();
        return { store, fileBytes: () => null, dispose: () => store.close() };
      },
    },
    {
      ...mem0OssTarget({
        embed: embed ?? hashEmbedder({ dimensions: embedderDimensions }),
        dimensions: embedderDimensions,
      }),
      maxSize: mem0MaxSize,
    },
    // Run only when named (`--store postgres`): it needs a PostgreSQL server.
    postgresTarget(embed),
  ];
}

/** Adds the workload to a store, then runs its queries; gives up adding after `budgetMs`. */
export async function measureStore(
  target: StoreBenchTarget,
  workload: Workload,
  budgetMs = 120_000,
): Promise<StoreBenchResult> {
  const opened = await target.open();
  try {
    const { store } = opened;
    const started = performance.now();
    let added = 0;
    let outOfTime = false;
    for (const user of workload.users) {
      await store.add({ facts: user.facts }, { scope: user.scope });
      added += user.facts.length;
      if (performance.now() - started > budgetMs) {
        outOfTime = added < workload.users.reduce((sum, each) => sum + each.facts.length, 0);
        break;
      }
    }
    const addSeconds = (performance.now() - started) / 1000;
    await store.flush?.();
    const result: StoreBenchResult = {
      addsPerSec: Math.round(added / addSeconds),
      concurrentAddsPerSec: null,
      searchP50Ms: null,
      searchP95Ms: null,
      recallAt8: null,
      fileBytes: null,
      memories: await countMemories(store, workload),
    };
    if (outOfTime) {
      result.note = `stopped after ${added} of the memories (${Math.round(budgetMs / 1000)} s budget); no search measured`;
      return result;
    }
    const warmup = Math.min(100, Math.floor(workload.queries.length / 5));
    const latencies: number[] = [];
    let found = 0;
    for (const [index, { scope, query, expected }] of workload.queries.entries()) {
      const start = performance.now();
      const hits = await store.search(query, { scope, limit: 8 });
      if (index >= warmup) latencies.push(performance.now() - start);
      if (hits.some((hit) => hit.text === expected)) found += 1;
    }
    result.searchP50Ms = round(percentile(latencies, 50), 3);
    result.searchP95Ms = round(percentile(latencies, 95), 3);
    result.recallAt8 = round((100 * found) / Math.max(1, workload.queries.length), 1);
    // The file of the workload alone, before the concurrent writers add theirs.
    result.fileBytes = opened.fileBytes();
    result.concurrentAddsPerSec = await concurrentAddsPerSec(store);
    return result;
  } finally {
    await opened.dispose();
  }
}

const concurrentWriters = 50;
const concurrentRounds = 20;

/** Single-fact adds per second when 50 writers, each in their own new scope, add at once. */
async function concurrentAddsPerSec(store: MemoryStore): Promise<number> {
  const { users } = generateWorkload({
    count: concurrentWriters * concurrentRounds,
    memoriesPerUser: concurrentRounds,
    queryCount: 0,
    seed: 7,
  });
  const writers = users.map((user, index) => ({ ...user, scope: { userId: `writer-${index}` } }));
  const started = performance.now();
  for (let round = 0; round < concurrentRounds; round += 1) {
    await Promise.all(
      writers.map(({ facts, scope }) => {
        const fact = facts[round];
        return fact ? store.add({ facts: [fact] }, { scope }) : undefined;
      }),
    );
  }
  return Math.round((writers.length * concurrentRounds) / ((performance.now() - started) / 1000));
}

/** Options of `runStoreBench`. */
export interface StoreBenchOptions {
  /** Memory counts to measure. @default [10000, 100000] */
  sizes?: number[];
  /** Write the results as JSON to this file. */
  json?: string;
  /** Only the targets with these names (`local`, `memory`). @default every target */
  stores?: string[];
  /** The stores to measure. @default defaultTargets(the embedder of `embedder`) */
  targets?: StoreBenchTarget[];
  /** The embedder the local store and mem0 share (`none`: the local store is lexical only). @default 'hash' */
  embedder?: 'none' | 'hash';
  /** Searches per size and store (the workload's queries). @default 300 */
  queryCount?: number;
  /** Time a store may spend adding one size before it is stopped, in milliseconds. @default 120000 */
  budgetMs?: number;
  /** Print the table on stdout. @default true */
  print?: boolean;
}

/**
 * Runs the benchmark at each size for each target, prints a table, writes JSON when asked, and
 * returns the results.
 *
 * @example
 * const results = await runStoreBench({ sizes: [10_000], json: 'bench/results/store.json' });
 */
export async function runStoreBench(options: StoreBenchOptions = {}): Promise<StoreBenchResults> {
  const { sizes = [10_000, 100_000], print = true, embedder = 'hash', queryCount = 300 } = options;
  const available =
    options.targets ??
    defaultTargets(embedder === 'hash' ? hashEmbedder({ dimensions: embedderDimensions }) : undefined);
  const unknown = (options.stores ?? []).filter((name) => !available.some((target) => target.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown store ${unknown.join(', ')}; known: ${available.map((target) => target.name).join(', ')}.`,
    );
  }
  const targets = options.stores
    ? available.filter((target) => options.stores?.includes(target.name))
    : available.filter((target) => target.name !== 'postgres');
  const results: StoreBenchResults = {};
  for (const size of sizes) {
    const workload = generateWorkload({ count: size, queryCount });
    const sizeResults: Record<string, StoreBenchResult> = {};
    results[String(size)] = sizeResults;
    for (const target of targets) {
      if (target.maxSize !== undefined && size > target.maxSize) continue;
      process.stderr.write(`store bench: ${target.name} at ${size.toLocaleString('en')} memories…\n`);
      sizeResults[target.name] = await measureStore(target, workload, options.budgetMs);
    }
  }
  if (print) console.log(formatStoreResult(results));
  if (options.json) writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
  return results;
}

/** The measurements of one store with every memory in one scope. */
export interface OneScopeResult {
  /** Memories stored per second, adding batches of 100. */
  addsPerSec: number;
  searchP50Ms: number;
  searchP95Ms: number;
  /** Percent of the queries whose memory is among the 8 hits. */
  recallAt8: number;
  /** `list({ types: ['preference', 'profile'], limit: 5 })`: the standing preferences of every call. */
  listP50Ms: number;
  listP95Ms: number;
  /** Memories stored: the workload restates many facts, which are merged. */
  memories: number;
}

/** One-scope results by size (as a string key) and store name. */
export type OneScopeResults = Record<string, Record<string, OneScopeResult>>;

const oneScopeBatch = 100;

/**
 * Every memory in ONE scope (an agent-wide or app-wide scope of shared knowledge): adds in batches
 * of 100, then searches and the standing-preferences list. Shows how a search's cost grows with
 * the scope.
 */
export async function runOneScopeBench(
  options: { sizes?: number[]; stores?: string[]; embedder?: 'none' | 'hash'; queryCount?: number } = {},
): Promise<OneScopeResults> {
  const { sizes = [100, 1000, 10_000, 50_000, 100_000], embedder = 'none', queryCount = 300 } = options;
  // mem0 OSS reads its whole collection on every search; PostgreSQL runs only when named (it needs a server).
  const targets = defaultTargets(embedder === 'hash' ? hashEmbedder({ dimensions: embedderDimensions }) : undefined)
    .filter((target) => target.name !== 'mem0-oss')
    .filter((target) => (options.stores ? options.stores.includes(target.name) : target.name !== 'postgres'));
  const results: OneScopeResults = {};
  for (const size of sizes) {
    const { users, queries } = generateWorkload({ count: size, memoriesPerUser: size, queryCount });
    const [only] = users;
    if (!only) continue;
    const sizeResults: Record<string, OneScopeResult> = {};
    results[String(size)] = sizeResults;
    for (const target of targets) {
      process.stderr.write(`store bench (one scope): ${target.name} at ${size.toLocaleString('en')} memories…\n`);
      const opened = await target.open();
      try {
        const { store } = opened;
        const started = performance.now();
        for (let index = 0; index < only.facts.length; index += oneScopeBatch) {
          await store.add({ facts: only.facts.slice(index, index + oneScopeBatch) }, { scope: only.scope });
        }
        const addsPerSec = Math.round(only.facts.length / ((performance.now() - started) / 1000));
        const warmup = Math.min(50, Math.floor(queries.length / 5));
        const searches: number[] = [];
        const lists: number[] = [];
        let found = 0;
        for (const [index, { scope, query, expected }] of queries.entries()) {
          const searchStart = performance.now();
          const hits = await store.search(query, { scope, limit: 8 });
          const listStart = performance.now();
          await store.list?.({ scope, types: ['preference', 'profile'], limit: 5 });
          if (index >= warmup) {
            searches.push(listStart - searchStart);
            lists.push(performance.now() - listStart);
          }
          if (hits.some((hit) => hit.text === expected)) found += 1;
        }
        sizeResults[target.name] = {
          addsPerSec,
          searchP50Ms: round(percentile(searches, 50), 3),
          searchP95Ms: round(percentile(searches, 95), 3),
          recallAt8: round((100 * found) / Math.max(1, queries.length), 1),
          listP50Ms: round(percentile(lists, 50), 3),
          listP95Ms: round(percentile(lists, 95), 3),
          memories: await countScope(store, only.scope),
        };
      } finally {
        await opened.dispose();
      }
    }
  }
  return results;
}

/** The one-scope results as a Markdown table. */
export function formatOneScopeResult(results: OneScopeResults): string {
  const rows = rowsBySizeAndStore(results, (result) => [
    result.addsPerSec.toLocaleString('en'),
    result.searchP50Ms.toFixed(2),
    result.searchP95Ms.toFixed(2),
    result.recallAt8,
    result.listP50Ms.toFixed(2),
    result.listP95Ms.toFixed(2),
    result.memories.toLocaleString('en'),
  ]);
  return markdownTable(
    [
      'memories in one scope',
      'store',
      'adds/s',
      'search p50 ms',
      'search p95 ms',
      'recall@8 %',
      'list p50 ms',
      'list p95 ms',
      'stored',
    ],
    rows,
  );
}

async function countScope(store: MemoryStore, scope: Scope): Promise<number> {
  let total = 0;
  for (let offset = 0; ; offset += 1000) {
    const page = (await store.list?.({ scope, limit: 1000, offset })) ?? [];
    total += page.length;
    if (page.length < 1000) return total;
  }
}

/** The local store against mem0 OSS at one size: how many times faster, and both recalls. */
export interface Mem0Comparison {
  /** mem0's search p50 / the local store's. */
  searchSpeedup: number;
  /** The local store's adds per second / mem0's. */
  addSpeedup: number;
  localRecallAt8: number | null;
  mem0RecallAt8: number | null;
}

/** The comparison with mem0 OSS at each size where both ran. */
export function compareWithMem0(results: StoreBenchResults): Record<string, Mem0Comparison> {
  const comparison: Record<string, Mem0Comparison> = {};
  for (const [size, stores] of Object.entries(results)) {
    const local = stores.local;
    const mem0 = stores['mem0-oss'];
    if (!local || !mem0 || !local.searchP50Ms || !mem0.searchP50Ms || !mem0.addsPerSec) continue;
    comparison[size] = {
      searchSpeedup: round(mem0.searchP50Ms / local.searchP50Ms, 1),
      addSpeedup: round(local.addsPerSec / mem0.addsPerSec, 2),
      localRecallAt8: local.recallAt8,
      mem0RecallAt8: mem0.recallAt8,
    };
  }
  return comparison;
}

/** The results as a Markdown table, one row per size and store, and the comparison with mem0. */
export function formatStoreResult(results: StoreBenchResults): string {
  const rows = rowsBySizeAndStore(results, (result) => [
    result.addsPerSec.toLocaleString('en'),
    result.concurrentAddsPerSec?.toLocaleString('en') ?? '-',
    result.searchP50Ms?.toFixed(2) ?? '-',
    result.searchP95Ms?.toFixed(2) ?? '-',
    result.recallAt8 ?? '-',
    result.fileBytes === null ? '-' : (result.fileBytes / 1_048_576).toFixed(1),
    result.memories.toLocaleString('en') + (result.note ? ` (${result.note})` : ''),
  ]);
  const table = markdownTable(
    [
      'memories',
      'store',
      'adds/s',
      'adds/s, 50 writers',
      'search p50 ms',
      'search p95 ms',
      'recall@8 %',
      'file MB',
      'stored',
    ],
    rows,
  );
  const comparison = Object.entries(compareWithMem0(results));
  if (comparison.length === 0) return table;
  const versus = markdownTable(
    ['memories', 'search: local × faster', 'adds: local × faster', 'recall@8 local', 'recall@8 mem0 OSS'],
    comparison.map(([size, entry]) => [
      Number(size).toLocaleString('en'),
      entry.searchSpeedup,
      entry.addSpeedup,
      entry.localRecallAt8 ?? '-',
      entry.mem0RecallAt8 ?? '-',
    ]),
  );
  return `${table}\n\nLocal store against mem0 OSS (same workload, same embedder):\n\n${versus}`;
}

/** One table row per size and store: the size, the store's name, then its cells. */
function rowsBySizeAndStore<R>(
  results: Record<string, Record<string, R>>,
  cells: (result: R) => Array<string | number>,
): Array<Array<string | number>> {
  return Object.entries(results).flatMap(([size, stores]) =>
    Object.entries(stores).map(([name, result]) => [Number(size).toLocaleString('en'), name, ...cells(result)]),
  );
}

async function countMemories(store: MemoryStore, workload: Workload): Promise<number> {
  if (!store.list) return 0;
  let total = 0;
  for (const user of workload.users) total += (await store.list({ scope: user.scope, limit: 1000 })).length;
  return total;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** A small, fast, seeded PRNG (public domain), so the workload is the same on every run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function parseArguments(argv: string[]): StoreBenchOptions {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index === -1 ? undefined : argv[index + 1];
  };
  const sizes = (value('--sizes') ?? '10000,100000')
    .split(',')
    .map((size) => Number(size.replaceAll('_', '')))
    .filter((size) => Number.isInteger(size) && size > 0);
  if (argv.includes('--million')) sizes.push(1_000_000);
  const options: StoreBenchOptions = { sizes };
  const json = value('--json');
  if (json !== undefined) options.json = json;
  const stores = value('--stores');
  if (stores !== undefined) options.stores = stores.split(',').map((name) => name.trim());
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runStoreBench(parseArguments(process.argv.slice(2)));
}
