/**
 * A loopback fake of the OpenAI HTTP API for tests that drive the real `openai` client
 * (`new OpenAI({ baseURL: server.baseURL, apiKey: 'test' })`): `POST /v1/chat/completions` and
 * `POST /v1/responses`, as JSON or as SSE when the body asks for `stream: true`, with scripted
 * replies (text, JSON-mode text, tool calls, HTTP errors), and `POST /v1/embeddings` with
 * deterministic vectors. Every request is recorded with its parsed body, and every reply with
 * the payloads sent (each SSE event's data, in order).
 *
 * Replies come from a queue (`replies`, `enqueue`) and, when it is empty, from a function
 * (`respond`, by default answering "OK.", as the Anthropic fake does).
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, sendJson } from './http.js';

/** A tool call the fake model asks for. */
export interface FakeToolCall {
  /** @default `call_<n>` */
  id?: string;
  name: string;
  /** A JSON string, or an object sent as its JSON. @default '{}' */
  arguments?: string | Record<string, unknown>;
}

/** One scripted reply. A bare string is `{ text }`. */
export interface FakeReply {
  /** The assistant's text. */
  text?: string;
  /** Sent as the assistant's text, JSON-encoded (for JSON-mode callers such as extractors). */
  json?: unknown;
  toolCalls?: FakeToolCall[];
  /** Chat completions' `finish_reason`. @default 'tool_calls' with tool calls, else 'stop' */
  finishReason?: string;
  /** The Responses API `status`; `failed` streams `response.failed`. @default 'completed' */
  status?: string;
  /** How a streamed text is split into deltas. @default words, each with the spaces after it */
  chunks?: string[];
  /** Answer with exactly this JSON body (status 200, never streamed), for replies of unusual shape. */
  body?: unknown;
  /** Answer with this HTTP error instead (the SDK retries 429 and 5xx unless `maxRetries: 0`). */
  error?: { status: number; message?: string; type?: string };
}

/** What a reply source may give. */
export type FakeReplyInput = FakeReply | string;

/** The APIs the fake serves. */
export type FakeApi = 'chat' | 'responses' | 'embeddings';

/** One request the fake received, with what it answered. */
export interface RecordedRequest {
  api: FakeApi;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, as the client sent it. */
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are arbitrary JSON that tests inspect freely
  body: any;
  /** True when the reply was streamed as SSE. */
  stream: boolean;
  /** The JSON body answered, or the data of each SSE event in order (the `[DONE]` marker left out). */
  sent: unknown[];
}

/** Picks the reply to a request when the queue is empty. */
export type Respond = (request: RecordedRequest) => FakeReplyInput | Promise<FakeReplyInput>;

/** Options of `startFakeOpenAI`. */
export interface FakeOpenAIOptions {
  /** Replies served first, in order, to chat completions and responses alike. */
  replies?: FakeReplyInput[];
  /** Answers once the queue is empty. @default () => 'OK.' */
  respond?: Respond;
  /** The embedding of one text. @default a 64-dimension hashed bag of words, unit length */
  embed?: (text: string) => number[];
}

