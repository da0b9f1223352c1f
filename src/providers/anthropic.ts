import type { MemoryPipeline, TurnMemory, TurnRequest } from '../core/pipeline.js';
import { type ApiPromiseLike, deferApiPromise } from './deferred-api-promise.js';
import { isJson, type Json, lastUserText, textOf } from './json.js';
import { tapStream } from './stream-tap.js';

/** The shape of an Anthropic client that `withMemory` recognises. */
export interface AnthropicLike {
  messages: { create: (...args: never[]) => unknown };
}

type Create = (body: unknown, options?: unknown) => ApiPromiseLike<unknown>;

// A reply that stops for these is not the turn's final answer: the caller sends tool results next.
const unfinishedStops = new Set(['tool_use', 'pause_turn']);

/**
 * Makes `messages.create` (streaming or not) and `messages.stream` of an Anthropic client
 * memory-enabled; everything else passes through untouched. `messages.stream` needs no code of
 * its own: the SDK builds it on `this.create(...)`, which is ours on the wrapped resource.
 */
export function wrapAnthropic<T extends object>(client: T, pipeline: MemoryPipeline): T {
  let wrappedMessages: { source: object; proxy: object } | undefined;
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'messages' && typeof value === 'object' && value !== null) {
        if (wrappedMessages?.source !== value)
          wrappedMessages = { source: value, proxy: wrapMessages(value, pipeline) };
        return wrappedMessages.proxy;
      }
      // The client's own methods use private fields, so they must run on the real client.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function wrapMessages(messages: object, pipeline: MemoryPipeline): object {
  const create = Reflect.get(messages, 'create') as Create;
  const memoryCreate = (body: unknown, options?: unknown) => {
    if (!isJson(body) || !Array.isArray(body.messages)) return create.call(messages, body, options);
    const streaming = body.stream === true;
    const start = pipeline.begin(readRequest(body)).then((turn) => ({
      call: create.call(messages, inject(body, turn.memoryBlock), options),
      context: turn,
    }));
    return deferApiPromise(start, (data, turn) =>
      streaming ? watchStream(data, turn, pipeline) : watchReply(data, turn),
    );
  };
  return new Proxy(messages, {
    get(target, property, receiver) {
      return property === 'create' ? memoryCreate : Reflect.get(target, property, receiver);
    },
  });
}

/** The query is the last user message with text; a last message of only tool results continues its turn. */
export function readRequest(body: Json): TurnRequest {
  const messages = body.messages as unknown[];
  const { query, index } = lastUserText(messages);
  const last = messages.at(-1);
  const continuation =
    isJson(last) &&
    last.role === 'user' &&
    Array.isArray(last.content) &&
    last.content.some((block) => isJson(block) && block.type === 'tool_result') &&
    textOf(last.content) === '';
  return { query, continuation, turnKey: `${index}:${query}` };
}

/** Appends the memory block as its own system text block; the caller's system is kept as it was. */
function inject(body: Json, memoryBlock: string): Json {
  if (memoryBlock === '') return body;
  const memoryPart = { type: 'text', text: memoryBlock };
  const { system } = body;
  if (Array.isArray(system)) return { ...body, system: [...system, memoryPart] };
  if (typeof system === 'string' && system !== '')
    return { ...body, system: [{ type: 'text', text: system }, memoryPart] };
  return { ...body, system: [memoryPart] };
}

// Returning a promise makes the call resolve once the write is queued, or stored with `write: 'await'`.
async function watchReply(message: unknown, turn: TurnMemory): Promise<unknown> {
  if (isJson(message) && !unfinishedStops.has(String(message.stop_reason))) {
    await turn.complete(textOf(message.content));
  }
  return message;
}

function watchStream(stream: unknown, turn: TurnMemory, pipeline: MemoryPipeline): unknown {
  let text = '';
  let stopReason: unknown;
  const watching = tapStream<Json>(
    stream,
    (event) => {
      if (event.type === 'content_block_delta' && isJson(event.delta) && event.delta.type === 'text_delta') {
        text += String(event.delta.text ?? '');
      } else if (event.type === 'message_delta' && isJson(event.delta)) {
        stopReason = event.delta.stop_reason;
      }
    },
    async () => {
      if (!unfinishedStops.has(String(stopReason))) await turn.complete(text);
    },
  );
  if (!watching) {
    pipeline.report(new Error('the Anthropic stream has an unknown shape; this reply is not written back'), 'capture');
  }
  return stream;
}
