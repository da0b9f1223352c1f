import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, sendJson } from './http.js';

/** One chat-completions request the fake received. */
export interface OssLlmRequest {
  model: unknown;
  responseFormat: unknown;
  messages: Array<{ role: string; content: string }>;
}

export interface FakeOssLlm {
  /** Base URL for mem0 OSS `llm: { provider: 'openai', config: { baseURL: url } }` (ends in `/v1`). */
  url: string;
  requests: OssLlmRequest[];
  /** Answers the next `times` requests with this HTTP status instead. */
  failNext(status: number, times?: number): void;
  close(): Promise<void>;
}

/**
 * The smallest OpenAI chat-completions fake that mem0 OSS `Memory` needs for inference: it reads
 * the "## New Messages" section of mem0's extraction prompt and answers, in JSON mode, with each
 * user line as one memory (`{"memory":[{id, text, attributed_to, linked_memory_ids}]}`), a
 * deterministic stand-in for the model's extraction.
 */
export async function startFakeOssLlm(): Promise<FakeOssLlm> {
  let failures: { status: number; remaining: number } | undefined;
  const fake: FakeOssLlm = {
    url: '',
    requests: [],
    failNext(status, times = 1) {
      failures = { status, remaining: times };
    },
    close: async () => {},
  };

  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const raw = await readBody(request);
    if (request.method !== 'POST' || !request.url?.startsWith('/v1/chat/completions')) {
      sendJson(response, 404, { error: { message: 'Not found', type: 'invalid_request_error' } });
      return;
    }
    const body = JSON.parse(raw) as Record<string, unknown>;
    const messages = (body.messages ?? []) as OssLlmRequest['messages'];
    fake.requests.push({ model: body.model, responseFormat: body.response_format, messages });
    if (failures && failures.remaining > 0) {
      failures.remaining -= 1;
      sendJson(response, failures.status, { error: { message: 'Simulated failure', type: 'server_error' } });
      return;
    }
    const prompt = messages.find((message) => message.role === 'user')?.content ?? '';
    const memory = userLines(prompt).map((text, index) => ({
      id: String(index),
      text,
      attributed_to: 'user',
      linked_memory_ids: [],
    }));
    sendJson(response, 200, {
      id: `chatcmpl-${fake.requests.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: String(body.model ?? 'gpt-test'),
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: JSON.stringify({ memory }), refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}/v1`;
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

/** The user turns of mem0's "## New Messages" section, which lists them as `role: content` lines. */
function userLines(prompt: string): string[] {
  const section = /## New Messages\n([\s\S]*?)\n\n## /.exec(prompt)?.[1] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('user: '))
    .map((line) => line.slice('user: '.length).trim())
    .filter((line) => line !== '');
}
