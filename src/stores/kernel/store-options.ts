/**
 * The options the built-in stores share (embedder, restatement thresholds, history), checked by
 * one schema each and defaulted in one place.
 *
 * @module
 */

import { z } from 'zod';
import type { Embedder } from './embeddings.js';

/** A similarity threshold: above 0, at most 1. */
export const thresholdSchema = z
  .number({ error: 'a number above 0 and at most 1' })
  .gt(0, { error: 'a number above 0 and at most 1' })
  .max(1, { error: 'a number above 0 and at most 1' });

/** The fields of the SQL stores' options that the kernel uses, for their `z.object`. */
export const sharedOptionFields = {
  embedder: z
    .custom<Embedder>((value) => typeof value === 'function', {
      error: 'a function (texts) => Promise<number[][]>',
    })
    .optional(),
  duplicateThreshold: thresholdSchema.optional(),
  vectorDuplicateThreshold: thresholdSchema.optional(),
  keepDeletedText: z.boolean({ error: 'true or false' }).optional(),
  actor: z.string({ error: 'a string' }).trim().min(1, { error: 'a non-empty string' }).max(256).optional(),
};

/** The defaults of the shared options (see each store's options for what they mean). */
export const sharedOptionDefaults = {
  duplicateThreshold: 0.85,
  vectorDuplicateThreshold: 0.95,
  keepDeletedText: false,
  actor: 'with-memory',
} as const;
