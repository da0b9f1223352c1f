import * as ai6 from 'ai';
import * as ai6Test from 'ai/test';
import * as ai5 from 'ai-v5';
import * as ai5Test from 'ai-v5/test';
import * as ai7 from 'ai-v7';
import * as ai7Test from 'ai-v7/test';
import { describe, expect, it } from 'vitest';
import { memoryMiddleware, memoryTools } from '../../src/ai-sdk/index.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';

// The peer range says `ai` 5, 6 and 7: each major is installed (ai-v5 and ai-v7 are npm aliases)
// and drives the middleware and the tools through its own generateText and mock model.

interface MockModel {
  doGenerateCalls: Array<{ prompt: unknown }>;
}
type Reply = Record<string, unknown>;

interface Major {
  name: string;
  generateText: (options: Record<string, unknown>) => Promise<{ text: string }>;
  wrapLanguageModel: (options: { model: unknown; middleware: unknown }) => unknown;
  stepCountIs: (count: number) => unknown;
  mockModel: (replies: Reply[]) => MockModel;
  text: (text: string) => Reply;
  toolCall: (toolName: string, input: Record<string, unknown>) => Reply;
}

const usageV3 = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};
const v3Replies = {
  text: (text: string) => ({
    content: [{ type: 'text', text }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage: usageV3,
    warnings: [],
  }),
  toolCall: (toolName: string, input: Record<string, unknown>) => ({
    content: [{ type: 'tool-call', toolCallId: 'call-1', toolName, input: JSON.stringify(input) }],
    finishReason: { unified: 'tool-calls', raw: 'tool_use' },
    usage: usageV3,
    warnings: [],
  }),
};

const majors: Major[] = [
  {
    name: 'ai 5',
    generateText: ai5.generateText as unknown as Major['generateText'],
    wrapLanguageModel: ai5.wrapLanguageModel as Major['wrapLanguageModel'],
    stepCountIs: ai5.stepCountIs,
    mockModel: (replies) => new ai5Test.MockLanguageModelV2({ doGenerate: replies as never }),
    text: (text) => ({
      content: [{ type: 'text', text }],
      finishReason: 'stop',
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
      warnings: [],
    }),
    toolCall: (toolName, input) => ({
      content: [{ type: 'tool-call', toolCallId: 'call-1', toolName, input: JSON.stringify(input) }],
      finishReason: 'tool-calls',
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
      warnings: [],
    }),
  },
  {
    name: 'ai 6',
    generateText: ai6.generateText as unknown as Major['generateText'],
    wrapLanguageModel: ai6.wrapLanguageModel as Major['wrapLanguageModel'],
    stepCountIs: ai6.stepCountIs,
    mockModel: (replies) => new ai6Test.MockLanguageModelV3({ doGenerate: replies as never }),
    ...v3Replies,
  },
  {
    name: 'ai 7',
    generateText: ai7.generateText as unknown as Major['generateText'],
    wrapLanguageModel: ai7.wrapLanguageModel as Major['wrapLanguageModel'],
    stepCountIs: ai7.stepCountIs,
    mockModel: (replies) => new ai7Test.MockLanguageModelV4({ doGenerate: replies as never }),
    ...v3Replies,
  },
];

const scope = { userId: 'user_42' };

describe.each(majors)('with $name', (major) => {
  it('memoryMiddleware injects what is known and writes the turn back', async () => {
    const store = inMemoryStore();
    await store.add({ facts: [{ text: 'Prefers Celsius', type: 'preference' }] }, { scope });
    const model = major.mockModel([major.text('About 21 degrees.')]);
    const { text } = await major.generateText({
      model: major.wrapLanguageModel({ model, middleware: memoryMiddleware({ scope, store, write: 'await' }) }),
      prompt: 'I live in Oslo. What is a comfortable room temperature?',
    });
    expect(text).toBe('About 21 degrees.');
    expect(JSON.stringify(model.doGenerateCalls[0]?.prompt)).toContain('Prefers Celsius');
    expect(JSON.stringify(await store.list({ scope }))).toContain('Oslo');
    await store.close();
  });

  it('memoryTools: the model saves a memory through saveMemory', async () => {
    const store = inMemoryStore();
    const model = major.mockModel([
      major.toolCall('saveMemory', { text: 'Allergic to nuts', type: 'profile' }),
      major.text('Noted.'),
    ]);
    const { text } = await major.generateText({
      model,
      tools: memoryTools({ scope, store }),
      stopWhen: major.stepCountIs(3),
      prompt: 'Remember that I am allergic to nuts.',
    });
    expect(text).toBe('Noted.');
    expect(await store.list({ scope })).toMatchObject([{ text: 'Allergic to nuts', type: 'profile' }]);
    await store.close();
  });
});
