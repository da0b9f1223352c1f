/**
 * The OpenAI provider: reads the query from a `chat.completions.create` or `responses.create`
 * request, injects the memory block, and captures the final reply (streamed or not) for the
 * write-back. It knows the request and reply shapes only; it never loads the `openai` package.
 *
 * @module
 */

import type { MemoryPipeline, TurnMemory, TurnRequest } from '../core/pipeline.js';
import { type ApiPromiseLike, type DeferredCall, deferApiPromise } from './deferred-api-promise.js';
import { isJson, type Json, textOf } from './json.js';
import { tapStream } from './stream-tap.js';

/**
 * The shape of an OpenAI client that `withMemory` recognises: an object with
 * `chat.completions.create` or `responses.create`.
 */
export type OpenAILike =
  | { chat: { completions: { create: (...args: never[]) => unknown } } }
  | { responses: { create: (...args: never[]) => unknown } };

type Create = (body: unknown, options?: unknown) => ApiPromiseLike<unknown>;

/** What a reply says about its turn. */
interface Outcome {
  /** False while a tool call is pending: the caller sends tool results next, in the same turn. */
  final: boolean;
  /** False for a reply that failed or has not run yet: nothing of it is written back. */
  usable: boolean;
  text: string;
  /** The Responses API id, so that a continuation through `previous_response_id` finds its turn. */
  responseId?: string;
  /** Why a reply that is not `usable` is left out, when the caller should hear of it. */
  problem?: string;
}

/** Gathers a streamed reply's outcome event by event. */
interface StreamCollector {
  add(event: unknown): void;
  outcome(): Outcome;
}

/** What differs between the two APIs; the wrapping around `create` is the same. */
interface OpenAIApi {
  /** Names the API in error messages. */
  label: string;
  /** The turn a request belongs to, or undefined for a body this API cannot read (passed through). */
  read(body: Json): TurnRequest | undefined;
  inject(body: Json, memoryBlock: string): Json;
  /** The outcome of a non-streamed reply, or undefined when the reply has an unknown shape. */
  outcome(reply: unknown): Outcome | undefined;
  collect(): StreamCollector;
  /** Called for a reply with a pending tool call, so its continuation can find the turn. */
  pending?(body: Json, request: TurnRequest, outcome: Outcome): void;
}

// A Responses tool loop may span several requests; a short memory of open turns is enough.
const rememberedTurns = 64;

/**
 * Makes `chat.completions.create` and `responses.create` (streaming or not) of an OpenAI client
 * memory-enabled; everything else passes through untouched. The SDK's helpers (`chat.completions
 * .stream`, `.runTools`, `.parse`, `responses.stream`, `responses.parse`) call
 * `this._client.<api>.create(...)`, so the wrapped resources answer `_client` with the wrapped
 * client: the helpers' requests get memory too, a tool loop of `runTools` included.
 */
export function wrapOpenAI<T extends object>(client: T, pipeline: MemoryPipeline): T {
  const chat = chatCompletionsApi();
  const responses = responsesApi();
  const proxies = new WeakMap<object, object>();
  const proxyOf = (source: object, make: () => object) => {
    let proxy = proxies.get(source);
    if (!proxy) {
      proxy = make();
      proxies.set(source, proxy);
    }
    return proxy;
  };
  const wrapped: T = new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'chat' && isObject(value)) {
        return proxyOf(value, () =>
          replaceProperty(value, 'completions', (completions) =>
            proxyOf(completions, () => wrapResource(completions, chat, pipeline, wrapped)),
          ),
        );
      }
      if (property === 'responses' && isObject(value)) {
        return proxyOf(value, () => wrapResource(value, responses, pipeline, wrapped));
      }
      // The client's own methods use private fields, so they must run on the real client.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return wrapped;
}

