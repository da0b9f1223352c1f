/**
 * The pipeline under faults and hostile strategies (issue 19): each test is named after the defect
 * it closes and fails on the code before the fix.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionsError, type MemoryError, StoreError } from '../../src/core/errors.js';
import type { ErrorContext } from '../../src/core/options.js';
import type { Extractor, MemoryHit, MemoryOperation, MemoryStore, PromptBuilder } from '../../src/core/types.js';
import { flushMemory } from '../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../src/providers/function.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { localStore } from '../../src/stores/local/index.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { withMemory } from '../../src/with-memory.js';
import { serverDatabase } from '../stores/postgres/databases.js';

const alice = { userId: 'alice' };
const say = (content: string) => ({ messages: [{ role: 'user' as const, content }] });
const answer = async (_request: MemoryFunctionRequest) => 'Noted.';

/** An extractor that stores the user's text as one fact, or returns what `operations` gives. */
function extractor(operations?: (text: string) => unknown[]): Extractor {
  return {
    name: 'test',
    extract: async (turn) =>
      (operations?.(turn.userText) ?? [
        { kind: 'add', write: { facts: [{ text: turn.userText, type: 'fact' }] } },
      ]) as MemoryOperation[],
  };
}

function collectErrors() {
  const errors: Array<{ error: MemoryError; context: ErrorContext }> = [];
  return { errors, onError: (error: MemoryError, context: ErrorContext) => errors.push({ error, context }) };
}

// H3 and H4: nothing the pipeline does may leave a rejection unhandled.
const unhandled: unknown[] = [];
const recordUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', recordUnhandled);
});
afterEach(async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  process.off('unhandledRejection', recordUnhandled);
  expect(unhandled).toEqual([]);
});

// H2
describe('H2: every write step is bounded by writeTimeoutMs', () => {
  it('a store add that never answers: the call answers, the write is reported with its content, later turns are stored, flushMemory resolves', async () => {
    const inner = inMemoryStore();
    const store: MemoryStore = {
      ...inner,
      name: 'hanging',
      add: (write, options) =>
        JSON.stringify(write).includes('Oslo') ? new Promise(() => {}) : inner.add(write, options),
    };
    const { errors, onError } = collectErrors();
    const chat = withMemory(answer, {
      scope: alice,
      store,
      extract: extractor(),
      episodes: false,
      writeTimeoutMs: 20,
      onError,
    });
    expect(await chat(say('I live in Oslo.'))).toBe('Noted.');
    expect(await chat(say('I work in Rome.'))).toBe('Noted.');

    const report = await flushMemory(chat);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]?.attempts).toBe(5);
    expect(JSON.stringify(report.failed[0]?.operation)).toContain('I live in Oslo.');
    expect(errors.map(({ error, context }) => `${error.name}:${context.stage}`)).toEqual(['StoreTimeoutError:write']);
    expect(JSON.stringify(errors[0]?.context.operation)).toContain('Oslo');
    expect((await inner.list({ scope: alice })).map((memory) => memory.text)).toEqual(['I work in Rome.']);
  });

  it("with write: 'await', a hanging store costs the call its retries, not forever", async () => {
    const store: MemoryStore = { ...inMemoryStore(), add: () => new Promise(() => {}) };
    const { errors, onError } = collectErrors();
    const chat = withMemory(answer, { scope: alice, store, write: 'await', writeTimeoutMs: 10, onError });
    expect(await chat(say('I live in Oslo.'))).toBe('Noted.');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every(({ error }) => error.name === 'StoreTimeoutError')).toBe(true);
    expect((await flushMemory(chat)).failed.length).toBe(errors.length);
  });

  it('an extractor that never answers: reported with the exchange, the episode still written', async () => {
    const store = inMemoryStore();
    const { errors, onError } = collectErrors();
    const chat = withMemory(answer, {
      scope: alice,
      store,
      extract: { name: 'stuck', extract: () => new Promise(() => {}) },
      writeTimeoutMs: 20,
      onError,
    });
    await chat(say('I live in Oslo.'));
    const report = await flushMemory(chat);
    expect(errors.map(({ error }) => error.name)).toEqual(['ExtractionError']);
    expect(JSON.stringify(report.failed[0]?.operation)).toContain('I live in Oslo.');
    expect((await store.list({ scope: alice })).map((memory) => memory.type)).toEqual(['episode']);
  });

  it('a shouldWrite that never answers: the write is skipped, reported and listed by flushMemory', async () => {
    const store = inMemoryStore();
    const { errors, onError } = collectErrors();
    const chat = withMemory(answer, {
      scope: alice,
      store,
      extract: extractor(),
      episodes: false,
      shouldWrite: () => new Promise(() => {}),
      writeTimeoutMs: 20,
      onError,
    });
    await chat(say('I live in Oslo.'));
    const report = await flushMemory(chat);
    expect(errors.map(({ context }) => context.stage)).toEqual(['write']);
    expect(JSON.stringify(report.failed[0]?.operation)).toContain('Oslo');
    expect(await store.list({ scope: alice })).toEqual([]);
  });

  it('refuses a write time-out out of range', () => {
    expect(() => withMemory(answer, { scope: alice, writeTimeoutMs: 0 })).toThrow(InvalidOptionsError);
  });
});

