import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Scope, Turn } from '../../../src/core/types.js';
import { flushMemory } from '../../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../../src/providers/function.js';
import { localStore } from '../../../src/stores/local/index.js';
import { episodeOf, maxEpisodeLength } from '../../../src/strategies/extract/episode.js';
import { withMemory } from '../../../src/with-memory.js';

const scope: Scope = { userId: 'caroline' };
const monday = new Date('2023-05-08T13:56:00Z');
const turn = (userText: string, at = monday): Turn => ({ userText, assistantText: 'OK.', scope, injected: [], at });

describe('episodeOf', () => {
  it('keeps what the user said, with the calendar date beside each relative date', () => {
    expect(episodeOf(turn('I went to a support group yesterday. It was powerful!'), [], 'UTC')).toEqual({
      text: 'I went to a support group yesterday (7 May 2023). It was powerful!',
      type: 'episode',
      createdAt: monday,
      metadata: { role: 'user' },
    });
    expect(episodeOf(turn('We fly to Rome next Friday and back in two weeks.'), [], 'UTC')?.text).toBe(
      'We fly to Rome next Friday (12 May 2023) and back in two weeks (22 May 2023).',
    );
  });

  it('drops small talk, and keeps nothing of a turn that is only small talk', () => {
    for (const said of ['ok', 'Thanks!', 'Got it.', 'Thanks, Maria!', 'Haha. Cool, thank you!']) {
      expect(episodeOf(turn(said), [], 'UTC')).toBeUndefined();
    }
    expect(episodeOf(turn('Thanks, Maria! I adopted a dog called Miso.'), [], 'UTC')?.text).toBe(
      'I adopted a dog called Miso.',
    );
  });

  it('keeps nothing the extracted facts already say, and keeps the rest', () => {
    const said = turn('I prefer all temperatures in Celsius, never Fahrenheit.');
    const fact = {
      kind: 'add' as const,
      write: { facts: [{ text: 'User prefers all temperatures in Celsius, never Fahrenheit.' }] },
    };
    expect(episodeOf(said, [fact], 'UTC')).toBeUndefined();
    const exchange = { kind: 'add' as const, write: { messages: [{ role: 'user' as const, content: said.userText }] } };
    expect(episodeOf(said, [exchange], 'UTC')).toBeUndefined();
    const more = turn('I prefer all temperatures in Celsius. My sister lives in Perth.');
    expect(episodeOf(more, [fact], 'UTC')?.text).toBe(more.userText);
  });

  it('cuts a very long turn at a word', () => {
    const text = episodeOf(turn(`I pasted this: ${'lorem ipsum '.repeat(200)}`), [], 'UTC')?.text ?? '';
    expect(text.length).toBeLessThanOrEqual(maxEpisodeLength);
    expect(text.endsWith('ipsum…') || text.endsWith('lorem…')).toBe(true);
  });
});

describe('episodes through the default wrapper', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'with-memory-episodes-'));
  });
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('stores a 200-turn conversation with each turn its time, nothing for small talk, and forgets it all on deleteAll', async () => {
    const store = localStore({ path: join(directory, 'memory.db') });
    const places = ['Oslo', 'Lisbon', 'Kyoto', 'Quito', 'Perth'];
    let clock = new Date('2023-01-01T09:00:00Z');
    const agent = withMemory(async (_request: MemoryFunctionRequest) => 'Nice!', { scope, store, now: () => clock });
    const others = withMemory(async (_request: MemoryFunctionRequest) => 'Nice!', {
      scope: { userId: 'melanie' },
      store,
    });
    await others({ messages: [{ role: 'user', content: 'I went sailing near Oslo on my birthday.' }] });

    const said = new Map<string, Date>();
    for (let index = 0; index < 200; index += 1) {
      clock = new Date(Date.UTC(2023, 0, 1 + index, 9));
      const text =
        index % 4 === 1
          ? 'ok'
          : index % 4 === 3
            ? 'Thanks!'
            : `On trip ${index} I walked around ${places[index % places.length]} with my cousin number ${index}.`;
      if (index % 2 === 0) said.set(text, clock);
      await agent({ messages: [{ role: 'user', content: text }] });
    }
    await agent({ messages: [{ role: 'user', content: 'I prefer aisle seats on long flights.' }] });
    expect((await flushMemory(agent)).failed).toEqual([]);

    const episodes = [];
    for (let offset = 0; ; offset += 100) {
      const page = await store.list({ scope, types: ['episode'], limit: 100, offset });
      episodes.push(...page);
      if (page.length < 100) break;
    }
    // One episode per turn that said something, each with the time of its turn; none for "ok"/"thanks".
    expect(episodes).toHaveLength(100);
    for (const episode of episodes) expect(episode.createdAt).toEqual(said.get(episode.text));
    const all = await store.list({ scope, limit: 1000 });
    expect(all.map((memory) => memory.text)).not.toContain('ok');
    expect(all.map((memory) => memory.text)).not.toContain('Thanks!');
    expect(all.filter((memory) => memory.type === 'preference').map((memory) => memory.text)).toEqual([
      'User prefers aisle seats on long flights.',
    ]);
    // Found by what was said, with its date.
    const [hit] = await store.search('When did I walk around Kyoto with cousin number 42?', { scope });
    expect(hit?.text).toBe('On trip 42 I walked around Kyoto with my cousin number 42.');
    expect(hit?.createdAt).toEqual(new Date(Date.UTC(2023, 0, 43, 9)));

    expect(await store.deleteAll(scope)).toBe(101);
    expect(await store.list({ scope, limit: 1000 })).toEqual([]);
    expect(await store.search('cousin Kyoto aisle seats', { scope })).toEqual([]);
    // Another user's memories stay.
    expect((await store.list({ scope: { userId: 'melanie' } })).length).toBeGreaterThan(0);
    await store.close();
  });
});
