import { z } from 'zod';
import { InvalidOptionsError, StoreError, type StoreOperation } from '../../core/errors.js';
import { parseScope } from '../../core/scope.js';
import type { FactInput, Memory, MemoryChange, MemoryStore, MemoryWrite, Metadata, Scope } from '../../core/types.js';
import { isSafeMemoryType, memoryTypeRule } from '../kernel/store-input.js';
import { boundedCall } from './bounded-call.js';
import type { FactGroup, Mem0Backend, Mem0ClientLike, Mem0MemoryLike, Mem0Message } from './mem0-shapes.js';
import { ossBackend } from './oss-backend.js';
import { platformBackend } from './platform-backend.js';
import { expirationDay, factMetadata, hasEntityId } from './scope-mapping.js';

/** Options of `mem0Store`. Give one of `client`, `memory`, or `apiKey`/`host` (or nothing, with `MEM0_API_KEY` set). */
export interface Mem0StoreOptions {
  /** A mem0 platform client: `new MemoryClient({ apiKey })` from `mem0ai`. */
  client?: Mem0ClientLike;
  /** A mem0 open-source memory, in process: `new Memory(config)` from `mem0ai/oss`. */
  memory?: Mem0MemoryLike;
  /**
   * The mem0 platform API key, for a `MemoryClient` the store creates on first use.
   * @default process.env.MEM0_API_KEY
   */
  apiKey?: string | undefined;
  /**
   * The mem0 platform address, for a self-hosted or proxied platform API.
   * @default 'https://api.mem0.ai'
   */
  host?: string | undefined;
  /**
   * How long one store operation may take, in milliseconds, before it fails with
   * `StoreTimeoutError` (mem0's client has no time-out of its own).
   * @default 5000
   */
  timeoutMs?: number;
}

const storeName = 'mem0';

const isClientLike = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { search?: unknown }).search === 'function' &&
  typeof (value as { add?: unknown }).add === 'function';

const optionsSchema = z
  .object(
    {
      client: z.custom<Mem0ClientLike>(isClientLike, { error: 'a mem0 MemoryClient (an object with search and add)' }),
      memory: z.custom<Mem0MemoryLike>(isClientLike, { error: 'a mem0 OSS Memory (an object with search and add)' }),
      apiKey: z.string({ error: 'a string' }).trim().min(1, { error: 'a non-empty mem0 API key' }),
      host: z
        .string({ error: 'a string' })
        .refine(isHttpUrl, { error: 'an http(s) URL such as "https://api.mem0.ai"' })
        .transform((host) => host.replace(/\/+$/, '')),
      timeoutMs: z
        .number({ error: 'a number of milliseconds' })
        .int({ error: 'a whole number of milliseconds' })
        .min(1, { error: 'at least 1 ms' })
        .max(600_000, { error: 'at most 600000 ms (10 minutes)' }),
    },
    { error: 'an object such as { client } or { apiKey }' },
  )
  .partial()
  .strict();

/**
 * A memory store on mem0: the hosted platform through a `MemoryClient`, or mem0 open source
 * through an in-process `Memory`. Scopes map to mem0's entity ids, results come back as
 * `MemoryHit`s, and every call is bounded by `timeoutMs`. `add` hands mem0 the raw exchange
 * (`{ messages }`, mem0 extracts the facts: `extractsFacts` is true) or stores facts verbatim
 * (`{ facts }`, `infer: false`). The platform extracts in the background and answers `PENDING`,
 * which the store reports as such: the memories appear a moment later.
 *
 * mem0 sets a memory's time itself: `FactInput.createdAt` is not kept, so history imported from
 * past conversations carries the time of the import, not when it was said.
 *
 * `mem0ai` is an optional peer dependency, imported only when the store builds a client itself.
 *
 * @example
 * ```ts
 * import Anthropic from '@anthropic-ai/sdk';
 * import { withMemory } from 'with-memory';
 * import { mem0Store } from 'with-memory/mem0';
 *
 * // MEM0_API_KEY from the environment; or mem0Store({ client: new MemoryClient({ apiKey }) }),
 * // or mem0Store({ memory: new Memory(config) }) for mem0 open source.
 * const claude = withMemory(new Anthropic(), { scope: { userId: 'user_42' }, store: mem0Store() });
 * ```
 */
