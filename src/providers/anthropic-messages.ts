/**
 * The Anthropic Messages API (`messages.create`) as a `ProviderApi`: its request and reply shapes.
 *
 * @module
 */

import type { TurnRequest } from '../core/pipeline.js';
import type { Outcome, ProviderApi } from './api-resource.js';
import { isJson, type Json, lastUserText, textOf } from './json.js';

// A reply that stops for these is not the turn's final answer: the caller sends tool results next.
const unfinishedStops = new Set(['tool_use', 'pause_turn']);

/** Reads Anthropic Messages requests and replies for the resource wrapper. */
export function anthropicMessagesApi(): ProviderApi {
  return {
    label: 'Anthropic',
    read: (body) => (Array.isArray(body.messages) ? readRequest(body) : undefined),
    inject,
    outcome(message) {
      if (!isJson(message)) return undefined;
      return { final: !unfinishedStops.has(String(message.stop_reason)), usable: true, text: textOf(message.content) };
    },
    collect() {
      let text = '';
      let stopReason: unknown;
      return {
        add(event) {
          if (!isJson(event)) return;
          if (event.type === 'content_block_delta' && isJson(event.delta) && event.delta.type === 'text_delta') {
            text += String(event.delta.text ?? '');
          } else if (event.type === 'message_delta' && isJson(event.delta)) {
            stopReason = event.delta.stop_reason;
          }
        },
        outcome: (): Outcome => ({ final: !unfinishedStops.has(String(stopReason)), usable: true, text }),
      };
    },
  };
}

/** The query is the last user message with text; a last message of only tool results continues its turn. */
function readRequest(body: Json): TurnRequest {
  const messages = body.messages as unknown[];
  const { query, index } = lastUserText(messages, { skipTextless: true });
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
