/**
 * `bench server`: one process serving many users. A loopback `node:http` server whose model
 * answers after a fixed delay, hit by concurrent keep-alive clients, each request from one of many
 * users: requests per second and p50/p95 latency, per thousand requests (first against last), for
 * the same server without memory, with one wrapper made at start-up whose scope is a function of
 * the request (wrap once), and with a wrapper made for each request (wrap per request). Modes run
 * in alternated rounds in one process, so a neighbour's load on a shared machine hits them alike.
 *
 * @module
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MemoryStore } from '../src/core/types.js';
import { flushMemory } from '../src/core/writeback.js';
import type { MemoryFunction, MemoryFunctionRequest } from '../src/providers/function.js';
import { inMemoryStore } from '../src/stores/in-memory.js';
import { localStore } from '../src/stores/local/index.js';
import { withMemory } from '../src/with-memory.js';
import { markdownTable } from './markdown-table.js';
import { sleep, userMessages } from './overhead.js';
import { percentile, round } from './percentiles.js';

/** How the server reaches its model. */
export const serverModes = ['no memory', 'wrap once, scope function', 'wrap per request'] as const;
export type ServerMode = (typeof serverModes)[number];

/** Options of `runServerBench`. */
export interface ServerBenchOptions {
  /** Requests per mode and round. @default 10000 */
  requests?: number;
  /** Distinct users the requests come from, in turn. @default 1000 */
  users?: number;
  /** Clients sending at once. @default 50 */
  concurrency?: number;
  /** How long the model takes to answer, in ms. @default 100 */
  modelMs?: number;
  /** Rounds of every mode, alternated. @default 2 */
  rounds?: number;
  /** The store: `local` (a SQLite file, the default store) or `memory`. @default 'local' */
  store?: 'local' | 'memory';
}

/** Latency of a slice of requests, in ms. */
export interface SliceLatency {
  p50: number;
  p95: number;
}

/** One mode's figures over every round. */
export interface ServerModeRow {
  mode: ServerMode;
  requestsPerSecond: number;
  p50: number;
  p95: number;
  /** requests/s of this mode / requests/s without memory. */
  throughputRatio: number;
  /** p95 of this mode / p95 without memory. */
  p95Ratio: number;
  /** p50/p95 per thousand requests, in the order they were sent (first rounds' requests first). */
  perThousand: SliceLatency[];
  /** Requests that failed (an HTTP error or a broken connection). */
  failed: number;
  /** Background writes that failed, as `flushMemory` reported them. */
  failedWrites: number;
}

/** What `bench server` measures; written as JSON. */
export interface ServerBenchResult {
  benchmark: 'server';
  date: string;
  settings: Required<ServerBenchOptions>;
  modes: ServerModeRow[];
}

// The application's own request context, as a server keeps it; made and run once at start-up so
// that every mode pays for it alike.
const requestUser = new AsyncLocalStorage<string>();
requestUser.run('start-up', () => undefined);

/** The server's request handler for one mode: reads `{ userId, message }`, answers `{ text }`. */
function handlerFor(mode: ServerMode, model: MemoryFunction, store: MemoryStore): (body: Body) => Promise<string> {
  const ask = (call: MemoryFunction, body: Body) =>
    call({ system: 'You are a helpful travel assistant.', messages: [{ role: 'user', content: body.message }] });
  if (mode === 'no memory') return async (body) => text(await ask(model, body));
  if (mode === 'wrap once, scope function') {
    const wrapped = withMemory(model, { store, scope: () => ({ userId: requestUser.getStore() ?? 'anonymous' }) });
    return (body) => requestUser.run(body.userId, async () => text(await ask(wrapped, body)));
  }
  return async (body) => text(await ask(withMemory(model, { store, scope: { userId: body.userId } }), body));
}

interface Body {
  userId: string;
  message: string;
}

function text(answer: string | { text: string }): string {
  return typeof answer === 'string' ? answer : answer.text;
}

async function readBody(request: IncomingMessage): Promise<Body> {
  let raw = '';
  for await (const chunk of request) raw += chunk;
  return JSON.parse(raw) as Body;
}

async function startServer(handle: (body: Body) => Promise<string>): Promise<Server> {
  const server = createServer((request, response) => {
    readBody(request)
      .then(handle)
      .then(
        (answer) => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ text: answer }));
        },
        (error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        },
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function post(port: number, agent: Agent, body: Body): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/chat',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode === 200));
        response.on('error', () => resolve(false));
      },
    );
    request.on('error', () => resolve(false));
    request.end(JSON.stringify(body));
  });
}