export function mem0Store(options: Mem0StoreOptions = {}): MemoryStore {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    throw new InvalidOptionsError(
      key ?? issue?.path.join('.') ?? '',
      key ? 'not an option of mem0Store (client, memory, apiKey, host, timeoutMs)' : (issue?.message ?? 'valid'),
    );
  }
  const { client, memory, apiKey, host, timeoutMs = 5000 } = parsed.data;
  if (client && memory) throw new InvalidOptionsError('memory', 'not given together with client: pass one of them');
  if ((client || memory) && (apiKey !== undefined || host !== undefined)) {
    throw new InvalidOptionsError(
      apiKey !== undefined ? 'apiKey' : 'host',
      `not given together with ${client ? 'client' : 'memory'}: configure the ${client ? 'client' : 'memory'} itself`,
    );
  }

  let given: Mem0Backend | undefined;
  let loadBackend: () => Promise<Mem0Backend>;
  if (client) {
    given = platformBackend(client);
  } else if (memory) {
    given = ossBackend(memory);
  } else {
    const key = apiKey ?? process.env.MEM0_API_KEY?.trim();
    if (!key) {
      throw new InvalidOptionsError(
        'apiKey',
        'a mem0 API key: pass apiKey, set MEM0_API_KEY, or pass a client or memory of your own',
      );
    }
    let loading: Promise<Mem0Backend> | undefined;
    loadBackend = () => {
      loading ??= createClient(key, host).then(platformBackend);
      return loading;
    };
  }
  if (given) {
    const backend = given;
    loadBackend = () => Promise.resolve(backend);
  }

  let closed = false;
  // Facts already stored per write object, so a retried write does not store them twice.
  const storedGroups = new WeakMap<MemoryWrite, Map<string, MemoryChange[]>>();

  function call<T>(
    operation: StoreOperation,
    signal: AbortSignal | undefined,
    work: (backend: Mem0Backend) => Promise<T>,
  ): Promise<T> {
    if (closed) {
      return Promise.reject(
        new StoreError(`The mem0 store is closed; ${operation} was not sent.`, {
          store: storeName,
          operation,
          retryable: false,
        }),
      );
    }
    return boundedCall(async () => work(await loadBackend()), { store: storeName, operation, timeoutMs, signal });
  }

  // A lazily built client is a MemoryClient: it has every method.
  const offers = (method: keyof Mem0Backend): boolean => given === undefined || typeof given[method] === 'function';

  const store: MemoryStore = {
    name: storeName,
    extractsFacts: true,

    search(query, searchOptions) {
      return call('search', searchOptions.signal, async (backend) => {
        requireEntityId(searchOptions.scope, 'search');
        if (query.trim() === '') return [];
        return unexpired(await backend.search(query, searchOptions));
      });
    },

    add(write, addOptions) {
      return call('add', addOptions.signal, async (backend) => {
        requireEntityId(addOptions.scope, 'add');
        if ('messages' in write) {
          const messages = toMem0Messages(write.messages);
          return messages.length === 0 ? [] : backend.addMessages(messages, addOptions);
        }
        requireSafeTypes(write.facts);
        let done = storedGroups.get(write);
        if (!done) {
          done = new Map();
          storedGroups.set(write, done);
        }
        const changes: MemoryChange[] = [];
        for (const [key, group] of groupFacts(write.facts, addOptions.metadata)) {
          let groupChanges = done.get(key);
          if (!groupChanges) {
            groupChanges = await backend.addFacts(group, addOptions.scope);
            done.set(key, groupChanges);
          }
          changes.push(...groupChanges);
        }
        return changes;
      });
    },

    async flush() {
      // Nothing is buffered here; the platform's background extraction is mem0's to finish.
    },

    async close() {
      closed = true;
    },
  };

  if (offers('get')) store.get = (id) => call('get', undefined, (backend) => required(backend.get, 'get')(id));
  if (offers('list')) {
    store.list = (listOptions) =>
      call('list', undefined, async (backend) => {
        requireEntityId(listOptions.scope, 'list');
        return unexpired(await required(backend.list, 'list')(listOptions));
      });
  }
  if (offers('update')) {
    store.update = (id, patch) => call('update', undefined, (backend) => required(backend.update, 'update')(id, patch));
  }
  if (offers('delete')) {
    store.delete = (id) => call('delete', undefined, (backend) => required(backend.delete, 'delete')(id));
  }
  if (offers('deleteAll')) {
    store.deleteAll = (scope) =>
      call('deleteAll', undefined, async (backend) => {
        // Without an entity id mem0 would be asked to delete every memory of the project.
        requireEntityId(scope, 'deleteAll');
        return required(backend.deleteAll, 'deleteAll')(scope);
      });
  }
  if (offers('history')) {
    store.history = (id) => call('history', undefined, (backend) => required(backend.history, 'history')(id));
  }
  return store;
}

