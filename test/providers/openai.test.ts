import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryError, StoreError, StoreTimeoutError } from '../../src/core/errors.js';
import type { ErrorContext } from '../../src/core/options.js';
import type { MemoryStore } from '../../src/core/types.js';
import { flushMemory } from '../../src/core/writeback.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { exchangeExtractor } from '../../src/strategies/extract/exchange-extractor.js';
import { createMockStore } from '../../src/testing/mock-store.js';
import { withMemory } from '../../src/with-memory.js';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server.js';

const model = 'gpt-test';
const celsius = 'I prefer all temperatures in Celsius, never Fahrenheit.';
const celsiusFact = 'User prefers all temperatures in Celsius, never Fahrenheit.';
const roomQuestion = "What's a comfortable room temperature?";
const callerSystem = 'You are a helpful assistant for a smart-home app.';

let server: FakeOpenAIServer;
const client = () => new OpenAI({ apiKey: 'test-key', baseURL: server.baseURL, maxRetries: 0 });

beforeEach(async () => {
  server = await startFakeOpenAI();
});
afterEach(async () => {
  await server.close();
});

type Api = 'chat' | 'responses';
const variants: Array<{ api: Api; stream: boolean; label: string }> = [
  { api: 'chat', stream: false, label: 'chat.completions.create' },
  { api: 'chat', stream: true, label: 'chat.completions.create with stream: true' },
  { api: 'responses', stream: false, label: 'responses.create' },
  { api: 'responses', stream: true, label: 'responses.create with stream: true' },
];

/** The request body a caller of `api` sends for one question, with its own system text. */
function requestBody(api: Api, stream: boolean, question: string, system?: string) {
  if (api === 'chat') {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      ...(system === undefined ? [] : [{ role: 'system' as const, content: system }]),
      { role: 'user', content: question },
    ];
    return { model, messages, ...(stream && { stream: true as const }) };
  }
  return {
    model,
    input: question,
    ...(system !== undefined && { instructions: system }),
    ...(stream && { stream: true as const }),
  };
}

