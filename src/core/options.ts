import { z } from 'zod';
import { parseDuration } from './duration.js';
import { InvalidOptionsError, type MemoryError } from './errors.js';
import { memoryTypeSchema, memoryTypesSchema } from './memory-type.js';
import { redactSensitive } from './redact.js';
import { parseScope } from './scope.js';
import { markLookups } from './store-purpose.js';
import type { TracingOptions } from './tracing.js';
import type {
  Extractor,
  Memory,
  MemoryChange,
  MemoryHit,
  MemoryOperation,
  MemoryStore,
  MemoryType,
  MetadataFilter,
  PromptBuilder,
  Scope,
  Turn,
} from './types.js';

/** How the pipeline searches before each call. */
export interface SearchSettings {
  /** Most hits of the query to inject. @default 8 */
  limit?: number;
  /** Lowest score (0..1) a hit needs. */
  threshold?: number;
  /** Only memories of these types. */
  types?: MemoryType[];
  /** Only memories whose metadata matches. */
  filters?: MetadataFilter;
  /** Search time-out in milliseconds; on time-out the call goes ahead without memories. @default 1500 */
  timeoutMs?: number;
  /** Token budget of the injected memory block. @default 800 */
  maxTokens?: number;
  /** Standing preferences/profile memories injected on every call; 0 turns it off. @default 5 */
  profileLimit?: number;
}

/**
 * Where in the turn something went wrong, for `onError`. `scope`: the turn's scope could not be had
 * (a scope function threw, answered something invalid, or took longer than `search.timeoutMs`).
 */
export type ErrorStage = 'scope' | 'search' | 'build' | 'extract' | 'write' | 'capture';

/** What `onError` is told besides the error. */
export interface ErrorContext {
  stage: ErrorStage;
  /** The turn's scope; `{}` where it is not known (the scope could not be had, or the report came from outside a turn). */
  scope: Scope;
  /** The write that failed, with its content, when `stage` is `write`. */
  operation?: MemoryOperation;
  /** How many times the write was tried. */
  attempts?: number;
}

/** What `onSearch` is told after each search. */
export interface SearchEvent {
  query: string;
  scope: Scope;
  hits: MemoryHit[];
  standing: Memory[];
  /** The block injected into the prompt; `''` when nothing was injected. */
  memoryBlock: string;
  /** True when a tool-loop continuation reused its turn's search. */
  reused: boolean;
  durationMs: number;
}

/** What `onWrite` is told after each stored write. */
export interface WriteEvent {
  scope: Scope;
  operation: MemoryOperation;
  changes: MemoryChange[];
  attempts: number;
}

/** What `shouldWrite` decides on. */
export interface WriteCandidate {
  operation: MemoryOperation;
  scope: Scope;
}

/**
 * The scope of each turn, read when the turn starts: from the request your server is handling, or
 * from an `AsyncLocalStorage` it already keeps. May answer a promise (e.g. a session look-up),
 * waited for within `search.timeoutMs`. Throwing, rejecting or answering an invalid scope means no
 * memory for that call (no search, no write), reported to `onError` with stage `scope`.
 */
export type ScopeFunction = () => Scope | Promise<Scope>;

/** What `debug` logs: `true` for the defaults, or these settings. */
export interface DebugOptions {
  /**
   * Also log the query and the text of each injected and written memory. Off, the lines carry
   * sizes, counts, ids and scopes only.
   * @default false
   */
  text?: boolean;
  /** Where the lines go. @default console.debug */
  log?: (line: string) => void;
}

