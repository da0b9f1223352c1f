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

const hitSchema = memorySchema.extend({ score: z.number().refine(Number.isFinite, 'a finite number') });

/**
 * Checks what a store's `search` returned and keeps only hits inside the scope: a malformed answer
 * becomes a `StoreError` here instead of a crash three calls later, and a store that ignores the
 * scope cannot leak another user's memories into the prompt.
 */
export function checkHits(value: unknown, store: string, scope: Scope): { hits: MemoryHit[]; outside: number } {
  const parsed = z.array(hitSchema).safeParse(value);
  if (!parsed.success) throw malformed(store, 'search', parsed.error);
  const hits = parsed.data.map((hit) => ({ ...hit, score: Math.min(1, Math.max(0, hit.score)) }) as MemoryHit);
  const inside = hits.filter((hit) => scopeMatches(hit.scope, scope));
  return { hits: inside, outside: hits.length - inside.length };
}

/** Like `checkHits`, for what `list` returned. */
export function checkMemories(value: unknown, store: string, scope: Scope): { memories: Memory[]; outside: number } {
  const parsed = z.array(memorySchema).safeParse(value);
  if (!parsed.success) throw malformed(store, 'list', parsed.error);
  const memories = parsed.data as Memory[];
  const inside = memories.filter((memory) => scopeMatches(memory.scope, scope));
  return { memories: inside, outside: memories.length - inside.length };
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
