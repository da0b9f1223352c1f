/**
 * Embedding vectors of every store: calling the user's embedder safely, checking what it answers,
 * and comparing vectors.
 *
 * @module
 */

import { StoreError, type StoreOperation } from '../../core/errors.js';

/**
 * Turns texts into embedding vectors, one per text, in the same order (an OpenAI, Voyage, local
 * model... call). Every vector must have the same length.
 *
 * @example
 * const embedder: Embedder = async (texts) => (await client.embeddings.create({ model, input: texts })).data.map((item) => item.embedding);
 */
export type Embedder = (texts: string[]) => Promise<number[][]>;

/**
 * Calls the embedder and checks what it answered: one vector per text, all of one length, finite
 * numbers. Returns unit-length vectors, so cosine similarity is a plain dot product later.
 */
export async function embedTexts(embedder: Embedder, texts: string[]): Promise<Float32Array[]> {
  if (texts.length === 0) return [];
  const vectors: unknown = await embedder(texts);
  if (!Array.isArray(vectors) || vectors.length !== texts.length) {
    throw new Error(
      `The embedder returned ${Array.isArray(vectors) ? vectors.length : 'no array of'} vectors for ${texts.length} texts; it must return one vector per text, in order.`,
    );
  }
  const dimensions = Array.isArray(vectors[0]) ? vectors[0].length : 0;
  return vectors.map((vector: unknown, index) => {
    if (!Array.isArray(vector) || vector.length === 0 || vector.length !== dimensions) {
      throw new Error(`The embedder's vector ${index} is not a number array of length ${dimensions || 'above 0'}.`);
    }
    const packed = Float32Array.from(vector as number[]);
    if (!packed.every(Number.isFinite))
      throw new Error(`The embedder's vector ${index} holds a value that is not a finite number.`);
    return normalise(packed);
  });
}

/**
 * Cosine similarity of two unit vectors; 0 when their lengths differ (vectors made by another
 * embedding model cannot be compared).
 */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  for (let index = 0; index < a.length; index += 1) dot += (a[index] as number) * (b[index] as number);
  return dot;
}

function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const length = Math.sqrt(sum);
  if (length === 0) return vector;
  for (let index = 0; index < vector.length; index += 1) vector[index] = (vector[index] as number) / length;
  return vector;
}

/**
 * Vectors for texts about to be written, or `undefined` without an embedder. An embedder that
 * fails rejects with a retryable `StoreError` of `store` and `operation`: nothing is written
 * without its vector.
 */
export async function embedForWrite(
  embedder: Embedder | undefined,
  texts: string[],
  { store, operation }: { store: string; operation: StoreOperation },
): Promise<Float32Array[] | undefined> {
  if (!embedder || texts.length === 0) return undefined;
  try {
    return await embedTexts(embedder, texts);
  } catch (error) {
    throw new StoreError('The embedder failed; nothing was written. Check the embedder, then try again.', {
      store,
      operation,
      retryable: true,
      cause: error,
    });
  }
}
