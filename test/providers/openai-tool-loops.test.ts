import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushMemory } from '../../src/core/writeback.js';
import { exchangeExtractor } from '../../src/strategies/extract/exchange-extractor.js';
import { createMockStore } from '../../src/testing/mock-store.js';
import { withMemory } from '../../src/with-memory.js';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server.js';

const model = 'gpt-test';
const scope = { userId: 'u' };
const question = 'My order 1234 has not arrived. Where is it?';
const answer = 'Your order 1234 is in transit and arrives tomorrow.';
const trackTool = {
  type: 'function' as const,
  function: {
    name: 'track_order',
    description: 'Where an order is',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
  },
};

let server: FakeOpenAIServer;
const client = () => new OpenAI({ apiKey: 'test-key', baseURL: server.baseURL, maxRetries: 0 });

beforeEach(async () => {
  server = await startFakeOpenAI();
});
afterEach(async () => {
  await server.close();
});

/** A store knowing the user's name, so every request of the loop shows whether memory was injected. */
const knownUser = () => createMockStore([{ text: "User's name is Ada.", type: 'profile', scope }]);
const exchange = [
  { role: 'user', content: question },
  { role: 'assistant', content: answer },
];

describe('a chat-completions tool loop', () => {
  for (const stream of [false, true]) {
    it(`searches once, writes once, and writes the user's text and the final answer${stream ? ' (streamed)' : ''}`, async () => {
      const store = knownUser();
      const openai = withMemory(client(), { scope, store, extract: exchangeExtractor() });
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: 'You are a support agent.' },
        { role: 'user', content: question },
      ];
      server.enqueue(
        { toolCalls: [{ id: 'call_track', name: 'track_order', arguments: { orderId: '1234' } }] },
        { toolCalls: [{ id: 'call_eta', name: 'delivery_eta', arguments: { orderId: '1234' } }] },
        answer,
      );

      const replies: Array<{ message: OpenAI.Chat.ChatCompletionMessage; finishReason: string }> = [];
      for (const toolResult of ['{"status":"in transit"}', '{"eta":"tomorrow"}', undefined]) {
        const reply = await send(openai, messages, stream);
        replies.push(reply);
        if (toolResult === undefined) break;
        expect(store.addCalls).toHaveLength(0);
        const call = reply.message.tool_calls?.[0];
        messages.push(reply.message as OpenAI.Chat.ChatCompletionAssistantMessageParam, {
          role: 'tool',
          tool_call_id: String(call?.id),
          content: toolResult,
        });
      }
      await flushMemory(openai);

      expect(replies.map((reply) => reply.finishReason)).toEqual(['tool_calls', 'tool_calls', 'stop']);
      expect(replies[2]?.message.content).toBe(answer);
      expect(store.searchCalls.map((call) => call.query)).toEqual([question]);
      expect(store.addCalls.map((call) => call.write)).toEqual([{ messages: exchange }]);
      // Every request of the turn carries the turn's memories; the tool traffic reaches the model as sent.
      for (const request of server.requests) {
        expect(request.body.messages[1]).toEqual({
          role: 'system',
          content: expect.stringContaining("User's name is Ada."),
        });
      }
      expect(server.requests[2]?.body.messages.slice(2)).toEqual(JSON.parse(JSON.stringify(messages.slice(1))));
    });
  }

  it('runs through the SDK runTools helper with memory, one search and one write', async () => {
    const store = knownUser();
    const openai = withMemory(client(), { scope, store, extract: exchangeExtractor() });
    server.enqueue({ toolCalls: [{ name: 'track_order', arguments: { orderId: '1234' } }] }, answer);
    const runner = openai.chat.completions.runTools({
      model,
      messages: [{ role: 'user', content: question }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'track_order',
            description: trackTool.function.description,
            parameters: trackTool.function.parameters,
            function: (args: { orderId: string }) => ({ orderId: args.orderId, status: 'in transit' }),
            parse: JSON.parse,
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe(answer);
    await flushMemory(openai);

    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.body.messages.at(-1)).toMatchObject({
      role: 'tool',
      content: expect.stringContaining('in transit'),
    });
    for (const request of server.requests)
      expect(JSON.stringify(request.body.messages)).toContain("User's name is Ada.");
    expect(store.searchCalls).toHaveLength(1);
    expect(store.addCalls.map((call) => call.write)).toEqual([{ messages: exchange }]);
  });
});

