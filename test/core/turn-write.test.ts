import { describe, expect, it } from 'vitest';
import { ExtractionError, StoreError } from '../../src/core/errors.js';
import type { WithMemoryOptions } from '../../src/core/options.js';
import { applyPolicies, route, writeTurn } from '../../src/core/turn-write.js';
import type { Extractor, MemoryOperation, Scope, Turn } from '../../src/core/types.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { resolvedSettings } from './fixtures/resolved-settings.js';

const ana: Scope = { userId: 'ana', agentId: 'planner' };
const anaShared: Scope = { userId: 'ana' };
const at = new Date('2026-03-01T10:00:00Z');

function turnOf(userText: string, assistantText = 'Noted.', scope: Scope = ana): Turn {
  return { userText, assistantText, scope, injected: [], at };
}

/** An extractor that answers these operations for every turn. */
function answering(...operations: unknown[]): Extractor {
  return { name: 'fixed', extract: async () => operations as MemoryOperation[] };
}

function setup(options: Partial<WithMemoryOptions> = {}) {
  const store = inMemoryStore();
  const stored = async (scope: Scope = ana) =>
    ((await store.list({ scope })) ?? []).map(({ text, type, createdAt }) => ({ text, type, createdAt }));
  return { store, stored, ...resolvedSettings({ scope: ana, store, ...options }) };
}

