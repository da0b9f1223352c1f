import { z } from 'zod';
import { StoreError, type StoreOperation } from '../../core/errors.js';
import type { HistoryEntry, Memory, MemoryChange, MemoryHit, Metadata, Scope } from '../../core/types.js';
import { isSafeMemoryType } from '../kernel/store-input.js';
import { reservedMetadataKeys } from './scope-mapping.js';

/** Which mem0 answered: the platform client converts keys to camelCase, the OSS `Memory` mixes both. */
export type Mem0Flavour = 'platform' | 'oss';

const text = z.string().nullish();
const dateValue = z.union([z.string(), z.number(), z.date()]).nullish();
const record = z.record(z.string(), z.unknown());

const itemSchema = z.looseObject({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  memory: z.string(),
  score: z.number().nullish(),
  metadata: record.nullish(),
  categories: z.array(z.string()).nullish(),
  createdAt: dateValue,
  created_at: dateValue,
  updatedAt: dateValue,
  updated_at: dateValue,
  expirationDate: dateValue,
  expiration_date: dateValue,
  userId: text,
  user_id: text,
  agentId: text,
  agent_id: text,
  appId: text,
  app_id: text,
  runId: text,
  run_id: text,
  // The platform's getAll says session_id where search says run_id.
  sessionId: text,
  session_id: text,
});

type Mem0Item = z.infer<typeof itemSchema>;

const hitSchema = itemSchema.extend({ score: z.number().refine(Number.isFinite, 'a finite number') });

/** `{ results: [...] }`, or a bare array as mem0 2.x answered. */
function listOf<T extends z.ZodType>(item: T) {
  return z.union([z.array(item), z.looseObject({ results: z.array(item) }).transform((value) => value.results)]);
}

const searchResultSchema = listOf(hitSchema);
const listResultSchema = listOf(itemSchema);

/** The platform's paged `getAll` envelope (`count`, `next` are optional: not every answer has them). */
const pageSchema = z.union([
  z.array(itemSchema).transform((results) => ({ results, next: null as string | null })),
  z.looseObject({ results: z.array(itemSchema), next: z.string().nullish() }).transform((value) => ({
    results: value.results,
    next: value.next ?? null,
  })),
]);

const countSchema = z.looseObject({ count: z.number().int().nonnegative() });

/** Turns a mem0 `search` answer into hits; `fallbackScope` fills entity ids an item leaves out. */
export function parseSearchResult(value: unknown, flavour: Mem0Flavour, fallbackScope: Scope): MemoryHit[] {
  const items = parse(searchResultSchema, value, 'search');
  return items.map((item) => ({
    ...toMemory(item, flavour, fallbackScope, 'search'),
    score: Math.min(1, Math.max(0, item.score)),
  }));
}

/** Turns a mem0 `getAll` answer (any shape) into memories. */
export function parseListResult(value: unknown, flavour: Mem0Flavour, fallbackScope: Scope): Memory[] {
  return parse(listResultSchema, value, 'list').map((item) => toMemory(item, flavour, fallbackScope, 'list'));
}

/** One page of the platform's `getAll`, with whether another page follows. */
export function parseListPage(
  value: unknown,
  flavour: Mem0Flavour,
  fallbackScope: Scope,
): { memories: Memory[]; hasNext: boolean } {
  const page = parse(pageSchema, value, 'list');
  return {
    memories: page.results.map((item) => toMemory(item, flavour, fallbackScope, 'list')),
    hasNext: page.next !== null,
  };
}

/** The platform's total `count` from a `getAll` page, or undefined when it does not say. */
export function parseCount(value: unknown): number | undefined {
  const parsed = countSchema.safeParse(value);
  return parsed.success ? parsed.data.count : undefined;
}

/** One memory from `get` or `update`; `null` when mem0 answered with nothing. */
export function parseMemory(value: unknown, flavour: Mem0Flavour, operation: StoreOperation): Memory | null {
  if (value === null || value === undefined) return null;
  return toMemory(parse(itemSchema, value, operation), flavour, {}, operation);
}

