/**
 * The OpenAI provider: `chat.completions.create` and `responses.create` (streaming or not) of an
 * OpenAI client, memory-enabled. It knows the request and reply shapes only (`openai-chat.ts`,
 * `openai-responses.ts`); it never loads the `openai` package.
 *
 * @module
 */

import type { MemoryPipeline } from '../core/pipeline.js';
import { isObject, wrapClient, wrapResource } from './api-resource.js';
import { openaiChatApi } from './openai-chat.js';
import { openaiResponsesApi } from './openai-responses.js';

/**
 * The shape of an OpenAI client that `withMemory` recognises: an object with
 * `chat.completions.create` or `responses.create`.
 */
export type OpenAILike =
  | { chat: { completions: { create: (...args: never[]) => unknown } } }
  | { responses: { create: (...args: never[]) => unknown } };

/**
 * Makes `chat.completions.create` and `responses.create` (streaming or not) of an OpenAI client
 * memory-enabled; everything else passes through untouched. The SDK's helpers (`chat.completions
 * .stream`, `.runTools`, `.parse`, `responses.stream`, `responses.parse`) call
 * `this._client.<api>.create(...)`, so the wrapped resources answer `_client` with the wrapped
 * client: the helpers' requests get memory too, a tool loop of `runTools` included.
 */
export function wrapOpenAI<T extends object>(client: T, pipeline: MemoryPipeline): T {
  const chat = openaiChatApi();
  const responses = openaiResponsesApi();
  return wrapClient(client, (property, value, wrapped) => {
    if (property === 'chat') {
      let completions: { source: object; proxy: object } | undefined;
      return new Proxy(value, {
        get(target, name, receiver) {
          const resource = Reflect.get(target, name, receiver);
          if (name !== 'completions' || !isObject(resource)) return resource;
          if (completions?.source !== resource)
            completions = { source: resource, proxy: wrapResource(resource, chat, pipeline, wrapped) };
          return completions.proxy;
        },
      });
    }
    return property === 'responses' ? wrapResource(value, responses, pipeline, wrapped) : undefined;
  });
}