/** Options of `withMemory` and `memoryMiddleware`. */
export interface WithMemoryOptions {
  /**
   * Who the memories belong to: at least one of userId, agentId, runId. Or a function called once
   * per turn that returns the scope, so one wrapper serves every user of a server.
   */
  scope: Scope | ScopeFunction;
  /**
   * A scope shared with other agents of the same user, e.g. `{ userId }` beside
   * `scope: { userId, agentId: 'planner' }`: several agents, one user. Each call also searches the
   * memories stored under exactly this scope (not other agents' own) and injects them in the same
   * block, each keeping its `scope` as its origin; memories of type `preference`, `profile` and
   * `episode` (what the user said) are written here, everything else to `scope`. A function is
   * called at each model call, like a scope function.
   */
  shared?: Scope | ScopeFunction;
  /** Where memories live. @default localStore(), shared per process and path */
  store?: MemoryStore;
  search?: SearchSettings;
  /** Renders memories into the system prompt. @default systemPromptBuilder() */
  prompt?: PromptBuilder;
  /** Turns each exchange into writes. @default exchangeExtractor() for stores that extract facts, else heuristicExtractor() */
  extract?: Extractor;
  /**
   * Keep an episode of each user turn beside the extracted facts: what the user said, as said
   * (chit-chat such as "ok" or "thanks" skipped), with the time it was said, as a memory of type
   * `episode`. Lets the agent find later what the user told it even where no fact was extracted.
   * `redact`, `shouldWrite` and `ttl` (e.g. `{ episode: '180d' }`) apply to episodes too.
   * @default true, unless the store extracts facts itself (mem0 with inference), which keeps the conversation its own way
   */
  episodes?: boolean;
  /**
   * Keep what the assistant told the user that they may ask about later ("which hotel did you
   * suggest?"), as a memory of type `episode` with `metadata.role: 'assistant'`, dated with the
   * turn: a short reply whole, of a longer one the sentences and list items that hold a name, a
   * number or a list entry. Never the injected memory block. `redact`, `shouldWrite` and `ttl`
   * apply as to the user's episodes.
   * @default the value of `episodes`
   */
  replies?: boolean;
  /**
   * The clock a turn's time is read from: the time its memories are said at, and "today" for
   * relative dates ("yesterday", "next Friday"). Set it to replay past conversations with their dates.
   * @default () => new Date()
   */
  now?: () => Date;
  /** `'background'` returns the reply at once and writes after; `'await'` waits for the write; `false` never writes. @default 'background' */
  write?: 'background' | 'await' | false;
  /**
   * Time-out of each write step in milliseconds: the extractor, `shouldWrite`, and each attempt of
   * a store write (a timed-out attempt is retried like a failed one). A write that runs out of
   * time is reported to `onError` with its content and listed by `flushMemory`; later turns go on.
   * @default 10000
   */
  writeTimeoutMs?: number;
  /** @default 'read-write' */
  mode?: 'read-write' | 'read-only' | 'write-only';
  /** `true` for the built-in redactor, or your own; applied to every text before it reaches the store. */
  redact?: boolean | ((text: string) => string);
  /** A last say on each write; return false to drop it. */
  shouldWrite?: (candidate: WriteCandidate) => boolean | Promise<boolean>;
  /** Time to live per memory type, e.g. `{ event: '30d' }` (s, m, h, d, w, or milliseconds). */
  ttl?: Partial<Record<MemoryType, string | number>>;
  /** Hears every memory error. Without it, each kind of error is reported once through console.warn. */
  onError?: (error: MemoryError, context: ErrorContext) => void;
  onSearch?: (event: SearchEvent) => void;
  onWrite?: (event: WriteEvent) => void;
  /**
   * OpenTelemetry spans (`with-memory.search`, `.build`, `.write`) under the caller's active span,
   * made when `@opentelemetry/api` is installed. Counts and hashed scope ids, no memory text.
   * @default { enabled: true, scopeIds: 'hashed', recordText: false }
   */
  tracing?: TracingOptions;
  /**
   * Logs one line per search and per write: the scope, the query's length, the injected block's
   * size and memory ids, each write's kind, ids and attempts. Never memory text unless
   * `{ text: true }`.
   * @default false
   */
  debug?: boolean | DebugOptions;
}

/** The search settings with every default filled in. */
export type ResolvedSearch = Required<Omit<SearchSettings, 'threshold' | 'types' | 'filters'>> &
  Pick<SearchSettings, 'threshold' | 'types' | 'filters'>;

/**
 * Makes the episodes of a turn (what the user said, what the assistant said), written before the
 * facts extracted from it (given, so they can leave out what those already hold).
 */
export type TurnEpisodes = (turn: Turn, extracted: MemoryOperation[]) => MemoryOperation[];

/**
 * What a pipeline and the memory tools run with: the options checked, every default filled in,
 * every strategy chosen. The one shape options take after `resolveOptions`.
 */
