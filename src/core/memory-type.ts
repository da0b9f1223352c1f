/**
 * What a memory type may be, checked the same way by the options (`search.types`, `ttl`) and by
 * every store, so a type the options accept is one every store accepts.
 *
 * @module
 */

import { z } from 'zod';

/** The longest memory type, in characters. */
const maxTypeLength = 64;
/** How many types one list of types may hold. */
const maxListedTypes = 100;

// Letters and digits of any script, and `_ - . :` inside: a type can neither close the memory
// fence, nor forge a line, nor hide characters (no spaces, brackets, angle brackets, controls).
const memoryTypePattern = new RegExp(`^[\\p{L}\\p{N}][\\p{L}\\p{N}_.:-]{0,${maxTypeLength - 1}}$`, 'u');
/** What a memory type may be, as an error message says it. */
export const memoryTypeRule = `letters, digits and _ - . : (starting with a letter or digit, at most ${maxTypeLength} characters), such as 'preference'`;

/** True for a memory type every store accepts (see `memoryTypeSchema`). */
export function isSafeMemoryType(type: unknown): type is string {
  return typeof type === 'string' && memoryTypePattern.test(type);
}

/** A memory type: letters, digits and `_ - . :`, at most 64 characters. */
export const memoryTypeSchema = z.string({ error: 'a string' }).refine(isSafeMemoryType, { error: memoryTypeRule });

/** A list of types to search or list: 1 to 100 memory types. */
export const memoryTypesSchema = z
  .array(memoryTypeSchema, { error: 'an array of memory types' })
  .min(1, { error: 'at least one type (leave types out to search every type)' })
  .max(maxListedTypes, { error: `at most ${maxListedTypes} types` });
