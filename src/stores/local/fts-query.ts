/**
 * What goes into the FTS5 index and how a search becomes an FTS5 query that cannot fail.
 *
 * The index does not see raw text. It holds the output of `terms()` (shared with the in-memory
 * store: ICU word segmentation, so Chinese or Japanese split into words; stop words dropped;
 * English stemmed), read by FTS5's `ascii` tokenizer, which splits only on ASCII punctuation and
 * spaces. So the index and the query agree term for term, whatever the script, and the rescoring
 * in `ranking.ts` sees the same terms the index matched.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import type { Scope } from '../../core/types.js';

const scopeFields = [
  ['userId', 'u'],
  ['agentId', 'a'],
  ['runId', 'r'],
  ['appId', 'p'],
] as const;

/**
 * The term as one token of the `ascii` tokenizer: ASCII characters other than letters and digits
 * would split it (`don't` into `don` and `t`), so they are dropped. Two terms that become the
 * same token only cost a spare candidate: the rescoring compares the real terms.
 */
export function ftsToken(term: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: every ASCII non-alphanumeric, controls included
  return term.replace(/[\u0000-\u002f\u003a-\u0040\u005b-\u0060\u007b-\u007f]/g, '');
}

/** The text of the FTS `terms` column for a memory's text. */
export function indexedTerms(textTerms: string[]): string {
  return textTerms.map(ftsToken).filter(Boolean).join(' ');
}

/**
 * One token per given scope field, for the FTS `scope` column: a letter for the field and a hash of
 * the id, so a search walks only its own scope's part of the index. The hash can collide; the SQL
 * that joins the rows compares the real ids, so a collision costs time, never a leak.
 */
export function scopeTokens(scope: Scope): string[] {
  const tokens: string[] = [];
  for (const [field, letter] of scopeFields) {
    const value = scope[field];
    if (value !== undefined) tokens.push(letter + idHash(value));
  }
  return tokens;
}

// A batch of facts hashes the same scope ids again and again.
const recentHashes = new Map<string, string>();

function idHash(value: string): string {
  let hash = recentHashes.get(value);
  if (hash === undefined) {
    if (recentHashes.size >= 1000) recentHashes.clear();
    hash = createHash('sha256').update(value).digest('hex').slice(0, 16);
    recentHashes.set(value, hash);
  }
  return hash;
}

/**
 * The FTS5 MATCH expression: the scope's tokens AND any of the terms (or, with `'all'`, every one
 * of them). Every token is a quoted string, so words such as `NEAR`, `OR`, `NOT`, and characters
 * such as `*`, `"`, `(` or `^` are plain text, never syntax. Returns `undefined` when there is no
 * term to look for.
 */
export function matchExpression(scope: Scope, searchTerms: string[], match: 'any' | 'all' = 'any'): string | undefined {
  const tokens = [...new Set(searchTerms.map(ftsToken).filter(Boolean))];
  if (tokens.length === 0) return undefined;
  const scopePart = scopeTokens(scope).map((token) => `scope : ${quote(token)}`);
  const joiner = match === 'all' ? ' AND ' : ' OR ';
  return [...scopePart, `terms : (${tokens.map(quote).join(joiner)})`].join(' AND ');
}

function quote(token: string): string {
  return `"${token.replaceAll('"', '""')}"`;
}
