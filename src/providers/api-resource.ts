/**
 * One SDK resource (`messages`, `chat.completions`, `responses`) made memory-enabled, for any API
 * that describes its requests and replies as a `ProviderApi`: the search before `create`, the
 * injection, the reply (streamed or not) read for the write-back. Each API is a small file of
 * that shape (`anthropic-messages.ts`, `openai-chat.ts`, `openai-responses.ts`); the wrapping is
 * written once, here.
 *
 * @module
 */

import type { MemoryPipeline, TurnMemory, TurnRequest } from '../core/pipeline.js';
import { type ApiPromiseLike, type DeferredCall, deferApiPromise } from './deferred-api-promise.js';
import { isJson, type Json } from './json.js';
import { tapStream } from './stream-tap.js';

/** What a reply says about its turn. */
export interface Outcome {
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
export interface StreamCollector {
  add(event: unknown): void;
  outcome(): Outcome;
}

/** What differs between the APIs; the wrapping around `create` is the same. */
export interface ProviderApi {
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

type Create = (body: unknown, options?: unknown) => ApiPromiseLike<unknown>;

/**
 * A proxy of `client` that shows some of its properties through `wrapProperty` (one proxy per
 * property value, so a resource keeps its identity between reads); everything else passes through.
 */
export function wrapClient<T extends object>(
  client: T,
  wrapProperty: (property: string | symbol, value: object, wrapped: T) => object | undefined,
): T {
  const proxies = new WeakMap<object, object>();
  const wrapped: T = new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (isObject(value)) {
        const known = proxies.get(value);
        if (known) return known;
        const proxy = wrapProperty(property, value, wrapped);
        if (proxy) {
          proxies.set(value, proxy);
          return proxy;
        }
      }
      // The client's own methods use private fields, so they must run on the real client.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return wrapped;
}

/**
 * Makes the resource's `create` (streaming or not) memory-enabled; everything else passes through.
 * With `client`, the resource answers `_client` with it: the OpenAI SDK's helpers call
 * `this._client.<api>.create(...)`, and so get memory too.
 */
export function wrapResource(resource: object, api: ProviderApi, pipeline: MemoryPipeline, client?: object): object {
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
      if (property === '_client' && client) return client;
      return Reflect.get(target, property, receiver);
    },
  });
}

/** Shows every event of the stream to the API's collector on its way to the caller; settles at the end. */
function watchStream(
  stream: unknown,
  api: ProviderApi,
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
 * SDK helpers (OpenAI's `parse`) map the result of `create` with the SDK's internal `_thenUnwrap`;
 * the wrapped `create` offers it too, keeping `withResponse()` and `asResponse()` on the result.
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

/** True for an object (a resource or the client). */
export function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