// H3
describe('H3: hooks that reject never produce an unhandled rejection', () => {
  it('async onError, onSearch, onWrite and debug log that reject change nothing', async () => {
    const store = inMemoryStore();
    await store.add({ facts: [{ text: 'Alice lives in Oslo.' }] }, { scope: alice });
    const failing: Extractor = {
      name: 'failing',
      extract: async () => {
        throw new Error('model down');
      },
    };
    let heard = 0;
    const chat = withMemory(answer, {
      scope: alice,
      store,
      extract: failing,
      onError: async () => {
        heard += 1;
        throw new Error('onError rejected');
      },
      onSearch: async () => {
        throw new Error('onSearch rejected');
      },
      onWrite: async () => {
        throw new Error('onWrite rejected');
      },
      debug: {
        log: async () => {
          throw new Error('log rejected');
        },
      },
    });
    expect(await chat(say('Where do I live?'))).toBe('Noted.');
    await flushMemory(chat);
    expect(heard).toBe(1);
    // The episode was still written, onWrite's rejection notwithstanding.
    expect((await store.list({ scope: alice })).some((memory) => memory.type === 'episode')).toBe(true);
  });
});

// H4
describe('H4: malformed extractor operations are reported and skipped', () => {
  it.each([
    ['null', [null]],
    ["{ kind: 'add' }", [{ kind: 'add' }]],
    ["{ kind: 'add', write: {} }", [{ kind: 'add', write: {} }]],
    ['a fact without text', [{ kind: 'add', write: { facts: [{ type: 'fact' }] } }]],
    ['an update without an id', [{ kind: 'update', patch: { text: 'x' } }]],
  ])('%s: reported, the episode and later turns still written', async (_, malformed) => {
    const store = inMemoryStore();
    const { errors, onError } = collectErrors();
    let first = true;
    const chat = withMemory(answer, {
      scope: alice,
      store,
      extract: extractor((text) => {
        if (!first) return [{ kind: 'add', write: { facts: [{ text: `Fact: ${text}` }] } }];
        first = false;
        return malformed;
      }),
      onError,
    });
    await chat(say('I went to Oslo yesterday.'));
    await chat(say('I went to Rome today.'));
    expect((await flushMemory(chat)).failed).toEqual([]);
    expect(errors.map(({ error, context }) => `${error.name}:${context.stage}`)).toEqual(['ExtractionError:extract']);
    expect(errors[0]?.error.message).toMatch(/operation 0 is malformed/);
    const texts = (await store.list({ scope: alice })).map((memory) => memory.text).join(' | ');
    expect(texts).toContain('I went to Oslo yesterday');
    expect(texts).toContain('Fact: I went to Rome today.');
  });

  it('keeps the well-formed operations returned beside a malformed one', async () => {
    const store = inMemoryStore();
    const { errors, onError } = collectErrors();
    const chat = withMemory(answer, {
      scope: alice,
      store,
      episodes: false,
      extract: extractor(() => [{ kind: 'delete' }, { kind: 'add', write: { facts: [{ text: 'Lives in Oslo.' }] } }]),
      onError,
    });
    await chat(say('I live in Oslo.'));
    await flushMemory(chat);
    expect(errors).toHaveLength(1);
    expect((await store.list({ scope: alice })).map((memory) => memory.text)).toEqual(['Lives in Oslo.']);
  });
});

