/**
 * The types every part of with-memory shares: scopes, memories, the store contract, strategies.
 * Providers, stores and the pipeline know each other only through these.
 *
 * @module
 */

/**
 * Who a memory belongs to. At least one of `userId`, `agentId`, `runId` is required; each given
 * field must match exactly for a memory to be found.
 */
export interface Scope {
  userId?: string;
  agentId?: string;
  runId?: string;
  appId?: string;
}

/**
 * The memory types the built-in strategies use. Stores accept types of your own too: letters and
 * digits of any script and `_ - . :`, at most 64 characters (a type is shown in the memory block,
 * so nothing that could break its fence is accepted). `episode` is
 * what a user said in one turn, kept as said (see `WithMemoryOptions.episodes`); the others are
 * facts distilled from what was said.
 */
export type BuiltInMemoryType = 'preference' | 'profile' | 'fact' | 'task' | 'event' | 'summary' | 'episode';

/** A memory's type: one of the built-ins or a type of your own. */
export type MemoryType = BuiltInMemoryType | (string & {});

/** Free-form, JSON-serialisable data stored beside a memory's text. */
export type Metadata = Record<string, unknown>;

/** A scalar a metadata filter can match. */
export type MetadataValue = string | number | boolean;

/**
 * Metadata filters: each key must equal the value, or be one of the values when an array is given.
 * Keys are combined with AND.
 */
export type MetadataFilter = Record<string, MetadataValue | MetadataValue[]>;

/** One remembered piece of information. */
export interface Memory {
  id: string;
  text: string;
  type?: MemoryType;
  metadata: Metadata;
  scope: Scope;
  createdAt: Date;
  updatedAt: Date;
  expiresAt?: Date;
}

/**
 * How a hit's score was made, for inspection (e.g. `with-memory inspect`). Each part is between
 * 0 and 1; stores fill the parts they compute.
 */
export interface ScoreParts {
  /** The lexical score (0..1) of the memory's own words alone. */
  words: number;
  /**
   * What the context added to the lexical score: the memories written just before and after it,
   * and a time the memory mentions when the query asks "when".
   */
  neighbours: number;
  /** Cosine similarity of the query's and the memory's vectors, when an embedder is set. */
  vector?: number;
  /** The recency multiplier applied to the relevance (1 for a memory updated just now). */
  recency: number;
}

/** A memory found by a search, with its relevance between 0 and 1 (higher is better). */
export interface MemoryHit extends Memory {
  score: number;
  /** How the score was made, where the store says. */
  scoreParts?: ScoreParts;
}

/** A chat message in the provider-neutral form that extractors and function targets see. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A fact to store as it is. */
export interface FactInput {
  text: string;
  type?: MemoryType;
  metadata?: Metadata;
  expiresAt?: Date;
  /**
   * When the fact was said, for history back-filled from past conversations; becomes the memory's
   * `createdAt` and `updatedAt`. Stores that cannot set it say so in their docs.
   * @default now
   */
  createdAt?: Date;
}

/**
 * What `MemoryStore.add` takes: raw messages, for stores that extract facts themselves
 * (`extractsFacts: true`), or facts to store as they are.
 */
export type MemoryWrite = { messages: ChatMessage[] } | { facts: FactInput[] };

/** What `add`, `update` and `delete` did to one memory. */
export interface MemoryChange {
  /**
   * `ADD`, `UPDATE`, `DELETE` and `NONE` (already known) describe a change made; `PENDING` means
   * the store accepted the write and will process it later (mem0 platform with inference).
   */
  event: 'ADD' | 'UPDATE' | 'DELETE' | 'NONE' | 'PENDING';
  id?: string;
  text?: string;
  previousText?: string;
}

/** Options of `MemoryStore.search`. */
export interface SearchOptions {
  scope: Scope;
  /** Most hits to return. @default 8 */
  limit?: number;
  /** Lowest score (0..1) a hit may have. */
  threshold?: number;
  types?: MemoryType[];
  filters?: MetadataFilter;
  signal?: AbortSignal;
}

/** Options of `MemoryStore.add`. */
export interface AddOptions {
  scope: Scope;
  /** Merged into every fact's metadata. */
  metadata?: Metadata;
  /** Why the write happens; kept in the history where the store has one. */
  reason?: string;
  signal?: AbortSignal;
}

