/**
 * The one thing `llmExtractor` and `consolidate` need from a model: a prompt in, text out, within
 * a time-out. This turns an Anthropic client, an OpenAI client or a `{ complete }` function into
 * that, without loading either SDK.
 *
 * @module
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { z } from 'zod';
import { ExtractionError } from '../../core/errors.js';

/** Your own model call: the prompt in, the model's text out. Abort when `signal` fires. */
export type CompleteFunction = (prompt: string, options: { signal: AbortSignal }) => Promise<string>;

/** The part of an Anthropic client the adapter uses (`client.messages.create`). */
export interface AnthropicMessagesClient {
  messages: { create: (...args: never[]) => unknown };
}

/** The part of an OpenAI client the adapter uses (`client.chat.completions.create`). */
export interface OpenAIChatClient {
  chat: { completions: { create: (...args: never[]) => unknown } };
}

/**
 * Where a model's answers come from: a plain (not `withMemory`-wrapped) Anthropic or OpenAI client
 * with the model to call, or a `complete` function for anything else.
 */
export interface ModelSource {
  /** An Anthropic or OpenAI client. It must be the plain client, not one returned by `withMemory`. */
  client?: AnthropicMessagesClient | OpenAIChatClient;
  /** The model to call, e.g. `claude-haiku-4-5` or `gpt-4o-mini`; required with `client`. */
  model?: string;
  /** Your own call, used instead of a client. */
  complete?: CompleteFunction;
}

/** Calls the model once; rejects only with `ExtractionError`, never with the model's text in it. */
export type ModelCall = (prompt: string, signal: AbortSignal) => Promise<string>;

/** What a client call gave back: the text and whether the model stopped at its token limit. */
interface ModelReply {
  text: string;
  truncated: boolean;
}

type Json = Record<string, unknown>;

// Set while a model call of ours runs. If an extractor is entered again inside it, the client it
// was given records memories itself: it is a withMemory-wrapped client, and each extraction would
// start another one.
const insideModelCall = new AsyncLocalStorage<true>();

const isFunction = (value: unknown) => typeof value === 'function';

/** The zod schema of a `ModelSource`, for the factories that take one. */
export const modelSourceSchema = z
  .object({
    client: z
      .custom<AnthropicMessagesClient | OpenAIChatClient>((value) => clientKind(value) !== undefined, {
        error: 'an Anthropic client (messages.create) or an OpenAI client (chat.completions.create)',
      })
      .optional(),
    model: z.string().trim().min(1, { error: 'a model name such as "claude-haiku-4-5"' }).optional(),
    complete: z.custom<CompleteFunction>(isFunction, { error: 'a function (prompt) => Promise<string>' }).optional(),
  })
  .superRefine((source, context) => {
    if (source.complete && source.client) {
      context.addIssue({
        code: 'custom',
        path: ['complete'],
        message: 'either client and model, or complete, not both',
      });
    } else if (!source.complete && !source.client) {
      context.addIssue({
        code: 'custom',
        path: ['client'],
        message: 'a client with a model, e.g. { client: new Anthropic(), model }, or { complete: (prompt) => ... }',
      });
    } else if (source.client && !source.model) {
      context.addIssue({ code: 'custom', path: ['model'], message: 'the model to call with this client' });
    }
  });

/**
 * Builds the model call of `who` (used in error messages): each call is bounded by `timeoutMs` and
 * by the caller's signal, and asks for at most `maxTokens` tokens.
 */
export function modelCall(
  source: ModelSource,
  { who, timeoutMs, maxTokens }: { who: string; timeoutMs: number; maxTokens: number },
): ModelCall {
  const send = sender(source, maxTokens);

  return async (prompt, signal) => {
    if (insideModelCall.getStore()) {
      throw new ExtractionError(
        who,
        'was called again from inside its own model call, so its client is wrapped by withMemory. Give it the plain client (new Anthropic() or new OpenAI()), not the wrapped one.',
      );
    }
    if (signal.aborted) throw new ExtractionError(who, 'the model call was aborted; nothing was applied.');
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const forwardAbort = () => controller.abort();
    signal.addEventListener('abort', forwardAbort, { once: true });
    // A `complete` that ignores its signal must still not hold the turn past the time-out.
    const stopped = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
    stopped.catch(() => {});
    try {
      const reply = await Promise.race([insideModelCall.run(true, () => send(prompt, controller.signal)), stopped]);
      if (reply.truncated) {
        throw new ExtractionError(who, `the model stopped at its token limit (${maxTokens}); raise maxTokens.`);
      }
      return reply.text;
    } catch (error) {
      if (ExtractionError.isInstance(error)) throw error;
      if (timedOut) {
        throw new ExtractionError(who, `the model did not answer within ${timeoutMs} ms; nothing was applied.`);
      }
      if (signal.aborted) throw new ExtractionError(who, 'the model call was aborted; nothing was applied.');
      // Only the error's kind: a message could quote the prompt, and the prompt holds the user's words.
      throw new ExtractionError(who, `the model call failed (${describeError(error)}); nothing was applied.`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', forwardAbort);
    }
  };
}

function sender(source: ModelSource, maxTokens: number): (prompt: string, signal: AbortSignal) => Promise<ModelReply> {
  const { client, model = '', complete } = source;
  if (complete) {
    return async (prompt, signal) => {
      const text = await complete(prompt, { signal });
      if (typeof text !== 'string') throw new TypeError('complete() must resolve to a string');
      return { text, truncated: false };
    };
  }
  const kind = clientKind(client);
  if (kind === 'anthropic') {
    const { messages } = client as unknown as { messages: { create: (body: Json, options: Json) => Promise<Json> } };
    return async (prompt, signal) => {
      const reply = await messages.create(
        { model, max_tokens: maxTokens, temperature: 0, messages: [{ role: 'user', content: prompt }] },
        { signal, maxRetries: 1 },
      );
      const blocks = Array.isArray(reply.content) ? (reply.content as Json[]) : [];
      const text = blocks
        .filter((block) => block.type === 'text')
        .map((block) => String(block.text))
        .join('');
      return { text, truncated: reply.stop_reason === 'max_tokens' };
    };
  }
  const { completions } = (client as unknown as { chat: { completions: { create: CreateChat } } }).chat;
  return async (prompt, signal) => {
    // No temperature: reasoning models accept only their default.
    const reply = await completions.create(
      { model, max_completion_tokens: maxTokens, messages: [{ role: 'user', content: prompt }] },
      { signal, maxRetries: 1 },
    );
    const choice = Array.isArray(reply.choices) ? (reply.choices[0] as Json | undefined) : undefined;
    const message = choice?.message as Json | undefined;
    const text = typeof message?.content === 'string' ? message.content : '';
    return { text, truncated: choice?.finish_reason === 'length' };
  };
}

type CreateChat = (body: Json, options: Json) => Promise<Json>;

function clientKind(client: unknown): 'anthropic' | 'openai' | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const candidate = client as { messages?: { create?: unknown }; chat?: { completions?: { create?: unknown } } };
  if (isFunction(candidate.messages?.create)) return 'anthropic';
  if (isFunction(candidate.chat?.completions?.create)) return 'openai';
  return undefined;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? `${error.name}, HTTP ${status}` : error.name;
}
