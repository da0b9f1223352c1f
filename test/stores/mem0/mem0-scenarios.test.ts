import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MemoryStore, Scope } from '../../../src/core/types.js';
import { flushMemory } from '../../../src/core/writeback.js';
import { mem0Store } from '../../../src/stores/mem0/index.js';
import { createMockMem0Client, type MockMem0Client } from '../../../src/testing/mock-mem0-client.js';
import { withMemory } from '../../../src/with-memory.js';
import { type FakeAnthropic, startFakeAnthropic } from '../../fakes/anthropic-server.js';
import { startFakeOssLlm } from '../../fakes/mem0-oss-llm.js';
import { connectMemoryClient, type FakeMem0, startFakeMem0 } from '../../fakes/mem0-server.js';
import { createOssMemory } from './oss-memory.js';

const model = 'claude-test';
const celsius = 'I prefer all temperatures in Celsius, never Fahrenheit.';
const roomQuestion = "What's a comfortable room temperature?";

interface Mem0Backend {
  store: MemoryStore;
  /** Resolves when mem0 has finished extracting what it accepted (the platform does it later). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const backends: Array<{ name: string; start(): Promise<Mem0Backend> }> = [
  {
    name: 'mem0 platform: the real MemoryClient against the loopback fake',
    async start() {
      const fake = await startFakeMem0();
      return {
        store: mem0Store({ client: await connectMemoryClient(fake) }),
        settle: () => fake.settled(),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'mem0 OSS: Memory in process, its LLM on a loopback fake',
    async start() {
      const llm = await startFakeOssLlm();
      return {
        store: mem0Store({ memory: createOssMemory({ llmUrl: llm.url }) }),
        settle: async () => {},
        close: () => llm.close(),
      };
    },
  },
  {
    name: 'createMockMem0Client',
    async start() {
      return { store: mem0Store({ client: createMockMem0Client() }), settle: async () => {}, close: async () => {} };
    },
  },
];

let anthropic: FakeAnthropic;
const claude = () => new Anthropic({ apiKey: 'test-key', baseURL: anthropic.url, maxRetries: 0 });

beforeEach(async () => {
  anthropic = await startFakeAnthropic();
});
afterEach(async () => {
  await anthropic.close();
});

/** The memory block of an Anthropic request: the system part after the caller's own. */
function memoryBlock(body: Record<string, unknown> | undefined): string {
  const system = body?.system;
  if (!Array.isArray(system)) return '';
  return system.map((block) => String((block as { text?: unknown }).text ?? '')).join('\n');
}

async function say(scope: Scope, store: MemoryStore, content: string): Promise<Record<string, unknown> | undefined> {
  const session = withMemory(claude(), { scope, store });
  const reply = await session.messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content }] });
  expect(reply.content[0]).toMatchObject({ type: 'text', text: 'OK.' });
  const report = await flushMemory(session);
  expect(report.failed).toEqual([]);
  return anthropic.requests.at(-1);
}

