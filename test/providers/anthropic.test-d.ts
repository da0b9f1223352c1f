import Anthropic from '@anthropic-ai/sdk';
import type { Stream } from '@anthropic-ai/sdk/core/streaming';
import type { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import { expectTypeOf, test } from 'vitest';
import { withMemory } from '../../src/with-memory.js';

const claude = withMemory(new Anthropic({ apiKey: 'test' }), { scope: { userId: 'u' } });
const params = { model: 'claude-test', max_tokens: 10, messages: [{ role: 'user' as const, content: 'Hi' }] };

test('the wrapped client is still an Anthropic client', () => {
  expectTypeOf(claude).toEqualTypeOf<Anthropic>();
  const asClient: Anthropic = claude;
  expectTypeOf(asClient).toEqualTypeOf<Anthropic>();
});

test('messages.create keeps its overloads', async () => {
  const message = await claude.messages.create(params);
  expectTypeOf(message).toExtend<Anthropic.Message>();
  expectTypeOf(message).not.toExtend<Stream<Anthropic.RawMessageStreamEvent>>();
  const stream = await claude.messages.create({ ...params, stream: true });
  expectTypeOf(stream).toExtend<Stream<Anthropic.RawMessageStreamEvent>>();
  expectTypeOf(stream).not.toExtend<Anthropic.Message>();
  expectTypeOf(claude.messages.stream(params)).toEqualTypeOf<MessageStream>();
});

test('a function target keeps its type', () => {
  const answer = async (request: {
    system?: string;
    messages: Array<{ role: 'user' | 'assistant' | 'system'; content: string }>;
  }) => `echo ${request.messages.length}`;
  expectTypeOf(withMemory(answer, { scope: { userId: 'u' } })).toEqualTypeOf<typeof answer>();
});