describe('a responses tool loop', () => {
  for (const stream of [false, true]) {
    it(`continued through previous_response_id searches once and writes the user's text${stream ? ' (streamed)' : ''}`, async () => {
      const store = knownUser();
      const openai = withMemory(client(), { scope, store, extract: exchangeExtractor() });
      server.enqueue(
        { toolCalls: [{ id: 'call_track', name: 'track_order', arguments: { orderId: '1234' } }] },
        answer,
      );
      const tools: OpenAI.Responses.Tool[] = [
        { type: 'function', name: 'track_order', parameters: trackTool.function.parameters, strict: false },
      ];

      const first = await respond(
        openai,
        { model, input: question, tools, instructions: 'You are a support agent.' },
        stream,
      );
      expect(first.calls.map((call) => call.call_id)).toEqual(['call_track']);
      expect(store.addCalls).toHaveLength(0);
      const second = await respond(
        openai,
        {
          model,
          previous_response_id: first.id,
          input: [{ type: 'function_call_output', call_id: 'call_track', output: '{"status":"in transit"}' }],
          tools,
          instructions: 'You are a support agent.',
        },
        stream,
      );
      await flushMemory(openai);

      expect(second.text).toBe(answer);
      expect(store.searchCalls.map((call) => call.query)).toEqual([question]);
      expect(store.addCalls.map((call) => call.write)).toEqual([{ messages: exchange }]);
      for (const request of server.requests) {
        expect(request.body.instructions).toMatch(
          /^You are a support agent\.\n\n<memories>[\s\S]*User's name is Ada\./,
        );
      }
    });
  }

  it("continued in a conversation searches once and writes the user's text", async () => {
    const store = knownUser();
    const openai = withMemory(client(), { scope, store, extract: exchangeExtractor() });
    server.enqueue({ toolCalls: [{ id: 'call_track', name: 'track_order', arguments: { orderId: '1234' } }] }, answer);
    await openai.responses.create({ model, conversation: 'conv_1', input: question });
    const second = await openai.responses.create({
      model,
      conversation: { id: 'conv_1' },
      input: [{ type: 'function_call_output', call_id: 'call_track', output: '{"status":"in transit"}' }],
    });
    await flushMemory(openai);

    expect(second.output_text).toBe(answer);
    expect(store.searchCalls).toHaveLength(1);
    expect(store.addCalls.map((call) => call.write)).toEqual([{ messages: exchange }]);
  });

  it('carried as items in the input searches once and writes once', async () => {
    const store = knownUser();
    const openai = withMemory(client(), { scope, store, extract: exchangeExtractor() });
    server.enqueue({ toolCalls: [{ id: 'call_track', name: 'track_order', arguments: { orderId: '1234' } }] }, answer);
    const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: question }];
    const first = await openai.responses.create({ model, input });
    for (const item of first.output) if (item.type === 'function_call') input.push(item);
    input.push({ type: 'function_call_output', call_id: 'call_track', output: '{"status":"in transit"}' });
    const second = await openai.responses.create({ model, input });
    await flushMemory(openai);

    expect(second.output_text).toBe(answer);
    expect(store.searchCalls).toHaveLength(1);
    expect(store.addCalls.map((call) => call.write)).toEqual([{ messages: exchange }]);
    expect(server.requests[1]?.body.input).toEqual(JSON.parse(JSON.stringify(input)));
  });
});