export interface ResolvedOptions {
  /** A checked scope, a function to call per turn, or none (the middleware then needs one per call). */
  scope: Scope | ScopeFunction | undefined;
  shared: Scope | ScopeFunction | undefined;
  store: MemoryStore;
  search: ResolvedSearch;
  prompt: PromptBuilder;
  /** The extractor, handed a store whose reads are marked as its look-ups. */
  extract: Extractor;
  /** Makes the episodes of a turn; undefined when neither `episodes` nor `replies` is on. */
  episode: TurnEpisodes | undefined;
  now: () => Date;
  write: 'background' | 'await' | false;
  writeTimeoutMs: number;
  mode: 'read-write' | 'read-only' | 'write-only';
  /** Applied to every text before it reaches the store; undefined when off. */
  redact: ((text: string) => string) | undefined;
  shouldWrite: WithMemoryOptions['shouldWrite'];
  /** Milliseconds per memory type. */
  ttl: Partial<Record<string, number>>;
  onError: WithMemoryOptions['onError'];
  onSearch: WithMemoryOptions['onSearch'];
  onWrite: WithMemoryOptions['onWrite'];
  tracing: TracingOptions;
  /** Where debug lines go, and whether they carry text; undefined when off. */
  debug: Required<DebugOptions> | undefined;
}

/**
 * The built-in store and strategies an option left out falls back to. The composition root
 * (`with-memory.ts`) gives them: `core/` imports no store and no strategy.
 */
export interface BuiltIns {
  store(): MemoryStore;
  prompt(): PromptBuilder;
  /** The extractor for `store` (one for stores that extract facts themselves, one for the rest). */
  extract(store: MemoryStore): Extractor;
  episode(kinds: { episodes: boolean; replies: boolean }): TurnEpisodes;
}

// L3: a time to live must leave an expiry a Date can hold; 1,000 years is far beyond any use.
const maxTtlMs = 1000 * 365.25 * 86_400_000;

const fn = <T>() => z.custom<T>((value) => typeof value === 'function', { error: 'a function' });
const withMethods = <T>(expected: string, ...methods: string[]) =>
  z.custom<T>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function'),
    { error: expected },
  );

const metadataValue = z.union([z.string(), z.number(), z.boolean()]);

/** A documented option's type as zod reads it: any optional field may also be `undefined`. */
type Parsed<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends object
    ? { [K in keyof T]: Parsed<T[K]> | undefined }
    : T;

/**
 * One schema per documented option, no more, no fewer, each producing the option's documented
 * type: `WithMemoryOptions` and the schema cannot drift apart. Each default is written here once.
 */
const optionFields = {
  // Checked by `parseScope` in `resolveOptions`, whose messages name the field that is wrong.
  scope: z.custom<Scope | ScopeFunction>().optional(),
  shared: z.custom<Scope | ScopeFunction>().optional(),
  store: withMethods<MemoryStore>('a MemoryStore (an object with search and add methods)', 'search', 'add').optional(),
  search: z
    .object({
      limit: z.number().int().min(1).max(100).default(8),
      threshold: z.number().min(0).max(1).optional(),
      types: memoryTypesSchema.optional(),
      filters: z.record(z.string(), z.union([metadataValue, z.array(metadataValue)])).optional(),
      timeoutMs: z.number().int().min(1).max(120_000).default(1500),
      maxTokens: z.number().int().min(32).max(100_000).default(800),
      profileLimit: z.number().int().min(0).max(50).default(5),
    })
    .strict()
    // Left out, the search settings are parsed from `{}`, so they take the defaults above.
    .prefault({}),
  prompt: withMethods<PromptBuilder>('a PromptBuilder (an object with a build method)', 'build').optional(),
  extract: withMethods<Extractor>('an Extractor (an object with an extract method)', 'extract').optional(),
  episodes: z.boolean().optional(),
  replies: z.boolean().optional(),
  now: fn<() => Date>().default(() => () => new Date()),
  write: z.union([z.literal('background'), z.literal('await'), z.literal(false)]).default('background'),
  writeTimeoutMs: z.number().int().min(1).max(120_000).default(10_000),
  mode: z.enum(['read-write', 'read-only', 'write-only']).default('read-write'),
  redact: z.union([z.boolean(), fn<(text: string) => string>()]).default(false),
  shouldWrite: fn<NonNullable<WithMemoryOptions['shouldWrite']>>().optional(),
  ttl: z
    .record(
      memoryTypeSchema,
      z.union([z.string(), z.number()]).refine(
        (value) => {
          const ms = parseDuration(value);
          return ms !== undefined && ms <= maxTtlMs;
        },
        { error: 'a duration such as "30d", "12h", "15m" or a number of milliseconds, at most 1000 years' },
      ),
    )
    .optional(),
  onError: fn<NonNullable<WithMemoryOptions['onError']>>().optional(),
  onSearch: fn<NonNullable<WithMemoryOptions['onSearch']>>().optional(),
  onWrite: fn<NonNullable<WithMemoryOptions['onWrite']>>().optional(),
  tracing: z
    .object({
      enabled: z.boolean().optional(),
      scopeIds: z.enum(['hashed', 'omitted']).optional(),
      recordText: z.boolean().optional(),
    })
    .strict()
    .default({}),
  debug: z
    .union([
      z.boolean(),
      z.object({ text: z.boolean().optional(), log: fn<(line: string) => void>().optional() }).strict(),
    ])
    .default(false),
} satisfies { [K in keyof WithMemoryOptions]-?: z.ZodType<Parsed<WithMemoryOptions[K]> | undefined> };

