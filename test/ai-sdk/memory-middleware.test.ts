import type { LanguageModelV3GenerateResult, LanguageModelV3StreamPart, LanguageModelV3Usage } from '@ai-sdk/provider';
import { generateText, type LanguageModelMiddleware, stepCountIs, streamText, tool, wrapLanguageModel } from 'ai';
import { convertArrayToReadableStream, convertReadableStreamToArray, MockLanguageModelV3 } from 'ai/test';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryMiddleware } from '../../src/ai-sdk/index.js';
import { InvalidOptionsError, type MemoryError, StoreError, StoreTimeoutError } from '../../src/core/errors.js';
import type { ErrorContext, SearchEvent, WithMemoryOptions } from '../../src/core/options.js';
import type { Extractor, MemoryStore, MemoryWrite, Turn } from '../../src/core/types.js';
import { flushMemory } from '../../src/core/writeback.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { createMockStore } from '../../src/testing/mock-store.js';

const scope = { userId: 'user_42' };
const system = 'You are a helpful assistant.';
const celsiusRule = 'I prefer all temperatures in Celsius, never Fahrenheit.';
const roomQuestion = "What's a comfortable room temperature?";

const usage: LanguageModelV3Usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

function textReply(text: string): LanguageModelV3GenerateResult {
  return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
}

function toolCallReply(toolCallId: string, city: string): LanguageModelV3GenerateResult {
  return {
    content: [{ type: 'tool-call', toolCallId, toolName: 'weather', input: JSON.stringify({ city }) }],
    finishReason: { unified: 'tool-calls', raw: 'tool_use' },
    usage,
    warnings: [],
  };
}

function textParts(text: string): LanguageModelV3StreamPart[] {
  const words = text.split(/(?<= )/);
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'response-metadata', id: 'response-1', modelId: 'mock-model-id' },
    { type: 'text-start', id: 'text-1' },
    ...words.map((delta): LanguageModelV3StreamPart => ({ type: 'text-delta', id: 'text-1', delta })),
    { type: 'text-end', id: 'text-1' },
    { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
  ];
}

function toolCallParts(toolCallId: string, city: string): LanguageModelV3StreamPart[] {
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'tool-call', toolCallId, toolName: 'weather', input: JSON.stringify({ city }) },
    { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_use' }, usage },
  ];
}

const weather = tool({
  description: 'The current weather in a city',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, celsius: 21 }),
});

/** An extractor that stores one fact per finished turn and remembers the turns it saw. */
function recordingExtractor(): Extractor & { turns: Turn[] } {
  const turns: Turn[] = [];
  return {
    name: 'recording',
    turns,
    async extract(turn) {
      turns.push(turn);
      return [{ kind: 'add', write: { facts: [{ text: `Asked: ${turn.userText}`, type: 'event' }] } }];
    },
  };
}

const stores: MemoryStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close?.();
});

function track<S extends MemoryStore>(store: S): S {
  stores.push(store);
  return store;
}

function memoryMessages(prompt: Array<{ role: string; content: unknown }>) {
  return prompt.filter((message) => message.role === 'system' && String(message.content).includes('<memories>'));
}