// M2
describe('M2: a prompt builder that returns something other than a string', () => {
  it.each([
    ['undefined', () => undefined],
    ['null', () => null],
    ['a number', () => 42],
    ['an object', () => ({})],
    ['whitespace', () => '  \n '],
    ['a Promise', () => Promise.resolve('<memories>x</memories>')],
    ['a Promise that rejects', () => Promise.reject(new Error('async builder'))],
  ])('%s: reported, nothing injected, the call unchanged', async (_, build) => {
    const store = inMemoryStore();
    await store.add({ facts: [{ text: 'Alice lives in Oslo.' }] }, { scope: alice });
    const systems: Array<string | undefined> = [];
    const { errors, onError } = collectErrors();
    const prompt = { build } as unknown as PromptBuilder;
    const chat = withMemory(
      async (request: MemoryFunctionRequest) => {
        systems.push(request.system);
        return 'Noted.';
      },
      { scope: alice, store, prompt, write: false, onError },
    );
    await chat({ system: 'You help.', messages: [{ role: 'user', content: 'Where does Alice live?' }] });
    expect(systems).toEqual(['You help.']);
    expect(errors.map(({ context }) => context.stage)).toEqual(['build']);
  });
});

// M4
describe('M4: a failed write reported once is released everywhere; the lists are bounded', () => {
  const refusing = (): MemoryStore => ({
    ...inMemoryStore(),
    add: async () => {
      throw new StoreError('refused', { store: 'refusing', operation: 'add', retryable: false });
    },
  });

  it("flushing the wrapper releases its failures from the store's list too", async () => {
    const store = refusing();
    const chat = withMemory(answer, { scope: alice, store, extract: extractor(), episodes: false, onError: () => {} });
    await chat(say('I live in Oslo.'));
    expect((await flushMemory(chat)).failed).toHaveLength(1);
    expect((await flushMemory(store)).failed).toEqual([]);
  });

  it('keeps at most 1,000 failed writes unflushed, and says how many it dropped', async () => {
    const store = refusing();
    const chat = withMemory(answer, { scope: alice, store, extract: extractor(), episodes: false, onError: () => {} });
    for (let turn = 0; turn < 1010; turn += 1) await chat(say(`Note ${turn}.`));
    const report = await flushMemory(store);
    expect(report.failed).toHaveLength(1000);
    expect(report.dropped).toBe(10);
    expect(JSON.stringify(report.failed.at(-1)?.operation)).toContain('Note 1009.');
    // The wrapper's list lost the same ones: what the store's flush reported is gone there too.
    expect(await flushMemory(chat)).toEqual({ failed: [], dropped: 10 });
  });
});

// M6
describe('M6: independent writes retry concurrently', () => {
  /** A store whose first attempt of every write fails (retryable), and that logs each attempt. */
  function flakyStore() {
    const inner = inMemoryStore();
    const attempts: string[] = [];
    const tries = new Map<string, number>();
    const store: MemoryStore = {
      ...inner,
      add: async (write, options) => {
        const text = 'facts' in write ? (write.facts[0]?.text ?? '') : '';
        const attempt = (tries.get(text) ?? 0) + 1;
        tries.set(text, attempt);
        attempts.push(`${text}#${attempt}`);
        if (attempt === 1) throw new Error('connection reset');
        return inner.add(write, options);
      },
    };
    return { store, inner, attempts };
  }

  it("a later turn does not wait for an earlier turn's retries", async () => {
    const { store, inner, attempts } = flakyStore();
    const chat = withMemory(answer, { scope: alice, store, extract: extractor(), episodes: false });
    await chat(say('First.'));
    await chat(say('Second.'));
    await chat(say('Third.'));
    expect((await flushMemory(chat)).failed).toEqual([]);
    expect(attempts.indexOf('Second.#1')).toBeLessThan(attempts.indexOf('First.#2'));
    expect(attempts.indexOf('Third.#1')).toBeLessThan(attempts.indexOf('First.#2'));
    expect(await inner.list({ scope: alice })).toHaveLength(3);
  });

  it("three concurrent write: 'await' calls try each write once before any retry", async () => {
    const { store, attempts } = flakyStore();
    const chat = withMemory(answer, { scope: alice, store, extract: extractor(), episodes: false, write: 'await' });
    await Promise.all([chat(say('One.')), chat(say('Two.')), chat(say('Three.'))]);
    const firstRetry = attempts.findIndex((attempt) => attempt.endsWith('#2'));
    expect(attempts.slice(0, firstRetry).sort()).toEqual(['One.#1', 'Three.#1', 'Two.#1']);
    expect((await flushMemory(chat)).failed).toEqual([]);
  });
});

