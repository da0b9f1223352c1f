/**
 * The web server of `with-memory inspect`: one page and a small JSON API over a store, on
 * 127.0.0.1 only. Every request must carry the random token of the run (the page in its `token`
 * query parameter, API calls in the `x-with-memory-token` header), and the Host header must name
 * the loopback address, so that neither another local user's guess nor a web page in the browser
 * (through DNS rebinding or a forged form) can read or change memories. Edits and deletes are
 * refused unless the server was started with `allowEdit`.
 *
 * @module
 */

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidOptionsError } from '../../core/errors.js';
import { parseScope } from '../../core/scope.js';
import type { HistoryEntry, Memory, MemoryHit, MemoryStore, Scope } from '../../core/types.js';
import type { JsonlSource } from '../../stores/kernel/jsonl.js';
import { memoryJson } from '../output.js';
import { inspectPage } from './inspect-page.js';
import { indexScopes } from './scope-index.js';

/** What the inspector needs of a store: the optional `MemoryStore` methods, and an export to find the scopes. */
export type InspectedStore = Pick<MemoryStore, 'name' | 'search'> &
  Required<Pick<MemoryStore, 'list' | 'get' | 'history' | 'update' | 'delete'>> & {
    /** Every memory as JSONL, as `LocalStore.export` writes it. */
    export(): JsonlSource;
  };

/** Options of `startInspector`. */
export interface InspectorOptions {
  store: InspectedStore;
  /** The port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Accept edits and deletes. */
  allowEdit: boolean;
}

/** A running inspector. */
export interface Inspector {
  /** The page's address, with the token. */
  url: string;
  close(): Promise<void>;
}

/** The header API calls carry the token in. */
export const tokenHeader = 'x-with-memory-token';
const host = '127.0.0.1';
const maxBodyBytes = 64 * 1024;
// A list is read whole up to the store's page size; the page asks for more as it needs.
const maxListLimit = 1000;
const searchLimit = 20;
const changeReason = 'with-memory inspect';

/** A refusal or a bad request, answered with its status and message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the inspector; resolves when it listens. */
export async function startInspector({ store, port, allowEdit }: InspectorOptions): Promise<Inspector> {
  const token = randomBytes(24).toString('base64url');
  let origin = '';
  let allowedHosts = new Set<string>();

  const routes: Record<string, (request: IncomingMessage, url: URL) => Promise<unknown>> = {
    'GET /api/info': async () => ({ store: store.name, allowEdit }),
    'GET /api/scopes': async () => indexScopes(store.export()),
    'GET /api/memories': async (_, url) => {
      const memories = await store.list({ scope: scopeOf(url), limit: limitOf(url) });
      return memories.map(memoryView);
    },
    'GET /api/search': async (_, url) => {
      const query = url.searchParams.get('q') ?? '';
      if (query.trim() === '') throw new HttpError(400, 'Type something to search for.');
      const hits = await store.search(query, { scope: scopeOf(url), limit: searchLimit });
      return hits.map(memoryView);
    },
    'GET /api/history': async (_, url) => {
      const entries = await store.history(requiredParameter(url, 'id'));
      return entries.map(historyView);
    },
    'POST /api/update': async (request) => {
      const { id, text } = await readJson(request);
      if (typeof id !== 'string' || typeof text !== 'string' || text.trim() === '') {
        throw new HttpError(400, 'Send { id, text } with a non-empty text.');
      }
      const updated = await store.update(id, { text }, { reason: changeReason });
      if (!updated) throw new HttpError(404, `No memory with id ${id}.`);
      return memoryView(updated);
    },
    'POST /api/delete': async (request) => {
      const { id } = await readJson(request);
      if (typeof id !== 'string') throw new HttpError(400, 'Send { id }.');
      if (!(await store.delete(id, { reason: changeReason }))) throw new HttpError(404, `No memory with id ${id}.`);
      return { deleted: id };
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', origin);
    // DNS rebinding: a page of another site, resolved to 127.0.0.1, still sends its own host name.
    if (!allowedHosts.has(request.headers.host ?? '')) {
      throw new HttpError(403, 'Wrong Host header; open the address with-memory inspect printed.');
    }
    if (url.pathname === '/' && request.method === 'GET') {
      if (!sameSecret(url.searchParams.get('token'), token)) {
        throw new HttpError(403, 'Missing or wrong token; open the whole address with-memory inspect printed.');
      }
      sendPage(response, allowEdit);
      return;
    }
    const route = routes[`${request.method} ${url.pathname}`];
    if (!route) throw new HttpError(404, 'Not found.');
    const given = request.headers[tokenHeader];
    if (!sameSecret(typeof given === 'string' ? given : null, token)) {
      throw new HttpError(403, `Missing or wrong ${tokenHeader} header.`);
    }
    if (request.method === 'POST') {
      if (!allowEdit)
        throw new HttpError(403, 'The inspector is read-only; start it with --allow-edit to change memories.');
      // A cross-site form cannot send JSON; a script of another origin cannot send the token header.
      if (!request.headers['content-type']?.startsWith('application/json')) {
        throw new HttpError(415, 'Send JSON.');
      }
    }
    sendJson(response, 200, await route(request, url));
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof HttpError) sendJson(response, error.status, { error: error.message });
      else if (InvalidOptionsError.isInstance(error)) sendJson(response, 400, { error: error.message });
      // Store messages never quote memory text.
      else sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: boundPort } = server.address() as AddressInfo;
  origin = `http://${host}:${boundPort}`;
  allowedHosts = new Set([`${host}:${boundPort}`, `localhost:${boundPort}`]);
  return {
    url: `${origin}/?token=${token}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sameSecret(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The scope of `?user=&agent=&run=&app=`, validated as every scope is. */
function scopeOf(url: URL): Scope {
  const scope: Record<string, string> = {};
  for (const [parameter, field] of [
    ['user', 'userId'],
    ['agent', 'agentId'],
    ['run', 'runId'],
    ['app', 'appId'],
  ] as const) {
    const value = url.searchParams.get(parameter);
    if (value !== null) scope[field] = value;
  }
  return parseScope(scope);
}

function limitOf(url: URL): number {
  const limit = Number(url.searchParams.get('limit') ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxListLimit) {
    throw new HttpError(400, `?limit= must be a whole number from 1 to ${maxListLimit}.`);
  }
  return limit;
}

function requiredParameter(url: URL, name: string): string {
  const value = url.searchParams.get(name);
  if (value === null || value === '') throw new HttpError(400, `Missing ?${name}=.`);
  return value;
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new HttpError(413, 'The request is too large.');
    chunks.push(chunk);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Answered below.
  }
  throw new HttpError(400, 'Send a JSON object.');
}

function memoryView(memory: Memory | MemoryHit): Record<string, unknown> {
  const view = memoryJson(memory);
  if ('scoreParts' in memory && memory.scoreParts !== undefined) view.scoreParts = memory.scoreParts;
  return view;
}

function historyView(entry: HistoryEntry & { actor?: string }): Record<string, unknown> {
  return { ...entry, createdAt: entry.createdAt.toISOString() };
}

const securityHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function sendPage(response: ServerResponse, allowEdit: boolean): void {
  const nonce = randomBytes(16).toString('base64');
  response.writeHead(200, {
    ...securityHeaders,
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  });
  response.end(inspectPage({ nonce, allowEdit }));
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(status, { ...securityHeaders, 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(value));
}