const optionsSchema = z
  .object(optionFields, { error: 'an options object such as { scope: { userId: "user_42" } }' })
  .strict();

/**
 * Validates `withMemory`/`memoryMiddleware`/memory tool options once (throws `InvalidOptionsError`
 * naming the path) and resolves them into what the pipeline runs with, an option left out taking
 * its built-in. `scopeOptional` is for the middleware, which can take the scope per call instead.
 */
export function resolveOptions(options: unknown, builtIns: BuiltIns, { scopeOptional = false } = {}): ResolvedOptions {
  const result = optionsSchema.safeParse(options);
  if (!result.success) throw toInvalidOptionsError(result.error);
  const { episodes: episodesOption, replies: repliesOption, ...parsed } = result.data;
  const store = parsed.store ?? builtIns.store();
  // A store that extracts facts itself (mem0 with inference) keeps the conversation its own way.
  const episodes = episodesOption ?? !store.extractsFacts;
  const replies = repliesOption ?? episodes;
  const ttl: Partial<Record<string, number>> = {};
  for (const [type, value] of Object.entries(parsed.ttl ?? {})) ttl[type] = parseDuration(value);
  return {
    scope:
      typeof parsed.scope === 'function' || (parsed.scope === undefined && scopeOptional)
        ? parsed.scope
        : parseScope(parsed.scope),
    shared:
      typeof parsed.shared === 'function' || parsed.shared === undefined
        ? parsed.shared
        : parseScope(parsed.shared, 'shared'),
    store,
    search: withoutUndefined(parsed.search) as ResolvedSearch,
    prompt: parsed.prompt ?? builtIns.prompt(),
    extract: markLookups(parsed.extract ?? builtIns.extract(store)),
    episode: episodes || replies ? builtIns.episode({ episodes, replies }) : undefined,
    now: parsed.now,
    write: parsed.write,
    writeTimeoutMs: parsed.writeTimeoutMs,
    mode: parsed.mode,
    redact: parsed.redact === true ? redactSensitive : parsed.redact === false ? undefined : parsed.redact,
    shouldWrite: parsed.shouldWrite,
    ttl,
    onError: parsed.onError,
    onSearch: parsed.onSearch,
    onWrite: parsed.onWrite,
    tracing: withoutUndefined(parsed.tracing) as TracingOptions,
    debug: parsed.debug === false ? undefined : resolveDebug(parsed.debug === true ? {} : parsed.debug),
  };
}

function resolveDebug({
  text = false,
  log,
}: { [K in keyof DebugOptions]?: DebugOptions[K] | undefined }): Required<DebugOptions> {
  return { text, log: log ?? ((line) => console.debug(line)) };
}

/** Turns the first zod issue into an `InvalidOptionsError` with a dotted path. */
export function toInvalidOptionsError(error: z.ZodError, prefix = ''): InvalidOptionsError {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
  if (issue?.code === 'unrecognized_keys') {
    const keys = issue.keys.join(', ');
    return new InvalidOptionsError(
      path ? `${path}.${issue.keys[0]}` : (issue.keys[0] ?? ''),
      `unknown option (${keys}); check the spelling against the documented options`,
    );
  }
  return new InvalidOptionsError(path, issue?.message ?? 'a valid value');
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
