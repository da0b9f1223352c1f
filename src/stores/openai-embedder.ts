/**
 * `openaiEmbedder`: an `Embedder` for the local store backed by OpenAI's embeddings API, through
 * the caller's own `openai` client (this module never imports `openai`).
 *
 * @module
 */

import { z } from 'zod';
import { toInvalidOptionsError } from '../core/options.js';
import type { Embedder } from './kernel/embeddings.js';

/** The part of an `openai` client the embedder uses. */
export interface EmbeddingsClient {
  embeddings: {
    create(body: {
      model: string;
      input: string[];
      dimensions?: number;
    }): PromiseLike<{ data: Array<{ embedding: number[] | string; index: number }> }>;
  };
}

/** Options of `openaiEmbedder`. */
export interface OpenAIEmbedderOptions {
  /** An `openai` client (`new OpenAI()`), or anything with the same `embeddings.create`. */
  client: EmbeddingsClient;
  /**
   * The embedding model.
   * @default 'text-embedding-3-small'
   */
  model?: string;
  /** Shorter vectors (text-embedding-3 models only); the model's full length when omitted. */
  dimensions?: number;
  /**
   * Most texts per request (OpenAI accepts up to 2048).
   * @default 256
   */
  batchSize?: number;
}

const optionsSchema = z
  .object(
    {
      client: z.custom<EmbeddingsClient>(
        (value) => typeof (value as { embeddings?: { create?: unknown } } | null)?.embeddings?.create === 'function',
        { error: 'an OpenAI client (new OpenAI()) or an object with embeddings.create' },
      ),
      model: z.string({ error: 'a model name' }).min(1, { error: 'a model name' }).optional(),
      dimensions: z.number().int({ error: 'a whole number' }).positive({ error: 'a number above 0' }).optional(),
      batchSize: z
        .number()
        .int({ error: 'a whole number' })
        .min(1, { error: 'a number from 1 to 2048' })
        .max(2048, { error: 'a number from 1 to 2048' })
        .optional(),
    },
    { error: 'an options object such as { client: new OpenAI() }' },
  )
  .strict();

/**
 * Creates an `Embedder` that calls OpenAI's embeddings API in batches, in order.
 *
 * @example
 * import OpenAI from 'openai';
 * import { localStore, openaiEmbedder } from 'with-memory';
 * const store = localStore({ embedder: openaiEmbedder({ client: new OpenAI() }) });
 */
export function openaiEmbedder(options: OpenAIEmbedderOptions): Embedder {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw toInvalidOptionsError(parsed.error);
  const { client, model = 'text-embedding-3-small', dimensions, batchSize = 256 } = parsed.data;

  return async (texts) => {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const input = texts.slice(start, start + batchSize);
      // No encoding_format: the openai client then asks for base64 and decodes it to numbers itself.
      const body: { model: string; input: string[]; dimensions?: number } = { model, input };
      if (dimensions !== undefined) body.dimensions = dimensions;
      const response = await client.embeddings.create(body);
      const data = Array.isArray(response?.data) ? response.data : [];
      // The API may answer out of order; `index` says which input each vector belongs to.
      const ordered = [...data].sort((x, y) => x.index - y.index);
      if (ordered.length !== input.length || ordered.some((item) => !Array.isArray(item.embedding))) {
        throw new Error(
          `The embeddings API answered ${ordered.length} float vectors for ${input.length} texts (model ${model}).`,
        );
      }
      for (const item of ordered) vectors.push(item.embedding as number[]);
    }
    return vectors;
  };
}
