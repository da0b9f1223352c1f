import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionsError, StoreError } from '../../src/core/errors.js';
import { localStore } from '../../src/stores/local/index.js';
import { openaiEmbedder } from '../../src/stores/openai-embedder.js';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server.js';

let server: FakeOpenAIServer;
let folder: string;

// Texts about one topic share a direction, whatever their words: a stand-in for a real model.
const topics: Record<string, number> = { celsius: 0, weather: 0, temperature: 0, cat: 1, pet: 1 };
function topicEmbedding(text: string): number[] {
  const vector = [0, 0, 0.05];
  for (const word of text.toLowerCase().split(/\W+/)) {
    const topic = topics[word];
    if (topic !== undefined) vector[topic] = (vector[topic] ?? 0) + 1;
  }
  return vector;
}

beforeEach(async () => {
  server = await startFakeOpenAI({ embed: topicEmbedding });
  folder = mkdtempSync(join(tmpdir(), 'with-memory-embedder-'));
});

afterEach(async () => {
  await server.close();
  rmSync(folder, { recursive: true, force: true });
});

function client(): OpenAI {
  return new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0 });
}

describe('openaiEmbedder', () => {
  it('embeds in batches, in order, with text-embedding-3-small by default', async () => {
    const embed = openaiEmbedder({ client: client(), batchSize: 2 });
    const texts = ['celsius', 'a cat', 'weather and temperature', 'nothing', 'pet'];
    const vectors = await embed(texts);
    expect(vectors).toHaveLength(5);
    for (const [index, text] of texts.entries()) {
      const expected = topicEmbedding(text);
      for (const [position, value] of (vectors[index] ?? []).entries()) {
        expect(value).toBeCloseTo(expected[position] ?? 0, 5);
      }
    }
    const requests = server.requestsTo('embeddings');
    expect(requests.map((request) => request.body.input)).toEqual([
      ['celsius', 'a cat'],
      ['weather and temperature', 'nothing'],
      ['pet'],
    ]);
    expect(requests.every((request) => request.body.model === 'text-embedding-3-small')).toBe(true);
  });

  it('passes the model and dimensions it is given', async () => {
    await openaiEmbedder({ client: client(), model: 'text-embedding-3-large', dimensions: 3 })(['celsius']);
    expect(server.requestsTo('embeddings')[0]?.body).toMatchObject({ model: 'text-embedding-3-large', dimensions: 3 });
  });

  it('validates its options', () => {
    expect(() => openaiEmbedder({ client: {} as never })).toThrow(InvalidOptionsError);
    expect(() => openaiEmbedder({ client: client(), batchSize: 0 })).toThrow(/batchSize/);
  });

  it('gives the local store search by meaning, and an API failure fails the write', async () => {
    const store = localStore({ path: join(folder, 'memory.db'), embedder: openaiEmbedder({ client: client() }) });
    try {
      await store.add({ facts: [{ text: 'Prefers Celsius' }, { text: 'Has a cat' }] }, { scope: { userId: 'u1' } });
      const [hit] = await store.search("What's the weather like?", { scope: { userId: 'u1' } });
      expect(hit?.text).toBe('Prefers Celsius');

      await server.close();
      const error = await store
        .add({ facts: [{ text: 'Owns a pet' }] }, { scope: { userId: 'u1' } })
        .catch((caught) => caught);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).retryable).toBe(true);
      expect((await store.list({ scope: { userId: 'u1' } })).map((memory) => memory.text).sort()).toEqual([
        'Has a cat',
        'Prefers Celsius',
      ]);
    } finally {
      await store.close();
      server = await startFakeOpenAI();
    }
  });
});
