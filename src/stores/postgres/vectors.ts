/**
 * Embedding vectors in SQL, for either column type: pgvector's `vector` (cosine distance by its
 * `<=>` operator, an HNSW index for large scopes) or plain `real[]` (a dot product over the
 * candidates; vectors are stored at unit length, so it is their cosine similarity).
 *
 * @module
 */

import type { Parameters } from './conditions.js';
import type { VectorColumn } from './schema.js';

/** The placeholder of a vector parameter, cast to the column's type. */
export function vectorValue(params: Parameters, vectors: VectorColumn, vector: Float32Array): string {
  const placeholder = `${params.add(Array.from(vector))}::real[]`;
  return vectors.kind === 'pgvector' ? `${placeholder}::${vectors.extensionSchema}.vector` : placeholder;
}

/**
 * Cosine similarity of `m.embedding` and the vector `value` (a `vectorValue`), NULL where the
 * memory has no vector or one of another length (made by another embedding model).
 */
export function similarity(vectors: VectorColumn, value: string, dimensions: number): string {
  if (vectors.kind === 'pgvector') {
    const ext = vectors.extensionSchema;
    return `CASE WHEN ${ext}.vector_dims(m.embedding) = ${dimensions} THEN 1 - (m.embedding OPERATOR(${ext}.<=>) ${value}) END`;
  }
  return `CASE WHEN cardinality(m.embedding) = ${dimensions} THEN (SELECT sum(a::float8 * b) FROM unnest(m.embedding, ${value}) AS pair(a, b)) END`;
}

/**
 * With pgvector: the HNSW index of vectors of this length (a partial index on the cast, so vectors
 * of another length never break it), created the first time such a vector is stored.
 */
export function hnswIndex(schema: string, vectors: VectorColumn, dimensions: number): string | undefined {
  if (vectors.kind !== 'pgvector') return undefined;
  const ext = vectors.extensionSchema;
  return `CREATE INDEX IF NOT EXISTS memories_embedding_${dimensions} ON ${schema}.memories
    USING hnsw ((embedding::${ext}.vector(${dimensions})) ${ext}.vector_cosine_ops)
    WHERE ${ext}.vector_dims(embedding) = ${dimensions}`;
}

/** The distance the HNSW index of `hnswIndex` orders by, for `ORDER BY ... LIMIT`. */
export function indexedDistance(vectors: VectorColumn, value: string, dimensions: number): string | undefined {
  if (vectors.kind !== 'pgvector') return undefined;
  const ext = vectors.extensionSchema;
  return `m.embedding::${ext}.vector(${dimensions}) OPERATOR(${ext}.<=>) ${value}::${ext}.vector(${dimensions})`;
}
