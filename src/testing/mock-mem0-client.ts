/**
 * An in-memory stand-in for mem0's platform `MemoryClient`, for unit tests of code that calls mem0
 * directly. Same methods, same arguments, same answers (camelCase, `search` returns `{ results }`),
 * the same errors for the same mistakes, and no network.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';

/** A memory as the mock holds and returns it: the platform client's shape after its camelCase conversion. */
export interface MockMem0Memory {
  id: string;
  memory: string;
  userId: string | null;
  agentId: string | null;
  appId: string | null;
  runId: string | null;
  metadata: Record<string, unknown> | null;
  categories: string[];
  /** mem0's expiry day, `YYYY-MM-DD`: hidden from search and getAll after that day. */
  expirationDate: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A memory to start the mock with. */
export interface MockMem0Seed {
  memory: string;
  id?: string;
  userId?: string;
  agentId?: string;
  appId?: string;
  runId?: string;
  metadata?: Record<string, unknown>;
  categories?: string[];
  expirationDate?: string;
  createdAt?: Date | string;
}

/** One row of a memory's history, as `MemoryClient.history` returns it. */
export interface MockMem0HistoryEntry {
  id: string;
  memoryId: string;
  input: Array<{ role: string; content: string }>;
  oldMemory: string | null;
  newMemory: string | null;
  userId: string | null;
  categories: string[];
  event: 'ADD' | 'UPDATE' | 'DELETE';
  createdAt: string;
  updatedAt: string;
}

/** One call made to the mock, in order. */
export interface MockMem0Call {
  method: 'ping' | 'add' | 'search' | 'getAll' | 'get' | 'update' | 'delete' | 'deleteAll' | 'history';
  args: unknown[];
}

/** A message as `MemoryClient.add` takes it. */
export interface MockMem0Message {
  role: string;
  content: string;
}

/** The mock: `MemoryClient`'s memory methods, plus what a test wants to look at. */
export interface MockMem0Client {
  ping(): Promise<void>;
  /**
   * With inference (the default), answers `{ eventId, status: 'PENDING' }` like the platform, and
   * stands in for mem0's extraction deterministically: each user message becomes one memory, at
   * once, so a test can search right after. With `infer: false`, every non-system message is
   * stored as it is and the answer lists them (`{ message, status: 'SUCCEEDED', results }`).
   */
  add(messages: MockMem0Message[], options?: Record<string, unknown>): Promise<unknown>;
  /** Word-overlap search, scores in 0..1; `filters` (mem0's filter language) must name an entity id. */
  search(
    query: string,
    options?: Record<string, unknown>,
  ): Promise<{ results: Array<MockMem0Memory & { score: number }> }>;
  /** Newest first, paged like the platform (`page`, `pageSize` up to 200; default 100). */
  getAll(options?: Record<string, unknown>): Promise<{
    count: number;
    next: string | null;
    previous: string | null;
    results: Array<Omit<MockMem0Memory, 'runId'> & { sessionId: string | null }>;
  }>;
  get(memoryId: string): Promise<MockMem0Memory>;
  update(
    memoryId: string,
    data: { text?: string; metadata?: Record<string, unknown>; timestamp?: unknown; expirationDate?: string | null },
  ): Promise<MockMem0Memory>;
  delete(memoryId: string): Promise<{ message: string }>;
  deleteAll(options?: Record<string, unknown>): Promise<{ message: string }>;
  history(memoryId: string): Promise<MockMem0HistoryEntry[]>;
  /** Every call so far, with its arguments. */
  readonly calls: MockMem0Call[];
  /** Every memory stored now (expired ones too), newest first. */
  memories(): MockMem0Memory[];
}

/** The error the mock throws where the platform answers an HTTP error; shaped like mem0ai's error classes. */
export class MockMem0Error extends Error {
  /** `HTTP_<status>`, as mem0ai's errors carry it. */
  readonly errorCode: string;
  readonly status: number;

