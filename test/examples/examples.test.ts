import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeAnthropic, startFakeAnthropic } from '../fakes/anthropic-server.js';
import { type FakeMem0, startFakeMem0 } from '../fakes/mem0-server.js';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server.js';
import { serverUrl } from '../stores/postgres/server-url.js';

// Each example runs as a user runs it: its own process, the real SDK clients, endpoints and keys from
// the environment (pointing at the loopback fakes), the package imported by name (resolved to src/).
const repo = fileURLToPath(new URL('../..', import.meta.url));
const resolvePackage = './test/examples/support/resolve-package.mjs';
const exampleTimeoutMs = 90_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Asynchronous on purpose: the fakes answer from this process while the example runs.
function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: repo, env: { ...process.env, ...env, NO_COLOR: '1' }, timeout: exampleTimeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const runExample = (file: string, env: Record<string, string>) =>
  run(['--import', 'tsx', '--import', resolvePackage, `examples/${file}`], env);

/** The system prompt of an Anthropic request as one text, block by block. */
function systemText(body: Record<string, unknown>): string {
  const { system } = body;
  if (typeof system === 'string') return system;
  return Array.isArray(system) ? system.map((block) => (block as { text?: string }).text ?? '').join('\n') : '';
}

/** The text of an Anthropic request's last user message. */
function userText(body: Record<string, unknown>): string {
  const last = (body.messages as Array<{ content: unknown }>).at(-1)?.content;
  return typeof last === 'string' ? last : JSON.stringify(last);
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeAnthropic(): Promise<FakeAnthropic> {
  const fake = await startFakeAnthropic();
  cleanups.push(() => fake.close());
  return fake;
}

async function fakeOpenAI(): Promise<FakeOpenAIServer> {
  const fake = await startFakeOpenAI();
  cleanups.push(() => fake.close());
  return fake;
}

async function fakeMem0(): Promise<FakeMem0> {
  const fake = await startFakeMem0();
  cleanups.push(() => fake.close());
  return fake;
}

function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'with-memory-examples-'));
  cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

const covered = [
  'anthropic-chat-agent.ts',
  'openai-support-agent.ts',
  'planner-executor-agents.ts',
  'mem0-platform.ts',
  'postgres-many-servers.ts',
  'testing-your-agent.test.ts',
];

it('every example is run by a test below', () => {
  const examples = readdirSync(join(repo, 'examples')).filter((file) => file.endsWith('.ts'));
  expect(examples.sort()).toEqual([...covered].sort());
});

