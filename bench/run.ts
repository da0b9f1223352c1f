/**
 * `npm run bench -- <overhead|server|erase|locomo|e2e|longmemeval|store|all> [options]`: runs a benchmark, prints its tables and
 * writes its JSON (`--json <file>`, by default `bench/results/<name>.json`).
 *
 * @module
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type E2eConfig, type E2eStore, e2eConfigs, e2eStores, formatE2eResult, runE2eBench } from './e2e.js';
import { formatEraseResult, runEraseBench } from './erase.js';
import { defaultLocomoPath, formatLocomoResult, type LocomoBenchResult, runLocomoBench } from './locomo.js';
import {
  defaultLongMemEvalPath,
  formatLongMemEvalResult,
  type LongMemEvalConfig,
  longMemEvalConfigs,
  runLongMemEvalBench,
} from './longmemeval.js';
import {
  type BenchEmbedderName,
  type BenchStoreKind,
  benchEmbedderNames,
  benchStoreKinds,
} from './open-bench-store.js';
import { formatOverheadResult, runOverheadBench } from './overhead.js';
import { formatServerResult, runServerBench, type ServerBenchOptions } from './server.js';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDirectory = join(repositoryRoot, 'bench', 'results');

// mem0 reads these when it is imported: no telemetry from a benchmark, no writes to ~/.mem0.
process.env.MEM0_TELEMETRY = 'false';

/** Where the machine is described in every JSON file, so figures are never read without it. */
function machine(): { node: string; cpus: number; cpuModel: string; platform: string } {
  const list = cpus();
  return {
    node: process.version,
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    platform: process.platform,
  };
}

function writeJson(file: string, name: string, result: object): void {
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ ...result, machine: machine(), command: commandLine() }, null, 2)}\n`);
  console.log(`\n${name}: JSON written to ${path}`);
}

function commandLine(): string {
  return `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
}

const positiveInteger = (value: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('a whole number above 0');
  return number;
};
const integerList = (value: string): number[] => value.split(',').map((part) => positiveInteger(part.trim()));
const nameList = (value: string): string[] =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

async function overhead(options: { json?: string; calls?: number; cpuCalls?: number }): Promise<object> {
  const result = await runOverheadBench({
    ...(options.calls === undefined ? {} : { calls: options.calls }),
    ...(options.cpuCalls === undefined ? {} : { cpuCalls: options.cpuCalls }),
  });
  console.log(formatOverheadResult(result));
  writeJson(options.json ?? join(resultsDirectory, 'overhead.json'), 'overhead', result);
  return result;
}

async function server(options: ServerBenchOptions & { json?: string }): Promise<object> {
  const { json, ...settings } = options;
  const result = await runServerBench(settings);
  console.log(formatServerResult(result));
  writeJson(json ?? join(resultsDirectory, 'server.json'), 'server', result);
  return result;
}

async function erase(options: { json?: string; sizes?: number[] }): Promise<object> {
  const rows = await runEraseBench(options.sizes);
  console.log(formatEraseResult(rows));
  writeJson(options.json ?? join(resultsDirectory, 'erase.json'), 'erase', { rows });
  return { rows };
}

/** The options of the benchmarks that read LoCoMo: the file, which conversations, how many questions. */
interface LocomoDataOptions {
  data: string;
  conversations?: string[];
  questions?: number;
}

function withLocomoData(command: Command): Command {
  return command
    .option('--data <file>', 'the LoCoMo-format JSON file (relative to the repository)', defaultLocomoPath)
    .option('--conversations <ids>', 'comma-separated sample ids, e.g. conv-26,conv-30', nameList)
    .option('--questions <n>', 'only the first n questions of each conversation', positiveInteger);
}

/** What those options ask of `runLocomoBench` and `runE2eBench`. */
function locomoData(options: LocomoDataOptions) {
  return {
    dataPath: resolve(repositoryRoot, options.data),
    ...(options.conversations === undefined ? {} : { conversations: options.conversations }),
    ...(options.questions === undefined ? {} : { questionsPerConversation: options.questions }),
  };
}

interface LocomoCliOptions extends LocomoDataOptions {
  json?: string;
  store: BenchStoreKind;
  embedder: BenchEmbedderName;
}

async function locomo(
  options: LocomoCliOptions,
  defaultJson = join(resultsDirectory, 'locomo.json'),
): Promise<LocomoBenchResult> {
  const result = await runLocomoBench({ ...locomoData(options), store: options.store, embedder: options.embedder });
  console.log(formatLocomoResult(result));
  writeJson(options.json ?? defaultJson, 'locomo', result);
  return result;
}

interface E2eCliOptions extends LocomoDataOptions {
  json?: string;
  configs?: string[];
  store: E2eStore;
  maxTokens: number;
}