  constructor(status: number, body: Record<string, unknown>) {
    super(JSON.stringify(body));
    this.name = errorNames[status] ?? 'MemoryError';
    this.status = status;
    this.errorCode = `HTTP_${status}`;
  }
}

const errorNames: Record<number, string> = {
  400: 'ValidationError',
  401: 'AuthenticationError',
  404: 'MemoryNotFoundError',
  429: 'RateLimitError',
};

const entityFields = ['user_id', 'agent_id', 'app_id', 'run_id'] as const;
type EntityField = (typeof entityFields)[number];
const entityProperty = { user_id: 'userId', agent_id: 'agentId', app_id: 'appId', run_id: 'runId' } as const;

interface StoredMemory extends MockMem0Memory {
  sequence: number;
}

/**
 * Creates an in-memory stand-in for mem0's platform `MemoryClient`. It records every call in
 * `calls`, so a test can assert what its code sent to mem0.
 *
 * @example
 * ```ts
 * import { createMockMem0Client } from 'with-memory/testing';
 *
 * const mem0 = createMockMem0Client([{ memory: 'Prefers Celsius', userId: 'alice' }]);
 * const { results } = await mem0.search('Celsius', { filters: { user_id: 'alice' } });
 * ```
 */
export function createMockMem0Client(seed: MockMem0Seed[] = []): MockMem0Client {
  const stored = new Map<string, StoredMemory>();
  const history: MockMem0HistoryEntry[] = [];
  const calls: MockMem0Call[] = [];
  let sequence = 0;

  const record = (method: MockMem0Call['method'], args: unknown[]) => {
    calls.push({ method, args: args.map(copy) });
  };

  function insert(fields: Omit<MockMem0Memory, 'id' | 'createdAt' | 'updatedAt'> & { id?: string; at?: string }) {
    const at = fields.at ?? new Date().toISOString();
    const memory: StoredMemory = {
      id: fields.id ?? randomUUID(),
      memory: fields.memory,
      userId: fields.userId,
      agentId: fields.agentId,
      appId: fields.appId,
      runId: fields.runId,
      metadata: copy(fields.metadata),
      categories: [...fields.categories],
      expirationDate: fields.expirationDate,
      createdAt: at,
      updatedAt: at,
      sequence: ++sequence,
    };
    stored.set(memory.id, memory);
    history.push(historyRow(memory, 'ADD', null, memory.memory));
    return memory;
  }

  for (const item of seed) {
    insert({
      memory: item.memory,
      userId: item.userId ?? null,
      agentId: item.agentId ?? null,
      appId: item.appId ?? null,
      runId: item.runId ?? null,
      metadata: item.metadata ?? null,
      categories: item.categories ?? [],
      expirationDate: item.expirationDate ?? null,
      ...(item.id === undefined ? {} : { id: item.id }),
      ...(item.createdAt === undefined ? {} : { at: new Date(item.createdAt).toISOString() }),
    });
  }

  function visible(showExpired: unknown): StoredMemory[] {
    const today = new Date().toISOString().slice(0, 10);
    return [...stored.values()].filter(
      (memory) => showExpired === true || memory.expirationDate === null || memory.expirationDate >= today,
    );
  }

  function find(memoryId: string): StoredMemory {
    const memory = stored.get(memoryId);
    if (!memory) throw new MockMem0Error(404, { detail: 'Memory not found' });
    return memory;
  }

  return {
    calls,

    async ping() {
      record('ping', []);
    },

    async add(messages, options = {}) {
      record('add', [messages, options]);
      if (!Array.isArray(messages) || messages.length === 0) {
        throw new Error('Cannot process an empty messages payload.');
      }
      const ids = entityIdsOf(options);
      if (!ids) throw badRequest('At least one of user_id, agent_id, app_id or run_id is required.');
      const expirationDate = typeof options.expirationDate === 'string' ? options.expirationDate : null;
      const base = {
        ...ids,
        metadata: isRecord(options.metadata) ? options.metadata : null,
        categories: [],
        expirationDate,
      };
      if (options.infer === false) {
        const results = messages
          .filter((message) => message.role !== 'system' && typeof message.content === 'string')
          .map((message) => insert({ ...base, memory: message.content }))
          .map((memory) => ({ id: memory.id, data: { memory: memory.memory }, event: 'ADD' as const }));
        return { message: 'Memories added successfully.', status: 'SUCCEEDED', results };
      }
      // The deterministic stand-in for mem0's extraction: each non-empty user turn, verbatim.
      for (const message of messages) {
        if (message.role === 'user' && typeof message.content === 'string' && message.content.trim() !== '') {
          insert({ ...base, memory: message.content.trim() });
        }
      }
      return { eventId: randomUUID(), status: 'PENDING', message: 'Memory processing has been queued.' };
    },

    async search(query, options = {}) {
      record('search', [query, options]);
      rejectTopLevelEntityIds(options, 'search');
      if (typeof query !== 'string' || query.trim() === '') throw badRequest('query must be a non-empty string.');
      const filters = requireFilters(options.filters);
      const topK = integerOption(options.topK, 10, 1, 1000, 'top_k');
      const threshold = numberOption(options.threshold, 0.1, 0, 1, 'threshold');
      const queryTerms = terms(query);
      const results = visible(options.showExpired)
        .filter((memory) => matches(memory, filters))
        .map((memory) => ({ memory, score: relevance(queryTerms, terms(memory.memory)) }))
        .filter(({ score }) => score > 0 && score >= threshold)
        .sort((a, b) => b.score - a.score || b.memory.sequence - a.memory.sequence)
        .slice(0, topK)
        .map(({ memory, score }) => ({ ...output(memory), score }));
      return { results };
    },

    async getAll(options = {}) {
      record('getAll', [options]);
      rejectTopLevelEntityIds(options, 'getAll');
      const filters = requireFilters(options.filters);
      const page = integerOption(options.page, 1, 1, Number.MAX_SAFE_INTEGER, 'page');
      const pageSize = integerOption(options.pageSize, 100, 1, 200, 'page_size');
      const all = visible(options.showExpired)
        .filter((memory) => matches(memory, filters))
        .sort(newestFirst);
      const start = (page - 1) * pageSize;
      const results = all.slice(start, start + pageSize).map((memory) => {
        // The platform's getAll names the run `session_id`, unlike search.
        const { runId, ...rest } = output(memory);
        return { ...rest, sessionId: runId };
      });
      return {
        count: all.length,
        next: start + pageSize < all.length ? `?page=${page + 1}&page_size=${pageSize}` : null,
        previous: page > 1 ? `?page=${page - 1}&page_size=${pageSize}` : null,
        results,
      };
    },

    async get(memoryId) {
      record('get', [memoryId]);
      return output(find(memoryId));
    },

    async update(memoryId, data) {
      record('update', [memoryId, data]);
      const { text, metadata, timestamp, expirationDate } = data ?? {};
      if (text === undefined && metadata === undefined && timestamp === undefined && expirationDate === undefined) {
        throw new Error('At least one of text, metadata, timestamp, or expirationDate must be provided for update.');
      }
      const memory = find(memoryId);
      const previous = memory.memory;
      if (typeof text === 'string') memory.memory = text;
      if (metadata !== undefined) memory.metadata = isRecord(metadata) ? copy(metadata) : null;
      if (expirationDate !== undefined) memory.expirationDate = expirationDate;
      memory.updatedAt = laterThan(memory.updatedAt);
      memory.sequence = ++sequence;
      history.push(historyRow(memory, 'UPDATE', previous, memory.memory));
      return output(memory);
    },

    async delete(memoryId) {
      record('delete', [memoryId]);
      remove(find(memoryId));
      return { message: 'Memory deleted successfully!' };
    },

    async deleteAll(options = {}) {
      record('deleteAll', [options]);
      const ids = entityIdsOf(options);
      if (!ids) throw badRequest('At least one of user_id, agent_id, app_id or run_id is required.');
      for (const memory of [...stored.values()]) {
        const inScope = entityFields.every((field) => {
          const wanted = ids[entityProperty[field]];
          return wanted === null || memory[entityProperty[field]] === wanted;
        });
        if (inScope) remove(memory);
      }
      return { message: 'Memories deleted successfully!' };
    },

    async history(memoryId) {
      record('history', [memoryId]);
      const rows = history.filter((row) => row.memoryId === memoryId);
      if (rows.length === 0) throw new MockMem0Error(404, { detail: 'Memory not found' });
      return rows.map(copy);
    },

    memories() {
      return [...stored.values()].sort(newestFirst).map(output);
    },
  };

  function remove(memory: StoredMemory): void {
    stored.delete(memory.id);
    history.push(historyRow(memory, 'DELETE', memory.memory, null));
  }
}

function historyRow(
  memory: MockMem0Memory,
  event: MockMem0HistoryEntry['event'],
  oldMemory: string | null,
  newMemory: string | null,
): MockMem0HistoryEntry {
  const at = new Date().toISOString();
  return {
    id: randomUUID(),
    memoryId: memory.id,
    input: [],
    oldMemory,
    newMemory,
    userId: memory.userId,
    categories: [...memory.categories],
    event,
    createdAt: at,
    updatedAt: at,
  };
}

function output(memory: StoredMemory): MockMem0Memory {
  const { sequence: _sequence, ...rest } = memory;
  return copy(rest);
}

function newestFirst(a: StoredMemory, b: StoredMemory): number {
  return b.updatedAt.localeCompare(a.updatedAt) || b.sequence - a.sequence;
}

// An update in the same millisecond as the write before it must still sort after it.
function laterThan(previous: string): string {
  const now = Date.now();
  const last = Date.parse(previous);
  return new Date(now > last ? now : last + 1).toISOString();
}

function entityIdsOf(
  options: Record<string, unknown>,
): Record<'userId' | 'agentId' | 'appId' | 'runId', string | null> | undefined {
  const ids = {
    userId: stringOrNull(options.userId ?? options.user_id),
    agentId: stringOrNull(options.agentId ?? options.agent_id),
    appId: stringOrNull(options.appId ?? options.app_id),
    runId: stringOrNull(options.runId ?? options.run_id),
  };
  return Object.values(ids).some((id) => id !== null) ? ids : undefined;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

// MemoryClient refuses these before any request; so does the mock, with the same words.
function rejectTopLevelEntityIds(options: Record<string, unknown>, method: string): void {
  const entityParams = ['user_id', 'agent_id', 'app_id', 'run_id', 'userId', 'agentId', 'appId', 'runId'];
  const invalid = Object.keys(options).filter((key) => entityParams.includes(key));
  if (invalid.length > 0) {
    throw new Error(
      `Top-level entity parameters [${invalid.join(', ')}] are not supported in ${method}(). Use filters: { user_id: "..." } instead.`,
    );
  }
}

function requireFilters(filters: unknown): Record<string, unknown> {
  if (!isRecord(filters) || !mentionsEntity(filters)) {
    throw badRequest('filters must contain at least one of user_id, agent_id, app_id or run_id.');
  }
  validateFilter(filters);
  return filters;
}

const comparable = new Set([...entityFields, 'created_at', 'updated_at', 'keywords']);

/** Refuses an unknown field or operator anywhere in the filter, as the platform does, before matching anything. */
function validateFilter(filter: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(filter)) {
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      for (const condition of conditions(value, key)) validateFilter(condition);
    } else if (key === 'metadata') {
      if (!isRecord(value)) throw badRequest('metadata takes an object of key-value conditions.');
      for (const condition of Object.values(value)) {
        if (isRecord(condition)) allowOperators(condition, ['eq', 'ne', 'contains'], 'metadata');
      }
    } else if (key === 'categories') {
      if (isRecord(value)) allowOperators(value, ['eq', 'ne', 'in', 'contains'], key);
    } else if (key === 'memory_ids') {
      if (!Array.isArray(value)) throw badRequest('memory_ids takes an array of ids.');
    } else if (comparable.has(key)) {
      if (isRecord(value)) allowOperators(value, [...operators], key);
    } else {
      throw badRequest(`Unsupported filter field: ${key}.`);
    }
  }
}

