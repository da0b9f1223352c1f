import { InvalidOptionsError } from './core/errors.js';
import { type BuiltIns, resolveOptions, type WithMemoryOptions } from './core/options.js';
import { createPipeline, type MemoryPipeline } from './core/pipeline.js';
import type { MemoryStore } from './core/types.js';
import { aliasWriteOwner } from './core/writeback.js';
import { type AnthropicLike, wrapAnthropic } from './providers/anthropic.js';
import { type MemoryFunction, wrapFunction } from './providers/function.js';
import { type OpenAILike, wrapOpenAI } from './providers/openai.js';
import { localStore } from './stores/local/index.js';
import { processTimeZone } from './strategies/extract/date-phrases.js';
import { turnEpisodes } from './strategies/extract/episode.js';
import { exchangeExtractor } from './strategies/extract/exchange-extractor.js';
import { heuristicExtractor } from './strategies/extract/heuristic/index.js';
import { systemPromptBuilder } from './strategies/prompt/system-prompt-builder.js';

/**
 * Gives an LLM client or function long-term memory: before each call it searches the store for
 * what is known in `scope` and appends it to the system prompt; after the final reply it writes
 * the exchange back. Returns the same type as `target`, with the same methods and overloads.
 * Memory trouble never breaks the call: it reaches `onError` and the call goes on without it.
 *
 * @example
 * ```ts
 * const claude = withMemory(new Anthropic(), { scope: { userId: 'user_42' } });
 * const reply = await claude.messages.create({ model, max_tokens: 1024, messages });
 * await flushMemory(claude); // before the process exits
 * ```
 */
export function withMemory<T extends MemoryFunction>(target: T, options: WithMemoryOptions): T;
export function withMemory<T extends AnthropicLike>(target: T, options: WithMemoryOptions): T;
export function withMemory<T extends OpenAILike>(target: T, options: WithMemoryOptions): T;
export function withMemory<T extends object>(target: T, options: WithMemoryOptions): T {
  const kind = targetKind(target);
  const owner = {};
  const pipeline = buildPipeline(options, owner);
  const wrapped =
    kind === 'function'
      ? wrapFunction(target as unknown as MemoryFunction, pipeline)
      : kind === 'anthropic'
        ? wrapAnthropic(target, pipeline)
        : wrapOpenAI(target, pipeline);
  aliasWriteOwner(wrapped, owner);
  return wrapped as T;
}

/**
 * Validates `options` and puts the pipeline together with the default strategies and store.
 * `owner` is what `flushMemory` will be called with for this pipeline's writes; `scopeOptional`
 * lets the AI SDK middleware take the scope per call instead.
 */
export function buildPipeline(
  options: WithMemoryOptions | Omit<WithMemoryOptions, 'scope'>,
  owner: object,
  { scopeOptional = false } = {},
): MemoryPipeline {
  return createPipeline(resolveOptions(options, builtIns, { scopeOptional }), owner);
}

// One local store per process: a server that wraps a client per request must not open the file
// each time.
let sharedDefaultStore: MemoryStore | undefined;

/** The process's default store, `localStore()`, opened on first use (shared with the memory tools). */
export function defaultStore(): MemoryStore {
  sharedDefaultStore ??= localStore();
  return sharedDefaultStore;
}

/** What an option left out falls back to, for `withMemory`, the middleware and the memory tools. */
export const builtIns: BuiltIns = {
  store: defaultStore,
  prompt: () => systemPromptBuilder(),
  extract: (store) => (store.extractsFacts ? exchangeExtractor() : heuristicExtractor()),
  episode: ({ episodes, replies }) => {
    const timeZone = processTimeZone();
    return (turn, extracted) => turnEpisodes(turn, extracted, { episodes, replies, timeZone });
  },
};

function targetKind(target: unknown): 'function' | 'anthropic' | 'openai' {
  if (typeof target === 'function') return 'function';
  if (typeof target === 'object' && target !== null) {
    const client = target as { messages?: { create?: unknown }; chat?: { completions?: { create?: unknown } } };
    const responses = (target as { responses?: { create?: unknown } }).responses;
    if (typeof client.messages?.create === 'function') return 'anthropic';
    if (typeof client.chat?.completions?.create === 'function' || typeof responses?.create === 'function') {
      return 'openai';
    }
  }
  throw new InvalidOptionsError(
    'target',
    'an Anthropic client, an OpenAI client, or a function ({ system, messages }) => Promise<string | { text }>',
  );
}