/** The metadata exactly as mem0 holds it, reserved keys included, for read-modify-write updates. */
export function parseRawMetadata(value: unknown, operation: StoreOperation): Metadata {
  return { ...parse(itemSchema, value, operation).metadata };
}

const changeItemSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String).nullish(),
  status: z.string().nullish(),
  event: z.string().nullish(),
  memory: z.string().nullish(),
  data: z.looseObject({ memory: z.string().nullish() }).nullish(),
  metadata: z.looseObject({ event: z.string().nullish(), previousMemory: z.string().nullish() }).nullish(),
  previousMemory: z.string().nullish(),
  oldMemory: z.string().nullish(),
});

const addResultSchema = z.union([
  z.array(changeItemSchema),
  z.looseObject({ results: z.array(changeItemSchema), status: z.string().nullish() }),
  z.looseObject({ status: z.string() }),
]);

const changeEvents = new Set(['ADD', 'UPDATE', 'DELETE', 'NONE']);

/**
 * Turns what mem0's `add` answered into changes. The platform answers `PENDING` while it extracts
 * in the background: that is an accepted write, not a created memory, and says so.
 */
export function parseAddResult(value: unknown): MemoryChange[] {
  const parsed = parse(addResultSchema, value, 'add');
  if (!Array.isArray(parsed) && !('results' in parsed)) {
    if (parsed.status.toUpperCase() === 'PENDING') return [{ event: 'PENDING' }];
    throw malformed('add', `a status of "${parsed.status}" without results`);
  }
  const items = Array.isArray(parsed) ? parsed : (parsed.results as z.infer<typeof changeItemSchema>[]);
  if (!Array.isArray(parsed) && items.length === 0 && parsed.status?.toUpperCase() === 'PENDING') {
    return [{ event: 'PENDING' }];
  }
  return items.map((item) => {
    if (item.status?.toUpperCase() === 'PENDING') return { event: 'PENDING' };
    const rawEvent = (item.event ?? item.metadata?.event ?? 'ADD').toUpperCase();
    const change: MemoryChange = {
      event: (changeEvents.has(rawEvent) ? rawEvent : 'NONE') as MemoryChange['event'],
    };
    if (item.id) change.id = item.id;
    const memoryText = item.memory ?? item.data?.memory;
    if (memoryText != null) change.text = memoryText;
    const previousText = item.previousMemory ?? item.metadata?.previousMemory ?? item.oldMemory;
    if (previousText != null) change.previousText = previousText;
    return change;
  });
}

const historyItemSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String),
  // Platform (camelCase after the client's conversion) and OSS (snake_case rows) spellings.
  memoryId: text,
  memory_id: text,
  event: text,
  action: text,
  oldMemory: text,
  previous_value: text,
  newMemory: text,
  new_value: text,
  createdAt: dateValue,
  created_at: dateValue,
  updatedAt: dateValue,
  updated_at: dateValue,
});

const eventOrder = { ADD: 0, UPDATE: 1, DELETE: 2 } as const;

/** Turns mem0's history rows (platform or OSS) into entries, oldest first. */
export function parseHistory(value: unknown, memoryId: string): HistoryEntry[] {
  const rows = parse(z.array(historyItemSchema), value, 'history');
  const entries: HistoryEntry[] = [];
  for (const row of rows) {
    const event = (row.event ?? row.action ?? '').toUpperCase();
    if (!(event in eventOrder)) continue;
    // OSS rows keep the memory's creation time in created_at and the change's in updated_at.
    const createdAt = toDate(row.updated_at ?? row.updatedAt ?? row.created_at ?? row.createdAt, 'history');
    if (!createdAt) throw malformed('history', 'a history row without a date');
    const entry: HistoryEntry = {
      id: row.id,
      memoryId: row.memoryId ?? row.memory_id ?? memoryId,
      event: event as HistoryEntry['event'],
      createdAt,
    };
    const oldText = row.oldMemory ?? row.previous_value;
    const newText = row.newMemory ?? row.new_value;
    if (oldText != null) entry.oldText = oldText;
    if (newText != null) entry.newText = newText;
    entries.push(entry);
  }
  return entries.sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || eventOrder[a.event] - eventOrder[b.event],
  );
}

