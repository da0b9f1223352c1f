/**
 * Vectors as the bytes SQLite keeps in a BLOB column.
 *
 * @module
 */

/** The bytes of a vector, for a BLOB column. */
export function vectorToBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** A vector read back from a BLOB column; copies, because SQLite's buffer may not be 4-byte aligned. */
export function bytesToVector(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer, 0, Math.floor(bytes.byteLength / 4));
}