describe('memoryMiddleware: the Celsius scenario', () => {
  it('through generateText, the second session gets the preference after its own system message', async () => {
    const store = track(inMemoryStore());

    const first = memoryMiddleware({ scope, store });
    const firstModel = new MockLanguageModelV3({ doGenerate: textReply('Noted, Celsius it is.') });
    await generateText({
      model: wrapLanguageModel({ model: firstModel, middleware: first }),
      system,
      prompt: celsiusRule,
    });
    expect((await flushMemory(first)).failed).toEqual([]);

    const second = memoryMiddleware({ scope, store });
    const secondModel = new MockLanguageModelV3({ doGenerate: textReply('About 20 to 22 °C.') });
    const { text } = await generateText({
      model: wrapLanguageModel({ model: secondModel, middleware: second }),
      system,
      prompt: roomQuestion,
    });

    expect(text).toBe('About 20 to 22 °C.');
    const prompt = secondModel.doGenerateCalls[0]?.prompt ?? [];
    expect(prompt).toHaveLength(3);
    expect(prompt[0]).toEqual({ role: 'system', content: system });
    expect(prompt[1]?.role).toBe('system');
    expect(String(prompt[1]?.content)).toContain('<memories>');
    expect(String(prompt[1]?.content)).toMatch(/Celsius/);
    expect(prompt[2]).toEqual({ role: 'user', content: [{ type: 'text', text: roomQuestion }] });
  });

  it('through streamText, the second session gets the preference after its own system message', async () => {
    const store = track(inMemoryStore());

    const first = memoryMiddleware({ scope, store });
    const firstModel = new MockLanguageModelV3({
      doStream: { stream: convertArrayToReadableStream(textParts('Noted, Celsius it is.')) },
    });
    const firstRun = streamText({
      model: wrapLanguageModel({ model: firstModel, middleware: first }),
      system,
      prompt: celsiusRule,
    });
    expect(await firstRun.text).toBe('Noted, Celsius it is.');
    expect((await flushMemory(first)).failed).toEqual([]);
    // The preference, and what the assistant answered (kept as said by the assistant).
    expect((await store.list({ scope })).map((memory) => [memory.type, memory.text]).sort()).toEqual([
      ['episode', 'Noted, Celsius it is.'],
      ['preference', 'User prefers all temperatures in Celsius, never Fahrenheit.'],
    ]);

    const second = memoryMiddleware({ scope, store });
    const secondModel = new MockLanguageModelV3({
      doStream: { stream: convertArrayToReadableStream(textParts('About 21 °C.')) },
    });
    const secondRun = streamText({
      model: wrapLanguageModel({ model: secondModel, middleware: second }),
      system,
      prompt: roomQuestion,
    });
    expect(await secondRun.text).toBe('About 21 °C.');

    const prompt = secondModel.doStreamCalls[0]?.prompt ?? [];
    expect(prompt.map((message) => message.role)).toEqual(['system', 'system', 'user']);
    expect(prompt[0]).toEqual({ role: 'system', content: system });
    expect(String(prompt[1]?.content)).toContain('<memories>');
    expect(String(prompt[1]?.content)).toMatch(/Celsius/);
  });

  it('changes nothing in the call when there are no memories', async () => {
    const store = track(createMockStore());
    const plain = new MockLanguageModelV3({ doGenerate: textReply('Hi.') });
    const wrapped = new MockLanguageModelV3({ doGenerate: textReply('Hi.') });
    const request = { system, messages: [{ role: 'user' as const, content: 'Hello there, nice to meet you.' }] };

    await generateText({ model: plain, ...request });
    await generateText({
      model: wrapLanguageModel({ model: wrapped, middleware: memoryMiddleware({ scope, store, write: false }) }),
      ...request,
    });

    expect(store.searchCalls).toHaveLength(1);
    expect(wrapped.doGenerateCalls[0]).toEqual(plain.doGenerateCalls[0]);
  });

  it('keeps every leading system message of the caller before the memory block', async () => {
    const store = track(createMockStore([{ text: 'Prefers Celsius', type: 'preference', scope }]));
    const model = new MockLanguageModelV3({ doGenerate: textReply('21 °C.') });
    await generateText({
      model: wrapLanguageModel({ model, middleware: memoryMiddleware({ scope, store, write: false }) }),
      system: [
        { role: 'system', content: 'First rule.' },
        { role: 'system', content: 'Second rule.' },
      ],
      prompt: 'How warm should a bedroom be in Celsius?',
    });

    const prompt = model.doGenerateCalls[0]?.prompt ?? [];
    expect(prompt.slice(0, 2)).toEqual([
      { role: 'system', content: 'First rule.' },
      { role: 'system', content: 'Second rule.' },
    ]);
    expect(String(prompt[2]?.content)).toContain('Prefers Celsius');
    expect(prompt[3]?.role).toBe('user');
  });
});

