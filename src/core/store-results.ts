import { z } from 'zod';
import { StoreError } from './errors.js';
import { scopeMatches } from './scope.js';
import type { Memory, MemoryHit, Scope } from './types.js';

const date = z.union([z.date(), z.string(), z.number()]).transform((value, context) => {
  const parsed = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(parsed.getTime())) {
    context.addIssue({ code: 'custom', message: 'an invalid date' });
    return z.NEVER;
  }
  return parsed;
});

const scopeId = z.string().optional();

const memorySchema = z.looseObject({
  id: z.string().min(1),
  text: z.string(),
  type: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).default({}),
  scope: z.object({ userId: scopeId, agentId: scopeId, runId: scopeId, appId: scopeId }).default({}),
  createdAt: date,
  updatedAt: date,
  expiresAt: date.optional(),
});

const part = z.number().refine(Number.isFinite, 'a finite number');
const hitSchema = memorySchema.extend({
  score: part,
  scoreParts: z.object({ words: part, neighbours: part, vector: part.optional(), recency: part }).optional(),
});

/**
 * Checks what a store's `search` returned and keeps only hits inside the scope: a malformed answer
 * becomes a `StoreError` here instead of a crash three calls later, and a store that ignores the
 * scope cannot leak another user's memories into the prompt.
 */
export function checkHits(value: unknown, store: string, scope: Scope): { hits: MemoryHit[]; outside: number } {
  let hits = wellFormed(value, true) as MemoryHit[] | undefined;
  if (!hits) {
    const parsed = z.array(hitSchema).safeParse(value);
    if (!parsed.success) throw malformed(store, 'search', parsed.error);
    hits = parsed.data as MemoryHit[];
  }
  hits = hits.map((hit) =>
    hit.score >= 0 && hit.score <= 1 ? hit : { ...hit, score: Math.min(1, Math.max(0, hit.score)) },
  );
  const inside = hits.filter((hit) => scopeMatches(hit.scope, scope));
  return { hits: inside, outside: hits.length - inside.length };
}

/** Like `checkHits`, for what `list` returned. */
export function checkMemories(value: unknown, store: string, scope: Scope): { memories: Memory[]; outside: number } {
  let memories = wellFormed(value, false);
  if (!memories) {
    const parsed = z.array(memorySchema).safeParse(value);
    if (!parsed.success) throw malformed(store, 'list', parsed.error);
    memories = parsed.data as Memory[];
  }
  const inside = memories.filter((memory) => scopeMatches(memory.scope, scope));
  return { memories: inside, outside: memories.length - inside.length };
}

/**
 * The common case without zod: an array of memories already in shape (dates as `Date`, metadata
 * and scope present), as every built-in store returns them, passes as it is. Anything else, even
 * a shape zod would accept after converting it, returns undefined and goes through the schema,
 * which converts it or explains what is wrong. Checking hundreds of memories per call this way
 * costs a fraction of the schema's time.
 */
function wellFormed(value: unknown, scored: boolean): Memory[] | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const item of value) {
    if (typeof item !== 'object' || item === null) return undefined;
    const memory = item as Partial<MemoryHit>;
    if (typeof memory.id !== 'string' || memory.id === '' || typeof memory.text !== 'string') return undefined;
    if (memory.type !== undefined && typeof memory.type !== 'string') return undefined;
    if (!isPlainObject(memory.metadata) || !isScope(memory.scope)) return undefined;
    if (!isDate(memory.createdAt) || !isDate(memory.updatedAt)) return undefined;
    if (memory.expiresAt !== undefined && !isDate(memory.expiresAt)) return undefined;
    if (scored && (!Number.isFinite(memory.score) || !isScoreParts(memory.scoreParts))) return undefined;
  }
  return value as Memory[];
}

function isScoreParts(value: unknown): boolean {
  if (value === undefined) return true;
  if (!isPlainObject(value)) return false;
  const { words, neighbours, vector, recency } = value;
  return [words, neighbours, recency].every(Number.isFinite) && (vector === undefined || Number.isFinite(vector));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScope(value: unknown): value is Scope {
  if (!isPlainObject(value)) return false;
  return ['userId', 'agentId', 'runId', 'appId'].every(
    (field) => value[field] === undefined || typeof value[field] === 'string',
  );
}

function isDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** The error for a store that answered with memories outside the scope it was asked for. */
export function outsideScopeError(store: string, operation: 'search' | 'list', count: number): StoreError {
  return new StoreError(
    `Store "${store}" returned ${count} memories outside the requested scope from ${operation}; they were dropped. The store does not isolate scopes: fix its scope filter.`,
    { store, operation, retryable: false },
  );
}

function malformed(store: string, operation: 'search' | 'list', error: z.ZodError): StoreError {
  const issue = error.issues[0];
  const where = issue?.path.length ? ` at [${issue.path.join('.')}]` : '';
  return new StoreError(
    `Store "${store}" returned a malformed ${operation} result${where}: ${issue?.message ?? 'unexpected shape'}. Expected an array of memories ({ id, text, score, metadata, scope, createdAt, updatedAt }).`,
    { store, operation, retryable: false, cause: error },
  );
}
