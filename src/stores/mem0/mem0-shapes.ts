import type {
  AddOptions,
  HistoryEntry,
  ListOptions,
  Memory,
  MemoryChange,
  MemoryHit,
  MemoryPatch,
  Metadata,
  Scope,
  SearchOptions,
} from '../../core/types.js';

/** A chat message as mem0's `add` takes it. */
export interface Mem0Message {
  role: 'user' | 'assistant';
  content: string;
}

/**
 * The methods of mem0's platform `MemoryClient` (`import { MemoryClient } from 'mem0ai'`) that
 * `mem0Store` calls. Typed by shape, not by class, so a client from another `mem0ai` minor, or a
 * stand-in such as `createMockMem0Client()`, fits too. Only `search` and `add` are required; the
 * store offers `get`, `list`, `update`, `delete`, `deleteAll` and `history` where the client has
 * what they need.
 */
export interface Mem0ClientLike {
  add(messages: Mem0Message[], options?: Record<string, unknown>): Promise<unknown>;
  search(query: string, options?: Record<string, unknown>): Promise<unknown>;
  getAll?(options?: Record<string, unknown>): Promise<unknown>;
  get?(memoryId: string): Promise<unknown>;
  update?(memoryId: string, data: Record<string, unknown>): Promise<unknown>;
  delete?(memoryId: string): Promise<unknown>;
  deleteAll?(options?: Record<string, unknown>): Promise<unknown>;
  history?(memoryId: string): Promise<unknown>;
}

/**
 * The methods of mem0's open-source `Memory` (`import { Memory } from 'mem0ai/oss'`) that
 * `mem0Store` calls. Typed by shape, like `Mem0ClientLike`.
 */
export interface Mem0MemoryLike {
  add(messages: Mem0Message[], config: Record<string, unknown>): Promise<unknown>;
  search(query: string, config: Record<string, unknown>): Promise<unknown>;
  getAll?(config: Record<string, unknown>): Promise<unknown>;
  get?(memoryId: string): Promise<unknown>;
  update?(memoryId: string, config: Record<string, unknown>): Promise<unknown>;
  delete?(memoryId: string): Promise<unknown>;
  deleteAll?(config: Record<string, unknown>): Promise<unknown>;
  history?(memoryId: string): Promise<unknown>;
}

/** One `add` call's worth of facts: they share metadata, type and expiry. */
export interface FactGroup {
  messages: Mem0Message[];
  /** The mem0 metadata, reserved keys (type, expiry) included. */
  metadata: Metadata;
  /** mem0's day-granular expiry, `YYYY-MM-DD`. */
  expirationDate?: string;
}

/**
 * What the store needs from one mem0 flavour (platform or OSS), in with-memory's terms. A missing
 * method means that flavour, or the client given, cannot do it.
 */
export interface Mem0Backend {
  search(query: string, options: SearchOptions): Promise<MemoryHit[]>;
  addMessages(messages: Mem0Message[], options: AddOptions): Promise<MemoryChange[]>;
  addFacts(group: FactGroup, scope: Scope): Promise<MemoryChange[]>;
  get?(id: string): Promise<Memory | null>;
  list?(options: ListOptions): Promise<Memory[]>;
  update?(id: string, patch: MemoryPatch): Promise<Memory | null>;
  delete?(id: string): Promise<boolean>;
  deleteAll?(scope: Scope): Promise<number>;
  history?(id: string): Promise<HistoryEntry[]>;
}
