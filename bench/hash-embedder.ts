/**
 * A deterministic stand-in for an embedding model, so that vector search can be benchmarked
 * offline and identically for every store: words and character trigrams are hashed (FNV-1a) into
 * a fixed number of signed dimensions and the vector is L2-normalised. It captures shared words
 * and spellings, not meaning: it is NOT a semantic model, and its recall says nothing about one.
 *
 * @module
 */

/** Embeds texts the way the stores' `embedder` option expects. */
export type TextEmbedder = (texts: string[]) => Promise<number[][]>;

/** Options of `hashEmbedder`. */
export interface HashEmbedderOptions {
  /** Vector length. @default 256 */
  dimensions?: number;
}

/**
 * Creates the deterministic hashed n-gram embedder.
 *
 * @example
 * const embed = hashEmbedder({ dimensions: 256 });
 * const [vector] = await embed(['likes dark mode']);
 */
export function hashEmbedder({ dimensions = 256 }: HashEmbedderOptions = {}): TextEmbedder {
  const embedOne = (text: string): number[] => {
    const vector = new Array<number>(dimensions).fill(0);
    const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    for (const word of words) {
      addFeature(vector, `w:${word}`, 1);
      const padded = ` ${word} `;
      for (let start = 0; start + 3 <= padded.length; start += 1)
        addFeature(vector, `t:${padded.slice(start, start + 3)}`, 0.5);
    }
    let squares = 0;
    for (const value of vector) squares += value * value;
    const norm = Math.sqrt(squares) || 1;
    return vector.map((value) => value / norm);
  };
  return async (texts) => texts.map(embedOne);
}

function addFeature(vector: number[], feature: string, weight: number): void {
  const hash = fnv1a(feature);
  const index = hash % vector.length;
  // One hash bit picks the sign, so that collisions cancel out on average instead of piling up.
  vector[index] = (vector[index] ?? 0) + ((hash >>> 31) & 1 ? -weight : weight);
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