function allowOperators(condition: Record<string, unknown>, allowed: string[], field: string): void {
  for (const operator of Object.keys(condition)) {
    if (!allowed.includes(operator)) throw badRequest(`Unsupported operator "${operator}" on ${field}.`);
  }
}

function mentionsEntity(filter: unknown): boolean {
  if (Array.isArray(filter)) return filter.some(mentionsEntity);
  if (!isRecord(filter)) return false;
  return Object.entries(filter).some(
    ([key, value]) =>
      ((entityFields as readonly string[]).includes(key) && value !== undefined && value !== null) ||
      (['AND', 'OR', 'NOT'].includes(key) && mentionsEntity(value)),
  );
}

/** mem0's filter language: AND/OR/NOT, entity ids, dates, categories, metadata, keywords, memory_ids. */
function matches(memory: StoredMemory, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([key, wanted]) => matchesKey(memory, key, wanted));
}

function matchesKey(memory: StoredMemory, key: string, wanted: unknown): boolean {
  switch (key) {
    case 'AND':
      return conditions(wanted, key).every((condition) => matches(memory, condition));
    case 'OR':
      return conditions(wanted, key).some((condition) => matches(memory, condition));
    case 'NOT':
      return !conditions(wanted, key).some((condition) => matches(memory, condition));
    case 'user_id':
    case 'agent_id':
    case 'app_id':
    case 'run_id':
      return compare(memory[entityProperty[key as EntityField]], wanted, key);
    case 'created_at':
    case 'updated_at':
      return compare(key === 'created_at' ? memory.createdAt : memory.updatedAt, normaliseDates(wanted), key);
    case 'categories':
      return matchesCategories(memory.categories, wanted);
    case 'metadata':
      return matchesMetadata(memory.metadata ?? {}, wanted);
    case 'keywords':
      return compare(memory.memory, wanted, key);
    case 'memory_ids':
      if (!Array.isArray(wanted)) throw badRequest('memory_ids takes an array of ids.');
      return wanted.includes(memory.id);
    default:
      throw badRequest(`Unsupported filter field: ${key}.`);
  }
}

