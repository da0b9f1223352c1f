/**
 * The in-memory store's search: the local store's plan and ranking (`../kernel/ranking.ts`) over
 * the scope's own index, so both stores rank alike.
 *
 * @module
 */

import { InvalidOptionsError } from '../../core/errors.js';
import { parseScope } from '../../core/scope.js';
import type { MemoryHit, SearchOptions } from '../../core/types.js';
import { searchTerms } from '../../text/text-terms.js';
import { asksForTime } from '../contextual-ranking.js';
import {
  type MemoryContext,
  planCandidates,
  type RankCandidate,
  rankCandidates,
  rankingSettings,
} from '../kernel/ranking.js';
import { searchSchema, validate } from '../kernel/store-input.js';
import { copy, type MemoryIndex, neighboursOf, type StoredMemory, visibleTo } from './memory-index.js';

const defaultSearchLimit = 8;

/** The best memories of the index for the query, best first, as fresh copies. */
export function searchIndex(index: MemoryIndex, query: string, options: SearchOptions): MemoryHit[] {
  const scope = parseScope(options.scope);
  // The same checks as the other stores: bad input is an error naming the field, never a TypeError.
  validate(searchSchema, options);
  if (typeof query !== 'string') throw new InvalidOptionsError('query', 'a string');
  const queryTerms = [...new Set(searchTerms(query))];
  const limit = options.limit ?? defaultSearchLimit;
  if (queryTerms.length === 0 || limit === 0) return [];
  const groups = index.groupsIn(scope);
  let size = 0;
  let totalTerms = 0;
  for (const group of groups) {
    size += group.members.length;
    totalTerms += group.totalTerms;
  }
  if (size === 0) return [];
  const now = Date.now();
  const visible = visibleTo(options.types, options.filters, now);
  const holders: Array<Iterable<StoredMemory>> = [];
  const documentFrequency = new Map<string, number>();
  for (const term of queryTerms) {
    const found = groups.length === 1 ? groups[0]?.postings.get(term) : undefined;
    const list = found ?? groups.flatMap((group) => [...(group.postings.get(term) ?? [])]);
    holders.push(list);
    documentFrequency.set(term, found ? found.size : (list as StoredMemory[]).length);
  }
  // The local store's plan: the oldest memories of a common term stand for it.
  const { termPostingLimit, wholeScopeSize } = rankingSettings;
  const plan =
    size <= wholeScopeSize
      ? { keys: new Set<number>(), wholeScope: true }
      : planCandidates(
          holders.map((found) => {
            const keys = [...found].map((stored) => stored.key);
            return keys.length <= termPostingLimit ? keys : keys.sort((x, y) => x - y).slice(0, termPostingLimit + 1);
          }),
          size,
          limit,
        );
  const chosen = new Set<StoredMemory>();
  if (plan.wholeScope) for (const found of holders) for (const stored of found) chosen.add(stored);
  else for (const key of plan.keys) chosen.add(index.byKey.get(key) as StoredMemory);
  const candidates: Array<RankCandidate & { stored: StoredMemory }> = [];
  for (const stored of chosen) {
    if (!visible(stored)) continue;
    candidates.push({ key: stored.key, terms: stored.terms, updatedAt: stored.memory.updatedAt.getTime(), stored });
  }
  const withText = asksForTime(query);
  const contextOf = (keys: number[]) => {
    const contexts = new Map<number, MemoryContext>();
    for (const key of keys) {
      const { before, after } = neighboursOf(groups, key, visible);
      contexts.set(key, { text: withText ? (index.byKey.get(key)?.memory.text ?? '') : '', before, after });
    }
    return contexts;
  };
  const statistics = { size, totalTerms, documentFrequency };
  const threshold = options.threshold ?? 0;
  return rankCandidates(query, queryTerms, candidates, statistics, contextOf, { limit, threshold, now }).map(
    ({ candidate, score, parts }) => {
      const hit = copy(candidate.stored.memory) as MemoryHit;
      hit.score = score;
      hit.scoreParts = parts;
      return hit;
    },
  );
}
