/**
 * Adding one fact to the in-memory store: a restatement (the kernel's rules) updates the memory
 * it restates, else the fact becomes a new memory.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { Memory, MemoryChange } from '../../core/types.js';
import { type PreparedFact, restatedChange } from '../kernel/new-facts.js';
import { restatement } from '../kernel/restatements.js';
import type { MemoryHistories } from './memory-histories.js';
import type { MemoryIndex } from './memory-index.js';

/** Writes a fact to `index`, recording the change in `histories`. */
export function addFact(
  { index, histories }: { index: MemoryIndex; histories: MemoryHistories },
  fact: PreparedFact,
  {
    scope,
    reason,
    duplicateThreshold,
  }: { scope: Memory['scope']; reason: string | undefined; duplicateThreshold: number },
): MemoryChange {
  const now = new Date();
  const saidAt = fact.saidAt === undefined ? now : new Date(fact.saidAt);
  const restated = index.findRestated(fact, scope, duplicateThreshold);
  if (restated) {
    const { memory } = restated;
    const { metadata, saidAgain } = restatement(memory, fact);
    const previous = { id: memory.id, text: memory.text };
    if (memory.text !== fact.text) index.retext(restated, fact.text);
    memory.metadata = metadata;
    // A back-filled restatement said before the last update must not make the memory look older.
    if (saidAt > memory.updatedAt) memory.updatedAt = saidAt;
    if (fact.expiresAt !== undefined) memory.expiresAt = new Date(fact.expiresAt);
    restated.sequence = index.nextSequence();
    // Said again word for word: NONE, and nothing for the history (as the other stores).
    const { change, record } = restatedChange(previous, fact.text, saidAgain, { reason, actor: '' }, 0);
    if (record) histories.record(memory.id, record, now);
    return change;
  }
  const memory: Memory = {
    id: randomUUID(),
    text: fact.text,
    metadata: fact.metadata,
    scope: { ...scope },
    createdAt: saidAt,
    updatedAt: new Date(saidAt),
  };
  if (fact.type !== undefined) memory.type = fact.type;
  if (fact.expiresAt !== undefined) memory.expiresAt = new Date(fact.expiresAt);
  index.put({
    memory,
    terms: fact.terms,
    hash: fact.contentHash,
    sequence: index.nextSequence(),
    key: index.nextKey(),
  });
  histories.record(memory.id, { event: 'ADD', newText: fact.text, reason }, now);
  return { event: 'ADD', id: memory.id, text: fact.text };
}
