import OpenAI from 'openai';
import type { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import type { ResponseStream } from 'openai/lib/responses/ResponseStream';
import type { Stream } from 'openai/streaming';
import { expectTypeOf, test } from 'vitest';
import { withMemory } from '../../src/with-memory.js';

const plain = new OpenAI({ apiKey: 'test' });
const openai = withMemory(new OpenAI({ apiKey: 'test' }), { scope: { userId: 'u' } });
const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hi' }];
const chatParams = { model: 'gpt-test', messages };
const responseParams = { model: 'gpt-test', input: 'Hi' };

test('the wrapped client is still an OpenAI client', () => {
  expectTypeOf(openai).toEqualTypeOf<OpenAI>();
  const asClient: OpenAI = openai;
  expectTypeOf(asClient).toEqualTypeOf<OpenAI>();
});

test('chat.completions.create keeps its overloads', async () => {
  const completion = await openai.chat.completions.create(chatParams);
  expectTypeOf(completion).toEqualTypeOf(await plain.chat.completions.create(chatParams));
  expectTypeOf(completion).toExtend<OpenAI.Chat.ChatCompletion>();
  expectTypeOf(completion).not.toExtend<Stream<OpenAI.Chat.ChatCompletionChunk>>();

  const stream = await openai.chat.completions.create({ ...chatParams, stream: true });
  expectTypeOf(stream).toEqualTypeOf(await plain.chat.completions.create({ ...chatParams, stream: true }));
  expectTypeOf(stream).toExtend<Stream<OpenAI.Chat.ChatCompletionChunk>>();
  expectTypeOf(stream).not.toExtend<OpenAI.Chat.ChatCompletion>();

  const streaming = Math.random() > 0.5;
  const either = await openai.chat.completions.create({ ...chatParams, stream: streaming });
  expectTypeOf(either).toEqualTypeOf(await plain.chat.completions.create({ ...chatParams, stream: streaming }));

  expectTypeOf(openai.chat.completions.stream(chatParams)).toEqualTypeOf<ChatCompletionStream<null>>();
});

test('responses.create keeps its overloads', async () => {
  const response = await openai.responses.create(responseParams);
  expectTypeOf(response).toEqualTypeOf(await plain.responses.create(responseParams));
  expectTypeOf(response).toExtend<OpenAI.Responses.Response>();
  expectTypeOf(response).not.toExtend<Stream<OpenAI.Responses.ResponseStreamEvent>>();

  const stream = await openai.responses.create({ ...responseParams, stream: true });
  expectTypeOf(stream).toEqualTypeOf(await plain.responses.create({ ...responseParams, stream: true }));
  expectTypeOf(stream).toExtend<Stream<OpenAI.Responses.ResponseStreamEvent>>();
  expectTypeOf(stream).not.toExtend<OpenAI.Responses.Response>();

  expectTypeOf(openai.responses.stream(responseParams)).toEqualTypeOf<ResponseStream<null>>();
});

test('the SDK promise helpers keep their types', async () => {
  const { data, response } = await openai.chat.completions.create(chatParams).withResponse();
  expectTypeOf(data).toExtend<OpenAI.Chat.ChatCompletion>();
  expectTypeOf(response).toEqualTypeOf<Response>();
});