async function e2e(options: E2eCliOptions): Promise<object> {
  const unknown = (options.configs ?? []).filter((config) => !(e2eConfigs as readonly string[]).includes(config));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown configuration ${unknown.join(', ')}; use ${e2eConfigs.join(', ')}`);
  const result = await runE2eBench({
    ...locomoData(options),
    store: options.store,
    maxTokens: options.maxTokens,
    ...(options.configs === undefined ? {} : { configs: options.configs as E2eConfig[] }),
  });
  console.log(formatE2eResult(result));
  writeJson(options.json ?? join(resultsDirectory, 'e2e.json'), 'e2e', result);
  return result;
}

interface LongMemEvalCliOptions {
  json?: string;
  data: string;
  configs?: string[];
  store: E2eStore;
  perType?: number;
  ids?: string[];
}

async function longMemEval(options: LongMemEvalCliOptions): Promise<object> {
  const unknown = (options.configs ?? []).filter(
    (config) => !(longMemEvalConfigs as readonly string[]).includes(config),
  );
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown configuration ${unknown.join(', ')}; use ${longMemEvalConfigs.join(', ')}`);
  const result = await runLongMemEvalBench({
    dataPath: resolve(repositoryRoot, options.data),
    store: options.store,
    ...(options.configs === undefined ? {} : { configs: options.configs as LongMemEvalConfig[] }),
    ...(options.perType === undefined ? {} : { perType: options.perType }),
    ...(options.ids === undefined ? {} : { questionIds: options.ids }),
  });
  console.log(formatLongMemEvalResult(result));
  writeJson(options.json ?? join(resultsDirectory, 'longmemeval.json'), 'longmemeval', result);
  return result;
}

async function store(options: {
  json?: string;
  sizes?: number[];
  stores?: string[];
  embedder?: BenchEmbedderName;
  oneScope?: boolean;
}): Promise<object> {
  const { runStoreBench, formatStoreResult, compareWithMem0, runOneScopeBench, formatOneScopeResult } = await import(
    './store.js'
  );
  const embedder = options.embedder ?? 'hash';
  if (options.oneScope) {
    const results = await runOneScopeBench({
      embedder,
      ...(options.sizes === undefined ? {} : { sizes: options.sizes }),
      ...(options.stores === undefined ? {} : { stores: options.stores }),
    });
    console.log(formatOneScopeResult(results));
    const result = { benchmark: 'store --one-scope', date: new Date().toISOString(), embedder, results };
    writeJson(options.json ?? join(resultsDirectory, 'store-one-scope.json'), 'store', result);
    return result;
  }
  const results = await runStoreBench({
    print: false,
    embedder,
    ...(options.sizes === undefined ? {} : { sizes: options.sizes }),
    ...(options.stores === undefined ? {} : { stores: options.stores }),
  });
  console.log(formatStoreResult(results));
  const result = {
    benchmark: 'store',
    date: new Date().toISOString(),
    embedder,
    results,
    vsMem0: compareWithMem0(results),
  };
  writeJson(options.json ?? join(resultsDirectory, 'store.json'), 'store', result);
  return result;
}

const program = new Command('bench')
  .description('with-memory benchmarks: tables on stdout, JSON in bench/results/ (or --json <file>)')
  .showHelpAfterError();

program
  .command('overhead')
  .description('what withMemory adds to a call: latency with delayed model and store, CPU µs per call')
  .option('--json <file>', 'write the results to this file (default bench/results/overhead.json)')
  .option('--calls <n>', 'timed calls per mode', positiveInteger)
  .option('--cpu-calls <n>', 'calls per store for the CPU cost', positiveInteger)
  .action(async (options: { json?: string; calls?: number; cpuCalls?: number }) => {
    await overhead(options);
  });

program
  .command('server')
  .description('one process, many users: a loopback HTTP server without memory, wrapped once, wrapped per request')
  .option('--json <file>', 'write the results to this file (default bench/results/server.json)')
  .option('--requests <n>', 'requests per mode and round', positiveInteger)
  .option('--users <n>', 'distinct users', positiveInteger)
  .option('--concurrency <n>', 'clients at once', positiveInteger)
  .option('--rounds <n>', 'alternated rounds of every mode', positiveInteger)
  .addOption(new Option('--store <store>', 'the store').choices(['local', 'memory']))
  .action(async (options: ServerBenchOptions & { json?: string }) => {
    await server(options);
  });

program
  .command('erase')
  .description('what an erase costs on the local store: deleteAll of a user and erase of one memory, by file size')
  .option('--json <file>', 'write the results to this file (default bench/results/erase.json)')
  .option('--sizes <list>', 'memories in the file, comma-separated (default 10000,100000)', integerList)
  .action(async (options: { json?: string; sizes?: number[] }) => {
    await erase(options);
  });

