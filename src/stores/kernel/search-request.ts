/**
 * A search as every store receives it: its options checked once, its query turned into terms and,
 * with an embedder, into a vector.
 *
 * @module
 */

import { InvalidOptionsError } from '../../core/errors.js';
import { parseScope } from '../../core/scope.js';
import type { MemoryType, MetadataFilter, Scope, SearchOptions } from '../../core/types.js';
import { searchTerms } from '../../text/text-terms.js';
import { type Embedder, embedTexts } from './embeddings.js';
import { searchSchema, validate } from './store-input.js';

/** What a read filters on. */
export interface VisibleFilter {
  scope: Scope;
  types?: MemoryType[] | undefined;
  filters?: MetadataFilter | undefined;
  now: number;
}

/** A search, once its query has been turned into terms (and a vector). */
export interface SearchRequest extends VisibleFilter {
  queryTerms: string[];
  queryVector?: Float32Array | undefined;
  limit: number;
  threshold: number;
}

/**
 * Most distinct terms a query uses. A 100 KB query would otherwise become an OR of thousands of
 * terms; the first 64 distinct ones say what it is about.
 */
const maxQueryTerms = 64;

const defaultSearchLimit = 8;

// A term of ASCII punctuation, controls and spaces alone is nothing to search by (the SQLite
// index's `ascii` tokenizer drops every such character).
// biome-ignore lint/suspicious/noControlCharactersInRegex: every ASCII non-alphanumeric, controls included
const searchableCharacter = /[^\u0000-\u002f\u003a-\u0040\u005b-\u0060\u007b-\u007f]/;

/**
 * Distinct query terms (`searchTerms()`: without the words that only make it a question), at most
 * `maxQueryTerms`, in the order they first appear.
 */
export function queryTerms(query: string): string[] {
  const distinct = new Set<string>();
  for (const term of searchTerms(query)) {
    if (!searchableCharacter.test(term)) continue;
    distinct.add(term);
    if (distinct.size >= maxQueryTerms) break;
  }
  return [...distinct];
}

/**
 * A search's checked options, its query terms and, with an embedder, its vector (a failing
 * embedder costs the vector half of the ranking, not the search); `undefined` when the query holds
 * nothing to search by.
 */
export async function searchRequest(
  query: unknown,
  searchOptions: SearchOptions,
  embedder: Embedder | undefined,
): Promise<SearchRequest | undefined> {
  searchOptions.signal?.throwIfAborted();
  const scope = parseScope(searchOptions.scope);
  const { limit = defaultSearchLimit, threshold = 0, types, filters } = validate(searchSchema, searchOptions);
  if (typeof query !== 'string') throw new InvalidOptionsError('query', 'a string');
  const terms = queryTerms(query);
  let queryVector: Float32Array | undefined;
  if (embedder && query.trim() !== '') {
    queryVector = await embedTexts(embedder, [query]).then(
      (vectors) => vectors[0],
      () => undefined,
    );
    searchOptions.signal?.throwIfAborted();
  }
  if (terms.length === 0 && !queryVector) return undefined;
  return { scope, types, filters, queryTerms: terms, queryVector, limit, threshold, now: Date.now() };
}