/** Options of `MemoryStore.list`. */
export interface ListOptions {
  scope: Scope;
  types?: MemoryType[];
  filters?: MetadataFilter;
  /** Page size, up to 1000. @default 100 */
  limit?: number;
  /** @default 0 */
  offset?: number;
}

/** Changes to one memory. `expiresAt: null` removes an expiry. */
export interface MemoryPatch {
  text?: string;
  type?: MemoryType;
  metadata?: Metadata;
  expiresAt?: Date | null;
}

/** Options of `update` and `delete`. */
export interface ChangeOptions {
  /** Why the change happens; kept in the history where the store has one. */
  reason?: string;
}

/** Options of `MemoryStore.delete`. */
export interface DeleteOptions extends ChangeOptions {
  /**
   * Erase the memory completely: its row and the words of its history go too, as with
   * `deleteAll`. Without it, the history keeps the deleted text (an audit trail).
   * @default false
   */
  erase?: boolean;
}

/** One change in a memory's history. */
export interface HistoryEntry {
  id: string;
  memoryId: string;
  event: 'ADD' | 'UPDATE' | 'DELETE';
  oldText?: string;
  newText?: string;
  reason?: string;
  createdAt: Date;
}

/**
 * Where memories live. `search` and `add` are required; everything else is optional and
 * feature-detected. Every method may reject; the pipeline reports it and carries on.
 */
export interface MemoryStore {
  /** A short name for errors and logs, e.g. `local`, `memory`, `mem0`. */
  readonly name: string;
  /** True when `add` accepts `{ messages }` and distils facts itself (mem0 with inference). */
  readonly extractsFacts?: boolean;
  search(query: string, options: SearchOptions): Promise<MemoryHit[]>;
  add(write: MemoryWrite, options: AddOptions): Promise<MemoryChange[]>;
  get?(id: string): Promise<Memory | null>;
  /** Newest first (by `updatedAt`). */
  list?(options: ListOptions): Promise<Memory[]>;
  update?(id: string, patch: MemoryPatch, options?: ChangeOptions): Promise<Memory | null>;
  delete?(id: string, options?: DeleteOptions): Promise<boolean>;
  /** Deletes every memory stored under the scope (matched as in `search`); returns how many. */
  deleteAll?(scope: Scope): Promise<number>;
  history?(id: string): Promise<HistoryEntry[]>;
  /** Resolves when everything the store buffers is durable. */
  flush?(): Promise<void>;
  close?(): Promise<void>;
}

/** One user turn as the extractor sees it. */
export interface Turn {
  /** The user's text of this turn (text parts only). */
  userText: string;
  /** The assistant's final answer text. */
  assistantText: string;
  scope: Scope;
  /** The memories that were injected into this turn's prompt, never to be stored again. */
  injected: Memory[];
  /** When the user said it (the wrapper's clock when the request was made). */
  at: Date;
}

/** A change an extractor wants made to the store. */
export type MemoryOperation =
  | { kind: 'add'; write: MemoryWrite; reason?: string }
  | { kind: 'update'; id: string; patch: MemoryPatch; reason?: string }
  | { kind: 'delete'; id: string; reason?: string };

/** What an extractor may read while it works. */
export interface ExtractContext {
  /** The store the turn will be written to, for finding the memories a turn corrects. */
  store: MemoryStore;
  signal: AbortSignal;
}

/** Turns a finished exchange into changes to the store. */
export interface Extractor {
  readonly name: string;
  extract(turn: Turn, context: ExtractContext): Promise<MemoryOperation[]>;
}

/** Input of a prompt builder. */
export interface PromptInput {
  /** The query's hits, best first. */
  hits: MemoryHit[];
  /** Standing preferences and profile facts of the scope, shown on every call, newest first. */
  standing: Memory[];
  /** The token budget of the whole block. */
  maxTokens: number;
  now: Date;
  /** The query the hits were found for (the user's last message), so a long memory can be shown by its part about it. */
  query?: string;
}

/** Renders found memories as the block appended to the system prompt. */
export interface PromptBuilder {
  /** Returns the memory block, or `''` when there is nothing to inject. */
  build(input: PromptInput): string;
}