async function createClient(apiKey: string, host: string | undefined): Promise<Mem0ClientLike> {
  let module: { MemoryClient?: new (options: { apiKey: string; host?: string }) => Mem0ClientLike };
  try {
    module = (await import('mem0ai')) as unknown as typeof module;
  } catch (error) {
    throw new StoreError(
      'mem0Store needs the mem0ai package to create a client: install it (npm install mem0ai), or pass { client } or { memory }.',
      { store: storeName, operation: 'open', retryable: false, cause: error },
    );
  }
  if (typeof module.MemoryClient !== 'function') {
    throw new StoreError('The installed mem0ai has no MemoryClient export; install mem0ai 3.x.', {
      store: storeName,
      operation: 'open',
      retryable: false,
    });
  }
  return new module.MemoryClient(host === undefined ? { apiKey } : { apiKey, host });
}

function requireEntityId(scope: Scope, operation: StoreOperation): void {
  if (!hasEntityId(scope)) {
    throw new StoreError(`mem0 ${operation} needs a scope with userId, agentId or runId.`, {
      store: storeName,
      operation,
      retryable: false,
    });
  }
  // The same scope rules as every store (well-formed ids, no control characters).
  try {
    parseScope(scope);
  } catch (error) {
    throw new StoreError(`mem0 ${operation} was given an invalid scope: ${(error as Error).message}`, {
      store: storeName,
      operation,
      retryable: false,
      cause: error,
    });
  }
}

/** The same memory types as every store: a type that could break the memory fence is refused. */
function requireSafeTypes(facts: FactInput[]): void {
  const index = facts.findIndex((fact) => fact.type !== undefined && !isSafeMemoryType(fact.type));
  if (index === -1) return;
  const problem = new InvalidOptionsError(`facts.${index}.type`, memoryTypeRule);
  throw new StoreError(`mem0 add was given invalid input: ${problem.message}`, {
    store: storeName,
    operation: 'add',
    retryable: false,
    cause: problem,
  });
}

function required<T>(method: T | undefined, name: string): T {
  if (method === undefined) throw new Error(`mem0 backend has no ${name}`);
  return method;
}

/** mem0 keeps user and assistant turns; an empty turn would make it reject the whole write. */
function toMem0Messages(messages: ReadonlyArray<{ role: string; content: string }>): Mem0Message[] {
  return messages
    .filter(
      (message): message is Mem0Message =>
        (message.role === 'user' || message.role === 'assistant') && message.content.trim() !== '',
    )
    .map(({ role, content }) => ({ role, content }));
}

/**
 * Facts grouped into `add` calls: mem0 takes one metadata object per call, so facts share a call
 * when their metadata, type and expiry agree. Empty facts and facts already expired are dropped.
 */
function groupFacts(facts: FactInput[], base: Metadata | undefined): Map<string, FactGroup> {
  const now = Date.now();
  const groups = new Map<string, FactGroup>();
  for (const fact of facts) {
    if (fact.text.trim() === '') continue;
    if (fact.expiresAt !== undefined && fact.expiresAt.getTime() <= now) continue;
    const metadata = factMetadata(base, fact);
    const expirationDate = fact.expiresAt === undefined ? undefined : expirationDay(fact.expiresAt);
    const key = JSON.stringify([metadata, expirationDate ?? null]);
    const group = groups.get(key);
    if (group) {
      group.messages.push({ role: 'user', content: fact.text });
    } else {
      groups.set(key, {
        messages: [{ role: 'user', content: fact.text }],
        metadata,
        ...(expirationDate === undefined ? {} : { expirationDate }),
      });
    }
  }
  return groups;
}

// mem0 expires by the day; the exact instant with-memory wrote is checked here.
function unexpired<T extends Memory>(memories: T[]): T[] {
  const now = Date.now();
  return memories.filter((memory) => memory.expiresAt === undefined || memory.expiresAt.getTime() > now);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