/** Sends the body through the client's `api` and returns the answer text, read as a caller would. */
async function ask(openai: OpenAI, api: Api, body: ReturnType<typeof requestBody>): Promise<string> {
  if (api === 'chat') {
    const params = body as OpenAI.Chat.ChatCompletionCreateParams;
    if (params.stream) {
      let text = '';
      for await (const chunk of await openai.chat.completions.create(params))
        text += chunk.choices[0]?.delta.content ?? '';
      return text;
    }
    const completion = await openai.chat.completions.create(params);
    return completion.choices[0]?.message.content ?? '';
  }
  const params = body as OpenAI.Responses.ResponseCreateParams;
  if (params.stream) {
    let text = '';
    for await (const event of await openai.responses.create(params)) {
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    return text;
  }
  return (await openai.responses.create(params)).output_text;
}

describe('the Celsius scenario: a preference told in one session shapes the next', () => {
  for (const { api, stream, label } of variants) {
    it(`through ${label}`, async () => {
      const store = inMemoryStore();
      const scope = { userId: 'user_42', agentId: 'support' };

      const session1 = withMemory(client(), { scope, store });
      server.enqueue('Noted: Celsius from now on.');
      const firstBody = requestBody(api, stream, celsius);
      const firstSent = structuredClone(firstBody);
      expect(await ask(session1, api, firstBody)).toBe('Noted: Celsius from now on.');
      await flushMemory(session1);
      // Nothing was known yet, so nothing was injected.
      expect(server.requests[0]?.body).toEqual(firstSent);
      // The preference, and the reply (kept as said by the assistant).
      expect((await store.list({ scope })).map((memory) => memory.text)).toContain(celsiusFact);

      const session2 = withMemory(client(), { scope, store });
      server.enqueue('Around 20-22 °C is comfortable for most people.');
      const secondBody = requestBody(api, stream, roomQuestion, callerSystem);
      const answer = await ask(session2, api, secondBody);

      expect(answer).toBe('Around 20-22 °C is comfortable for most people.');
      const sent = server.requests[1]?.body;
      if (api === 'chat') {
        expect(sent.messages).toHaveLength(3);
        expect(sent.messages[0]).toEqual({ role: 'system', content: callerSystem });
        expect(sent.messages[1].role).toBe('system');
        expect(sent.messages[1].content).toMatch(/^<memories>/);
        expect(sent.messages[1].content).toContain(celsiusFact);
        expect(sent.messages[2]).toEqual({ role: 'user', content: roomQuestion });
      } else {
        expect(sent.instructions.startsWith(`${callerSystem}\n\n<memories>`)).toBe(true);
        expect(sent.instructions).toContain(celsiusFact);
        expect(sent.input).toBe(roomQuestion);
      }
      // The caller's request object is not changed by the injection.
      expect(secondBody).toEqual(requestBody(api, stream, roomQuestion, callerSystem));
    });
  }
});

describe('injection', () => {
  const seeded = () => createMockStore([{ text: 'User likes green tea.', type: 'preference', scope: { userId: 'u' } }]);

  it('puts the memory message after leading system and developer messages, the rest as sent', async () => {
    const openai = withMemory(client(), { scope: { userId: 'u' }, store: seeded() });
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'developer', content: 'Answer in one sentence.' },
      { role: 'system', content: [{ type: 'text', text: 'You are a tea shop assistant.' }] },
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi! How can I help?' },
      { role: 'system', content: 'A later system note.' },
      { role: 'user', content: 'Which tea should I buy?' },
    ];
    await openai.chat.completions.create({ model, messages });

    const sent = server.requests[0]?.body.messages;
    expect(sent).toHaveLength(messages.length + 1);
    expect(sent.slice(0, 2)).toEqual(messages.slice(0, 2));
    expect(sent[2]).toEqual({ role: 'system', content: expect.stringContaining('User likes green tea.') });
    expect(sent.slice(3)).toEqual(messages.slice(2));
  });

  it('makes the memory message the first message when the caller has no system message', async () => {
    const openai = withMemory(client(), { scope: { userId: 'u' }, store: seeded() });
    await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Which tea?' }] });
    const sent = server.requests[0]?.body.messages;
    expect(sent).toHaveLength(2);
    expect(sent[0]).toEqual({ role: 'system', content: expect.stringContaining('User likes green tea.') });
    expect(sent[1]).toEqual({ role: 'user', content: 'Which tea?' });
  });

  it('sets instructions to the memory block when the caller gave none', async () => {
    const openai = withMemory(client(), { scope: { userId: 'u' }, store: seeded() });
    await openai.responses.create({ model, input: [{ role: 'user', content: 'Which tea?' }] });
    const sent = server.requests[0]?.body;
    expect(sent.instructions).toMatch(/^<memories>[\s\S]*User likes green tea\.[\s\S]*<\/memories>$/);
    expect(sent.input).toEqual([{ role: 'user', content: 'Which tea?' }]);
  });

  it('changes nothing in either request when there are no memories', async () => {
    const openai = withMemory(client(), { scope: { userId: 'nobody' }, store: inMemoryStore() });
    const chatBody = requestBody('chat', false, 'Hi', 'Be brief.');
    const responsesBody = requestBody('responses', false, 'Hi', 'Be brief.');
    await ask(openai, 'chat', chatBody);
    await ask(openai, 'responses', responsesBody);
    expect(server.requests[0]?.body).toEqual(chatBody);
    expect(server.requests[1]?.body).toEqual(responsesBody);
  });

  it('never shows one user the memories of another', async () => {
    const store = inMemoryStore();
    const alice = withMemory(client(), { scope: { userId: 'alice' }, store, write: 'await' });
    const bob = withMemory(client(), { scope: { userId: 'bob' }, store, write: 'await' });
    await alice.responses.create({ model, input: 'I live in Lisbon.' });
    await bob.chat.completions.create({ model, messages: [{ role: 'user', content: 'I live in Nairobi.' }] });
    await alice.chat.completions.create({ model, messages: [{ role: 'user', content: 'Where do I live?' }] });
    await bob.responses.create({ model, input: 'Where do I live?' });

    const aliceBody = JSON.stringify(server.requests[2]?.body);
    const bobBody = JSON.stringify(server.requests[3]?.body);
    expect(aliceBody).toContain('Lisbon');
    expect(aliceBody).not.toContain('Nairobi');
    expect(bobBody).toContain('Nairobi');
    expect(bobBody).not.toContain('Lisbon');
  });
});

