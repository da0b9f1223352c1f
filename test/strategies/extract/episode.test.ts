import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Scope, Turn } from '../../../src/core/types.js';
import { flushMemory } from '../../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../../src/providers/function.js';
import { inMemoryStore } from '../../../src/stores/in-memory.js';
import { localStore } from '../../../src/stores/local/index.js';
import { postgresStore } from '../../../src/stores/postgres/index.js';
import {
  episodeOf,
  maxEpisodeLength,
  replyEpisodeOf,
  shortReplyLength,
} from '../../../src/strategies/extract/episode.js';
import { withMemory } from '../../../src/with-memory.js';
import { serverDatabase } from '../../stores/postgres/databases.js';

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

  it('stores nothing of small talk, however it is worded', () => {
    for (const said of [
      'Thanks, that helps.',
      'Great, thank you so much!',
      'Sounds good.',
      'Thanks! That was helpful.',
    ]) {
      expect(episodeOf(turn(said), [], 'UTC')).toBeUndefined();
      expect(
        replyEpisodeOf({ ...turn(said), assistantText: 'Glad it helped! Enjoy Lisbon.' }, [], 'UTC'),
      ).toBeUndefined();
    }
    expect(episodeOf(turn('Thanks, that helps. I will book the Hotel Arts.'), [], 'UTC')?.text).toBe(
      'I will book the Hotel Arts.',
    );
  });

  // L11
  it('cuts a long emoji or CJK turn on whole code points, never leaving half a surrogate pair', () => {
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    for (const text of [
      '😀'.repeat(maxEpisodeLength),
      `a${'😀'.repeat(maxEpisodeLength)}`,
      '𠀋'.repeat(maxEpisodeLength),
    ]) {
      const episode = episodeOf(turn(text), [], 'UTC')?.text ?? '';
      expect(episode.length).toBeGreaterThan(maxEpisodeLength / 2);
      expect(episode.length).toBeLessThanOrEqual(maxEpisodeLength);
      expect(episode).not.toMatch(loneSurrogate);
    }
  });

  // L15
  it('keeps nothing the user quotes of the injected block, nor a sentence that repeats an injected memory', () => {
    const injected = [
      {
        id: 'm1',
        text: 'I went to the support group yesterday (7 May 2023).',
        type: 'episode',
        metadata: { role: 'user' },
        scope,
        createdAt: monday,
        updatedAt: monday,
      },
    ];
    const block =
      '<memories>\nRemembered from earlier conversations with the user.\n- [said 8 May 2023] I went to the support group yesterday (7 May 2023).\n</memories>';
    const quoted = { ...turn(`Why did you write this? ${block} Also, I start a pottery class on Friday.`), injected };
    expect(episodeOf(quoted, [], 'UTC')?.text).toBe(
      'Why did you write this? Also, I start a pottery class on Friday (12 May 2023).',
    );
    const pastedLines = {
      ...turn('- [said 8 May 2023] I went to the support group yesterday (7 May 2023).'),
      injected,
    };
    expect(episodeOf(pastedLines, [], 'UTC')).toBeUndefined();
    const repeated = { ...turn('I went to the support group yesterday.'), injected };
    expect(episodeOf(repeated, [], 'UTC')).toBeUndefined();
    const inside = { ...turn(`You said "${injected[0]?.text}" but it was Tuesday.`), injected };
    expect(episodeOf(inside, [], 'UTC')?.text).toBe('You said but it was Tuesday (2 May 2023).');
    expect(replyEpisodeOf({ ...quoted, assistantText: `As I remember it: ${block}` }, [], 'UTC')?.text).toBe(
      'As I remember it:',
    );
  });

  it('keeps a short reply whole, and of a long one the sentences with names, numbers and list items', () => {
    const short = replyEpisodeOf(
      { ...turn('Where should I stay?'), assistantText: 'Try the **Hotel Arts**, by the beach.' },
      [],
      'UTC',
    );
    expect(short).toEqual({
      text: 'Try the Hotel Arts, by the beach.',
      type: 'episode',
      createdAt: monday,
      metadata: { role: 'assistant' },
    });
    const long = [
      'That is a great question, and there is a lot to consider when you choose where to stay.',
      'It depends on what you want from the trip and on how much you would like to spend each night.',
      'Here are my suggestions:',
      '1. Hotel Arts: by the beach, with a rooftop pool.',
      '- Casa Bonay: quiet rooms in Eixample.',
      'Rooms start at 180 euros a night in May.',
      'Whichever you choose, book early because the good ones fill up quickly in the spring.',
    ].join('\n');
    expect(long.length).toBeGreaterThan(shortReplyLength);
    expect(replyEpisodeOf({ ...turn('Where should I stay?'), assistantText: long }, [], 'UTC')?.text).toBe(
      'Here are my suggestions: 1. Hotel Arts: by the beach, with a rooftop pool. - Casa Bonay: quiet rooms in Eixample. Rooms start at 180 euros a night in May.',
    );
  });

  it('keeps a long reply typed without capitals whole: its names cannot be told by their capitals', () => {
    const long = [
      'i can tell you that some writers and musicians take a different stance on the question.',
      'for example, the singer-songwriter manolo garcía has spoken publicly about his support for unity.',
      'he has said so in interviews, though his songs rarely deal with politics directly.',
      'likewise, a few novelists have taken a more complex view of the whole situation over the years.',
      'overall, there is a real diversity of views within the artistic community there.',
    ].join(' ');
    expect(long.length).toBeGreaterThan(shortReplyLength);
    const kept = replyEpisodeOf({ ...turn('Who takes a different stance?'), assistantText: long }, [], 'UTC');
    expect(kept?.text).toBe(long);
  });

  it('cuts a very long turn at a word', () => {
    const text =
      episodeOf(turn(`I pasted this: ${'lorem ipsum '.repeat(maxEpisodeLength / 6)}`), [], 'UTC')?.text ?? '';
    expect(text.length).toBeLessThanOrEqual(maxEpisodeLength);
    expect(text.endsWith('ipsum…') || text.endsWith('lorem…')).toBe(true);
  });
});

