import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryClient } from 'mem0ai';
import { createMockMem0Client, type MockMem0Client, type MockMem0Seed } from '../../src/testing/mock-mem0-client.js';
import { readBody, sendJson } from './http.js';

/** The memory routes of the fake, for aiming a failure at some of them. */
export type Mem0Route = 'add' | 'search' | 'getAll' | 'get' | 'update' | 'delete' | 'deleteAll' | 'history';

/**
 * How the fake fails a request: an HTTP status (500, 429, 503, …), hanging without an answer,
 * closing the connection, or a 200 whose body is not JSON.
 */
export type Mem0Failure = { status: number; body?: string } | 'hang' | 'close' | 'malformed';

/** One request the fake received. */
export interface Mem0Request {
  method: string;
  /** The path without the query, e.g. `/v3/memories/search/`. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or undefined when there was none. */
  body: Record<string, unknown> | undefined;
  /** The route, or `ping`, or `unknown`. */
  route: Mem0Route | 'ping' | 'unknown';
  /** Set when a failure switch answered this request instead of the fake. */
  failedWith?: string;
}

export interface FakeMem0 {
  /** Base URL for `new MemoryClient({ apiKey, host: url })`. */
  url: string;
  /** The key the fake accepts (`Authorization: Token <key>`); any other gets 401. */
  apiKey: string;
  /** Every request, pings included, in order. */
  requests: Mem0Request[];
  /** The memories, held by the same engine as `createMockMem0Client`; look, don't touch. */
  engine: MockMem0Client;
  /**
   * Fails memory requests (never the ping) until `recover()`, or for the next `times` requests;
   * only on `routes` when given; after letting the next `skip` of them through.
   */
  fail(failure: Mem0Failure, options?: { times?: number; routes?: Mem0Route[]; skip?: number }): void;
  recover(): void;
  /** Resolves when every background extraction (inferred adds answered PENDING) has been applied. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface FakeMem0Options {
  apiKey?: string;
  /** How long an inferred add stays PENDING before its memories appear. @default 20 */
  inferDelayMs?: number;
  seed?: MockMem0Seed[];
}

const entityKeys = ['user_id', 'agent_id', 'app_id', 'run_id'];

/**
 * A real `MemoryClient` for the fake, returned once its constructor's fire-and-forget ping has
 * been answered: closing the fake later cannot cut that ping off (mem0ai would log the failure).
 */
export async function connectMemoryClient(fake: FakeMem0, apiKey = fake.apiKey): Promise<MemoryClient> {
  const client = new MemoryClient({ apiKey, host: fake.url });
  // mem0ai 3.x keeps the ping's promise in a private field; waiting on it is only for test hygiene.
  await (client as unknown as { initialized?: Promise<void> }).initialized;
  return client;
}

/**
 * A loopback fake of the mem0 platform API (the v3 routes mem0ai 3.x calls), which the real
 * `MemoryClient` talks to through `host`. Adds with inference answer PENDING and apply a
 * deterministic stand-in extraction (each user turn, verbatim) after `inferDelayMs`; `infer:
 * false` stores synchronously. Validation follows the platform: 400 for top-level entity ids on
 * search or getAll, for missing filters, for an add without an entity id; 401 for a wrong key.
 */