withLocomoData(
  program
    .command('locomo')
    .description('retrieval quality on a LoCoMo-format file, beside a plain BM25 baseline')
    .option('--json <file>', 'write the results to this file (default bench/results/locomo.json)'),
)
  .addOption(new Option('--store <store>', 'the store to search').choices(benchStoreKinds).default('local'))
  .addOption(
    new Option('--embedder <name>', 'the embedder (hash: deterministic stand-in, not semantic)')
      .choices(benchEmbedderNames)
      .default('none'),
  )
  .action(async (options: LocomoCliOptions) => {
    await locomo(options);
  });

withLocomoData(
  program
    .command('e2e')
    .description(
      'what the default withMemory remembers end to end on LoCoMo: answer words found in the injected blocks',
    )
    .option('--json <file>', 'write the results to this file (default bench/results/e2e.json)'),
)
  .option('--configs <list>', `comma-separated configurations: ${e2eConfigs.join(',')}`, nameList)
  .addOption(new Option('--store <store>', 'the store each conversation gets').choices(e2eStores).default('local'))
  .option('--max-tokens <n>', "token budget of each speaker's block", positiveInteger, 400)
  .action(async (options: E2eCliOptions) => {
    await e2e(options);
  });

program
  .command('longmemeval')
  .description("what withMemory remembers of one user's long chat history (LongMemEval): answer words in the block")
  .option('--json <file>', 'write the results to this file (default bench/results/longmemeval.json)')
  .option(
    '--data <file>',
    'the LongMemEval file, .jsonl or .jsonl.gz (relative to the repository)',
    defaultLongMemEvalPath,
  )
  .option('--configs <list>', `comma-separated configurations: ${longMemEvalConfigs.join(',')}`, nameList)
  .addOption(new Option('--store <store>', 'the store each question gets').choices(e2eStores).default('local'))
  .option('--per-type <n>', 'only the first n scored questions of each type', positiveInteger)
  .option('--ids <list>', 'only these question ids', nameList)
  .action(async (options: LongMemEvalCliOptions) => {
    await longMemEval(options);
  });

program
  .command('store')
  .description('store scale: adds/s, search p50/p95 and file size per size, local vs memory vs mem0 OSS')
  .option('--json <file>', 'write the results to this file (default bench/results/store.json)')
  .option('--sizes <list>', 'comma-separated memory counts, e.g. 1000,10000', integerList)
  .option('--stores <list>', 'comma-separated stores: local,memory,mem0-oss,postgres', nameList)
  .option('--store <name>', 'one store to measure beside the local store, e.g. postgres')
  .addOption(
    new Option('--embedder <name>', 'the embedder the local store and mem0 share')
      .choices(benchEmbedderNames)
      .default('hash'),
  )
  .option(
    '--one-scope',
    'every memory in one scope (default sizes 100 to 100,000; local and memory): search and list cost by scope size',
  )
  .action(
    async (options: {
      json?: string;
      sizes?: number[];
      stores?: string[];
      store?: string;
      embedder?: BenchEmbedderName;
      oneScope?: boolean;
    }) => {
      const { store: beside, ...rest } = options;
      await store(beside === undefined ? rest : { ...rest, stores: ['local', beside] });
    },
  );

program
  .command('all')
  .description('every benchmark at its default sizes')
  .option('--json <file>', 'also write every result into this one file (default bench/results/all.json)')
  .option('--data <file>', 'the LoCoMo-format JSON file (relative to the repository)', defaultLocomoPath)
  .action(async (options: { json?: string; data: string }) => {
    const started = performance.now();
    const results: Record<string, unknown> = {};
    results.overhead = await overhead({});
    console.log('');
    const runs: Array<[BenchStoreKind, BenchEmbedderName]> = [
      ['local', 'none'],
      ['memory', 'none'],
      ['local', 'hash'],
      ['mem0-oss', 'hash'],
    ];
    const locomoResults: Record<string, LocomoBenchResult> = {};
    for (const [storeKind, embedder] of runs) {
      const name = embedder === 'none' ? storeKind : `${storeKind}-${embedder}`;
      const file = join(
        resultsDirectory,
        storeKind === 'local' && embedder === 'none' ? 'locomo.json' : `locomo-${name}.json`,
      );
      locomoResults[name] = await locomo({ data: options.data, store: storeKind, embedder }, file);
      console.log('');
    }
    results.locomo = locomoResults;
    // Every store at 10,000 memories (the size of the mem0 comparison), the local store alone at
    // 100,000: the in-memory store's duplicate check scans every memory, so at 100,000 it would
    // spend the whole time budget adding.
    results.store = await store({ sizes: [10_000] });
    console.log('');
    results.storeLarge = await store({
      sizes: [100_000],
      stores: ['local'],
      json: join(resultsDirectory, 'store-100k.json'),
    });
    const minutes = (performance.now() - started) / 60_000;
    results.minutes = Math.round(minutes * 100) / 100;
    writeJson(options.json ?? join(resultsDirectory, 'all.json'), 'all', results);
    console.log(`all: ${results.minutes} minutes`);
  });

await program.parseAsync();