describe('memoryMiddleware: tool loops', () => {
  it('generateText with a tool over several steps searches once and writes once, with the final answer', async () => {
    const store = track(createMockStore([{ text: 'Prefers Celsius', type: 'preference', scope }]));
    const extract = recordingExtractor();
    const searches: SearchEvent[] = [];
    const middleware = memoryMiddleware({ scope, store, extract, onSearch: (event) => searches.push(event) });
    const model = new MockLanguageModelV3({
      doGenerate: [
        toolCallReply('call-1', 'Paris'),
        toolCallReply('call-2', 'Lyon'),
        textReply('Paris 21 °C, Lyon 21 °C.'),
      ],
    });

    const result = await generateText({
      model: wrapLanguageModel({ model, middleware }),
      system,
      prompt: 'How warm is it in Paris and Lyon?',
      tools: { weather },
      stopWhen: stepCountIs(5),
    });
    await flushMemory(middleware);

    expect(result.steps).toHaveLength(3);
    expect(result.text).toBe('Paris 21 °C, Lyon 21 °C.');
    expect(store.searchCalls.map((call) => call.query)).toEqual(['How warm is it in Paris and Lyon?']);
    expect(searches.map((event) => event.reused)).toEqual([false, true, true]);
    // Every step carries the memory, though only the first searched for it.
    for (const call of model.doGenerateCalls) expect(memoryMessages(call.prompt)).toHaveLength(1);
    expect(model.doGenerateCalls[2]?.prompt.at(-1)?.role).toBe('tool');

    expect(extract.turns).toHaveLength(1);
    expect(extract.turns[0]).toMatchObject({
      userText: 'How warm is it in Paris and Lyon?',
      assistantText: 'Paris 21 °C, Lyon 21 °C.',
    });
    // One turn, written once: the final answer, and the extractor's fact (which holds every word the user said).
    expect(store.addCalls.map(addedText)).toEqual([
      'Paris 21 °C, Lyon 21 °C.',
      'Asked: How warm is it in Paris and Lyon?',
    ]);
  });

  it('streamText with a tool over several steps searches once and writes once, with the final answer', async () => {
    const store = track(createMockStore([{ text: 'Prefers Celsius', type: 'preference', scope }]));
    const extract = recordingExtractor();
    const middleware = memoryMiddleware({ scope, store, extract });
    const model = new MockLanguageModelV3({
      doStream: [
        { stream: convertArrayToReadableStream(toolCallParts('call-1', 'Paris')) },
        { stream: convertArrayToReadableStream(textParts('It is 21 °C in Paris.')) },
      ],
    });

    const result = streamText({
      model: wrapLanguageModel({ model, middleware }),
      prompt: 'How warm is it in Paris?',
      tools: { weather },
      stopWhen: stepCountIs(5),
    });
    expect(await result.text).toBe('It is 21 °C in Paris.');
    await flushMemory(middleware);

    expect(model.doStreamCalls).toHaveLength(2);
    expect(store.searchCalls).toHaveLength(1);
    for (const call of model.doStreamCalls) expect(memoryMessages(call.prompt)).toHaveLength(1);
    expect(extract.turns.map((turn) => turn.assistantText)).toEqual(['It is 21 °C in Paris.']);
    // One turn, written once: the final answer, and the extractor's fact (which holds every word the user said).
    expect(store.addCalls.map(addedText)).toEqual(['It is 21 °C in Paris.', 'Asked: How warm is it in Paris?']);
  });

  it('writes nothing when the call stops on a tool call', async () => {
    const store = track(createMockStore());
    const extract = recordingExtractor();
    const middleware = memoryMiddleware({ scope, store, extract });
    const model = new MockLanguageModelV3({ doGenerate: [toolCallReply('call-1', 'Paris')] });

    await generateText({
      model: wrapLanguageModel({ model, middleware }),
      prompt: 'How warm is it in Paris?',
      tools: { weather },
      stopWhen: stepCountIs(1),
    });
    await flushMemory(middleware);

    expect(model.doGenerateCalls).toHaveLength(1);
    expect(extract.turns).toEqual([]);
    expect(store.addCalls).toEqual([]);
  });

  it('searches again for the next user turn of the same conversation', async () => {
    const store = track(createMockStore());
    const middleware = memoryMiddleware({ scope, store, write: false });
    const model = new MockLanguageModelV3({ doGenerate: textReply('Sure.') });
    const wrapped = wrapLanguageModel({ model, middleware });

    await generateText({ model: wrapped, messages: [{ role: 'user', content: 'Plan a trip to Oslo.' }] });
    await generateText({
      model: wrapped,
      messages: [
        { role: 'user', content: 'Plan a trip to Oslo.' },
        { role: 'assistant', content: 'Sure.' },
        { role: 'user', content: 'Now add a day in Bergen.' },
      ],
    });

    expect(store.searchCalls.map((call) => call.query)).toEqual(['Plan a trip to Oslo.', 'Now add a day in Bergen.']);
  });
});

