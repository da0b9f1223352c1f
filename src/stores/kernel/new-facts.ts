/**
 * The facts of an `add`, as every store writes them: the write and its options checked once, a
 * messages write kept as its user messages, each fact trimmed (empty ones dropped) and its terms
 * and hash computed before any transaction.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import { parseScope } from '../../core/scope.js';
import type { AddOptions, FactInput, MemoryChange, MemoryType, Metadata, Scope } from '../../core/types.js';
import { terms } from '../../text/text-terms.js';
import type { HistoryRecord } from './history.js';
import { contentHash } from './restatements.js';
import { metadataSchema, validate, validateWrite } from './store-input.js';

/** A fact ready to write: checked, trimmed, its terms and hash computed outside the transaction. */
export interface PreparedFact {
  text: string;
  type: MemoryType | undefined;
  /** The write's metadata, overridden by the fact's own. */
  metadata: Metadata;
  expiresAt: number | undefined;
  /** When the fact was said (`FactInput.createdAt`), if not now. */
  saidAt: number | undefined;
  terms: string[];
  contentHash: string;
  vector?: Float32Array | undefined;
}

/** How restatements are recognised and changes recorded. */
export interface AddSettings {
  duplicateThreshold: number;
  vectorDuplicateThreshold: number;
  actor: string;
  reason: string | undefined;
}

/**
 * The scope and the prepared facts of an `add`. `cleanText` is the store's rule for text it cannot
 * hold as given (PostgreSQL: NUL).
 */
export function newFacts(
  write: unknown,
  addOptions: AddOptions,
  cleanText: (text: string) => string = (text) => text,
): { scope: Scope; facts: PreparedFact[] } {
  const scope = parseScope(addOptions.scope);
  const baseMetadata = addOptions.metadata === undefined ? {} : validate(metadataSchema, addOptions.metadata);
  const checked = validateWrite(write);
  // A store that does not distil facts must not lose a write of raw messages: each user message is
  // kept as a fact, as the user said it.
  const inputs: FactInput[] =
    'messages' in checked
      ? checked.messages
          .filter((message) => message.role === 'user')
          .map(({ content }) => ({ text: content, type: 'fact' }))
      : (checked.facts as FactInput[]);
  const facts: PreparedFact[] = [];
  for (const fact of inputs) {
    const text = cleanText(fact.text).trim();
    if (text === '') continue;
    const metadata = { ...baseMetadata, ...fact.metadata };
    facts.push({
      text,
      type: fact.type,
      // Metadata is free-form JSON: only a deep copy keeps the caller's nested values apart.
      metadata: Object.keys(metadata).length === 0 ? metadata : structuredClone(metadata),
      expiresAt: fact.expiresAt?.getTime(),
      saidAt: fact.createdAt?.getTime(),
      terms: terms(text),
      contentHash: contentHash(text),
    });
  }
  return { scope, facts };
}

/**
 * A UUID in the version 7 layout (milliseconds first, then random): ids sort by creation, and new
 * rows land at the end of the id indexes instead of on random pages, which keeps writes fast.
 */
export function timeOrderedId(): string {
  const hex = Date.now().toString(16).padStart(12, '0') + randomUUID().replaceAll('-', '').slice(12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The change and history entry of a new memory. */
export function addedChange(
  id: string,
  text: string,
  settings: Pick<AddSettings, 'actor' | 'reason'>,
  now: number,
): { change: MemoryChange; record: HistoryRecord } {
  return {
    change: { event: 'ADD', id, text },
    record: { memoryId: id, event: 'ADD', newText: text, reason: settings.reason, actor: settings.actor, at: now },
  };
}

/**
 * The change and history entry of a restated memory: `NONE` and no entry when it was said again
 * word for word (it is still fresh again: recency, expiry).
 */
export function restatedChange(
  existing: { id: string; text: string },
  text: string,
  saidAgain: boolean,
  settings: Pick<AddSettings, 'actor' | 'reason'>,
  now: number,
): { change: MemoryChange; record: HistoryRecord | undefined } {
  if (saidAgain) return { change: { event: 'NONE', id: existing.id, text }, record: undefined };
  return {
    change: { event: 'UPDATE', id: existing.id, text, previousText: existing.text },
    record: {
      memoryId: existing.id,
      event: 'UPDATE',
      oldText: existing.text,
      newText: text,
      reason: settings.reason,
      actor: settings.actor,
      at: now,
    },
  };
}