/** A running fake. */
export interface FakeOpenAIServer {
  /** `http://127.0.0.1:<port>/v1`, for the client's `baseURL`. */
  readonly baseURL: string;
  /** Every request, in order of arrival. */
  readonly requests: RecordedRequest[];
  /** Adds replies to the end of the queue. */
  enqueue(...replies: FakeReplyInput[]): void;
  /** Replaces the function that answers once the queue is empty. */
  respondWith(respond: Respond): void;
  /** The requests to one API, in order. */
  requestsTo(api: FakeApi): RecordedRequest[];
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const created = 1_700_000_000;

/**
 * Starts a fake OpenAI API on 127.0.0.1 and a free port.
 *
 * @example
 * ```ts
 * const server = await startFakeOpenAI({ replies: ['Noted.'] });
 * const openai = new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0 });
 * await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] });
 * expect(server.requests[0]?.body.messages).toHaveLength(1);
 * await server.close();
 * ```
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const queue: FakeReplyInput[] = [...(options.replies ?? [])];
  let respond: Respond = options.respond ?? (() => 'OK.');
  const embed = options.embed ?? hashedEmbedding;
  const requests: RecordedRequest[] = [];
  let counter = 0;

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const path = (incoming.url ?? '').split('?')[0] ?? '';
    const api = apiOf(incoming.method, path);
    const raw = await readBody(incoming);
    if (!api)
      return sendJson(outgoing, 404, { error: { message: `fake OpenAI: no route ${incoming.method} ${path}` } });
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendJson(outgoing, 400, { error: { message: 'fake OpenAI: the body is not JSON' } });
    }
    const json = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const stream = api !== 'embeddings' && json.stream === true;
    const request: RecordedRequest = { api, path, headers: { ...incoming.headers }, body, stream, sent: [] };
    requests.push(request);
    counter += 1;

    if (api === 'embeddings') {
      const answer = embeddingsReply(json, embed);
      request.sent.push(answer);
      return sendJson(outgoing, 200, answer);
    }

    const reply = normalise(queue.shift() ?? (await respond(request)));
    if (reply.error) {
      const error = {
        error: { message: reply.error.message ?? 'fake error', type: reply.error.type ?? 'server_error' },
      };
      request.sent.push(error);
      return sendJson(outgoing, reply.error.status, error);
    }
    if (reply.body !== undefined) {
      request.sent.push(reply.body);
      return sendJson(outgoing, 200, reply.body);
    }
    const id = counter;
    const model = typeof json.model === 'string' ? json.model : 'fake-model';
    if (api === 'chat') {
      if (!stream) {
        const answer = chatCompletion(reply, id, model);
        request.sent.push(answer);
        return sendJson(outgoing, 200, answer);
      }
      const includeUsage = isRecord(json.stream_options) && json.stream_options.include_usage === true;
      return sendEvents(outgoing, request, chatChunks(reply, id, model, includeUsage), false);
    }
    if (!stream) {
      const answer = response(reply, id, model, json, reply.status ?? 'completed');
      request.sent.push(answer);
      return sendJson(outgoing, 200, answer);
    }
    return sendEvents(outgoing, request, responseEvents(reply, id, model, json), true);
  }

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch((error: unknown) => {
      if (!outgoing.headersSent)
        sendJson(outgoing, 500, { error: { message: `fake OpenAI failed: ${String(error)}` } });
      else outgoing.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    respondWith: (next) => {
      respond = next;
    },
    requestsTo: (api) => requests.filter((request) => request.api === api),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function apiOf(method: string | undefined, path: string): FakeApi | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/v1/chat/completions') return 'chat';
  if (path === '/v1/responses') return 'responses';
  if (path === '/v1/embeddings') return 'embeddings';
  return undefined;
}

function normalise(input: FakeReplyInput): FakeReply {
  const reply = typeof input === 'string' ? { text: input } : input;
  return reply.json === undefined ? reply : { ...reply, text: JSON.stringify(reply.json) };
}

function toolCallsOf(reply: FakeReply, id: number) {
  return (reply.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? `call_${id}_${index}`,
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
  }));
}

function chunksOf(reply: FakeReply): string[] {
  if (reply.chunks) return reply.chunks;
  return reply.text?.match(/\S+\s*|\s+/g) ?? [];
}

function usage() {
  return { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
}

// ---- Chat completions ----------------------------------------------------------------------

function chatCompletion(reply: FakeReply, id: number, model: string) {
  const toolCalls = toolCallsOf(reply, id);
  return {
    id: `chatcmpl-fake-${id}`,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.text ?? null,
          refusal: null,
          annotations: [],
          ...(toolCalls.length > 0 && {
            tool_calls: toolCalls.map((call) => ({
              id: call.id,
              type: 'function',
              function: { name: call.name, arguments: call.arguments },
            })),
          }),
        },
        logprobs: null,
        finish_reason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
      },
    ],
    usage: usage(),
    system_fingerprint: null,
  };
}

function chatChunks(reply: FakeReply, id: number, model: string, includeUsage: boolean): unknown[] {
  const toolCalls = toolCallsOf(reply, id);
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    id: `chatcmpl-fake-${id}`,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
  const chunks: unknown[] = [chunk({ role: 'assistant', content: '', refusal: null })];
  for (const piece of chunksOf(reply)) chunks.push(chunk({ content: piece }));
  toolCalls.forEach((call, index) => {
    chunks.push(
      chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }),
    );
    for (const piece of splitInTwo(call.arguments))
      chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  chunks.push(chunk({}, reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop')));
  if (includeUsage) {
    chunks.push({
      id: `chatcmpl-fake-${id}`,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [],
      usage: usage(),
    });
  }
  return chunks;
}

function splitInTwo(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)].filter((piece) => piece !== '');
}

// ---- Responses -----------------------------------------------------------------------------

function outputItems(reply: FakeReply, id: number) {
  const items: Record<string, unknown>[] = [];
  const toolCalls = toolCallsOf(reply, id);
  if (reply.text !== undefined || toolCalls.length === 0) {
    items.push({
      type: 'message',
      id: `msg_fake_${id}`,
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: reply.text ?? '', annotations: [], logprobs: [] }],
    });
  }
  toolCalls.forEach((call, index) => {
    items.push({
      type: 'function_call',
      id: `fc_fake_${id}_${index}`,
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
      status: 'completed',
    });
  });
  return items;
}

function response(reply: FakeReply, id: number, model: string, body: Record<string, unknown>, status: string) {
  const done = status !== 'in_progress' && status !== 'queued';
  return {
    id: `resp_fake_${id}`,
    object: 'response',
    created_at: created,
    status,
    model,
    output: done ? outputItems(reply, id) : [],
    instructions: body.instructions ?? null,
    previous_response_id: body.previous_response_id ?? null,
    parallel_tool_calls: true,
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    temperature: 1,
    top_p: 1,
    text: { format: { type: 'text' } },
    error: status === 'failed' ? { code: 'server_error', message: reply.text ?? 'fake failure' } : null,
    incomplete_details: null,
    metadata: {},
    usage: done ? { input_tokens: 10, output_tokens: 5, total_tokens: 15 } : null,
  };
}

function responseEvents(reply: FakeReply, id: number, model: string, body: Record<string, unknown>): unknown[] {
  const status = reply.status ?? 'completed';
  const events: Record<string, unknown>[] = [];
  const emit = (type: string, fields: Record<string, unknown>) => events.push({ type, ...fields });
  const inProgress = response(reply, id, model, body, 'in_progress');
  emit('response.created', { response: inProgress });
  emit('response.in_progress', { response: inProgress });
  if (status !== 'failed') {
    outputItems(reply, id).forEach((item, outputIndex) => {
      const itemId = item.id;
      if (item.type === 'message') {
        emit('response.output_item.added', {
          output_index: outputIndex,
          item: { ...item, status: 'in_progress', content: [] },
        });
        const part = { type: 'output_text', text: '', annotations: [], logprobs: [] };
        emit('response.content_part.added', { item_id: itemId, output_index: outputIndex, content_index: 0, part });
        for (const delta of chunksOf(reply)) {
          emit('response.output_text.delta', {
            item_id: itemId,
            output_index: outputIndex,
            content_index: 0,
            delta,
            logprobs: [],
          });
        }
        const text = reply.text ?? '';
        emit('response.output_text.done', {
          item_id: itemId,
          output_index: outputIndex,
          content_index: 0,
          text,
          logprobs: [],
        });
        emit('response.content_part.done', {
          item_id: itemId,
          output_index: outputIndex,
          content_index: 0,
          part: { ...part, text },
        });
      } else {
        emit('response.output_item.added', {
          output_index: outputIndex,
          item: { ...item, status: 'in_progress', arguments: '' },
        });
        const args = String(item.arguments);
        for (const delta of splitInTwo(args)) {
          emit('response.function_call_arguments.delta', { item_id: itemId, output_index: outputIndex, delta });
        }
        emit('response.function_call_arguments.done', { item_id: itemId, output_index: outputIndex, arguments: args });
      }
      emit('response.output_item.done', { output_index: outputIndex, item });
    });
  }
  const final = response(reply, id, model, body, status);
  const endType =
    status === 'failed' ? 'response.failed' : status === 'incomplete' ? 'response.incomplete' : 'response.completed';
  emit(endType, { response: final });
  return events.map((event, sequence) => ({ ...event, sequence_number: sequence }));
}

// ---- Embeddings ----------------------------------------------------------------------------

function embeddingsReply(body: Record<string, unknown>, embed: (text: string) => number[]) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const base64 = body.encoding_format === 'base64';
  return {
    object: 'list',
    model: typeof body.model === 'string' ? body.model : 'fake-embedding',
    data: inputs.map((input, index) => {
      const vector = embed(String(input));
      return {
        object: 'embedding',
        index,
        embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
      };
    }),
    usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
  };
}

/** Texts that share words get similar vectors: each word adds to one of 64 dimensions. */
function hashedEmbedding(text: string): number[] {
  const vector = new Array<number>(64).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let hash = 2166136261;
    for (const character of word) hash = Math.imul(hash ^ (character.codePointAt(0) ?? 0), 16777619);
    const slot = (hash >>> 0) % vector.length;
    vector[slot] = (vector[slot] ?? 0) + 1;
  }
  const length = Math.hypot(...vector) || 1;
  return vector.map((value) => value / length);
}

// ---- HTTP ----------------------------------------------------------------------------------

function sendEvents(outgoing: ServerResponse, request: RecordedRequest, events: unknown[], named: boolean): void {
  outgoing.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  for (const event of events) {
    request.sent.push(event);
    const name = named && isRecord(event) ? `event: ${String(event.type)}\n` : '';
    outgoing.write(`${name}data: ${JSON.stringify(event)}\n\n`);
  }
  if (!named) outgoing.write('data: [DONE]\n\n');
  outgoing.end();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