describe('memoryMiddleware: streams', () => {
  const params = {
    prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Tell me about Celsius.' }] }],
  };

  it('passes every part through unchanged and in order', async () => {
    const store = track(createMockStore([{ text: 'Prefers Celsius', type: 'preference', scope }]));
    const parts: LanguageModelV3StreamPart[] = [
      ...textParts('Celsius puts water freezing at zero.').slice(0, -1),
      { type: 'reasoning-start', id: 'r-1' },
      { type: 'reasoning-delta', id: 'r-1', delta: 'thinking' },
      { type: 'reasoning-end', id: 'r-1' },
      { type: 'raw', rawValue: { anything: [1, 2, 3] } },
      { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
    ];
    const model = new MockLanguageModelV3({ doStream: { stream: convertArrayToReadableStream(parts) } });
    const wrapped = wrapLanguageModel({ model, middleware: memoryMiddleware({ scope, store, write: false }) });

    const { stream } = await wrapped.doStream(params);
    const received = await convertReadableStreamToArray(stream);

    expect(received).toEqual(parts);
    for (const [index, part] of received.entries()) expect(part).toBe(parts[index]);
  });

  it('hands each part on as it arrives, before the model has finished', async () => {
    const store = track(createMockStore());
    const extract = recordingExtractor();
    let source!: ReadableStreamDefaultController<LanguageModelV3StreamPart>;
    const model = new MockLanguageModelV3({
      doStream: {
        stream: new ReadableStream<LanguageModelV3StreamPart>({
          start(controller) {
            source = controller;
          },
        }),
      },
    });
    const middleware = memoryMiddleware({ scope, store, extract, write: 'await' });
    const { stream } = await wrapLanguageModel({ model, middleware }).doStream(params);
    const reader = stream.getReader();

    const parts = textParts('Zero is freezing.');
    source.enqueue(parts[0] as LanguageModelV3StreamPart);
    expect((await reader.read()).value).toBe(parts[0]);
    for (const part of parts.slice(1)) source.enqueue(part);
    expect(extract.turns).toEqual([]);
    source.close();
    let done = false;
    while (!done) done = (await reader.read()).done;

    // With write: 'await', the write is stored by the time the caller sees the end of the stream.
    expect(extract.turns.map((turn) => turn.assistantText)).toEqual(['Zero is freezing.']);
    // One turn, written once: the final answer, and the extractor's fact (which holds every word the user said).
    expect(store.addCalls.map(addedText)).toEqual(['Zero is freezing.', 'Asked: Tell me about Celsius.']);
  });

  it('writes nothing for a stream that reports an error part or that the caller cancels', async () => {
    const store = track(createMockStore());
    const extract = recordingExtractor();
    const middleware = memoryMiddleware({ scope, store, extract });
    const parts = textParts('Half an ans');
    const withError: LanguageModelV3StreamPart[] = [
      ...parts.slice(0, -1),
      { type: 'error', error: new Error('overloaded') },
      // Some providers still finish normally after an error part; the reply is suspect either way.
      { type: 'finish', finishReason: { unified: 'other', raw: undefined }, usage },
    ];
    const model = new MockLanguageModelV3({
      doStream: [
        { stream: convertArrayToReadableStream(withError) },
        { stream: convertArrayToReadableStream(textParts('A whole answer that is never read to the end.')) },
      ],
    });
    const wrapped = wrapLanguageModel({ model, middleware });

    await convertReadableStreamToArray((await wrapped.doStream(params)).stream);
    const reader = (await wrapped.doStream(params)).stream.getReader();
    await reader.read();
    await reader.cancel();
    await flushMemory(middleware);

    expect(model.doStreamCalls).toHaveLength(2);
    expect(extract.turns).toEqual([]);
    expect(store.addCalls).toEqual([]);
  });

  it('reports a stream that ends without a finish part, and writes nothing', async () => {
    const store = track(createMockStore());
    const extract = recordingExtractor();
    const errors: Array<{ error: MemoryError; context: ErrorContext }> = [];
    const middleware = memoryMiddleware({
      scope,
      store,
      extract,
      onError: (error, context) => errors.push({ error, context }),
    });
    const parts = textParts('Cut short').slice(0, -1);
    const model = new MockLanguageModelV3({ doStream: { stream: convertArrayToReadableStream(parts) } });

    const received = await convertReadableStreamToArray(
      (await wrapLanguageModel({ model, middleware }).doStream(params)).stream,
    );
    await flushMemory(middleware);

    expect(received).toEqual(parts);
    expect(errors.map(({ context }) => context.stage)).toEqual(['capture']);
    expect(extract.turns).toEqual([]);
  });
});

describe('memoryMiddleware: store failures leave the call working', () => {
  const failures: Array<{
    name: string;
    store: () => MemoryStore;
    error: typeof StoreError | typeof StoreTimeoutError;
  }> = [
    {
      name: 'a store that throws',
      store: () => ({
        name: 'broken',
        search: async () => {
          throw new Error('connection refused');
        },
        list: async () => {
          throw new Error('connection refused');
        },
        add: async () => [],
      }),
      error: StoreError,
    },
    {
      name: 'a store that hangs past the time-out',
      store: () => ({
        name: 'stuck',
        search: (_query, options) =>
          new Promise((_, reject) => options.signal?.addEventListener('abort', () => reject(options.signal?.reason))),
        add: async () => [],
      }),
      error: StoreTimeoutError,
    },
    {
      name: 'a store that answers garbage',
      store: () => ({
        name: 'garbage',
        search: async () => [{ nonsense: true }, 'not a memory'] as never,
        list: async () => 'not a list' as never,
        add: async () => [],
      }),
      error: StoreError,
    },
  ];

  for (const failure of failures) {
    for (const kind of ['generateText', 'streamText'] as const) {
      it(`${failure.name}: ${kind} answers, onError gets a ${failure.error.name}, nothing is injected`, async () => {
        const errors: Array<{ error: MemoryError; context: ErrorContext }> = [];
        const options: WithMemoryOptions = {
          scope,
          store: failure.store(),
          search: { timeoutMs: 50 },
          write: false,
          onError: (error, context) => errors.push({ error, context }),
        };
        const model = new MockLanguageModelV3({
          doGenerate: textReply('About 21 °C.'),
          doStream: { stream: convertArrayToReadableStream(textParts('About 21 °C.')) },
        });
        const wrapped = wrapLanguageModel({ model, middleware: memoryMiddleware(options) });

        const text =
          kind === 'generateText'
            ? (await generateText({ model: wrapped, system, prompt: roomQuestion })).text
            : await streamText({ model: wrapped, system, prompt: roomQuestion }).text;

        expect(text).toBe('About 21 °C.');
        expect(errors.length).toBeGreaterThan(0);
        expect(errors[0]?.error).toBeInstanceOf(failure.error);
        expect(errors[0]?.context.stage).toBe('search');
        const [call] = kind === 'generateText' ? model.doGenerateCalls : model.doStreamCalls;
        expect(call?.prompt).toEqual([
          { role: 'system', content: system },
          { role: 'user', content: [{ type: 'text', text: roomQuestion }] },
        ]);
      });
    }
  }

  it('a failing write reaches onError and flushMemory, and the call still answers', async () => {
    const errors: MemoryError[] = [];
    const store: MemoryStore = {
      name: 'read-only-disk',
      search: async () => [],
      add: async () => {
        throw new StoreError('disk is read-only', { store: 'read-only-disk', operation: 'add', retryable: false });
      },
    };
    const middleware = memoryMiddleware({ scope, store, onError: (error) => errors.push(error) });
    const model = new MockLanguageModelV3({ doGenerate: textReply('Noted.') });

    const { text } = await generateText({ model: wrapLanguageModel({ model, middleware }), prompt: celsiusRule });
    const report = await flushMemory(middleware);

    expect(text).toBe('Noted.');
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]?.error).toBeInstanceOf(StoreError);
    expect(errors.map((error) => error.name)).toEqual(['StoreError']);
  });
});

