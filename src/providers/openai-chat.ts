/**
 * The OpenAI Chat Completions API (`chat.completions.create`) as a `ProviderApi`: its request and
 * reply shapes.
 *
 * @module
 */

import type { TurnRequest } from '../core/pipeline.js';
import type { ProviderApi } from './api-resource.js';
import { isJson, type Json, lastUserText, textOf } from './json.js';

// Replies that stop for these wait for tool results (`function_call` is the legacy form).
const chatToolStops = new Set(['tool_calls', 'function_call']);

/** Reads OpenAI Chat Completions requests and replies for the resource wrapper. */
export function openaiChatApi(): ProviderApi {
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
  const { query, index } = lastUserText(messages);
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
