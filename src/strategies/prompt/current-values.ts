/**
 * The current value first: when memories about the same one-value detail disagree (lives in
 * Berlin, then moved to Lisbon), the one said last is current and the older ones are earlier.
 * Deterministic, no model call, nothing deleted: the block only says which is which.
 *
 * @module
 */

import type { Memory } from '../../core/types.js';
import { restatementOverlap, terms } from '../../text/text-terms.js';
import { describe, statedSlot } from '../extract/heuristic/statement-rules.js';
import { sentences } from '../extract/sentences.js';

/** How a memory's value stands beside the others shown about the same detail. */
export type ValueStanding = 'current' | 'earlier';

/** When a memory was said: an episode when it was said, a fact when it was last stated. */
export function saidAt(memory: Memory): number {
  return (memory.type === 'episode' ? memory.createdAt : memory.updatedAt).getTime();
}

/**
 * Marks the memories that state a one-value detail (home, employer, job, name, diet, birthday,
 * "my X is") differently: those that agree with the one said last are `current`, the others
 * `earlier`. Memories that all agree, or state no such detail, get no mark. Facts are read by
 * the heuristic extractor's shapes ("User lives in Lisbon."); what the user said, by its
 * statement rules ("I moved to Lisbon").
 */
export function valueStandings(memories: Memory[]): Map<string, ValueStanding> {
  const bySlot = new Map<string, Statement[]>();
  for (const memory of memories) {
    for (const [slot, said] of statementsOf(memory)) {
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), { memory, terms: terms(said) }]);
    }
  }
  const standings = new Map<string, ValueStanding>();
  for (const group of bySlot.values()) {
    const newest = group.reduce((last, statement) =>
      saidAt(statement.memory) > saidAt(last.memory) ? statement : last,
    );
    const agrees = (statement: Statement) => restatementOverlap(statement.terms, newest.terms) > 0;
    if (group.every(agrees)) continue;
    for (const statement of group) {
      const { id } = statement.memory;
      // A memory out of date about one detail is earlier, whatever else it says.
      if (!agrees(statement)) standings.set(id, 'earlier');
      else if (!standings.has(id)) standings.set(id, 'current');
    }
  }
  return standings;
}

interface Statement {
  memory: Memory;
  /** The terms of what it states about the detail, in the third person ("User lives in Lisbon"). */
  terms: string[];
}

// The one-value details a memory states, each with the third-person statement of it.
function statementsOf(memory: Memory): Map<string, string> {
  const found = new Map<string, string>();
  if (memory.type !== 'episode') {
    const slot = describe(memory.text).slot;
    if (slot) found.set(slot, memory.text);
    return found;
  }
  // The assistant's words state nothing about the user's details.
  if (memory.metadata.role === 'assistant') return found;
  for (const sentence of sentences(memory.text)) {
    const stated = statedSlot(sentence);
    if (stated) found.set(stated.slot, stated.fact);
  }
  return found;
}
