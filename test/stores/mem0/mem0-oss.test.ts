import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../../../src/core/errors.js';
import type { MemoryStore } from '../../../src/core/types.js';
import { mem0Store } from '../../../src/stores/mem0/index.js';
import { type FakeOssLlm, startFakeOssLlm } from '../../fakes/mem0-oss-llm.js';
import { createOssMemory } from './oss-memory.js';

let llm: FakeOssLlm;
let store: MemoryStore;

beforeEach(async () => {
  llm = await startFakeOssLlm();
  store = mem0Store({ memory: createOssMemory({ llmUrl: llm.url }) });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await store.close?.();
  await llm.close();
});

describe('mem0Store({ memory }) with mem0 OSS in process', () => {
  it('with inference, mem0 asks its LLM to extract, and the memories are there at once', async () => {
    const scope = { userId: 'alice', agentId: 'weather' };
    const changes = await store.add(
      {
        messages: [
          { role: 'user', content: 'I always want temperatures in Celsius.' },
          { role: 'assistant', content: 'Understood, Celsius it is.' },
        ],
      },
      { scope },
    );
    expect(changes).toEqual([{ event: 'ADD', id: expect.any(String), text: 'I always want temperatures in Celsius.' }]);

    // What mem0 OSS sent its LLM: JSON mode, its extraction prompt, the exchange.
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0]?.responseFormat).toEqual({ type: 'json_object' });
    expect(llm.requests[0]?.messages.map((message) => message.role)).toEqual(['system', 'user']);
    expect(llm.requests[0]?.messages[1]?.content).toContain('user: I always want temperatures in Celsius.');
    expect(llm.requests[0]?.messages[1]?.content).toContain('assistant: Understood, Celsius it is.');

    const hits = await store.search('temperatures in Celsius', { scope: { userId: 'alice' } });
    expect(hits.map((hit) => [hit.text, hit.scope])).toEqual([
      ['I always want temperatures in Celsius.', { userId: 'alice', agentId: 'weather' }],
    ]);
    expect(await store.search('temperatures in Celsius', { scope: { userId: 'alice', agentId: 'other' } })).toEqual([]);
  });

  it('facts are stored verbatim without the LLM; the app id and type live in metadata but read back as fields', async () => {
    const scope = { userId: 'alice', appId: 'mobile' };
    const changes = await store.add(
      { facts: [{ text: 'Prefers aisle seats', type: 'preference', metadata: { source: 'form' } }] },
      { scope },
    );
    expect(changes.map((change) => change.event)).toEqual(['ADD']);
    expect(llm.requests).toEqual([]);

    const [hit] = await store.search('aisle seats', { scope });
    expect(hit).toMatchObject({
      text: 'Prefers aisle seats',
      type: 'preference',
      metadata: { source: 'form' },
      scope: { userId: 'alice', appId: 'mobile' },
    });
    expect(hit?.createdAt).toBeInstanceOf(Date);
    expect(await store.search('aisle seats', { scope: { userId: 'alice', appId: 'web' } })).toEqual([]);
  });

  it('an LLM that refuses the request surfaces as a StoreError with its status', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {}); // mem0 OSS logs the LLM failure itself
    llm.failNext(400);
    const error = await store
      .add({ messages: [{ role: 'user', content: 'I like tea' }] }, { scope: { userId: 'alice' } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ status: 400, retryable: false, operation: 'add' });
  });
});
