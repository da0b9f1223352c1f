/**
 * `bench overhead`: what `withMemory` adds to a call. A function target whose "model" answers
 * after a fixed delay, a store whose search and add take fixed delays: p50/p95 of the raw call, of
 * the wrapped call with `write: 'background'` and with `write: 'await'`, and the ratio
 * wrapped / (raw + search delay). Then the pure CPU cost per call with no delays at all, for the
 * in-memory and the local store.
 *
 * @module
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { MemoryStore } from '../src/core/types.js';
import { flushMemory } from '../src/core/writeback.js';
import type { MemoryFunction } from '../src/providers/function.js';
import { inMemoryStore } from '../src/stores/in-memory.js';
import { exchangeExtractor } from '../src/strategies/extract/exchange-extractor.js';
import { withMemory } from '../src/with-memory.js';
import { markdownTable } from './markdown-table.js';
import { percentile, round } from './percentiles.js';

/** Options of `runOverheadBench`. */
export interface OverheadBenchOptions {
  /** Timed calls per mode. @default 40 */
  calls?: number;
  /** How long the fake model takes to answer, in ms. @default 100 */
  modelMs?: number;
  /** How long the store's search (and list) takes, in ms. @default 20 */
  searchMs?: number;
  /** How long the store's add takes, in ms. @default 300 */
  addMs?: number;
  /** Calls per store for the CPU cost, with every delay at zero. @default 2000 */
  cpuCalls?: number;
  /** Wrappers created (each used for one call) before the wrapper-scaling row's timed calls. @default 10000 */
  wrappers?: number;
  /** Timed calls per process of the wrapper-scaling row. @default 2000 */
  scalingCalls?: number;
  /** Rounds (a fresh process and one after the wrappers each) of the wrapper-scaling row. @default 3 */
  scalingRounds?: number;
}

/** Per-call time of a process that created many wrappers beside a fresh process (H1). */
export interface WrapperScalingRow {
  wrappers: number;
  /** Median over the rounds, in microseconds per call. */
  freshMicrosPerCall: number;
  afterWrappersMicrosPerCall: number;
  /** after / fresh; 1 means the wrappers created cost nothing to later calls. */
  ratio: number;
}

/** Latency of one mode, in ms. */
export interface LatencyRow {
  p50: number;
  p95: number;
}

/** What `bench overhead` measures; written as JSON by `--json`. */
export interface OverheadBenchResult {
  benchmark: 'overhead';
  date: string;
  settings: Required<OverheadBenchOptions>;
  raw: LatencyRow;
  /** The store's search as measured inside the store (its delay plus timer lateness and the search). */
  search: LatencyRow;
  background: LatencyRow;
  await: LatencyRow;
  /** p50 of the wrapped call in background mode / (p50 of the raw call + p50 of the store's search). */
  ratioBackground: number;
  /** p50 of the wrapped call in await mode / (p50 of the raw call + p50 of the store's search). */
  ratioAwait: number;
  /** Microseconds of CPU `withMemory` adds per call with no delays, per store (`memory`, `local`). */
  cpuMicrosPerCall: Record<string, number>;
  /** The same with `write: false`: search and build only, no extraction and no write. */
  cpuMicrosPerCallReadOnly: Record<string, number>;
  /** Why a store's CPU cost could not be measured, if it could not. */
  errors?: Record<string, string>;
  wrapperScaling: WrapperScalingRow;
}

/** Rounds of the CPU measurement per store and mode. */
const cpuRounds = 5;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the benchmarks' users say, in turn. */
export const userMessages = [
  'I prefer window seats when I fly.',
  'What should I pack for Oslo in March?',
  'My daughter is allergic to peanuts.',
  'Can you suggest a vegetarian dinner for four?',
  'I work from home on Fridays.',
  'Which train gets me to Bergen before noon?',
  'I am learning Norwegian, please keep it simple.',
  'Remind me what my favourite tea is.',
];

function fakeModel(modelMs: number): MemoryFunction {
  return async (request) => {
    if (modelMs > 0) await sleep(modelMs);
    return `Noted (${request.messages.length} messages).`;
  };
}

/**
 * A store that waits before each search, list and add: the latency of a store across a network.
 * Each search's real duration is recorded in `searchTimes` (timers fire a little late).
 */
function delayedStore(inner: MemoryStore, searchMs: number, addMs: number, searchTimes: number[]): MemoryStore {
  return {
    name: 'delayed',
    extractsFacts: false,
    async search(query, options) {
      const started = performance.now();
      await sleep(searchMs);
      const hits = await inner.search(query, options);
      searchTimes.push(performance.now() - started);
      return hits;
    },
    async add(write, options) {
      await sleep(addMs);
      return inner.add(write, options);
    },
    async list(options) {
      await sleep(searchMs);
      return (await inner.list?.(options)) ?? [];
    },
  };
}