describe('memoryMiddleware: options and versions', () => {
  it('validates options when called', () => {
    expect(() => memoryMiddleware({ scope: {} })).toThrow(InvalidOptionsError);
    expect(() => memoryMiddleware({ scope, store: inMemoryStore(), search: { limit: 0 } })).toThrow(
      expect.objectContaining({ path: 'search.limit' }),
    );
  });

  it('reads ai 5 (LanguageModelV2) replies, whose finish reason is a plain string', async () => {
    const store = track(createMockStore([{ text: 'Prefers Celsius', type: 'preference', scope }]));
    const extract = recordingExtractor();
    const middleware = memoryMiddleware({ scope, store, extract });
    // ai 5's wrapLanguageModel calls the hooks exactly so: transformParams, then wrapGenerate with its result.
    const callV2 = async (prompt: unknown[], reply: unknown) => {
      const hooks = middleware as Required<Pick<LanguageModelMiddleware, 'transformParams' | 'wrapGenerate'>>;
      const params = await hooks.transformParams({ type: 'generate', params: { prompt } as never, model: {} as never });
      await hooks.wrapGenerate({
        doGenerate: async () => reply as never,
        doStream: async () => ({}) as never,
        params,
        model: {} as never,
      });
      return params.prompt;
    };
    const user = { role: 'user', content: [{ type: 'text', text: 'How warm is Paris?' }] };
    const call = {
      role: 'assistant',
      content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: {} }],
    };
    const result = {
      role: 'tool',
      content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'weather', output: { type: 'json', value: 21 } }],
    };
    const v2Usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };

    const firstPrompt = await callV2([user], {
      content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: '{}' }],
      finishReason: 'tool-calls',
      usage: v2Usage,
      warnings: [],
    });
    const secondPrompt = await callV2([user, call, result], {
      content: [{ type: 'text', text: 'It is 21 °C.' }],
      finishReason: 'stop',
      usage: v2Usage,
      warnings: [],
    });
    const failedUser = { role: 'user', content: [{ type: 'text', text: 'And in Lyon?' }] };
    await callV2(
      [user, call, result, { role: 'assistant', content: [{ type: 'text', text: 'It is 21 °C.' }] }, failedUser],
      {
        content: [{ type: 'text', text: 'It is' }],
        finishReason: 'error',
        usage: v2Usage,
        warnings: [],
      },
    );
    await flushMemory(middleware);

    expect(memoryMessages(firstPrompt as never)).toHaveLength(1);
    expect(memoryMessages(secondPrompt as never)).toHaveLength(1);
    expect(store.searchCalls.map((call) => call.query)).toEqual(['How warm is Paris?', 'And in Lyon?']);
    expect(extract.turns.map((turn) => turn.assistantText)).toEqual(['It is 21 °C.']);
  });
});