function conditions(value: unknown, operator: string): Record<string, unknown>[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every(isRecord)) throw badRequest(`${operator} takes a list of conditions.`);
  return list as Record<string, unknown>[];
}

const operators = new Set(['eq', 'ne', 'in', 'gt', 'gte', 'lt', 'lte', 'contains', 'icontains']);

function compare(actual: unknown, wanted: unknown, field: string): boolean {
  if (wanted === '*') return actual !== null && actual !== undefined;
  if (!isRecord(wanted)) return actual === wanted;
  return Object.entries(wanted).every(([operator, value]) => {
    if (!operators.has(operator)) throw badRequest(`Unsupported operator "${operator}" on ${field}.`);
    switch (operator) {
      case 'eq':
        return actual === value;
      case 'ne':
        // mem0 counts a missing value as "not equal".
        return actual !== value;
      case 'in':
        if (!Array.isArray(value)) throw badRequest(`"in" on ${field} takes an array.`);
        return value.includes(actual);
      case 'contains':
        return typeof actual === 'string' && typeof value === 'string' && actual.includes(value);
      case 'icontains':
        return (
          typeof actual === 'string' && typeof value === 'string' && actual.toLowerCase().includes(value.toLowerCase())
        );
      default:
        return ordered(actual, value, operator);
    }
  });
}

