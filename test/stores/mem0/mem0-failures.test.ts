import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AuthenticationError,
  MemoryError as Mem0ClientError,
  MemoryClient,
  RateLimitError,
  ValidationError,
} from 'mem0ai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreError, StoreTimeoutError } from '../../../src/core/errors.js';
import type { MemoryStore } from '../../../src/core/types.js';
import { mem0Store } from '../../../src/stores/mem0/index.js';
import { refusedUrl } from '../../fakes/http.js';
import { connectMemoryClient, type FakeMem0, type Mem0Failure, startFakeMem0 } from '../../fakes/mem0-server.js';

const scope = { userId: 'alice' };
let fake: FakeMem0;
let store: MemoryStore;

beforeEach(async () => {
  fake = await startFakeMem0();
  store = mem0Store({ client: await connectMemoryClient(fake), timeoutMs: 200 });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await fake.close();
});

async function failure(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

describe('mem0Store maps what the real MemoryClient throws to StoreError', () => {
  const cases: Array<{
    name: string;
    failure: Mem0Failure;
    status: number | undefined;
    retryable: boolean;
    cause: new (...args: never[]) => Error;
  }> = [
    { name: 'HTTP 500', failure: { status: 500 }, status: 500, retryable: true, cause: Mem0ClientError },
    { name: 'HTTP 503', failure: { status: 503 }, status: 503, retryable: true, cause: Mem0ClientError },
    { name: 'HTTP 429', failure: { status: 429 }, status: 429, retryable: true, cause: RateLimitError },
    { name: 'HTTP 400', failure: { status: 400 }, status: 400, retryable: false, cause: ValidationError },
    { name: 'HTTP 403', failure: { status: 403 }, status: 403, retryable: false, cause: AuthenticationError },
    {
      name: 'a 200 whose body is not JSON',
      failure: 'malformed',
      status: undefined,
      retryable: false,
      cause: SyntaxError,
    },
    { name: 'a closed connection', failure: 'close', status: undefined, retryable: true, cause: TypeError },
  ];

  for (const { name, failure: mode, status, retryable, cause } of cases) {
    it(`${name}: status ${status ?? 'none'}, ${retryable ? '' : 'not '}retryable`, async () => {
      fake.fail(mode);
      for (const call of [
        () => store.search('Celsius', { scope }),
        () => store.add({ messages: [{ role: 'user', content: 'I like Celsius' }] }, { scope }),
      ]) {
        const error = await failure(call());
        expect(error.status).toBe(status);
        expect(error.retryable).toBe(retryable);
        expect(error.store).toBe('mem0');
        expect(error.cause).toBeInstanceOf(cause);
      }
      // The failures were real answers to real requests.
      expect(fake.requests.filter((request) => request.failedWith).map((request) => request.route)).toEqual([
        'search',
        'add',
      ]);
    });
  }

  it('a wrong API key: 401, not retryable, and the message says what to check', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {}); // mem0ai logs its failed constructor ping
    vi.spyOn(console, 'warn').mockImplementation(() => {}); // and then "No telemetry ID found"
    const wrongKey = mem0Store({ client: await connectMemoryClient(fake, 'not-the-key') });
    const error = await failure(wrongKey.search('Celsius', { scope }));
    expect(error).toMatchObject({ status: 401, retryable: false, operation: 'search' });
    expect(error.cause).toBeInstanceOf(AuthenticationError);
    expect(error.message).toMatch(/API key/);
  });

  it('mem0 down (connection refused): retryable, no status, the network error kept as cause', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const url = await refusedUrl();

    const down = mem0Store({ client: new MemoryClient({ apiKey: 'k', host: url }) });
    const error = await failure(down.add({ messages: [{ role: 'user', content: 'hello' }] }, { scope }));
    expect(error).toMatchObject({ status: undefined, retryable: true });
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('mem0 hanging past timeoutMs: StoreTimeoutError, retryable', async () => {
    fake.fail('hang');
    const error = await failure(store.search('Celsius', { scope }));
    expect(error).toBeInstanceOf(StoreTimeoutError);
    expect(error).toMatchObject({ retryable: true, timeoutMs: 200, operation: 'search' });
  });

  it("the caller's signal cancels a call: not retryable, not a time-out", async () => {
    fake.fail('hang');
    const controller = new AbortController();
    const pending = store.search('Celsius', { scope, signal: controller.signal });
    controller.abort(new Error('request cancelled'));
    const error = await failure(pending);
    expect(error).not.toBeInstanceOf(StoreTimeoutError);
    expect(error.retryable).toBe(false);
    // Already aborted: nothing is sent at all.
    const requestsBefore = fake.requests.length;
    await failure(store.search('Celsius', { scope, signal: controller.signal }));
    expect(fake.requests).toHaveLength(requestsBefore);
  });

  it('a JSON answer of the wrong shape: malformed, not retryable, never a crash later', async () => {
    fake.fail({ status: 200, body: JSON.stringify({ results: [{ id: 'm1', memory: 42, score: 0.5 }] }) });
    const error = await failure(store.search('Celsius', { scope }));
    expect(error).toMatchObject({ retryable: false, operation: 'search' });
    expect(error.message).toMatch(/malformed/);
  });

  it('recovers: after a 500, the same store works again', async () => {
    fake.fail({ status: 500 }, { times: 1 });
    await failure(store.add({ facts: [{ text: 'Keeps bees' }] }, { scope }));
    expect((await store.add({ facts: [{ text: 'Keeps bees' }] }, { scope })).map((change) => change.event)).toEqual([
      'ADD',
    ]);
    expect(fake.engine.memories().map((memory) => memory.memory)).toEqual(['Keeps bees']);
  });
});

describe('a hung mem0 call does not keep the process alive', () => {
  it('a process whose only pending work is a hung store call exits', async () => {
    // The store's timer is unref'd: with a 10-minute time-out and a call that never settles, node
    // still exits as soon as the script is done. A ref'd timer would hold it for 10 minutes.
    const script = [
      "import { mem0Store } from './src/stores/mem0/index.ts';",
      'const hung = { search: () => new Promise(() => {}), add: () => new Promise(() => {}) };',
      'const store = mem0Store({ client: hung, timeoutMs: 600000 });',
      "store.search('anything', { scope: { userId: 'u' } }).catch(() => {});",
      "console.log('started');",
    ].join('\n');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: process.cwd(),
        timeout: 15_000,
      },
    );
    expect(stdout.trim()).toBe('started');
  });
});