/** Sends `requests` requests from `concurrency` clients; latency of each, in the order sent. */
async function load(port: number, settings: Required<ServerBenchOptions>, offset: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: settings.concurrency });
  const latencies = new Array<number>(settings.requests);
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const client = async () => {
    for (let index = next++; index < settings.requests; index = next++) {
      const sequence = offset + index;
      const body = {
        userId: `user-${sequence % settings.users}`,
        message: userMessages[sequence % userMessages.length] ?? '',
      };
      const sent = performance.now();
      if (!(await post(port, agent, body))) failed += 1;
      latencies[index] = performance.now() - sent;
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { latencies, seconds, failed };
}

async function runMode(mode: ServerMode, settings: Required<ServerBenchOptions>, round: number) {
  const model: MemoryFunction = async (request: MemoryFunctionRequest) => {
    await sleep(settings.modelMs);
    return `Noted (${request.messages.length} messages).`;
  };
  const directory = settings.store === 'local' ? mkdtempSync(join(tmpdir(), 'with-memory-server-')) : undefined;
  const store = directory ? localStore({ path: join(directory, 'memory.db') }) : inMemoryStore();
  const server = await startServer(handlerFor(mode, model, store));
  try {
    const { port } = server.address() as AddressInfo;
    const result = await load(port, settings, round * settings.requests);
    const failedWrites = mode === 'no memory' ? 0 : (await flushMemory(store)).failed.length;
    return { ...result, failedWrites };
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await store.close?.();
    if (directory) rmSync(directory, { recursive: true, force: true });
  }
}

const slice = (latencies: number[]): SliceLatency => ({
  p50: round(percentile(latencies, 50)),
  p95: round(percentile(latencies, 95)),
});

/**
 * Runs the server benchmark.
 *
 * @example
 * const result = await runServerBench({ requests: 2000, users: 200 });
 * console.log(result.modes.map((row) => row.requestsPerSecond));
 */
export async function runServerBench(options: ServerBenchOptions = {}): Promise<ServerBenchResult> {
  const settings: Required<ServerBenchOptions> = {
    requests: 10_000,
    users: 1000,
    concurrency: 50,
    modelMs: 100,
    rounds: 2,
    store: 'local',
    ...options,
  };
  const runs = new Map<ServerMode, { latencies: number[]; seconds: number; failed: number; failedWrites: number }>();
  for (let round = 0; round < settings.rounds; round += 1) {
    for (const mode of serverModes) {
      const result = await runMode(mode, settings, round);
      const total = runs.get(mode) ?? { latencies: [], seconds: 0, failed: 0, failedWrites: 0 };
      total.latencies.push(...result.latencies);
      total.seconds += result.seconds;
      total.failed += result.failed;
      total.failedWrites += result.failedWrites;
      runs.set(mode, total);
    }
  }
  const rows = serverModes.map((mode) => {
    const run = runs.get(mode) ?? { latencies: [], seconds: 1, failed: 0, failedWrites: 0 };
    const perThousand: SliceLatency[] = [];
    for (let start = 0; start < run.latencies.length; start += 1000) {
      perThousand.push(slice(run.latencies.slice(start, start + 1000)));
    }
    return {
      mode,
      requestsPerSecond: round(run.latencies.length / run.seconds, 1),
      ...slice(run.latencies),
      perThousand,
      failed: run.failed,
      failedWrites: run.failedWrites,
    };
  });
  const baseline = rows[0] ?? { requestsPerSecond: 1, p95: 1 };
  return {
    benchmark: 'server',
    date: new Date().toISOString(),
    settings,
    modes: rows.map((row) => ({
      ...row,
      throughputRatio: round(row.requestsPerSecond / baseline.requestsPerSecond, 3),
      p95Ratio: round(row.p95 / baseline.p95, 3),
    })),
  };
}

/** The result as a table. */
export function formatServerResult(result: ServerBenchResult): string {
  const { settings } = result;
  const table = markdownTable(
    [
      'server',
      'requests/s',
      'p50 ms',
      'p95 ms',
      'req/s vs no memory',
      'p95 vs no memory',
      'first 1,000 p50/p95',
      'last 1,000 p50/p95',
      'failed',
    ],
    result.modes.map((row) => {
      const first = row.perThousand[0];
      const last = row.perThousand.at(-1);
      return [
        row.mode,
        row.requestsPerSecond,
        row.p50,
        row.p95,
        row.throughputRatio,
        row.p95Ratio,
        first ? `${first.p50} / ${first.p95}` : '-',
        last ? `${last.p50} / ${last.p95}` : '-',
        `${row.failed} requests, ${row.failedWrites} writes`,
      ];
    }),
  );
  return [
    `Server: ${settings.requests} requests per mode and round from ${settings.users} users, ${settings.concurrency} clients at once, model ${settings.modelMs} ms, ${settings.store} store, ${settings.rounds} alternated rounds`,
    '',
    table,
  ].join('\n');
}
