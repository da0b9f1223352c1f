/**
 * The terms PostgreSQL keeps for a memory: all but those too long for an index entry (about
 * 2,700 bytes, GIN on `terms` and the B-tree of `memory_terms`, where the scope key comes with
 * the term), which would make the server refuse the whole row ("index row size exceeds
 * maximum"). A term that long (a pasted key, a base64 blob) is never a word anyone searches by;
 * the text keeps it, and the local store (FTS5, no such limit) accepts the same input.
 *
 * @module
 */

/** The longest term kept, in UTF-8 bytes: room left for the scope key in `memory_terms`. */
const maxTermBytes = 1000;

/** The terms without those too long for the index, in order, repeats kept. */
export function indexableTerms(terms: string[]): string[] {
  // A term of at most maxTermBytes / 3 UTF-16 units fits whatever its characters: only longer
  // ones are measured.
  return terms.filter((term) => term.length <= maxTermBytes / 3 || Buffer.byteLength(term) <= maxTermBytes);
}
