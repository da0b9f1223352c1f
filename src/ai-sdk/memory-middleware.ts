import type { LanguageModelMiddleware } from 'ai';
import type { WithMemoryOptions } from '../core/options.js';
import type { MemoryPipeline, TurnMemory, TurnRequest } from '../core/pipeline.js';
import { isJson, type Json, lastUserText, textOf } from '../providers/json.js';
import { buildPipeline } from '../with-memory.js';

// Every shape is derived from the installed `ai`'s own middleware type, so the same source reads
// ai 6 (`LanguageModelV3Middleware`) and ai 5 (`LanguageModelV2Middleware`) call shapes.
type TransformOptions = Parameters<NonNullable<LanguageModelMiddleware['transformParams']>>[0];
type CallOptions = TransformOptions['params'];
type Prompt = CallOptions['prompt'];
type PromptMessage = Prompt[number];
type WrapGenerateOptions = Parameters<NonNullable<LanguageModelMiddleware['wrapGenerate']>>[0];
type GenerateResult = Awaited<ReturnType<WrapGenerateOptions['doGenerate']>>;
type WrapStreamOptions = Parameters<NonNullable<LanguageModelMiddleware['wrapStream']>>[0];
type StreamResult = Awaited<ReturnType<WrapStreamOptions['doStream']>>;
type StreamPart = StreamResult['stream'] extends ReadableStream<infer Part> ? Part : never;

// A step that finishes for these is not the turn's answer: tools run and the model is called again.
const unfinishedReasons = new Set(['tool-calls', 'error']);

/**
 * Options of `memoryMiddleware`: those of `withMemory`, with `scope` optional when every call
 * names its own in `providerOptions: { withMemory: { scope } }`.
 */
export interface MemoryMiddlewareOptions extends Omit<WithMemoryOptions, 'scope'> {
  /**
   * The scope of calls that do not name one in `providerOptions.withMemory.scope`: a scope, or a
   * function called once per turn. A call with neither gets no memory, reported to `onError`.
   */
  scope?: WithMemoryOptions['scope'];
}

/**
 * Gives any AI SDK language model long-term memory, as middleware for `wrapLanguageModel`. Takes
 * the same options as `withMemory`. Before each model call it searches the store with the last
 * user message and adds what it found as a system message right after the caller's own; when a
 * reply is final (not a tool-call step) it writes the exchange back, for streams once the stream
 * has finished. The steps of one `generateText`/`streamText` tool loop share one search.
 * Memory trouble never breaks the call: it reaches `onError` and the call goes on without it.
 *
 * One middleware serves many users: each call may name its scope in
 * `providerOptions: { withMemory: { scope } }` (checked like the option; an invalid one means no
 * memory for that call), which takes the place of `options.scope`.
 *
 * Works with `ai` 6 (`LanguageModelV3Middleware`) and `ai` 5 (`LanguageModelV2Middleware`).
 * Pass the middleware to `flushMemory` to wait for its background writes.
 *
 * @example
 * ```ts
 * import { anthropic } from '@ai-sdk/anthropic';
 * import { generateText, wrapLanguageModel } from 'ai';
 * import { flushMemory } from 'with-memory';
 * import { memoryMiddleware } from 'with-memory/ai-sdk';
 *
 * const memory = memoryMiddleware({ scope: { userId: 'user_42' } });
 * const model = wrapLanguageModel({ model: anthropic('claude-sonnet-4-5'), middleware: memory });
 * const { text } = await generateText({ model, system: 'You are…', prompt: 'Hello again!' });
 * await flushMemory(memory); // before the process exits
 * ```
 */
export function memoryMiddleware(options: MemoryMiddlewareOptions): LanguageModelMiddleware {
  // The call options object `transformParams` returns is the one `wrapLanguageModel` hands to
  // `wrapGenerate`/`wrapStream`, so it carries the turn from one hook to the other.
  const pendingTurns = new WeakMap<CallOptions, TurnMemory[]>();

  const middleware: LanguageModelMiddleware = {
    specificationVersion: 'v3',

    async transformParams({ params }) {
      if (!Array.isArray(params.prompt)) return params;
      let turn: TurnMemory;
      try {
        turn = await pipeline.begin({ ...readPrompt(params.prompt), ...callScope(params) });
      } catch (error) {
        // begin never rejects by contract; a broken contract still must not break the call.
        pipeline.report(error, 'search');
        return params;
      }
      const transformed =
        turn.memoryBlock === '' ? params : { ...params, prompt: inject(params.prompt, turn.memoryBlock) };
      const queue = pendingTurns.get(transformed);
      if (queue) queue.push(turn);
      else pendingTurns.set(transformed, [turn]);
      return transformed;
    },

    async wrapGenerate({ doGenerate, params }) {
      const turn = pendingTurns.get(params)?.shift();
      const result = await doGenerate();
      if (turn) await captureReply(result, turn, pipeline);
      return result;
    },

    async wrapStream({ doStream, params }) {
      const turn = pendingTurns.get(params)?.shift();
      const result = await doStream();
      if (!turn) return result;
      if (typeof (result as { stream?: { pipeThrough?: unknown } }).stream?.pipeThrough !== 'function') {
        pipeline.report(new Error('the model returned no readable stream; this reply is not written back'), 'capture');
        return result;
      }
      return { ...result, stream: result.stream.pipeThrough(captureStream(turn, pipeline)) };
    },
  };

  const pipeline: MemoryPipeline = buildPipeline(options, middleware, { scopeOptional: true });
  return middleware;
}