describe('streams', () => {
  it('reach the caller chunk for chunk, in order, unchanged; the write-back follows the end (chat)', async () => {
    const store = createMockStore();
    const openai = withMemory(client(), { scope: { userId: 'u' }, store, write: 'await' });
    server.enqueue({ text: 'Noted, I will give every temperature in Celsius from now on.' });
    const stream = await openai.chat.completions.create({
      model,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: celsius }],
    });
    const received: unknown[] = [];
    const writesSeenDuring: number[] = [];
    for await (const chunk of stream) {
      received.push(chunk);
      writesSeenDuring.push(store.addCalls.length);
    }

    expect(received).toEqual(server.requests[0]?.sent);
    expect(received.length).toBeGreaterThan(10);
    expect(writesSeenDuring.every((count) => count === 0)).toBe(true);
    // With write: 'await' the write is stored by the time the caller's loop ends.
    expect(store.addCalls).toHaveLength(2); // the fact, and the reply as said by the assistant
    expect((await store.list({ scope: { userId: 'u' } })).map((memory) => memory.text)).toContain(celsiusFact);
  });

  it('reach the caller chunk for chunk, in order, unchanged; the write-back follows the end (responses)', async () => {
    const store = createMockStore();
    const openai = withMemory(client(), { scope: { userId: 'u' }, store, write: 'await' });
    server.enqueue({ text: 'Noted, I will give every temperature in Celsius from now on.' });
    const stream = await openai.responses.create({ model, stream: true, input: celsius });
    const received: unknown[] = [];
    const writesSeenDuring: number[] = [];
    for await (const event of stream) {
      received.push(event);
      writesSeenDuring.push(store.addCalls.length);
    }

    expect(received).toEqual(server.requests[0]?.sent);
    expect(
      received.filter((event) => (event as { type: string }).type === 'response.output_text.delta').length,
    ).toBeGreaterThan(5);
    expect(writesSeenDuring.every((count) => count === 0)).toBe(true);
    expect(store.addCalls).toHaveLength(2); // the fact, and the reply as said by the assistant
    expect((await store.list({ scope: { userId: 'u' } })).map((memory) => memory.text)).toContain(celsiusFact);
  });

  it('keeps the SDK stream helpers working: tee() and toReadableStream()', async () => {
    const store = createMockStore();
    const openai = withMemory(client(), { scope: { userId: 'u' }, store, write: 'await' });
    server.enqueue({ text: 'Noted, Celsius it is.' });
    const stream = await openai.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: 'user', content: celsius }],
    });
    const [left, right] = stream.tee();
    const fromLeft: unknown[] = [];
    for await (const chunk of left) fromLeft.push(chunk);
    const fromRight: unknown[] = [];
    for await (const chunk of right) fromRight.push(chunk);
    expect(fromLeft).toEqual(server.requests[0]?.sent);
    expect(fromRight).toEqual(fromLeft);
    expect(store.addCalls).toHaveLength(2); // the fact, and the reply as said by the assistant

    server.enqueue({ text: 'Still Celsius.' });
    const second = await openai.responses.create({ model, stream: true, input: 'Thanks, I love that.' });
    const lines = (await new Response(second.toReadableStream()).text()).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(server.requests[1]?.sent);
  });

  it('writes nothing for a stream the caller abandons halfway', async () => {
    const store = createMockStore();
    const openai = withMemory(client(), { scope: { userId: 'u' }, store });
    server.enqueue({ text: 'A long answer that the caller stops reading after the first words.' });
    const stream = await openai.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: 'user', content: celsius }],
    });
    let seen = 0;
    for await (const _ of stream) {
      seen += 1;
      if (seen === 3) break;
    }
    await flushMemory(openai);
    expect(store.addCalls).toHaveLength(0);
  });

  it('writes nothing for a streamed response that failed', async () => {
    const store = createMockStore();
    const openai = withMemory(client(), { scope: { userId: 'u' }, store });
    server.enqueue({ status: 'failed', text: 'model overloaded' });
    const stream = await openai.responses.create({ model, stream: true, input: celsius });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    await flushMemory(openai);
    expect(types.at(-1)).toBe('response.failed');
    expect(store.addCalls).toHaveLength(0);
  });
});