describe('examples', { timeout: exampleTimeoutMs + 10_000 }, () => {
  it('anthropic-chat-agent: the second session is given what the first one wrote', async () => {
    const fake = await fakeAnthropic();
    const db = join(tempFolder(), 'memory.db');

    const result = await runExample('anthropic-chat-agent.ts', {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: 'test-key',
      WITH_MEMORY_DB: db,
    });

    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).not.toContain('[with-memory]'); // no memory error was reported
    expect(result.stdout).toContain('✔ Session 2 was given what session 1 taught');
    expect(result.stdout).toContain('stored   › [profile] User lives in Porto.');
    expect(existsSync(db)).toBe(true);
    expect(fake.requests).toHaveLength(3);
    const [first, , third] = fake.requests;
    // An empty memory changes nothing: the caller's system prompt went out as it was written.
    expect(first?.system).toBe('You are a friendly assistant. Answer in one or two sentences.');
    expect(userText(third ?? {})).toBe('What should I wear for a walk tomorrow?');
    expect(third?.messages).toHaveLength(1);
    expect(systemText(third ?? {})).toContain('User lives in Porto.');
    expect(systemText(third ?? {})).toContain('metric units');
  });

  it('postgres-many-servers: server B is given what server A wrote, through PostgreSQL', async () => {
    const fake = await fakeAnthropic();
    const result = await runExample('postgres-many-servers.ts', {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: 'test-key',
      DATABASE_URL: serverUrl,
    });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).not.toContain('[with-memory]');
    expect(result.stdout).toContain('✔ Server B was given what server A wrote');
    expect(fake.requests).toHaveLength(2);
    expect(systemText(fake.requests[0] ?? {})).toBe('');
    expect(systemText(fake.requests[1] ?? {})).toContain('Celsius');
  });

  it('openai-support-agent: the second ticket is given the preference; the address is not stored', async () => {
    const fake = await fakeOpenAI();

    const result = await runExample('openai-support-agent.ts', {
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_API_KEY: 'test-key',
    });

    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).not.toContain('[with-memory]'); // no memory error was reported
    expect(result.stdout).toContain('✔ Ticket T-2 was given the preference from T-1');
    expect(result.stdout).toMatch(
      /stored {3}› \[preference\] User prefers email over phone calls\. +\{"source":"chat"\}/,
    );
    expect(result.stdout).toContain("sales    › a search under agentId 'sales' finds 0 memories");
    const storedLines = result.stdout.split('\n').filter((line) => line.startsWith('stored'));
    expect(storedLines.join('\n')).not.toContain('ana.silva@example.com');
    const [first, second] = fake.requestsTo('chat');
    expect(first?.body.messages).toHaveLength(2);
    expect(second?.body.messages.map((message: { role: string }) => message.role)).toEqual([
      'system',
      'system',
      'user',
    ]);
    expect(second?.body.messages[1].content).toContain('User prefers email over phone calls.');
    expect(second?.body.messages[2].content).toBe('Any news about my refund?');
  });

  it('planner-executor-agents: with `shared`, both get what the user is and prefers, each its own tasks and not the other’s', async () => {
    const fake = await fakeAnthropic();
    fake.respond = (body) =>
      systemText(body).startsWith('You plan trips')
        ? { text: 'Saturday: train to Lisbon, Alfama walk. Sunday: Belém, train home.' }
        : { text: 'OK.' };

    const result = await runExample('planner-executor-agents.ts', {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: 'test-key',
    });

    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).not.toContain('[with-memory]'); // no memory error was reported
    expect(result.stdout).toContain('✔ Both agents were given the shared memories');
    const planning = fake.requests.find((body) => userText(body) === 'Plan a weekend in Lisbon for me.');
    const booking = fake.requests.find((body) => userText(body).startsWith('Book what this plan needs:'));
    expect(userText(booking ?? {})).toContain('Saturday: train to Lisbon'); // the executor got the plan
    const planner = systemText(planning ?? {});
    const executor = systemText(booking ?? {});
    // Told to the planner or to the executor: shared by both.
    for (const shared of ['User is vegetarian.', 'User lives in Porto.', 'User prefers window seats on trains.']) {
      expect(planner).toContain(shared);
      expect(executor).toContain(shared);
    }
    // Each agent's task memory stays its own (what the user said, in their words, is shared).
    expect(planner).toContain('User is working on a guidebook of Lisbon cafés.');
    expect(planner).not.toContain('User is working on the expense report');
    expect(executor).toContain('User is working on the expense report of their last train trip.');
    expect(executor).not.toContain('User is working on a guidebook');
  });

  it('mem0-platform: the second conversation is given what mem0 extracted from the first', async () => {
    const [mem0, anthropic] = await Promise.all([fakeMem0(), fakeAnthropic()]);

    const result = await runExample('mem0-platform.ts', {
      MEM0_HOST: mem0.url,
      MEM0_API_KEY: mem0.apiKey,
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_API_KEY: 'test-key',
    });

    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).not.toContain('[with-memory]'); // no memory error was reported
    expect(result.stdout).toContain('mem0     › PENDING');
    expect(result.stdout).toContain('✔ Conversation 2 was given what mem0 extracted');
    const routes = mem0.requests.map((request) => request.route);
    // What an earlier run left is deleted before the example writes anything.
    expect(routes.indexOf('deleteAll')).toBeGreaterThanOrEqual(0);
    expect(routes.indexOf('deleteAll')).toBeLessThan(routes.indexOf('add'));
    const adds = mem0.requests.filter((request) => request.route === 'add');
    expect(adds[0]?.body).toMatchObject({
      messages: [{ role: 'user', content: 'I prefer aisle seats when I fly.' }, { role: 'assistant' }],
      user_id: 'with-memory-example-user',
    });
    expect(anthropic.requests).toHaveLength(2);
    expect(systemText(anthropic.requests[1] ?? {})).toContain('I prefer aisle seats when I fly.');
  });

  it('testing-your-agent: the example unit test passes under vitest', async () => {
    const result = await run(
      [
        'node_modules/vitest/vitest.mjs',
        'run',
        '--config',
        'test/examples/support/vitest.examples.config.ts',
        'examples/testing-your-agent.test.ts',
      ],
      {},
    );

    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Tests +4 passed \(4\)/);
  });
});