/**
 * The query is the last user message with text (files ignored). A prompt that ends with a `tool`
 * message is a later step of the same user turn, so it reuses that turn's search.
 */
function readPrompt(prompt: Prompt): TurnRequest {
  const { query, index } = lastUserText(prompt, { skipTextless: true });
  const last: unknown = prompt.at(-1);
  const continuation = isJson(last) && last.role === 'tool';
  return { query, continuation, turnKey: `${index}:${query}` };
}

/** The scope the call names in `providerOptions.withMemory.scope`, if it names one. */
function callScope(params: CallOptions): { scope?: unknown } {
  const named = (params.providerOptions as Json | undefined)?.withMemory;
  return isJson(named) && named.scope !== undefined ? { scope: named.scope } : {};
}

/**
 * Adds the block as its own system message after the caller's leading system messages, which stay
 * as they were; system messages must stay together at the start for several providers.
 */
function inject(prompt: Prompt, memoryBlock: string): Prompt {
  let insertAt = 0;
  while (insertAt < prompt.length && (prompt[insertAt] as { role?: unknown } | undefined)?.role === 'system') {
    insertAt += 1;
  }
  const memoryMessage = { role: 'system', content: memoryBlock } as PromptMessage;
  return [...prompt.slice(0, insertAt), memoryMessage, ...prompt.slice(insertAt)];
}

async function captureReply(result: GenerateResult, turn: TurnMemory, pipeline: MemoryPipeline): Promise<void> {
  const { content, finishReason } = result as { content?: unknown; finishReason?: unknown };
  if (!Array.isArray(content)) {
    pipeline.report(new Error('the model reply has no content array; this reply is not written back'), 'capture');
    return;
  }
  if (unfinishedReasons.has(unifiedReason(finishReason)) || content.some(awaitsClient)) return;
  await turn.complete(textOf(content));
}

/**
 * Passes every part through unchanged and in order while collecting the text on the side; once
 * the stream has finished, a final reply is written back. A stream that fails or that the caller
 * cancels never reaches `flush`, so a half reply is not written back.
 */
function captureStream(turn: TurnMemory, pipeline: MemoryPipeline): TransformStream<StreamPart, StreamPart> {
  // Text parts are keyed by id: a provider may interleave several, and each is one block of text.
  const texts = new Map<string, string>();
  let finishReason: string | undefined;
  let unfinished = false;
  return new TransformStream<StreamPart, StreamPart>({
    transform(part, controller) {
      controller.enqueue(part);
      const event = part as Json;
      if (event.type === 'text-delta' && typeof event.delta === 'string') {
        const id = String(event.id ?? '');
        texts.set(id, (texts.get(id) ?? '') + event.delta);
      } else if (event.type === 'finish') {
        finishReason = unifiedReason(event.finishReason);
      } else if (event.type === 'error' || awaitsClient(event)) {
        unfinished = true;
      }
    },
    async flush() {
      if (finishReason === undefined) {
        pipeline.report(new Error('the stream ended without a finish part; this reply is not written back'), 'capture');
        return;
      }
      if (unfinished || unfinishedReasons.has(finishReason)) return;
      await turn.complete([...texts.values()].join('\n'));
    },
  });
}

/** ai 6 reports `{ unified, raw }`, ai 5 a plain string. */
function unifiedReason(finishReason: unknown): string {
  if (typeof finishReason === 'string') return finishReason;
  if (isJson(finishReason) && typeof finishReason.unified === 'string') return finishReason.unified;
  return 'unknown';
}

/** A tool call the caller's code must answer (or approve) before the turn can finish. */
function awaitsClient(part: unknown): boolean {
  if (!isJson(part)) return false;
  return (part.type === 'tool-call' && part.providerExecuted !== true) || part.type === 'tool-approval-request';
}