describe('the SDK promise', () => {
  it('keeps withResponse() and asResponse() working on both APIs', async () => {
    const openai = withMemory(client(), { scope: { userId: 'u' }, store: inMemoryStore() });
    const chat = await openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'Hello there' }] })
      .withResponse();
    expect(chat.data.choices[0]?.message.content).toBe('OK.');
    expect(chat.response.status).toBe(200);

    const raw = await openai.responses.create({ model, input: 'Hello there' }).asResponse();
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('application/json');
  });

  it('resolves a non-streamed call after the write with write: "await"', async () => {
    const store = createMockStore();
    const openai = withMemory(client(), { scope: { userId: 'u' }, store, write: 'await' });
    await openai.responses.create({ model, input: celsius });
    expect(store.addCalls).toHaveLength(1);
    await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'I live in Oslo.' }] });
    expect(store.addCalls).toHaveLength(2);
  });

  it('leaves other client methods and resources untouched', async () => {
    const original = client();
    const openai = withMemory(original, { scope: { userId: 'u' }, store: inMemoryStore() });
    expect(openai.baseURL).toBe(original.baseURL);
    expect(openai.models).toBe(original.models);
    expect(openai.embeddings).toBe(original.embeddings);
    expect(openai.chat.completions.messages).toBe(original.chat.completions.messages);
    expect(openai.responses.inputItems).toBe(original.responses.inputItems);
    // The same wrapped resource each time, so callers may keep a reference.
    expect(openai.chat.completions).toBe(openai.chat.completions);
    expect(openai.responses).toBe(openai.responses);
    const embedding = await openai.embeddings.create({ model: 'embed-test', input: 'hello' });
    expect(embedding.data[0]?.embedding).toHaveLength(64);
  });
});