describe('writeTurn: what a turn writes and reports', () => {
  it('writes the user’s episode and the extracted facts, dated with the turn, redacted', async () => {
    const { settings, reporter, errors, stored } = setup({
      redact: true,
      extract: answering({ kind: 'add', write: { facts: [{ text: 'E-mail is ana@example.com', type: 'profile' }] } }),
    });
    const failed = await writeTurn(
      turnOf('My e-mail is ana@example.com, write to me there.'),
      undefined,
      settings,
      reporter,
    );
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);
    const memories = await stored();
    expect(memories).toContainEqual({ text: 'E-mail is [email]', type: 'profile', createdAt: at });
    expect(memories.find((memory) => memory.type === 'episode')?.text).toContain('[email]');
    expect(JSON.stringify(memories)).not.toContain('ana@example.com');
  });

  it('writes no episode when episodes and replies are off', async () => {
    const { settings, reporter, stored } = setup({
      episodes: false,
      extract: answering({ kind: 'add', write: { facts: [{ text: 'Likes tea', type: 'preference' }] } }),
    });
    await writeTurn(turnOf('I like tea, always have.'), undefined, settings, reporter);
    expect((await stored()).map((memory) => memory.type)).toEqual(['preference']);
  });

  it('gives a typed fact its time to live', async () => {
    const { store, settings, reporter } = setup({
      episodes: false,
      ttl: { event: '1d' },
      extract: answering({ kind: 'add', write: { facts: [{ text: 'Dentist on Friday', type: 'event' }] } }),
    });
    const before = Date.now();
    await writeTurn(turnOf('Dentist on Friday.'), undefined, settings, reporter);
    const [memory] = await store.list({ scope: ana });
    expect(memory?.expiresAt?.getTime()).toBeGreaterThanOrEqual(before + 86_400_000);
  });

  it('skips what shouldWrite refuses, and reports and lists a shouldWrite that throws', async () => {
    const { settings, reporter, errors, stored } = setup({
      episodes: false,
      shouldWrite: ({ operation }) => {
        if (operation.kind === 'add' && 'facts' in operation.write && operation.write.facts[0]?.text === 'Secret') {
          throw new Error('policy down');
        }
        return operation.kind === 'add' && 'facts' in operation.write && operation.write.facts[0]?.type !== 'task';
      },
      extract: answering(
        { kind: 'add', write: { facts: [{ text: 'Likes tea', type: 'preference' }] } },
        { kind: 'add', write: { facts: [{ text: 'Buy tea', type: 'task' }] } },
        { kind: 'add', write: { facts: [{ text: 'Secret', type: 'fact' }] } },
      ),
    });
    const failed = await writeTurn(turnOf('Tea.'), undefined, settings, reporter);
    expect((await stored()).map((memory) => memory.text)).toEqual(['Likes tea']);
    expect(failed.map(({ error, attempts }) => [error.message, attempts])).toEqual([
      ['shouldWrite threw; the write was skipped: policy down', 0],
    ]);
    expect(errors.map(({ context }) => context.stage)).toEqual(['write']);
  });

  it('keeps the episode when the extractor fails, and lists the exchange it could not write', async () => {
    const failing: Extractor = {
      name: 'broken',
      extract: async () => {
        throw new Error('model unavailable');
      },
    };
    const { settings, reporter, errors, stored } = setup({ replies: false, extract: failing });
    const failed = await writeTurn(
      turnOf('We moved to Porto in June.', 'Congratulations!'),
      undefined,
      settings,
      reporter,
    );
    expect((await stored()).map((memory) => memory.type)).toEqual(['episode']);
    expect(failed).toHaveLength(1);
    expect(ExtractionError.isInstance(failed[0]?.error)).toBe(true);
    expect(failed[0]?.error.message).toBe('Extractor "broken": model unavailable');
    expect(failed[0]?.operation).toEqual({
      kind: 'add',
      write: {
        messages: [
          { role: 'user', content: 'We moved to Porto in June.' },
          { role: 'assistant', content: 'Congratulations!' },
        ],
      },
    });
    expect(errors.map(({ context }) => context.stage)).toEqual(['extract']);
  });

  it('skips and reports a malformed operation, and writes the rest', async () => {
    const { settings, reporter, errors, stored } = setup({
      episodes: false,
      extract: answering(
        { kind: 'add', write: { facts: 'not a list' } },
        { kind: 'add', write: { facts: [{ text: 'Likes tea' }] } },
      ),
    });
    expect(await writeTurn(turnOf('Tea.'), undefined, settings, reporter)).toEqual([]);
    expect((await stored()).map((memory) => memory.text)).toEqual(['Likes tea']);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error.message).toMatch(/^Extractor "fixed": operation 0 is malformed \(.*\); it was skipped\.$/);
  });

  it('refuses an update of another scope’s memory, and leaves that memory as it was', async () => {
    const { store, settings, reporter, errors } = setup({ episodes: false });
    const [change] = await store.add({ facts: [{ text: 'Ben likes coffee' }] }, { scope: { userId: 'ben' } });
    const id = change?.id ?? '';
    const hostile = { ...settings, extract: answering({ kind: 'update', id, patch: { text: 'Ben likes nothing' } }) };
    const failed = await writeTurn(turnOf('Forget Ben.'), undefined, hostile, reporter);
    expect(failed.map(({ error, attempts }) => [error.message, attempts])).toEqual([
      [`The extractor's update names memory ${id}, which belongs to another scope; it was refused.`, 1],
    ]);
    expect(StoreError.isInstance(failed[0]?.error) && failed[0].error.retryable).toBe(false);
    expect((await store.get(id))?.text).toBe('Ben likes coffee');
    expect(errors).toHaveLength(1);
  });

  it('writes the shared types to the shared scope and the rest to the own scope', async () => {
    const { store, settings, reporter } = setup({
      episodes: false,
      shared: anaShared,
      extract: answering({
        kind: 'add',
        write: {
          facts: [
            { text: 'Is vegetarian', type: 'preference' },
            { text: 'Plan the museum day', type: 'task' },
          ],
        },
      }),
    });
    await writeTurn(turnOf('I am vegetarian; plan the museums.'), anaShared, settings, reporter);
    const all = (await store.list({ scope: anaShared })).map(({ text, scope }) => ({ text, scope }));
    expect(all).toHaveLength(2);
    expect(all).toContainEqual({ text: 'Is vegetarian', scope: anaShared });
    expect(all).toContainEqual({ text: 'Plan the museum day', scope: ana });
  });

  it('tells onWrite what each stored write changed', async () => {
    const writes: unknown[] = [];
    const { settings, reporter } = setup({
      episodes: false,
      onWrite: ({ operation, changes, attempts }) =>
        writes.push({ kind: operation.kind, events: changes.map((c) => c.event), attempts }),
      extract: answering({ kind: 'add', write: { facts: [{ text: 'Likes tea' }] } }),
    });
    await writeTurn(turnOf('Tea.'), undefined, settings, reporter);
    expect(writes).toEqual([{ kind: 'add', events: ['ADD'], attempts: 1 }]);
  });
});

describe('route and applyPolicies', () => {
  it('keeps an agent’s own replies, updates and raw messages in its own scope', () => {
    const reply: MemoryOperation = {
      kind: 'add',
      write: { facts: [{ text: 'Suggested the Hotel Aurora', type: 'episode', metadata: { role: 'assistant' } }] },
    };
    expect(route(reply, ana, anaShared)).toEqual([[reply, ana]]);
    const update: MemoryOperation = { kind: 'update', id: 'm1', patch: { type: 'preference' } };
    expect(route(update, ana, anaShared)).toEqual([[update, ana]]);
  });

  it('drops a write with no text left after redaction, and redacts an update’s text', () => {
    const redact = () => ' ';
    expect(applyPolicies({ kind: 'add', write: { facts: [{ text: 'x' }] } }, at, { redact, ttl: {} })).toBeUndefined();
    const update = applyPolicies({ kind: 'update', id: 'm1', patch: { text: 'a@b.co' } }, at, {
      redact: (text) => text.replace(/\S+@\S+/, '[email]'),
      ttl: {},
    });
    expect(update).toEqual({ kind: 'update', id: 'm1', patch: { text: '[email]' } });
  });
});
