import { z } from 'zod';
import { InvalidOptionsError } from './errors.js';
import type { Scope } from './types.js';

const scopeFields = ['userId', 'agentId', 'runId', 'appId'] as const;

// Control characters would let an id smuggle line breaks into logs and keys.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/;
// A lone surrogate is not text: PostgreSQL stores it as U+FFFD, so 'a\ud800b' and 'a\ufffdb' would
// be one user there. An id must be well-formed UTF-16 on every store.
const loneSurrogate = /\p{Cs}/u;

const scopeId = z
  .string({ error: 'a string' })
  .trim()
  .min(1, { error: 'a non-empty string (1-256 characters after trimming)' })
  .max(256, { error: 'at most 256 characters' })
  .refine((value) => !controlCharacters.test(value), { error: 'no control characters' })
  .refine((value) => !loneSurrogate.test(value), { error: 'well-formed text (a lone UTF-16 surrogate is not)' });

/** The zod schema of a `Scope`: trimmed ids, at least one of userId, agentId, runId. */
export const scopeSchema = z
  .object(
    {
      userId: scopeId.optional(),
      agentId: scopeId.optional(),
      runId: scopeId.optional(),
      appId: scopeId.optional(),
    },
    { error: 'an object such as { userId: "user_42" }' },
  )
  .strict()
  .refine((scope) => scope.userId !== undefined || scope.agentId !== undefined || scope.runId !== undefined, {
    error: 'at least one of userId, agentId or runId',
  });

/** Validates a scope and returns it trimmed; throws `InvalidOptionsError` naming the bad field. */
export function parseScope(scope: unknown, path = 'scope'): Scope {
  if (isCleanScope(scope)) return withoutUndefined(scope);
  const result = scopeSchema.safeParse(scope);
  if (!result.success) {
    const issue = result.error.issues[0];
    const subPath = issue?.path.length ? `${path}.${issue.path.join('.')}` : path;
    throw new InvalidOptionsError(subPath, issue?.message ?? 'a valid scope');
  }
  return withoutUndefined(result.data);
}

/**
 * The common case without zod: a scope every store call gets, already valid and trimmed. Anything
 * else goes through the schema, which trims it or says what is wrong.
 */
function isCleanScope(scope: unknown): scope is Scope {
  if (typeof scope !== 'object' || scope === null || Object.getPrototypeOf(scope) !== Object.prototype) return false;
  const fields = scope as Record<string, unknown>;
  let ids = 0;
  for (const key in fields) {
    if (!(scopeFields as readonly string[]).includes(key)) return false;
    const value = fields[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') return false;
    if (value === '' || value.length > 256 || value.trim() !== value) return false;
    if (controlCharacters.test(value) || loneSurrogate.test(value)) return false;
    if (key !== 'appId') ids += 1;
  }
  return ids > 0;
}

/** True when `memoryScope` is inside `queryScope`: every field the query gives matches exactly. */
export function scopeMatches(memoryScope: Scope, queryScope: Scope): boolean {
  return scopeFields.every((field) => queryScope[field] === undefined || memoryScope[field] === queryScope[field]);
}

/** True when a memory was stored under exactly `scope`: no field more, none less. */
export function sameScope(memory: Scope, scope: Scope): boolean {
  return scopeFields.every((field) => memory[field] === scope[field]);
}

/** A stable string for a scope, usable as a map key. */
export function scopeKey(scope: Scope): string {
  return JSON.stringify(scopeFields.map((field) => scope[field] ?? null));
}

function withoutUndefined(scope: { [field in keyof Scope]?: string | undefined }): Scope {
  const clean: Scope = {};
  for (const field of scopeFields) {
    const value = scope[field];
    if (value !== undefined) clean[field] = value;
  }
  return clean;
}