describe('memoryMiddleware: the scope per call', () => {
  it('serves two users through one middleware with providerOptions.withMemory.scope, each seeing only their own memories', async () => {
    const store = track(inMemoryStore());
    // No scope of its own: every call names one.
    const memory = memoryMiddleware({ store });
    const model = new MockLanguageModelV3({ doGenerate: textReply('Noted.') });
    const wrapped = wrapLanguageModel({ model, middleware: memory });
    const ask = (userId: string, prompt: string) =>
      generateText({ model: wrapped, system, prompt, providerOptions: { withMemory: { scope: { userId } } } });

    await Promise.all([ask('alice', 'I live in Oslo.'), ask('bob', 'I live in Rome.')]);
    expect((await flushMemory(memory)).failed).toEqual([]);
    model.doGenerateCalls.length = 0;
    await ask('alice', 'Where do I live?');
    await ask('bob', 'Where do I live?');

    const [alicePrompt, bobPrompt] = model.doGenerateCalls.map((call) =>
      JSON.stringify(memoryMessages(call.prompt as Array<{ role: string; content: unknown }>)),
    );
    expect(alicePrompt).toContain('Oslo');
    expect(alicePrompt).not.toContain('Rome');
    expect(bobPrompt).toContain('Rome');
    expect(bobPrompt).not.toContain('Oslo');
    expect(JSON.stringify(await store.list({ scope: { userId: 'alice' } }))).not.toContain('Rome');
    expect(JSON.stringify(await store.list({ scope: { userId: 'bob' } }))).not.toContain('Oslo');
  });

  it('prefers the scope the call names to its own, and takes a scope function too', async () => {
    const store = track(createMockStore());
    const memory = memoryMiddleware({ store, scope: () => ({ userId: 'from-function' }), write: 'await' });
    const wrapped = wrapLanguageModel({
      model: new MockLanguageModelV3({ doGenerate: textReply('ok') }),
      middleware: memory,
    });
    await generateText({ model: wrapped, prompt: 'Hello there.' });
    await generateText({
      model: wrapped,
      prompt: 'Hello again.',
      providerOptions: { withMemory: { scope: { userId: 'named' } } },
    });
    expect([...new Set(store.searchCalls.map((call) => call.options.scope.userId))]).toEqual([
      'from-function',
      'named',
    ]);
  });

  it.each([
    ['no scope at all', undefined],
    ['an invalid scope', { withMemory: { scope: { userId: 42 } } }],
    ['a scope of no user', { withMemory: { scope: {} } }],
  ])('gives a call with %s no memory (no search, no write) and reports it', async (_, providerOptions) => {
    const store = track(createMockStore([{ text: 'Alice lives in Oslo.', scope: { userId: 'alice' } }]));
    const stages: string[] = [];
    const memory = memoryMiddleware({ store, onError: (_error, context) => stages.push(context.stage) });
    const model = new MockLanguageModelV3({ doGenerate: textReply('Hello!') });
    const { text } = await generateText({
      model: wrapLanguageModel({ model, middleware: memory }),
      prompt: 'Where do I live?',
      ...(providerOptions && { providerOptions: providerOptions as never }),
    });
    await flushMemory(memory);
    expect(text).toBe('Hello!');
    expect(store.searchCalls).toEqual([]);
    expect(store.addCalls).toEqual([]);
    expect(stages).toEqual(['scope']);
  });
});

function addedText(call: { write: MemoryWrite }): unknown {
  return 'facts' in call.write ? call.write.facts.map((fact) => fact.text).join(' / ') : 'messages';
}