/** A proxy of `source` whose `property` (an object) is shown through `replace`. */
function replaceProperty(source: object, property: string, replace: (value: object) => object): object {
  return new Proxy(source, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      return name === property && isObject(value) ? replace(value) : value;
    },
  });
}

function wrapResource(resource: object, api: OpenAIApi, pipeline: MemoryPipeline, client: object): object {
  const create = Reflect.get(resource, 'create') as Create;
  const memoryCreate = (body: unknown, options?: unknown) => {
    const request = isJson(body) ? api.read(body) : undefined;
    if (!isJson(body) || !request) return create.call(resource, body, options);
    const streaming = body.stream === true;
    const start = pipeline.begin(request).then((turn) => ({
      // The real resource, not this proxy: its `create` must reach the real client.
      call: create.call(resource, api.inject(body, turn.memoryBlock), options),
      context: turn,
    }));
    const settle = (outcome: Outcome, turn: TurnMemory): Promise<void> => {
      if (outcome.problem !== undefined) pipeline.report(new Error(outcome.problem), 'capture');
      if (!outcome.usable) return Promise.resolve();
      if (outcome.final) return turn.complete(outcome.text);
      api.pending?.(body, request, outcome);
      return Promise.resolve();
    };
    return withThenUnwrap(
      deferApiPromise(start, (data, turn) => {
        if (streaming) return watchStream(data, api, pipeline, (outcome) => settle(outcome, turn));
        const outcome = api.outcome(data);
        if (!outcome) {
          pipeline.report(new Error(`the ${api.label} reply has an unknown shape; it is not written back`), 'capture');
          return data;
        }
        // Returning a promise makes the call resolve once the write is queued, or stored with `write: 'await'`.
        return settle(outcome, turn).then(() => data);
      }),
    );
  };
  return new Proxy(resource, {
    get(target, property, receiver) {
      if (property === 'create') return memoryCreate;
      if (property === '_client') return client;
      return Reflect.get(target, property, receiver);
    },
  });
}

function watchStream(
  stream: unknown,
  api: OpenAIApi,
  pipeline: MemoryPipeline,
  settle: (outcome: Outcome) => Promise<void>,
): unknown {
  const collector = api.collect();
  let broken = false;
  const watching = tapStream<unknown>(
    stream,
    (event) => {
      if (broken) return;
      try {
        collector.add(event);
      } catch (error) {
        // Reading an event must never break the caller's stream; the reply is just not written.
        broken = true;
        pipeline.report(error, 'capture');
      }
    },
    async () => {
      if (!broken) await settle(collector.outcome());
    },
  );
  if (!watching) {
    pipeline.report(
      new Error(`the ${api.label} stream has an unknown shape; this reply is not written back`),
      'capture',
    );
  }
  return stream;
}

/**
 * SDK helpers (`parse`) map the result of `create` with the SDK's internal `_thenUnwrap`; the
 * wrapped `create` offers it too, keeping `withResponse()` and `asResponse()` on the result.
 */
function withThenUnwrap(promise: DeferredCall): DeferredCall {
  return Object.assign(promise, {
    _thenUnwrap(transform: (data: unknown) => unknown): DeferredCall {
      const mapped = promise.then((data) => transform(data));
      // Callers that only use withResponse() never await `mapped`; its rejection reaches them there.
      mapped.catch(() => {});
      return withThenUnwrap(
        Object.assign(mapped, {
          withResponse: async () => ({ ...(await promise.withResponse()), data: await mapped }),
          asResponse: () => promise.asResponse(),
        }),
      );
    },
  });
}

// ---- Chat completions ----------------------------------------------------------------------

// Replies that stop for these wait for tool results (`function_call` is the legacy form).
const chatToolStops = new Set(['tool_calls', 'function_call']);

