/**
 * The OpenAI Responses API (`responses.create`) as a `ProviderApi`: its request and reply shapes,
 * and the turns waiting for tool results (a continuation through `previous_response_id` carries
 * only the tool output, not the user's text).
 *
 * @module
 */

import type { TurnRequest } from '../core/pipeline.js';
import type { ProviderApi } from './api-resource.js';
import { isJson, type Json, lastUserText } from './json.js';

// A Responses tool loop may span several requests; a short memory of open turns is enough.
const rememberedTurns = 64;

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

/** Reads OpenAI Responses requests and replies for the resource wrapper; remembers turns waiting for tool results. */
export function openaiResponsesApi(): ProviderApi {
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
  const { query, index } = lastUserText(items, {
    isUser: (item) => item.role === 'user' && (item.type === undefined || item.type === 'message'),
    partType: 'input_text',
  });
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
