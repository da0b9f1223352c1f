import Anthropic from '@anthropic-ai/sdk';
import { MemoryClient } from 'mem0ai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type MemoryError, StoreError, StoreTimeoutError } from '../../../src/core/errors.js';
import type { ErrorContext } from '../../../src/core/options.js';
import type { MemoryStore } from '../../../src/core/types.js';
import { flushMemory } from '../../../src/core/writeback.js';
import { mem0Store } from '../../../src/stores/mem0/index.js';
import { withMemory } from '../../../src/with-memory.js';
import { type FakeAnthropic, startFakeAnthropic } from '../../fakes/anthropic-server.js';
import { refusedUrl } from '../../fakes/http.js';
import { connectMemoryClient, type FakeMem0, startFakeMem0 } from '../../fakes/mem0-server.js';

const scope = { userId: 'user_42' };
const celsius = 'I prefer all temperatures in Celsius, never Fahrenheit.';

let anthropic: FakeAnthropic;
let fake: FakeMem0;

beforeEach(async () => {
  anthropic = await startFakeAnthropic();
  fake = await startFakeMem0();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await fake.close();
  await anthropic.close();
});

/** One turn through withMemory; what the LLM answered and what onError heard. */
async function turn(store: MemoryStore, options: { write?: false } = {}) {
  const errors: Array<{ error: MemoryError; context: ErrorContext }> = [];
  const claude = withMemory(new Anthropic({ apiKey: 'test-key', baseURL: anthropic.url, maxRetries: 0 }), {
    scope,
    store,
    onError: (error, context) => errors.push({ error, context }),
    ...(options.write === false ? { write: false as const } : {}),
  });
  const reply = await claude.messages.create({
    model: 'claude-test',
    max_tokens: 100,
    messages: [{ role: 'user', content: celsius }],
  });
  const report = await flushMemory(claude);
  return { reply, errors, report };
}

const adds = () => fake.requests.filter((request) => request.route === 'add');

describe('mem0 in trouble never breaks the LLM call', () => {
  for (const status of [500, 429]) {
    it(`HTTP ${status}: onError hears it with the status; the write is retried and stored once mem0 recovers`, async () => {
      const store = mem0Store({ client: await connectMemoryClient(fake) });
      // Fails the turn's search and list, then the first two tries of the write.
      fake.fail({ status }, { times: 4 });

      const { reply, errors, report } = await turn(store);

      expect(reply.content[0]).toMatchObject({ type: 'text', text: 'OK.' });
      expect(
        errors.map(({ error, context }) => [error instanceof StoreError, (error as StoreError).status, context.stage]),
      ).toEqual([
        [true, status, 'search'],
        [true, status, 'search'],
      ]);
      expect(report.failed).toEqual([]);
      expect(adds().map((request) => request.failedWith)).toEqual([`HTTP ${status}`, `HTTP ${status}`, undefined]);
      // Every try carried the same write.
      expect(new Set(adds().map((request) => JSON.stringify(request.body))).size).toBe(1);

      await fake.settled();
      expect(fake.engine.memories().map((memory) => memory.memory)).toEqual([celsius]);
    });
  }

  it('HTTP 401 (a wrong key): onError hears 401 for the search and the write, which is not retried', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {}); // mem0ai logs its failed constructor ping
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const store = mem0Store({ client: await connectMemoryClient(fake, 'wrong-key') });

    const { reply, errors, report } = await turn(store);

    expect(reply.content[0]).toMatchObject({ type: 'text', text: 'OK.' });
    const statuses = errors.map(({ error, context }) => [(error as StoreError).status, context.stage]);
    expect(statuses).toEqual([
      [401, 'search'],
      [401, 'search'],
      [401, 'write'],
    ]);
    expect(errors.at(-1)?.context.attempts).toBe(1);
    expect(report.failed).toHaveLength(1);
    expect(adds()).toHaveLength(1);
    expect(fake.engine.memories()).toEqual([]);
  });

  it('a malformed (non-JSON) answer: onError hears a StoreError; the write is not retried, so never stored twice', async () => {
    const store = mem0Store({ client: await connectMemoryClient(fake) });
    fake.fail('malformed');

    const { reply, errors, report } = await turn(store);

    expect(reply.content[0]).toMatchObject({ type: 'text', text: 'OK.' });
    expect(errors.every(({ error }) => error instanceof StoreError && !error.retryable)).toBe(true);
    expect(errors.map(({ context }) => context.stage)).toEqual(['search', 'search', 'write']);
    expect(report.failed).toHaveLength(1);
    expect(adds()).toHaveLength(1);
  });

  it('mem0 down (connection refused): the call answers and onError hears a retryable StoreError', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const url = await refusedUrl();
    const store = mem0Store({ client: new MemoryClient({ apiKey: 'k', host: url }) });

    // Writes off: a retried write to a dead host would only wait out the backoff here.
    const { reply, errors } = await turn(store, { write: false });

    expect(reply.content[0]).toMatchObject({ type: 'text', text: 'OK.' });
    expect(errors.length).toBeGreaterThan(0);
    for (const { error, context } of errors) {
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(context.stage).toBe('search');
    }
  });

  it("mem0 slow (hangs past the store's time-out): the call answers and onError hears StoreTimeoutError", async () => {
    const store = mem0Store({ client: await connectMemoryClient(fake), timeoutMs: 100 });
    fake.fail('hang');

    const { reply, errors } = await turn(store, { write: false });

    expect(reply.content[0]).toMatchObject({ type: 'text', text: 'OK.' });
    expect(errors.length).toBeGreaterThan(0);
    for (const { error } of errors) {
      expect(error).toBeInstanceOf(StoreTimeoutError);
      expect(error).toMatchObject({ store: 'mem0', retryable: true });
    }
  });
});
