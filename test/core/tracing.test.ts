import { createHash } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import type { TracingOptions } from '../../src/core/tracing.js';
import type { MemoryStore } from '../../src/core/types.js';
import { flushMemory } from '../../src/core/writeback.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { withMemory } from '../../src/with-memory.js';
import { type FakeAnthropic, startFakeAnthropic } from '../fakes/anthropic-server.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
const tracer = trace.getTracer('agent-under-test');

const storedText = 'Prefers temperatures in Celsius';
const question = 'I live in Lisbon. What temperature in Celsius should the living room have?';
const reply = 'Around 21 degrees.';

let fake: FakeAnthropic;

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});
beforeEach(async () => {
  fake = await startFakeAnthropic();
  fake.respond = () => ({ text: reply });
  exporter.reset();
});
afterEach(async () => {
  await fake.close();
});

const scope = { userId: 'user_42', agentId: 'support' };

async function seededStore(): Promise<MemoryStore> {
  const store = inMemoryStore();
  await store.add({ facts: [{ text: storedText, type: 'preference' }] }, { scope });
  return store;
}

/** One wrapped call inside the caller's own span; resolves with that span's id and every span ended. */
async function tracedCall(store: MemoryStore, tracing?: TracingOptions) {
  const claude = withMemory(new Anthropic({ apiKey: 'test-key', baseURL: fake.url, maxRetries: 0 }), {
    scope,
    store,
    onError: () => {},
    ...(tracing && { tracing }),
  });
  const callerSpanId = await tracer.startActiveSpan('agent.turn', async (span) => {
    await claude.messages.create({
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: question }],
    });
    span.end();
    return span.spanContext().spanId;
  });
  await flushMemory(claude);
  const spans = exporter.getFinishedSpans();
  const caller = spans.find((span) => span.spanContext().spanId === callerSpanId);
  if (!caller) throw new Error('the caller span was not exported');
  return { caller, spans, byName: (name: string) => spans.filter((span) => span.name === name) };
}

function only(spans: ReadableSpan[]): ReadableSpan {
  expect(spans).toHaveLength(1);
  return spans[0] as ReadableSpan;
}

const sha16 = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 16);

describe('OpenTelemetry spans', () => {
  it('makes search, build and write spans under the caller span, with counts and no memory text', async () => {
    const { caller, spans, byName } = await tracedCall(await seededStore());

    const search = only(byName('with-memory.search'));
    const build = only(byName('with-memory.build'));
    const write = only(byName('with-memory.write'));
    for (const span of [search, build, write]) {
      expect(span.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(caller.spanContext().traceId);
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.attributes).toMatchObject({
        'with_memory.store': 'memory',
        'with_memory.scope.user_id': sha16('user_42'),
        'with_memory.scope.agent_id': sha16('support'),
      });
      expect(span.attributes['error.type']).toBeUndefined();
    }
    expect(search.attributes).toMatchObject({ 'with_memory.search.hits': 1, 'with_memory.search.standing': 0 });
    expect(build.attributes['with_memory.build.memories']).toBe(1);
    expect(build.attributes['with_memory.block.tokens']).toBeGreaterThan(5);
    expect(write.attributes).toMatchObject({ 'with_memory.write.failed': 0 });
    expect(write.attributes['with_memory.write.operations']).toBeGreaterThanOrEqual(1);
    expect(write.attributes['with_memory.write.attempts']).toBe(write.attributes['with_memory.write.operations']);

    // Nothing the user said, the assistant answered or the store holds is on any span.
    const everything = JSON.stringify(spans.map((span) => [span.name, span.attributes, span.events, span.status]));
    for (const text of ['Celsius', 'Lisbon', 'living room', 'degrees', 'user_42', 'support']) {
      expect(everything).not.toContain(text);
    }
  });

  it('records the error kind of a failed search, and omits scope ids when asked', async () => {
    const store = await seededStore();
    const failing: MemoryStore = {
      ...store,
      name: 'flaky',
      search: async () => {
        throw new StoreError('search failed for "Celsius"', { store: 'flaky', operation: 'search', retryable: true });
      },
    };
    const { byName } = await tracedCall(failing, { scopeIds: 'omitted' });
    const search = only(byName('with-memory.search'));
    expect(search.attributes['error.type']).toBe('StoreError');
    expect(search.status).toEqual({ code: SpanStatusCode.ERROR, message: 'StoreError' });
    expect(JSON.stringify(search.attributes)).not.toContain('Celsius');
    for (const span of [search, ...byName('with-memory.write')]) {
      expect(Object.keys(span.attributes).filter((key) => key.startsWith('with_memory.scope.'))).toEqual([]);
    }
  });

  it('counts every attempt of a write that had to be retried', async () => {
    const store = await seededStore();
    let failures = 1;
    const flaky: MemoryStore = {
      ...store,
      add: async (write, options) => {
        if (failures-- > 0) throw new Error('connection reset');
        return store.add(write, options);
      },
    };
    const { byName } = await tracedCall(flaky);
    const write = only(byName('with-memory.write'));
    expect(write.attributes['with_memory.write.attempts']).toBe(
      Number(write.attributes['with_memory.write.operations']) + 1,
    );
    expect(write.attributes['with_memory.write.failed']).toBe(0);
  });

  it('puts the query and the memory block on the spans only with recordText', async () => {
    const { byName } = await tracedCall(await seededStore(), { recordText: true });
    expect(only(byName('with-memory.search')).attributes['with_memory.search.query']).toBe(question);
    expect(String(only(byName('with-memory.build')).attributes['with_memory.block.text'])).toContain(storedText);
  });

  it('makes no span when tracing is turned off', async () => {
    const { spans } = await tracedCall(await seededStore(), { enabled: false });
    expect(spans.filter((span) => span.name.startsWith('with-memory.'))).toEqual([]);
    expect(spans.map((span) => span.name)).toContain('agent.turn');
  });
});