async function seed(store: MemoryStore, scope: { userId: string }): Promise<void> {
  const facts = Array.from({ length: 200 }, (_, index) => ({
    text: `Note ${index}: ${userMessages[index % userMessages.length] ?? ''} (${index % 7} days ago)`,
    type: index % 10 === 0 ? 'preference' : 'fact',
  }));
  await store.add({ facts }, { scope });
}

async function timeCalls(call: MemoryFunction, calls: number): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < calls; index += 1) {
    const started = performance.now();
    await call({
      system: 'You are a helpful assistant.',
      messages: [{ role: 'user', content: userMessages[index % userMessages.length] ?? '' }],
    });
    times.push(performance.now() - started);
  }
  return times;
}

const latency = (times: number[]): LatencyRow => ({
  p50: round(percentile(times, 50)),
  p95: round(percentile(times, 95)),
});

/**
 * Runs the overhead benchmark.
 *
 * @example
 * const result = await runOverheadBench({ calls: 20 });
 * console.log(result.ratioBackground);
 */
export async function runOverheadBench(options: OverheadBenchOptions = {}): Promise<OverheadBenchResult> {
  const {
    calls = 40,
    modelMs = 100,
    searchMs = 20,
    addMs = 300,
    cpuCalls = 2000,
    wrappers = 10_000,
    scalingCalls = 2000,
    scalingRounds = 3,
  } = options;
  const scope = { userId: 'bench-overhead' };
  const model = fakeModel(modelMs);

  await timeCalls(model, 3);
  const raw = await timeCalls(model, calls);

  const modes: Record<'background' | 'await', number[]> = { background: [], await: [] };
  const searchTimes: number[] = [];
  for (const write of ['background', 'await'] as const) {
    const inner = inMemoryStore();
    await seed(inner, scope);
    const wrapped = withMemory(model, {
      scope,
      store: delayedStore(inner, searchMs, addMs, searchTimes),
      write,
      extract: exchangeExtractor(),
    });
    await timeCalls(wrapped, 3);
    modes[write] = await timeCalls(wrapped, calls);
    await flushMemory(wrapped);
    await inner.close();
  }

  const cpuMicrosPerCall: Record<string, number> = {};
  const cpuMicrosPerCallReadOnly: Record<string, number> = {};
  const errors: Record<string, string> = {};
  for (const kind of ['memory', 'local'] as const) {
    try {
      cpuMicrosPerCall[kind] = await cpuCost(kind, cpuCalls, 'background');
      cpuMicrosPerCallReadOnly[kind] = await cpuCost(kind, cpuCalls, false);
    } catch (error) {
      errors[kind] = error instanceof Error ? error.message : String(error);
    }
  }

  // The search's measured time, not its nominal delay: a timer fires a little late, and that
  // lateness belongs to the store, not to what withMemory adds.
  const searchP50 = percentile(searchTimes, 50);
  const base = percentile(raw, 50) + searchP50;
  const result: OverheadBenchResult = {
    benchmark: 'overhead',
    date: new Date().toISOString(),
    settings: { calls, modelMs, searchMs, addMs, cpuCalls, wrappers, scalingCalls, scalingRounds },
    raw: latency(raw),
    search: latency(searchTimes),
    background: latency(modes.background),
    await: latency(modes.await),
    ratioBackground: round(percentile(modes.background, 50) / base, 3),
    ratioAwait: round(percentile(modes.await, 50) / base, 3),
    cpuMicrosPerCall,
    cpuMicrosPerCallReadOnly,
    wrapperScaling: await wrapperScaling(wrappers, scalingCalls, scalingRounds),
  };
  if (Object.keys(errors).length > 0) result.errors = errors;
  return result;
}

/**
 * Microseconds `withMemory` adds per call when nothing waits: a model that answers at once, the
 * store itself (search, build, and with `write` on, extract and write; background writes are
 * flushed at the end and counted).
 */
