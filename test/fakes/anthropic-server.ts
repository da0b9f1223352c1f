import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, sendJson } from './http.js';

/**
 * A scripted reply of the fake: text, a tool call (which stops with `tool_use`), or the exact SSE
 * events of a streamed reply (what a misbehaving compatible server might send).
 */
export type AnthropicReply =
  | { text: string }
  | { toolUse: { name: string; input: Record<string, unknown> }; text?: string }
  | { events: Array<Record<string, unknown>> };

/** Decides the reply to one request body; the default answers "OK." */
export type AnthropicResponder = (body: Record<string, unknown>) => AnthropicReply;

export interface FakeAnthropic {
  /** Base URL for `new Anthropic({ baseURL })`. */
  url: string;
  /** Every request body the fake received, in order. */
  requests: Array<Record<string, unknown>>;
  /** Every SSE event the fake sent, per streamed request, in order. */
  sentEvents: Array<Array<Record<string, unknown>>>;
  /** Replies to use next, first in first out; when empty, `respond` decides. */
  replies: AnthropicReply[];
  respond: AnthropicResponder;
  close(): Promise<void>;
}

let ids = 0;

/**
 * A loopback fake of the Anthropic Messages API (`POST /v1/messages`), JSON and SSE streaming
 * with the real event sequence (message_start, content_block_*, ping, message_delta,
 * message_stop), text and tool_use replies. The real `@anthropic-ai/sdk` client talks to it
 * through `baseURL`.
 */
export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const fake: FakeAnthropic = {
    url: '',
    requests: [],
    sentEvents: [],
    replies: [],
    respond: () => ({ text: 'OK.' }),
    close: async () => {},
  };

  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST' || !request.url?.startsWith('/v1/messages')) {
      sendJson(response, 404, { type: 'error', error: { type: 'not_found_error', message: 'Not found' } }, requestId());
      return;
    }
    const body = JSON.parse(await readBody(request)) as Record<string, unknown>;
    fake.requests.push(body);
    const reply = fake.replies.shift() ?? fake.respond(body);
    if ('events' in reply || body.stream === true) {
      const events = 'events' in reply ? reply.events : toEvents(toMessage(reply, String(body.model ?? 'claude-test')));
      fake.sentEvents.push(events);
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const event of events) {
        response.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
      response.end();
    } else {
      sendJson(response, 200, toMessage(reply, String(body.model ?? 'claude-test')), requestId());
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

function toMessage(reply: Exclude<AnthropicReply, { events: unknown }>, model: string) {
  ids += 1;
  const content: Array<Record<string, unknown>> = [];
  if (reply.text) content.push({ type: 'text', text: reply.text });
  if ('toolUse' in reply) {
    content.push({ type: 'tool_use', id: `toolu_${ids}`, name: reply.toolUse.name, input: reply.toolUse.input });
  }
  return {
    id: `msg_${ids}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: 'toolUse' in reply ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
  };
}

function toEvents(message: ReturnType<typeof toMessage>): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [
    {
      type: 'message_start',
      message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 10, output_tokens: 1 } },
    },
  ];
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      events.push({ type: 'ping' });
      // Word by word, as the real API streams, so a test can see many deltas in order.
      for (const piece of String(block.text).match(/\S+\s*/g) ?? []) {
        events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
      }
    } else {
      events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      events.push({
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      });
    }
    events.push({ type: 'content_block_stop', index });
  });
  events.push({
    type: 'message_delta',
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: { output_tokens: 5 },
  });
  events.push({ type: 'message_stop' });
  return events;
}

function requestId(): Record<string, string> {
  return { 'request-id': `req_${ids}` };
}