function chatCompletionsApi(): OpenAIApi {
  return {
    label: 'OpenAI chat completion',
    read: readChatRequest,
    inject: injectChat,
    outcome(completion) {
      if (!isJson(completion) || !Array.isArray(completion.choices)) return undefined;
      const choice = completion.choices.find((entry) => isJson(entry) && (entry.index ?? 0) === 0);
      if (!isJson(choice) || !isJson(choice.message)) return undefined;
      const { message } = choice;
      const toolCalls =
        (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) || isJson(message.function_call);
      return {
        // Some compatible servers stop with `stop` while asking for tools; a pending call is what counts.
        final: !toolCalls && !chatToolStops.has(String(choice.finish_reason)),
        usable: true,
        text: textOf(message.content),
      };
    },
    collect() {
      let text = '';
      let toolCalls = false;
      let finishReason: unknown;
      return {
        add(chunk) {
          if (!isJson(chunk) || !Array.isArray(chunk.choices)) return;
          for (const choice of chunk.choices) {
            // With `n` > 1 every choice streams; the first one is the answer, as in the non-streamed reply.
            if (!isJson(choice) || (choice.index ?? 0) !== 0) continue;
            const { delta } = choice;
            if (isJson(delta)) {
              if (typeof delta.content === 'string') text += delta.content;
              if ((Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) || isJson(delta.function_call)) {
                toolCalls = true;
              }
            }
            if (choice.finish_reason !== null && choice.finish_reason !== undefined)
              finishReason = choice.finish_reason;
          }
        },
        outcome: () => ({ final: !toolCalls && !chatToolStops.has(String(finishReason)), usable: true, text }),
      };
    },
  };
}

/**
 * The query is the text of the last user message (text parts only); a request whose last message
 * is a tool result continues the turn of that user message.
 */
function readChatRequest(body: Json): TurnRequest | undefined {
  const { messages } = body;
  if (!Array.isArray(messages)) return undefined;
  const index = messages.findLastIndex((message) => isJson(message) && message.role === 'user');
  const user = messages[index];
  const query = isJson(user) ? textOf(user.content) : '';
  const last = messages.at(-1);
  const continuation = isJson(last) && (last.role === 'tool' || last.role === 'function');
  return { query, continuation, turnKey: `${index}:${query}` };
}

/** Inserts the block as a system message after the caller's leading system/developer messages. */
function injectChat(body: Json, memoryBlock: string): Json {
  if (memoryBlock === '') return body;
  const messages = body.messages as unknown[];
  let position = 0;
  while (position < messages.length && isInstruction(messages[position])) position += 1;
  const memoryMessage = { role: 'system', content: memoryBlock };
  return { ...body, messages: [...messages.slice(0, position), memoryMessage, ...messages.slice(position)] };
}

function isInstruction(message: unknown): boolean {
  return isJson(message) && (message.role === 'system' || message.role === 'developer');
}

// ---- Responses -----------------------------------------------------------------------------

// Output items the caller must act on (run a tool, approve a call) before the model answers.
const responseToolCalls = new Set([
  'function_call',
  'custom_tool_call',
  'computer_call',
  'local_shell_call',
  'shell_call',
  'apply_patch_call',
  'mcp_approval_request',
]);
// A background response has not run yet; a failed or cancelled one has no answer to keep.
const unusableStatuses = new Set(['queued', 'in_progress', 'failed', 'cancelled']);
const backgroundStatuses = new Set(['queued', 'in_progress']);

