import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localStore } from '../../../src/stores/local/index.js';
import { type FakeAnthropic, startFakeAnthropic } from '../../fakes/anthropic-server.js';

const run = promisify(execFile);
const session = fileURLToPath(new URL('./fixtures/celsius-session.ts', import.meta.url));
const celsius = 'I prefer all temperatures in Celsius, never Fahrenheit.';
const roomQuestion = "What's a comfortable room temperature?";

let fake: FakeAnthropic;
let folder: string;

beforeEach(async () => {
  fake = await startFakeAnthropic();
  folder = mkdtempSync(join(tmpdir(), 'with-memory-celsius-'));
});

afterEach(async () => {
  await fake.close();
  rmSync(folder, { recursive: true, force: true });
});

/** Runs one session in a new Node process, with the default store at `path`. */
async function runSession(path: string, userText: string, system?: string) {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', session, fake.url, userText, ...(system ? [system] : [])],
    { env: { ...process.env, WITH_MEMORY_DB: path } },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { reply: string; failed: number; errors: string[] };
}

function systemTexts(body: Record<string, unknown> | undefined): string[] {
  const system = body?.system;
  if (typeof system === 'string') return [system];
  return Array.isArray(system) ? system.map((block) => String((block as { text: unknown }).text)) : [];
}

describe('the Celsius scenario on the default local store, across two processes', () => {
  it('remembers in the second process what the user said in the first', async () => {
    const path = join(folder, 'memory.db');
    const first = await runSession(path, celsius);
    expect(first).toEqual({ reply: 'OK.', failed: 0, errors: [] });
    expect(systemTexts(fake.requests[0])).toEqual([]); // nothing known yet: request unchanged

    const callerSystem = 'You are a helpful assistant.';
    const second = await runSession(path, roomQuestion, callerSystem);
    expect(second).toEqual({ reply: 'OK.', failed: 0, errors: [] });
    const texts = systemTexts(fake.requests[1]);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toBe(callerSystem);
    expect(texts[1]).toContain('<memories>');
    expect(texts[1]).toMatch(/Celsius/);

    // The memory is in the file, for user_42 only.
    const store = localStore({ path });
    try {
      // The preference, and what the user asked in the second session (an episode).
      const hits = await store.search('temperature', { scope: { userId: 'user_42' } });
      expect(hits.map((hit) => [hit.type, hit.text])).toEqual(
        expect.arrayContaining([
          ['preference', 'User prefers all temperatures in Celsius, never Fahrenheit.'],
          ['episode', "What's a comfortable room temperature?"],
        ]),
      );
      expect(await store.search('Celsius', { scope: { userId: 'someone_else' } })).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