async function cpuCost(kind: 'memory' | 'local', calls: number, write: 'background' | false): Promise<number> {
  const scope = { userId: 'bench-cpu' };
  const model = fakeModel(0);
  let directory: string | undefined;
  let store: MemoryStore;
  if (kind === 'memory') store = inMemoryStore();
  else {
    directory = mkdtempSync(join(tmpdir(), 'with-memory-bench-'));
    const { localStore } = await import('../src/stores/local/index.js');
    store = localStore({ path: join(directory, 'memory.db') });
  }
  try {
    await seed(store, scope);
    const wrapped = withMemory(model, { scope, store, write });
    // CPU time of the process (process.cpuUsage), not wall time: on a shared machine the wall
    // clock also counts the time other processes held the cores.
    const run = async (target: MemoryFunction) => {
      const started = process.cpuUsage();
      await timeCalls(target, calls);
      await flushMemory(wrapped);
      const used = process.cpuUsage(started);
      return (used.user + used.system) / 1000;
    };
    await run(wrapped);
    await run(model);
    // Rounds of raw and wrapped calls, alternated; the median round's difference, so one
    // garbage collection or a neighbour's burst on the machine does not decide the figure.
    const differences: number[] = [];
    for (let index = 0; index < cpuRounds; index += 1) {
      const rawMs = await run(model);
      differences.push((await run(wrapped)) - rawMs);
    }
    return round((1000 * Math.max(0, percentile(differences, 50))) / calls, 1);
  } finally {
    await store.close?.();
    if (directory) rmSync(directory, { recursive: true, force: true });
  }
}

const run = promisify(execFile);
const scalingScript = fileURLToPath(new URL('./wrapper-scaling.ts', import.meta.url));

/** Microseconds per call in a new process that first created `wrappers` wrappers. */
async function callTimeAfter(wrappers: number, calls: number): Promise<number> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', scalingScript, String(wrappers), String(calls)], {
    maxBuffer: 1024 * 1024,
  });
  return (JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { microsPerCall: number }).microsPerCall;
}

/**
 * H1: per-call time after `wrappers` wrappers were created, beside a fresh process; rounds of
 * both alternated (a neighbour's burst on a shared machine hits both), medians compared.
 */
async function wrapperScaling(wrappers: number, calls: number, rounds: number): Promise<WrapperScalingRow> {
  const fresh: number[] = [];
  const after: number[] = [];
  for (let index = 0; index < rounds; index += 1) {
    fresh.push(await callTimeAfter(0, calls));
    after.push(await callTimeAfter(wrappers, calls));
  }
  const freshMicrosPerCall = round(percentile(fresh, 50), 1);
  const afterWrappersMicrosPerCall = round(percentile(after, 50), 1);
  return {
    wrappers,
    freshMicrosPerCall,
    afterWrappersMicrosPerCall,
    ratio: round(afterWrappersMicrosPerCall / freshMicrosPerCall, 3),
  };
}

/** The result as tables. */
export function formatOverheadResult(result: OverheadBenchResult): string {
  const { settings } = result;
  const latencyTable = markdownTable(
    ['call', 'p50 ms', 'p95 ms', 'p50 / (raw + search)'],
    [
      [
        'raw (model only)',
        result.raw.p50,
        result.raw.p95,
        round(result.raw.p50 / (result.raw.p50 + result.search.p50), 3),
      ],
      ['store search alone', result.search.p50, result.search.p95, '-'],
      ["wrapped, write: 'background'", result.background.p50, result.background.p95, result.ratioBackground],
      ["wrapped, write: 'await'", result.await.p50, result.await.p95, result.ratioAwait],
    ],
  );
  const cpuTable = markdownTable(
    ['store', "CPU µs per call, write: 'background'", 'CPU µs per call, write: false'],
    Object.entries(result.cpuMicrosPerCall).map(([store, micros]) => [
      store,
      micros,
      result.cpuMicrosPerCallReadOnly[store] ?? '-',
    ]),
  );
  const failed = Object.entries(result.errors ?? {}).map(([store, message]) => `${store}: not measured (${message})`);
  const scaling = result.wrapperScaling;
  const scalingTable = markdownTable(
    ['process', 'µs per call', 'ratio'],
    [
      ['fresh', scaling.freshMicrosPerCall, 1],
      [`after ${scaling.wrappers} wrappers created`, scaling.afterWrappersMicrosPerCall, scaling.ratio],
    ],
  );
  return [
    `Overhead: model ${settings.modelMs} ms, store search ${settings.searchMs} ms, add ${settings.addMs} ms, ${settings.calls} calls per mode`,
    '',
    latencyTable,
    '',
    `CPU cost: ${settings.cpuCalls} calls per store and round, median of ${cpuRounds} rounds, 200 memories seeded, background writes flushed and counted`,
    '',
    cpuTable,
    ...failed,
    '',
    `Wrapper scaling: ${settings.scalingCalls} calls of one wrapper (in-memory store, model answers at once, writes flushed), in a fresh process and in one that first created ${settings.wrappers} wrappers each used for one call; median of ${settings.scalingRounds} alternated rounds`,
    '',
    scalingTable,
  ].join('\n');
}
