import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type InMemoryStore, inMemoryStore } from '../../src/stores/in-memory.js';
import { openaiMemoryTools } from '../../src/tools/openai-memory-tools.js';
import { withMemory } from '../../src/with-memory.js';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server.js';

const model = 'gpt-test';
const scope = { userId: 'user_42' };

let fake: FakeOpenAIServer;
let store: InMemoryStore;
const client = () => new OpenAI({ apiKey: 'test', baseURL: fake.baseURL, maxRetries: 0 });

beforeEach(async () => {
  fake = await startFakeOpenAI();
  store = inMemoryStore();
});
afterEach(async () => {
  await fake.close();
  await store.close?.();
});

/** A hand-written Chat Completions tool loop, as the OpenAI docs show it. */
async function chatLoop(messages: ChatCompletionMessageParam[]): Promise<string | null> {
  const memory = openaiMemoryTools({ scope, store });
  for (;;) {
    const completion = await client().chat.completions.create({ model, messages, tools: memory.chatTools });
    const message = completion.choices[0]?.message;
    if (!message) throw new Error('no choice');
    if (!message.tool_calls?.length) return message.content;
    messages.push(message);
    for (const call of message.tool_calls) {
      if (call.type !== 'function') continue;
      const reply = await memory.runChatToolCall(call);
      if (reply) messages.push(reply);
    }
  }
}

function toolMessages(): string[] {
  return fake
    .requestsTo('chat')
    .flatMap((request) => request.body.messages)
    .filter((message: { role: string }) => message.role === 'tool')
    .map((message: { content: string }) => message.content);
}

describe('openaiMemoryTools', () => {
  it('chat.completions: the model saves a memory, then finds it in a new conversation', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'save_memory', arguments: { text: 'The user is allergic to nuts.', type: 'profile' } }] },
      'Noted.',
    );
    expect(await chatLoop([{ role: 'user', content: 'Remember: I am allergic to nuts.' }])).toBe('Noted.');

    fake.enqueue({ toolCalls: [{ name: 'search_memory', arguments: { query: 'nuts allergy' } }] }, 'No nuts for you.');
    expect(await chatLoop([{ role: 'user', content: 'What can I not eat?' }])).toBe('No nuts for you.');

    const [saved, found] = toolMessages().filter((content, index, all) => all.indexOf(content) === index);
    expect(saved).toMatch(/^Saved as a profile \(id .+\)\.$/);
    expect(found).toContain('The user is allergic to nuts.');

    // The next wrapped call injects it.
    const wrapped = withMemory(client(), { scope, store, write: false });
    await wrapped.chat.completions.create({ model, messages: [{ role: 'user', content: 'Any allergy I have?' }] });
    expect(JSON.stringify(fake.requests.at(-1)?.body.messages)).toContain('allergic to nuts');
  });

  it('responses: function calls are run and answered with function_call_output items', async () => {
    const memory = openaiMemoryTools({ scope, store });
    fake.enqueue({
      toolCalls: [{ name: 'save_memory', arguments: { text: 'Prefers aisle seats', type: 'preference' } }],
    });
    const first = await client().responses.create({
      model,
      input: 'I like aisle seats.',
      tools: memory.responsesTools,
    });
    const outputs = [];
    for (const item of first.output) {
      if (item.type !== 'function_call') continue;
      const output = await memory.runResponsesCall(item);
      if (output) outputs.push(output);
    }
    expect(outputs).toEqual([
      {
        type: 'function_call_output',
        call_id: expect.any(String),
        output: expect.stringMatching(/^Saved as a preference/),
      },
    ]);
    await client().responses.create({
      model,
      input: [...first.output, ...outputs] as OpenAI.Responses.ResponseInput,
      tools: memory.responsesTools,
    });
    expect(fake.requests.at(-1)?.body.input.at(-1)).toMatchObject({ type: 'function_call_output' });
    expect(await store.list({ scope })).toMatchObject([{ text: 'Prefers aisle seats', type: 'preference' }]);
  });

  it('runTools runs the memory tools itself', async () => {
    const memory = openaiMemoryTools({ scope, store });
    await store.add({ facts: [{ text: 'The venue is Porto', type: 'fact' }] }, { scope });
    fake.enqueue({ toolCalls: [{ name: 'search_memory', arguments: { query: 'venue' } }] }, 'Porto.');
    const runner = client().chat.completions.runTools({
      model,
      messages: [{ role: 'user', content: 'Where is the venue?' }],
      tools: memory.runnableTools,
    });
    expect(await runner.finalContent()).toBe('Porto.');
    expect(toolMessages()[0]).toContain('The venue is Porto');
  });

  it('answers bad arguments as text, leaves other tools to the caller, and offers search alone read-only', async () => {
    const memory = openaiMemoryTools({ scope, store });
    const call = (name: string, args: string) => ({ id: 'c1', type: 'function', function: { name, arguments: args } });
    expect((await memory.runChatToolCall(call('save_memory', '{not json')))?.content).toBe(
      'Refused (save_memory): the arguments are not JSON.',
    );
    expect((await memory.runChatToolCall(call('save_memory', '{"text":"x","extra":1}')))?.content).toBe(
      'Refused (save): input: unknown field(s) extra.',
    );
    expect(await memory.runChatToolCall(call('weather', '{}'))).toBeUndefined();

    const readOnly = openaiMemoryTools({ scope, store, mode: 'read-only' });
    expect(readOnly.chatTools.map((tool) => tool.function.name)).toEqual(['search_memory']);
    expect(await readOnly.runChatToolCall(call('save_memory', '{"text":"x"}'))).toBeUndefined();
    expect(await store.list({ scope })).toEqual([]);
  });

  it('resolves a scope function per call, and answers a throwing one as text without touching the store', async () => {
    let user: string | undefined = 'alice';
    const errors: string[] = [];
    const memory = openaiMemoryTools({
      scope: () => {
        if (!user) throw new Error('no session');
        return { userId: user };
      },
      shared: { userId: 'family' },
      store,
      onError: (error, context) => errors.push(`${context.stage}: ${error.message}`),
    });
    const call = (name: string, args: string) => ({ id: 'c1', type: 'function', function: { name, arguments: args } });
    await memory.runChatToolCall(call('save_memory', '{"text":"Alice plans the trip","type":"task"}'));
    await memory.runChatToolCall(call('save_memory', '{"text":"The family is vegetarian","type":"preference"}'));
    user = 'bob';
    const bobSees = (await memory.runChatToolCall(call('search_memory', '{"query":"trip vegetarian"}')))?.content;
    expect(bobSees).toContain('The family is vegetarian');
    expect(bobSees).not.toContain('Alice plans the trip');

    user = undefined;
    const before = await store.list({ scope: { userId: 'alice' } });
    expect((await memory.runChatToolCall(call('save_memory', '{"text":"x"}')))?.content).toBe(
      'Memory is unavailable right now (no scope for this call); go on without it.',
    );
    expect(errors).toEqual(['scope: The scope function failed: no session']);
    expect(await store.list({ scope: { userId: 'alice' } })).toEqual(before);
  });
});
