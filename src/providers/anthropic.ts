/**
 * The Anthropic provider: `messages.create` (streaming or not) and `messages.stream` of an
 * Anthropic client, memory-enabled. It knows the request and reply shapes only
 * (`anthropic-messages.ts`); it never loads the `@anthropic-ai/sdk` package.
 *
 * @module
 */

import type { MemoryPipeline } from '../core/pipeline.js';
import { anthropicMessagesApi } from './anthropic-messages.js';
import { wrapClient, wrapResource } from './api-resource.js';

/** The shape of an Anthropic client that `withMemory` recognises. */
export interface AnthropicLike {
  messages: { create: (...args: never[]) => unknown };
}

/**
 * Makes `messages.create` (streaming or not) and `messages.stream` of an Anthropic client
 * memory-enabled; everything else passes through untouched. `messages.stream` needs no code of
 * its own: the SDK builds it on `this.create(...)`, which is ours on the wrapped resource.
 */
export function wrapAnthropic<T extends object>(client: T, pipeline: MemoryPipeline): T {
  const messages = anthropicMessagesApi();
  // No `_client` answer here: `messages.stream` hands `this._client` to code that reads its private fields.
  return wrapClient(client, (property, value) =>
    property === 'messages' ? wrapResource(value, messages, pipeline) : undefined,
  );
}