describe('when the store fails, the call still answers, onError hears of it and nothing is injected', () => {
  const stores: Array<[string, () => MemoryStore, new (...args: never[]) => MemoryError]> = [
    [
      'throws',
      () => ({
        name: 'throwing',
        search: async () => {
          throw new Error('database on fire');
        },
        add: async () => [],
      }),
      StoreError,
    ],
    [
      'hangs past the time-out',
      () => ({ name: 'hanging', search: () => new Promise(() => {}), add: async () => [] }),
      StoreTimeoutError,
    ],
    [
      'returns garbage',
      () => ({ name: 'garbage', search: async () => [{ nonsense: true }] as never, add: async () => [] }),
      StoreError,
    ],
  ];
  for (const [failure, makeStore, errorClass] of stores) {
    for (const { api, stream, label } of variants) {
      it(`${failure}: ${label}`, async () => {
        const store = makeStore();
        const errors: Array<{ error: MemoryError; context: ErrorContext }> = [];
        const openai = withMemory(client(), {
          scope: { userId: 'u' },
          store,
          search: { timeoutMs: 100 },
          onError: (error, context) => errors.push({ error, context }),
        });
        server.enqueue('The answer from the model.');
        const body = requestBody(api, stream, 'Hi there, what is new?', 'Be brief.');
        const sentBody = structuredClone(body);

        expect(await ask(openai, api, body)).toBe('The answer from the model.');
        expect(server.requests[0]?.body).toEqual(sentBody);
        expect(errors).toHaveLength(1);
        expect(errors[0]?.error).toBeInstanceOf(errorClass);
        expect(MemoryError.isInstance(errors[0]?.error)).toBe(true);
        expect((errors[0]?.error as StoreError | undefined)?.store).toBe(store.name);
        expect(errors[0]?.context.stage).toBe('search');
      });
    }
  }

  it('a failed write does not break the call and reaches onError with the write', async () => {
    const seen: Array<{ error: MemoryError; context: ErrorContext }> = [];
    const broken: MemoryStore = {
      name: 'broken',
      search: async () => [],
      add: async () => {
        // Not retryable, so the test does not wait through the retry back-off.
        throw new StoreError('disk full', { store: 'broken', operation: 'add', retryable: false });
      },
    };
    const openai = withMemory(client(), {
      scope: { userId: 'u' },
      store: broken,
      onError: (error, context) => seen.push({ error, context }),
    });
    const response = await openai.responses.create({ model, input: celsius });
    expect(response.output_text).toBe('OK.');
    const report = await flushMemory(openai);

    expect(seen).toHaveLength(1);
    expect(seen[0]?.error).toBeInstanceOf(StoreError);
    expect(seen[0]?.context.stage).toBe('write');
    expect(JSON.stringify(seen[0]?.context.operation)).toContain(celsiusFact);
    expect(report.failed).toHaveLength(1);
  });

  it('a provider error reaches the caller as the SDK error, and nothing is written', async () => {
    const store = createMockStore();
    const openai = withMemory(client(), { scope: { userId: 'u' }, store });
    server.enqueue({ error: { status: 400, message: 'bad request from the caller' } });
    await expect(
      openai.chat.completions.create({ model, messages: [{ role: 'user', content: celsius }] }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await flushMemory(openai);
    expect(store.addCalls).toHaveLength(0);
  });
});

describe('replies that are not a final answer', () => {
  it('a chat reply asking for tools is not written, even when it stops with "stop"', async () => {
    const store = createMockStore();
    const openai = withMemory(client(), { scope: { userId: 'u' }, store });
    // Some compatible servers end a tool-calling reply with finish_reason "stop".
    server.enqueue({ toolCalls: [{ name: 'lookup' }], finishReason: 'stop' });
    const completion = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: celsius }] });
    await flushMemory(openai);
    expect(completion.choices[0]?.message.tool_calls).toHaveLength(1);
    expect(store.addCalls).toHaveLength(0);
  });

  it('a background response is not written, and onError hears why', async () => {
    const store = createMockStore();
    const errors: Array<{ error: MemoryError; context: ErrorContext }> = [];
    const openai = withMemory(client(), {
      scope: { userId: 'u' },
      store,
      onError: (error, context) => errors.push({ error, context }),
    });
    server.enqueue({ status: 'queued' });
    const response = await openai.responses.create({ model, input: celsius, background: true });
    await flushMemory(openai);
    expect(response.status).toBe('queued');
    expect(store.addCalls).toHaveLength(0);
    expect(errors.map(({ error, context }) => [error.name, context.stage])).toEqual([['MemoryError', 'capture']]);
    expect(errors[0]?.error.message).toMatch(/background response/);
  });

  it('a reply of unknown shape is returned as it came, reported, and not written', async () => {
    const store = createMockStore();
    const errors: Array<{ error: MemoryError; context: ErrorContext }> = [];
    const openai = withMemory(client(), {
      scope: { userId: 'u' },
      store,
      onError: (error, context) => errors.push({ error, context }),
    });
    server.enqueue({ body: { unexpected: true } }, { body: { output: 'not a list' } });
    const completion = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: celsius }] });
    const response = await openai.responses.create({ model, input: celsius });
    await flushMemory(openai);
    expect(completion).toEqual({ unexpected: true });
    expect(response).toMatchObject({ output: 'not a list' });
    expect(store.addCalls).toHaveLength(0);
    expect(errors.map(({ context }) => context.stage)).toEqual(['capture', 'capture']);
  });
});