export async function startFakeMem0(options: FakeMem0Options = {}): Promise<FakeMem0> {
  const { apiKey = 'm0-test-key', inferDelayMs = 20, seed = [] } = options;
  const engine = createMockMem0Client(seed);
  const pending = new Set<Promise<void>>();
  let failure: { failure: Mem0Failure; remaining: number; routes: Mem0Route[] | undefined; skip: number } | undefined;

  const fake: FakeMem0 = {
    url: '',
    apiKey,
    requests: [],
    engine,
    fail(next, { times = Number.POSITIVE_INFINITY, routes, skip = 0 } = {}) {
      failure = { failure: next, remaining: times, routes, skip };
    },
    recover() {
      failure = undefined;
    },
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    close: async () => {},
  };

  const answering = new Set<Promise<void>>();
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const answered = new Promise<void>((resolve) => response.on('close', () => resolve()));
    answering.add(answered);
    void answered.finally(() => answering.delete(answered));
    const url = new URL(request.url ?? '/', 'http://fake');
    const raw = await readBody(request);
    const route = routeOf(request.method ?? 'GET', url.pathname);
    let body: Record<string, unknown> | undefined;
    let bodyIsJson = true;
    try {
      body = raw === '' ? undefined : (JSON.parse(raw) as Record<string, unknown>);
    } catch {
      bodyIsJson = false;
    }
    const entry: Mem0Request = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      body,
      route: route?.name ?? 'unknown',
    };
    fake.requests.push(entry);

    if (request.headers.authorization !== `Token ${apiKey}`) {
      sendJson(response, 401, { detail: 'Invalid API key. Please check your credentials.' });
      return;
    }
    if (route?.name === 'ping') {
      sendJson(response, 200, {
        status: 'ok',
        org_id: 'org_test',
        project_id: 'proj_test',
        user_email: 'test@example.com',
      });
      return;
    }
    const aimed = route && failure && failure.remaining > 0 && (!failure.routes || failure.routes.includes(route.name));
    if (aimed && failure && failure.skip > 0) {
      failure.skip -= 1;
    } else if (aimed && failure) {
      failure.remaining -= 1;
      entry.failedWith = describe(failure.failure);
      if (failure.failure === 'hang') answering.delete(answered);
      applyFailure(failure.failure, response);
      return;
    }
    if (!bodyIsJson) {
      sendJson(response, 400, badRequest('The body is not JSON.'));
      return;
    }
    if (!route) {
      sendJson(response, 404, { error: 'Not found' });
      return;
    }
    try {
      sendJson(response, 200, await handle(route, body ?? {}, url.searchParams));
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      if (typeof status === 'number') {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end((error as Error).message);
      } else {
        sendJson(response, 400, badRequest((error as Error).message));
      }
    }
  });

  async function handle(
    route: { name: Mem0Route | 'ping'; id?: string },
    body: Record<string, unknown>,
    query: URLSearchParams,
  ): Promise<unknown> {
    switch (route.name) {
      case 'add': {
        const { messages, ...rest } = body;
        if (!Array.isArray(messages) || messages.length === 0) throw new Error('messages is required.');
        if (!entityKeys.some((key) => typeof rest[key] === 'string')) {
          throw new Error('At least one of user_id, agent_id, app_id or run_id is required.');
        }
        const addOptions = camelOptions(rest);
        if (rest.infer === false) return snakeKeys(await engine.add(messages, addOptions));
        const eventId = randomUUID();
        const extraction = new Promise<void>((resolve) => setTimeout(resolve, inferDelayMs))
          .then(() => engine.add(messages, { ...addOptions, infer: true }))
          .then(
            () => {},
            () => {},
          );
        pending.add(extraction);
        void extraction.finally(() => pending.delete(extraction));
        return { event_id: eventId, status: 'PENDING', message: 'Memory processing has been queued.' };
      }
      case 'search': {
        rejectTopLevelEntityIds(body);
        const { query: text, filters, top_k, threshold, show_expired } = body;
        const result = await engine.search(String(text ?? ''), {
          filters,
          ...(top_k === undefined ? {} : { topK: top_k }),
          ...(threshold === undefined ? {} : { threshold }),
          ...(show_expired === undefined ? {} : { showExpired: show_expired }),
        });
        return snakeKeys(result);
      }
      case 'getAll': {
        rejectTopLevelEntityIds(body);
        const page = query.get('page');
        const pageSize = query.get('page_size');
        const result = await engine.getAll({
          filters: body.filters,
          ...(page === null ? {} : { page: Number(page) }),
          ...(pageSize === null ? {} : { pageSize: Number(pageSize) }),
          ...(body.show_expired === undefined ? {} : { showExpired: body.show_expired }),
        });
        return snakeKeys(result);
      }
      case 'get':
        return snakeKeys(await engine.get(route.id ?? ''));
      case 'update': {
        const { text, metadata, timestamp, expiration_date } = body as Record<string, never>;
        const data = {
          ...(text === undefined ? {} : { text }),
          ...(metadata === undefined ? {} : { metadata }),
          ...(timestamp === undefined ? {} : { timestamp }),
          ...(expiration_date === undefined ? {} : { expirationDate: expiration_date }),
        };
        return snakeKeys(await engine.update(route.id ?? '', data));
      }
      case 'delete':
        return engine.delete(route.id ?? '');
      case 'deleteAll':
        return engine.deleteAll(camelOptions(Object.fromEntries(query)));
      case 'history':
        return snakeKeys(await engine.history(route.id ?? ''));
      case 'ping':
        return { status: 'ok' };
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = async () => {
    await fake.settled();
    // Let requests being answered finish (a ping the client fired on construction, say); hung ones are cut.
    await Promise.allSettled([...answering]);
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  };
  return fake;
}

function routeOf(method: string, path: string): { name: Mem0Route | 'ping'; id?: string } | undefined {
  if (method === 'GET' && path === '/v1/ping/') return { name: 'ping' };
  if (method === 'POST' && path === '/v3/memories/add/') return { name: 'add' };
  if (method === 'POST' && path === '/v3/memories/search/') return { name: 'search' };
  if (method === 'POST' && path === '/v3/memories/') return { name: 'getAll' };
  if (method === 'DELETE' && path === '/v1/memories/') return { name: 'deleteAll' };
  const history = /^\/v1\/memories\/([^/]+)\/history\/$/.exec(path);
  if (method === 'GET' && history?.[1]) return { name: 'history', id: decodeURIComponent(history[1]) };
  const memory = /^\/v1\/memories\/([^/]+)\/$/.exec(path);
  if (memory?.[1]) {
    const id = decodeURIComponent(memory[1]);
    if (method === 'GET') return { name: 'get', id };
    if (method === 'PUT') return { name: 'update', id };
    if (method === 'DELETE') return { name: 'delete', id };
  }
  return undefined;
}

function applyFailure(failure: Mem0Failure, response: ServerResponse): void {
  if (failure === 'hang') return; // closed by close()
  if (failure === 'close') {
    response.socket?.destroy();
    return;
  }
  if (failure === 'malformed') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"results": [{"id": "1", "memory": ');
    return;
  }
  response.writeHead(failure.status, { 'content-type': 'application/json' });
  response.end(failure.body ?? JSON.stringify({ error: `Simulated HTTP ${failure.status}` }));
}

function describe(failure: Mem0Failure): string {
  return typeof failure === 'string' ? failure : `HTTP ${failure.status}`;
}

// The platform refuses entity ids outside `filters` on search and getAll.
function rejectTopLevelEntityIds(body: Record<string, unknown>): void {
  const found = entityKeys.filter((key) => key in body);
  if (found.length > 0) {
    throw new Error(`Top-level entity parameters [${found.join(', ')}] are not supported; use filters.`);
  }
}

/** snake_case request keys to the camelCase options of the engine; filters and metadata verbatim. */
function camelOptions(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(body).map(([key, value]) => [
      key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()),
      value,
    ]),
  );
}

/** camelCase answer keys to the platform's snake_case; metadata stays as it was written. */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
      key === 'metadata' ? inner : snakeKeys(inner),
    ]),
  );
}

function badRequest(message: string) {
  return { error: '400 Bad Request', details: { message } };
}