function responsesApi(): OpenAIApi {
  // Turns waiting for tool results, by the id of the response that asked (and by conversation):
  // a continuation through `previous_response_id` carries only the tool output, not the user's text.
  const openTurns = new Map<string, TurnRequest>();
  const remember = (key: string, request: TurnRequest) => {
    openTurns.delete(key);
    openTurns.set(key, request);
    if (openTurns.size > rememberedTurns) openTurns.delete(openTurns.keys().next().value as string);
  };

  return {
    label: 'OpenAI response',
    read(body) {
      const { request, hasUserMessage } = readResponsesRequest(body);
      if (!request.continuation || hasUserMessage) return request;
      const previous = typeof body.previous_response_id === 'string' ? `response:${body.previous_response_id}` : '';
      const conversation = conversationKey(body.conversation);
      const open = openTurns.get(previous) ?? openTurns.get(conversation);
      // Without its turn, a continuation has nothing to reuse: it must not take another turn's search.
      return open ? { ...open, continuation: true } : { ...request, continuation: false };
    },
    inject(body, memoryBlock) {
      if (memoryBlock === '') return body;
      const { instructions } = body;
      const caller = typeof instructions === 'string' ? instructions : '';
      return { ...body, instructions: caller === '' ? memoryBlock : `${caller}\n\n${memoryBlock}` };
    },
    outcome(response) {
      if (!isJson(response) || !Array.isArray(response.output)) return undefined;
      let text = '';
      let toolCalls = false;
      for (const item of response.output) {
        if (!isJson(item)) continue;
        if (responseToolCalls.has(String(item.type))) toolCalls = true;
        if (item.type === 'message' && Array.isArray(item.content)) {
          for (const part of item.content) {
            if (isJson(part) && part.type === 'output_text' && typeof part.text === 'string') text += part.text;
          }
        }
      }
      const status = String(response.status);
      return {
        final: !toolCalls,
        usable: !unusableStatuses.has(status),
        text,
        ...(typeof response.id === 'string' && { responseId: response.id }),
        ...(backgroundStatuses.has(status) && {
          problem: `a background response (status ${status}) has no answer yet when create returns; this turn is not written back`,
        }),
      };
    },
    collect() {
      let text = '';
      let toolCalls = false;
      let failed = false;
      let responseId: string | undefined;
      return {
        add(event) {
          if (!isJson(event)) return;
          if (isJson(event.response) && typeof event.response.id === 'string') responseId = event.response.id;
          if (event.type === 'response.output_text.delta' && typeof event.delta === 'string') text += event.delta;
          else if (
            (event.type === 'response.output_item.added' || event.type === 'response.output_item.done') &&
            isJson(event.item) &&
            responseToolCalls.has(String(event.item.type))
          ) {
            toolCalls = true;
          } else if (event.type === 'response.failed' || event.type === 'error') failed = true;
        },
        outcome: () => ({
          final: !toolCalls,
          usable: !failed,
          text,
          ...(responseId !== undefined && { responseId }),
        }),
      };
    },
    pending(body, request, outcome) {
      if (outcome.responseId !== undefined) remember(`response:${outcome.responseId}`, request);
      const conversation = conversationKey(body.conversation);
      if (conversation !== '') remember(conversation, request);
    },
  };
}

/**
 * The query is `input` itself when it is a string, else the text of the last user message in it
 * (`input_text` parts only). Tool outputs as the last item continue the turn.
 */
function readResponsesRequest(body: Json): { request: TurnRequest; hasUserMessage: boolean } {
  const { input } = body;
  if (typeof input === 'string') {
    return { request: { query: input, continuation: false, turnKey: `0:${input}` }, hasUserMessage: true };
  }
  const items = Array.isArray(input) ? input : [];
  const index = items.findLastIndex(
    (item) => isJson(item) && item.role === 'user' && (item.type === undefined || item.type === 'message'),
  );
  const user = items[index];
  const query = isJson(user) ? textOf(user.content, 'input_text') : '';
  const last = items.at(-1);
  const continuation =
    isJson(last) &&
    typeof last.type === 'string' &&
    (last.type.endsWith('_call_output') || last.type === 'mcp_approval_response');
  return { request: { query, continuation, turnKey: `${index}:${query}` }, hasUserMessage: index >= 0 };
}

function conversationKey(conversation: unknown): string {
  const id = isJson(conversation) ? conversation.id : conversation;
  return typeof id === 'string' && id !== '' ? `conversation:${id}` : '';
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