describe('content parts that are not text', () => {
  const image = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==';
  const pdf = 'data:application/pdf;base64,JVBERi0xLjQK';
  const audio = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEA';

  it('are left out of the query and the write, and reach the model unchanged (chat)', async () => {
    const store = createMockStore();
    const openai = withMemory(client(), { scope: { userId: 'u' }, store, extract: exchangeExtractor() });
    const content: OpenAI.Chat.ChatCompletionContentPart[] = [
      { type: 'image_url', image_url: { url: image } },
      { type: 'text', text: celsius },
      { type: 'input_audio', input_audio: { data: audio, format: 'wav' } },
      { type: 'file', file: { filename: 'notes.pdf', file_data: pdf } },
    ];
    await openai.chat.completions.create({ model, messages: [{ role: 'user', content }] });
    await flushMemory(openai);

    expect(store.searchCalls.map((call) => call.query)).toEqual([celsius]);
    expect(store.addCalls.map((call) => call.write)).toEqual([
      {
        messages: [
          { role: 'user', content: celsius },
          { role: 'assistant', content: 'OK.' },
        ],
      },
    ]);
    expect(server.requests[0]?.body.messages[0].content).toEqual(content);
  });

  it('are left out of the query and the write, and reach the model unchanged (responses)', async () => {
    const store = createMockStore();
    const openai = withMemory(client(), { scope: { userId: 'u' }, store, extract: exchangeExtractor() });
    const content: OpenAI.Responses.ResponseInputMessageContentList = [
      { type: 'input_image', image_url: image, detail: 'auto' },
      { type: 'input_text', text: celsius },
      { type: 'input_file', filename: 'notes.pdf', file_data: pdf },
      // Audio input is not in the SDK's content types yet, but a caller may send it.
      {
        type: 'input_audio',
        input_audio: { data: audio, format: 'wav' },
      } as unknown as OpenAI.Responses.ResponseInputContent,
    ];
    await openai.responses.create({ model, input: [{ role: 'user', content }] });
    await flushMemory(openai);

    expect(store.searchCalls.map((call) => call.query)).toEqual([celsius]);
    expect(store.addCalls.map((call) => call.write)).toEqual([
      {
        messages: [
          { role: 'user', content: celsius },
          { role: 'assistant', content: 'OK.' },
        ],
      },
    ]);
    expect(server.requests[0]?.body.input[0].content).toEqual(content);
  });

  it('a message of only an image searches nothing for it and writes nothing, without an error', async () => {
    const store = createMockStore([{ text: 'User likes cats.', type: 'preference', scope: { userId: 'u' } }]);
    const errors: unknown[] = [];
    const openai = withMemory(client(), { scope: { userId: 'u' }, store, onError: (error) => errors.push(error) });
    server.enqueue('A cat on a sofa.', 'A dog in a garden.');
    const chat = await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }] }],
    });
    const response = await openai.responses.create({
      model,
      input: [{ role: 'user', content: [{ type: 'input_image', image_url: image, detail: 'auto' }] }],
    });
    await flushMemory(openai);

    expect(chat.choices[0]?.message.content).toBe('A cat on a sofa.');
    expect(response.output_text).toBe('A dog in a garden.');
    expect(store.searchCalls).toHaveLength(0);
    expect(store.addCalls).toHaveLength(0);
    expect(errors).toEqual([]);
    // Standing preferences still apply to a question asked with a picture.
    expect(JSON.stringify(server.requests[0]?.body.messages[0])).toContain('User likes cats.');
    expect(server.requests[1]?.body.instructions).toContain('User likes cats.');
  });
});