function ordered(actual: unknown, value: unknown, operator: string): boolean {
  if (typeof actual !== typeof value || (typeof actual !== 'string' && typeof actual !== 'number')) return false;
  const a = actual as string | number;
  const b = value as string | number;
  if (operator === 'gt') return a > b;
  if (operator === 'gte') return a >= b;
  if (operator === 'lt') return a < b;
  return a <= b;
}

// Date filters may be given as days ("2025-01-01"); stored dates are full ISO strings.
function normaliseDates(wanted: unknown): unknown {
  if (!isRecord(wanted)) return typeof wanted === 'string' ? new Date(wanted).toISOString() : wanted;
  return Object.fromEntries(
    Object.entries(wanted).map(([operator, value]) => [
      operator,
      typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : value,
    ]),
  );
}

function matchesCategories(categories: string[], wanted: unknown): boolean {
  if (typeof wanted === 'string') return categories.includes(wanted);
  if (!isRecord(wanted)) throw badRequest('categories takes a name or { in | contains }.');
  return Object.entries(wanted).every(([operator, value]) => {
    if (operator === 'in' && Array.isArray(value)) return categories.some((category) => value.includes(category));
    if (operator === 'contains' && typeof value === 'string') return categories.some((c) => c.includes(value));
    if (operator === 'eq') return categories.includes(value as string);
    if (operator === 'ne') return !categories.includes(value as string);
    throw badRequest(`Unsupported operator "${operator}" on categories.`);
  });
}

// The platform matches top-level metadata keys with equality, ne or contains only.
function matchesMetadata(metadata: Record<string, unknown>, wanted: unknown): boolean {
  if (!isRecord(wanted)) throw badRequest('metadata takes an object of key-value conditions.');
  return Object.entries(wanted).every(([key, value]) => {
    if (!isRecord(value)) return metadata[key] === value;
    return Object.entries(value).every(([operator, operand]) => {
      if (operator === 'eq') return metadata[key] === operand;
      if (operator === 'ne') return metadata[key] !== operand;
      if (operator === 'contains') {
        const actual = metadata[key];
        return typeof actual === 'string' && typeof operand === 'string' && actual.includes(operand);
      }
      throw badRequest(`Metadata filters support only equality, ne and contains, not "${operator}".`);
    });
  });
}

const stopWords = new Set(
  'a an and are as at be but by do does for from has have i if in is it its me my of on or our so that the their them they this to was we were what when where which who will with you your'.split(
    ' ',
  ),
);

function terms(text: string): Set<string> {
  const words =
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  return new Set(
    words.filter((word) => !stopWords.has(word)).map((word) => (word.length > 3 ? word.replace(/s$/, '') : word)),
  );
}

/** Mostly how much of the query the memory covers, a little how much of the memory is about it: 0..1. */
function relevance(query: Set<string>, memory: Set<string>): number {
  if (query.size === 0 || memory.size === 0) return 0;
  let shared = 0;
  for (const term of query) if (memory.has(term)) shared += 1;
  return 0.8 * (shared / query.size) + 0.2 * ((2 * shared) / (query.size + memory.size));
}

function integerOption(value: unknown, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(`${name} must be an integer from ${min} to ${max}.`);
  }
  return value;
}

function numberOption(value: unknown, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw badRequest(`${name} must be a number from ${min} to ${max}.`);
  }
  return value;
}

function badRequest(message: string): MockMem0Error {
  return new MockMem0Error(400, { error: '400 Bad Request', details: { message } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function copy<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}