for (const backend of backends) {
  describe(`withMemory with mem0Store: ${backend.name}`, () => {
    let mem0: Mem0Backend;
    beforeEach(async () => {
      mem0 = await backend.start();
    });
    afterEach(async () => {
      await mem0.close();
    });

    it('remembers a preference from one session to the next (the Celsius scenario)', async () => {
      const scope = { userId: 'user_42' };
      await say(scope, mem0.store, celsius);
      await mem0.settle();

      const request = await say(scope, mem0.store, roomQuestion);
      expect(memoryBlock(request)).toContain('Celsius');
      // Another user's session carries nothing of it.
      const stranger = await say({ userId: 'user_7' }, mem0.store, roomQuestion);
      expect(memoryBlock(stranger)).not.toContain('Celsius');
    });

    it("agent- and run-scoped memories: { userId, agentId } finds only that agent's memories for that user", async () => {
      await say({ userId: 'u1', agentId: 'travel' }, mem0.store, 'My favourite seats on flights are aisle seats.');
      await say({ userId: 'u1', agentId: 'lounge' }, mem0.store, 'My favourite seats on flights are lounge sofas.');
      await say({ userId: 'u2', agentId: 'travel' }, mem0.store, 'My favourite seats on flights are window seats.');
      await say(
        { userId: 'u1', runId: 'trip-1' },
        mem0.store,
        'My favourite seats on flights this trip are bulkhead seats.',
      );
      await mem0.settle();

      const question = 'Which seats on flights are my favourite?';
      const travel = memoryBlock(await say({ userId: 'u1', agentId: 'travel' }, mem0.store, question));
      expect(travel).toContain('aisle');
      expect(travel).not.toMatch(/lounge|window|bulkhead/);

      const trip = memoryBlock(await say({ userId: 'u1', runId: 'trip-1' }, mem0.store, question));
      expect(trip).toContain('bulkhead');
      expect(trip).not.toMatch(/lounge|window|aisle/);
      expect(memoryBlock(await say({ userId: 'u1', runId: 'trip-2' }, mem0.store, question))).not.toMatch(
        /bulkhead|aisle|lounge|window/,
      );

      // The user alone reaches every agent's and run's memories of that user, and no one else's.
      const everything = memoryBlock(await say({ userId: 'u1' }, mem0.store, question));
      expect(everything).toMatch(/aisle/);
      expect(everything).toMatch(/lounge/);
      expect(everything).toMatch(/bulkhead/);
      expect(everything).not.toMatch(/window/);
    });
  });
}

describe('what the fake mem0 platform saw in the Celsius scenario', () => {
  let fake: FakeMem0;
  beforeEach(async () => {
    fake = await startFakeMem0();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('an add with the user and assistant messages and user_id, then a search with filters: { user_id }', async () => {
    const store = mem0Store({ client: await connectMemoryClient(fake) });
    await say({ userId: 'user_42' }, store, celsius);
    await fake.settled();
    await say({ userId: 'user_42' }, store, roomQuestion);

    const adds = fake.requests.filter((request) => request.route === 'add');
    expect(adds[0]?.body).toEqual({
      messages: [
        { role: 'user', content: celsius },
        { role: 'assistant', content: 'OK.' },
      ],
      user_id: 'user_42',
    });
    const searches = fake.requests.filter((request) => request.route === 'search');
    expect(searches.map((request) => request.body?.filters)).toEqual([{ user_id: 'user_42' }, { user_id: 'user_42' }]);
    expect(searches[1]?.body?.query).toBe(roomQuestion);
    // The second search came after the add: the order a user would see.
    expect(fake.requests.indexOf(searches[1] as (typeof fake.requests)[number])).toBeGreaterThan(
      fake.requests.indexOf(adds[0] as (typeof fake.requests)[number]),
    );
  });

  it('{ userId, agentId } searches send both ids', async () => {
    const store = mem0Store({ client: await connectMemoryClient(fake) });
    await say({ userId: 'u1', agentId: 'travel' }, store, 'Which seats do I like?');
    const search = fake.requests.find((request) => request.route === 'search');
    expect(search?.body?.filters).toEqual({ AND: [{ user_id: 'u1' }, { agent_id: 'travel' }] });
  });
});

describe('createMockMem0Client records what code sent to mem0', () => {
  it('sees the same add and search as the fake platform', async () => {
    const client: MockMem0Client = createMockMem0Client();
    const store = mem0Store({ client });
    await say({ userId: 'user_42' }, store, celsius);
    await say({ userId: 'user_42' }, store, roomQuestion);

    const adds = client.calls.filter((call) => call.method === 'add');
    expect(adds[0]?.args).toEqual([
      [
        { role: 'user', content: celsius },
        { role: 'assistant', content: 'OK.' },
      ],
      { userId: 'user_42' },
    ]);
    const searches = client.calls.filter((call) => call.method === 'search');
    expect(searches.map((call) => (call.args[1] as { filters: unknown }).filters)).toEqual([
      { user_id: 'user_42' },
      { user_id: 'user_42' },
    ]);
    expect(memoryBlock(anthropic.requests.at(-1))).toContain('Celsius');
  });
});