// L1
describe('L1: what is read of a store answer is capped', () => {
  it('reads no more hits than the call asked for, however many the store answers', async () => {
    const now = new Date();
    const flood: MemoryHit[] = Array.from({ length: 100_000 }, (_, index) => ({
      id: `m${index}`,
      text: `Memory ${index}`,
      metadata: {},
      scope: alice,
      createdAt: now,
      updatedAt: now,
      score: 0.5,
    }));
    const store: MemoryStore = { ...inMemoryStore(), search: async () => flood };
    const found: number[] = [];
    const chat = withMemory(answer, {
      scope: alice,
      store,
      write: false,
      search: { limit: 8 },
      onSearch: (event) => found.push(event.hits.length),
    });
    await chat(say('Anything?'));
    expect(found).toEqual([8]);
  });
});

// L3
describe('L3: a ttl too long for a Date is refused when the options are checked', () => {
  it.each([['99999999999999d'], [1e300], ['2000000w']])('%s', (ttl) => {
    const error = (() => {
      try {
        withMemory(answer, { scope: alice, store: inMemoryStore(), ttl: { event: ttl } });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).path).toBe('ttl.event');
  });

  it('accepts a long but representable one', () => {
    expect(() => withMemory(answer, { scope: alice, store: inMemoryStore(), ttl: { event: '36500d' } })).not.toThrow();
  });
});

// L7
describe("L7: the pipeline refuses an extractor's update or delete of another scope's memory", () => {
  const directory = mkdtempSync(join(tmpdir(), 'with-memory-l7-'));
  const server = serverDatabase('l7');
  const opened: MemoryStore[] = [];
  afterAll(async () => {
    for (const store of opened) await store.close?.();
    rmSync(directory, { recursive: true, force: true });
  });
  const stores: Array<[string, () => MemoryStore]> = [
    ['in-memory', () => inMemoryStore()],
    ['local', () => localStore({ path: join(directory, `${opened.length}.db`) })],
    ['postgres', () => postgresStore({ pool: server.pool, schema: server.schema() })],
  ];

  it.each(stores)('%s store', async (_, open) => {
    const store = open();
    opened.push(store);
    const bob = { userId: 'bob' };
    const [kept, other] = await store.add(
      { facts: [{ text: 'Bob lives in Rome.' }, { text: 'Bob works as a baker.' }] },
      { scope: bob },
    );
    const { errors, onError } = collectErrors();
    const chat = withMemory(answer, {
      scope: alice,
      store,
      episodes: false,
      extract: extractor(() => [
        { kind: 'update', id: kept?.id, patch: { text: 'Bob lives nowhere.' } },
        { kind: 'delete', id: other?.id },
      ]),
      onError,
    });
    await chat(say('Forget what Bob said.'));
    const report = await flushMemory(chat);
    expect(report.failed.map((failure) => failure.operation.kind)).toEqual(['update', 'delete']);
    expect(errors.map(({ error }) => error.message)).toEqual([
      expect.stringMatching(/belongs to another scope; it was refused/),
      expect.stringMatching(/belongs to another scope; it was refused/),
    ]);
    expect((await store.list?.({ scope: bob }))?.map((memory) => memory.text).sort()).toEqual([
      'Bob lives in Rome.',
      'Bob works as a baker.',
    ]);
  });

  it("still applies an update to the turn's own memory", async () => {
    const store = inMemoryStore();
    const [own] = await store.add({ facts: [{ text: 'Alice lives in Oslo.' }] }, { scope: alice });
    const chat = withMemory(answer, {
      scope: alice,
      store,
      episodes: false,
      extract: extractor(() => [{ kind: 'update', id: own?.id, patch: { text: 'Alice lives in Bergen.' } }]),
    });
    await chat(say('I moved to Bergen.'));
    expect((await flushMemory(chat)).failed).toEqual([]);
    expect((await store.list({ scope: alice })).map((memory) => memory.text)).toEqual(['Alice lives in Bergen.']);
  });
});