describe('the SDK helpers on the wrapped client', () => {
  it('chat.completions.stream() injects memory, streams its events and writes back', async () => {
    const store = knownUser();
    const openai = withMemory(client(), { scope, store, extract: exchangeExtractor() });
    server.enqueue(answer);
    const runner = openai.chat.completions.stream({ model, messages: [{ role: 'user', content: question }] });
    const deltas: string[] = [];
    runner.on('content', (delta) => deltas.push(delta));
    const completion = await runner.finalChatCompletion();
    await flushMemory(openai);

    expect(completion.choices[0]?.message.content).toBe(answer);
    expect(deltas.join('')).toBe(answer);
    expect(deltas.length).toBeGreaterThan(3);
    expect(server.requests[0]?.body.messages[0].content).toContain("User's name is Ada.");
    expect(store.addCalls.map((call) => call.write)).toEqual([{ messages: exchange }]);
  });

  it('responses.stream() injects memory, streams its events and writes back', async () => {
    const store = knownUser();
    const openai = withMemory(client(), { scope, store, extract: exchangeExtractor() });
    server.enqueue(answer);
    const runner = openai.responses.stream({ model, input: question });
    const deltas: string[] = [];
    runner.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const response = await runner.finalResponse();
    await flushMemory(openai);

    expect(response.output_text).toBe(answer);
    expect(deltas.join('')).toBe(answer);
    expect(server.requests[0]?.body.instructions).toContain("User's name is Ada.");
    expect(store.addCalls.map((call) => call.write)).toEqual([{ messages: exchange }]);
  });

  it('chat.completions.parse() and responses.parse() still parse JSON replies, with memory', async () => {
    const store = knownUser();
    const openai = withMemory(client(), { scope, store });
    const format = {
      type: 'json_schema' as const,
      json_schema: { name: 'order', schema: { type: 'object', properties: { status: { type: 'string' } } } },
    };
    server.enqueue({ json: { status: 'in transit' } }, { json: { status: 'delivered' } });
    const completion = await openai.chat.completions.parse({
      model,
      messages: [{ role: 'user', content: question }],
      response_format: format,
    });
    const { data, response } = await openai.responses
      .parse({
        model,
        input: question,
        text: { format: { type: 'json_schema', name: 'order', schema: format.json_schema.schema } },
      })
      .withResponse();

    expect(completion.choices[0]?.message.parsed).toEqual({ status: 'in transit' });
    expect(data.output_parsed).toEqual({ status: 'delivered' });
    expect(response.status).toBe(200);
    expect(server.requests[0]?.body.messages[0].content).toContain("User's name is Ada.");
    expect(server.requests[1]?.body.instructions).toContain("User's name is Ada.");
  });
});

async function send(
  openai: OpenAI,
  messages: OpenAI.Chat.ChatCompletionMessageParam[],
  stream: boolean,
): Promise<{ message: OpenAI.Chat.ChatCompletionMessage; finishReason: string }> {
  if (!stream) {
    const completion = await openai.chat.completions.create({ model, messages: [...messages], tools: [trackTool] });
    const choice = completion.choices[0];
    return {
      message: choice?.message as OpenAI.Chat.ChatCompletionMessage,
      finishReason: String(choice?.finish_reason),
    };
  }
  // Rebuilds the message from the deltas, as a caller of the raw stream does.
  const chunks = await openai.chat.completions.create({
    model,
    messages: [...messages],
    tools: [trackTool],
    stream: true,
  });
  let content: string | null = null;
  let finishReason = '';
  const toolCalls: OpenAI.Chat.ChatCompletionMessageFunctionToolCall[] = [];
  for await (const chunk of chunks) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.delta.content) content = (content ?? '') + choice.delta.content;
    for (const delta of choice.delta.tool_calls ?? []) {
      let call = toolCalls[delta.index];
      if (!call) {
        call = { id: '', type: 'function', function: { name: '', arguments: '' } };
        toolCalls[delta.index] = call;
      }
      if (delta.id) call.id = delta.id;
      call.function.name += delta.function?.name ?? '';
      call.function.arguments += delta.function?.arguments ?? '';
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  const message: OpenAI.Chat.ChatCompletionMessage = {
    role: 'assistant',
    content,
    refusal: null,
    ...(toolCalls.length > 0 && { tool_calls: toolCalls }),
  };
  return { message, finishReason };
}

async function respond(
  openai: OpenAI,
  body: OpenAI.Responses.ResponseCreateParamsNonStreaming,
  stream: boolean,
): Promise<{ id: string; text: string; calls: OpenAI.Responses.ResponseFunctionToolCall[] }> {
  if (!stream) {
    const response = await openai.responses.create(body);
    const calls = response.output.filter((item) => item.type === 'function_call');
    return { id: response.id, text: response.output_text, calls };
  }
  let id = '';
  let text = '';
  const calls: OpenAI.Responses.ResponseFunctionToolCall[] = [];
  for await (const event of await openai.responses.create({ ...body, stream: true })) {
    if (event.type === 'response.created') id = event.response.id;
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.output_item.done' && event.item.type === 'function_call') calls.push(event.item);
  }
  return { id, text, calls };
}