function toMemory(item: Mem0Item, flavour: Mem0Flavour, fallbackScope: Scope, operation: StoreOperation): Memory {
  const raw = item.metadata ?? {};
  const metadata: Metadata = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!isReservedKey(key, flavour)) metadata[key] = value;
  }
  if (item.categories && item.categories.length > 0 && !('categories' in metadata)) {
    metadata.categories = [...item.categories];
  }

  const createdAt = toDate(item.createdAt ?? item.created_at, operation);
  const updatedAt = toDate(item.updatedAt ?? item.updated_at, operation);
  if (!createdAt && !updatedAt) throw malformed(operation, `memory ${item.id} has no createdAt or updatedAt`);

  const memory: Memory = {
    id: item.id,
    text: item.memory,
    metadata,
    scope: toScope(item, raw, flavour, fallbackScope),
    createdAt: (createdAt ?? updatedAt) as Date,
    // A memory never updated has no updatedAt in the OSS payload.
    updatedAt: (updatedAt ?? createdAt) as Date,
  };
  // A type no store would accept (one that could break the memory fence) is dropped, not shown.
  const type = raw[reservedMetadataKeys.type];
  if (isSafeMemoryType(type)) memory.type = type;
  const expiresAt = exactExpiry(raw) ?? dayExpiry(item.expirationDate ?? item.expiration_date ?? raw.expiration_date);
  if (expiresAt) memory.expiresAt = expiresAt;
  return memory;
}

function isReservedKey(key: string, flavour: Mem0Flavour): boolean {
  if (key === reservedMetadataKeys.type || key === reservedMetadataKeys.expiresAt) return true;
  // The OSS payload carries app_id (written by the store) and mem0's own expiry as metadata.
  return flavour === 'oss' && (key === 'app_id' || key === 'expiration_date');
}

function toScope(item: Mem0Item, raw: Metadata, flavour: Mem0Flavour, fallback: Scope): Scope {
  const ossAppId = flavour === 'oss' && typeof raw.app_id === 'string' ? raw.app_id : undefined;
  const found: Scope = {};
  const userId = item.userId ?? item.user_id ?? fallback.userId;
  const agentId = item.agentId ?? item.agent_id ?? fallback.agentId;
  const runId = item.runId ?? item.run_id ?? item.sessionId ?? item.session_id ?? fallback.runId;
  const appId = item.appId ?? item.app_id ?? ossAppId ?? fallback.appId;
  if (userId) found.userId = userId;
  if (agentId) found.agentId = agentId;
  if (runId) found.runId = runId;
  if (appId) found.appId = appId;
  return found;
}

function exactExpiry(raw: Metadata): Date | undefined {
  const value = raw[reservedMetadataKeys.expiresAt];
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

// mem0 keeps a memory visible through its expiration day, so it lapses at the next midnight (UTC).
function dayExpiry(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const day = new Date(`${value.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(day.getTime())) return undefined;
  return new Date(day.getTime() + 86_400_000);
}

function toDate(value: string | number | Date | null | undefined, operation: StoreOperation): Date | undefined {
  if (value === null || value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw malformed(operation, 'an invalid date');
  return date;
}

function parse<T extends z.ZodType>(schema: T, value: unknown, operation: StoreOperation): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at [${issue.path.join('.')}]` : '';
    throw malformed(operation, `${issue?.message ?? 'an unexpected shape'}${where}`, parsed.error);
  }
  return parsed.data;
}

/** The error for a mem0 answer that does not have the shape mem0 documents. */
export function malformed(operation: StoreOperation, detail: string, cause?: unknown): StoreError {
  return new StoreError(
    `mem0 answered ${operation} with a malformed response (${detail}); check that mem0ai and the server are versions this store supports.`,
    // The request reached mem0 and was answered: trying again could store a write twice.
    { store: 'mem0', operation, retryable: false, cause },
  );
}