describe('episodes through the default wrapper', () => {
  it('finds the hotel the assistant recommended a week later, by "what was the hotel you suggested?"', async () => {
    const store = inMemoryStore();
    let clock = new Date('2024-03-01T10:00:00Z');
    let reply = '';
    const agent = withMemory(async (_request: MemoryFunctionRequest) => reply, {
      scope,
      store,
      write: 'await',
      now: () => clock,
    });
    reply = [
      'Barcelona in spring is lovely, and there are good places to stay in every part of the city.',
      'Since you want to be close to the sea and you mentioned a budget of about 200 euros a night,',
      'I would suggest the Hotel Casa Camper in El Raval: it is a short walk from the beach, the rooms are quiet, and breakfast is included.',
      'If you would rather be in the old town, look at places around the cathedral instead, though they are noisier at night.',
      'Whatever you choose, book soon: spring weekends fill up quickly.',
    ].join(' ');
    await agent({ messages: [{ role: 'user', content: 'Where should I stay in Barcelona next month?' }] });
    reply = 'Sure: pack light layers, the evenings can be cool in March.';
    await agent({ messages: [{ role: 'user', content: 'What should I pack for the weather?' }] });
    for (const day of [2, 4, 6]) {
      clock = new Date(`2024-03-0${day}T10:00:00Z`);
      reply = 'Happy to help with that.';
      await agent({
        messages: [{ role: 'user', content: `Can you help me plan my running schedule for week ${day}?` }],
      });
    }

    clock = new Date('2024-03-08T10:00:00Z');
    let block = '';
    const ask = withMemory(
      async ({ system }: MemoryFunctionRequest) => {
        block = system ?? '';
        return '';
      },
      { scope, store, mode: 'read-only', now: () => clock },
    );
    await ask({ messages: [{ role: 'user', content: 'What was the hotel you suggested?' }] });
    expect(block).toMatch(/\[said 1 March 2024, by the assistant\][^\n]*Hotel Casa Camper in El Raval/);
  });

  it('stores nothing for a turn of small talk, nor for the answer to it', async () => {
    const store = inMemoryStore();
    const agent = withMemory(async (_request: MemoryFunctionRequest) => 'Glad I could help! Say hi to Maria.', {
      scope,
      store,
      write: 'await',
    });
    for (const said of ['Thanks, that helps.', 'Great, thank you so much!', 'Sounds good.']) {
      await agent({ messages: [{ role: 'user', content: said }] });
      expect(await store.list({ scope })).toEqual([]);
    }
  });

  // L15
  it('never stores the injected block when the user pastes it back', async () => {
    const store = inMemoryStore();
    let system = '';
    const agent = withMemory(
      async (request: MemoryFunctionRequest) => {
        system = request.system ?? '';
        return 'Noted.';
      },
      { scope, store, write: 'await' },
    );
    await agent({ messages: [{ role: 'user', content: 'My sister Ana teaches violin in Porto.' }] });
    await agent({ messages: [{ role: 'user', content: 'What does my sister Ana teach?' }] });
    expect(system).toContain('<memories>');
    await agent({
      messages: [{ role: 'user', content: `You showed me this: ${system} Is that all you know about Porto?` }],
    });
    const texts = (await store.list({ scope })).map((memory) => memory.text);
    expect(texts.filter((text) => text.includes('violin'))).toEqual(['My sister Ana teaches violin in Porto.']);
    expect(texts.join('\n')).not.toContain('Remembered from earlier');
    expect(texts).toContain('You showed me this: Is that all you know about Porto?');
  });

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

// L11
describe('a long emoji turn on PostgreSQL', () => {
  const server = serverDatabase('episodes');

  it('is stored, cut on whole code points', async () => {
    const store = postgresStore({ pool: server.pool, schema: server.schema() });
    const errors: unknown[] = [];
    const agent = withMemory(async (_request: MemoryFunctionRequest) => 'Wow!', {
      scope,
      store,
      write: 'await',
      onError: (error) => errors.push(error),
    });
    await agent({ messages: [{ role: 'user', content: '😀'.repeat(maxEpisodeLength) }] });
    expect(errors).toEqual([]);
    const [episode] = await store.list({ scope });
    expect(episode?.text.startsWith('😀😀')).toBe(true);
    expect(episode?.text.endsWith('😀…')).toBe(true);
    await store.close();
  });
});
