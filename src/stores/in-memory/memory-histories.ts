/**
 * The in-memory store's history: the entries of each memory, oldest first.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { HistoryEntry } from '../../core/types.js';

/** A change to record; `undefined` fields are left out. */
export interface HistoryChange {
  event: HistoryEntry['event'];
  oldText?: string | undefined;
  newText?: string | undefined;
  reason?: string | undefined;
}

/** The histories of one store. */
export class MemoryHistories {
  readonly #entries = new Map<string, HistoryEntry[]>();

  /** Appends an entry. */
  record(memoryId: string, change: HistoryChange, at: Date): void {
    const entries = this.#entries.get(memoryId) ?? [];
    const entry: HistoryEntry = { id: randomUUID(), memoryId, createdAt: at, event: change.event };
    if (change.oldText !== undefined) entry.oldText = change.oldText;
    if (change.newText !== undefined) entry.newText = change.newText;
    if (change.reason !== undefined) entry.reason = change.reason;
    entries.push(entry);
    this.#entries.set(memoryId, entries);
  }

  /** Whether the memory has any entry. */
  has(memoryId: string): boolean {
    return this.#entries.has(memoryId);
  }

  /**
   * Keeps only that changes happened, without their words (texts and reasons): forgetting a user
   * must not leave their words behind.
   */
  scrub(memoryId: string): void {
    const entries = this.#entries.get(memoryId) ?? [];
    this.#entries.set(
      memoryId,
      entries.map(({ oldText, newText, reason, ...entry }) => entry),
    );
  }

  /** Copies of the memory's entries, oldest first. */
  entries(memoryId: string): HistoryEntry[] {
    return (this.#entries.get(memoryId) ?? []).map((entry) => structuredClone(entry));
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }
}
