/**
 * What every built-in store accepts from its caller, checked the same way by each: facts, types,
 * metadata, metadata filters, search, list and update options. A store checks its input here
 * before any engine sees it, so bad input is an `InvalidOptionsError` naming the field on every
 * store, never a raw `TypeError` or an engine's own error.
 *
 * @module
 */

import { z } from 'zod';
import { memoryTypeSchema, memoryTypesSchema } from '../../core/memory-type.js';
import { toInvalidOptionsError } from '../../core/options.js';

/** How many values one metadata filter may hold. */
export const maxFilterValues = 100;
/** How many metadata keys one search or list may filter on. */
const maxFilterKeys = 32;

// The type rule is the options' too, so it lives in core; the stores import it from here.
export { isSafeMemoryType, memoryTypeRule, memoryTypeSchema } from '../../core/memory-type.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what PostgreSQL cannot store
const nul = /\u0000/;
const loneSurrogate = /\p{Cs}/u;

/** Metadata: a JSON object (no cycles), whose keys and strings hold no NUL and no lone surrogate. */
export const metadataSchema = z
  .record(z.string(), z.unknown(), { error: 'a plain object' })
  .refine(isJsonObject, { error: 'a JSON-serialisable object (no cycles, no BigInt)', abort: true })
  .refine((metadata) => isStorableJson(metadata), {
    error: 'JSON whose keys and strings hold no NUL character (\\u0000) and no lone UTF-16 surrogate',
  });

const dateSchema = z
  .date({ error: 'a Date' })
  .refine((date) => !Number.isNaN(date.getTime()), { error: 'a valid Date' });

/** One fact of a `{ facts }` write. */
export const factSchema = z.object(
  {
    text: z.string({ error: 'a string' }),
    type: memoryTypeSchema.optional(),
    metadata: metadataSchema.optional(),
    expiresAt: dateSchema.optional(),
    createdAt: dateSchema.optional(),
  },
  { error: 'an object such as { text: "Prefers Celsius" }' },
);

const factsWriteSchema = z.object(
  { facts: z.array(factSchema, { error: 'an array of facts' }) },
  { error: '{ facts: [...] } or { messages: [...] }' },
);
const messagesWriteSchema = z.object({
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() }), {
    error: 'an array of messages',
  }),
});

/**
 * Checks a write: raw messages (kept as facts by stores that do not extract) when it has
 * `messages`, else facts; an error names the field that is wrong (`facts.0.type`).
 */
export function validateWrite(write: unknown): z.infer<typeof factsWriteSchema> | z.infer<typeof messagesWriteSchema> {
  const hasMessages = typeof write === 'object' && write !== null && 'messages' in write;
  return hasMessages ? validate(messagesWriteSchema, write) : validate(factsWriteSchema, write);
}

const filterValue = z.union(
  [
    z.string().refine((value) => !nul.test(value) && !loneSurrogate.test(value), {
      error: 'a string without NUL or lone surrogates',
    }),
    z.number().refine(Number.isFinite, { error: 'a finite number' }),
    z.boolean(),
  ],
  { error: 'a string, a finite number or a boolean' },
);

/**
 * Metadata filters: up to 32 keys, each a value or a list of 1 to 100 values. A `__proto__` key is
 * refused before zod or a store reads it as the object's prototype instead of as a key.
 */
const filtersSchema = z
  .unknown()
  .refine((filters) => typeof filters !== 'object' || filters === null || !Object.hasOwn(filters, '__proto__'), {
    error: 'metadata keys other than __proto__',
  })
  .pipe(
    z.record(
      z.string(),
      z
        .union([filterValue, z.array(filterValue)], {
          error: 'a string, a finite number or a boolean, or a list of them',
        })
        .refine((value) => !Array.isArray(value) || value.length > 0, {
          error: 'at least one value (leave the key out to not filter on it)',
        })
        .refine((value) => !Array.isArray(value) || value.length <= maxFilterValues, {
          error: `at most ${maxFilterValues} values`,
        }),
      { error: 'an object of metadata values or arrays of them' },
    ),
  )
  .refine((filters) => Object.keys(filters).length <= maxFilterKeys, { error: `at most ${maxFilterKeys} keys` });

const count = z.number({ error: 'a whole number' }).int({ error: 'a whole number' });

/** A search's options, besides the scope (checked by `parseScope`) and the signal. */
export const searchSchema = z.object({
  limit: count.min(0, { error: 'a number of 0 or more' }).optional(),
  threshold: z
    .number({ error: 'a number from 0 to 1' })
    .min(0, { error: 'a number from 0 to 1' })
    .max(1, { error: 'a number from 0 to 1' })
    .optional(),
  types: memoryTypesSchema.optional(),
  filters: filtersSchema.optional(),
});

/** A list's options, besides the scope. */
export const listSchema = z.object({
  limit: count.min(0, { error: 'a number of 0 or more' }).optional(),
  offset: count.min(0, { error: 'a number of 0 or more' }).optional(),
  types: memoryTypesSchema.optional(),
  filters: filtersSchema.optional(),
});

/** An update's patch. */
export const patchSchema = z.object(
  {
    text: z
      .string({ error: 'a string' })
      .refine((text) => text.trim() !== '', { error: 'non-empty text (delete the memory instead)' })
      .optional(),
    type: memoryTypeSchema.optional(),
    metadata: metadataSchema.optional(),
    expiresAt: z.union([dateSchema, z.null()]).optional(),
  },
  { error: 'an object such as { text: "Prefers Fahrenheit" }' },
);

/** Parses with zod; a failure becomes an `InvalidOptionsError` naming the field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw toInvalidOptionsError(parsed.error);
  return parsed.data;
}

function isJsonObject(value: unknown): boolean {
  try {
    const json = JSON.stringify(value);
    return typeof json === 'string' && json.startsWith('{');
  } catch {
    return false;
  }
}

/** No NUL and no lone surrogate in any key or string: what PostgreSQL's jsonb cannot hold. */
function isStorableJson(value: unknown): boolean {
  if (typeof value === 'string') return !nul.test(value) && !loneSurrogate.test(value);
  if (Array.isArray(value)) return value.every(isStorableJson);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).every(([key, item]) => isStorableJson(key) && isStorableJson(item));
  }
  return true;
}
