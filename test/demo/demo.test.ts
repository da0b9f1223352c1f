import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic-server.js';
import { startFakeOpenAI } from '../fakes/openai-server.js';

const run = promisify(execFile);
const tsx = ['--import', 'tsx'];
const offline = { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '' };
const folder = mkdtempSync(join(tmpdir(), 'with-memory-demo-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('npm run demo', () => {
  it('offline: session 2, a new process, receives the Celsius memory and exits 0', async () => {
    const { stdout } = await run(process.execPath, [...tsx, 'demo/run-demo.ts'], { env: offline });
    const session2 = stdout.slice(stdout.indexOf('── Session 2'));
    expect(session2).toContain('memories  › [preference] User prefers all temperatures in Celsius, never Fahrenheit.');
    expect(session2).toContain('<memories>');
    expect(session2).toContain('[offline stand-in model] › A comfortable room temperature is about 20–22 °C.');
    expect(stdout).toContain('✔ Session 2 received the memory ("Celsius")');
    // Every line the stand-in prints carries its label (the "stored ›" lines echo what was kept of its answers).
    const answers = stdout.split('\n').filter((line) => line.includes('I was given') && !line.startsWith('stored'));
    expect(answers.length).toBe(2);
    for (const line of answers) expect(line.startsWith('[offline stand-in model] › ')).toBe(true);
  });

  it('with ANTHROPIC_API_KEY set, the real Claude client answers (here against the loopback fake)', async () => {
    const fake = await startFakeAnthropic();
    try {
      const { stdout } = await run(process.execPath, [...tsx, 'demo/run-demo.ts'], {
        env: { ...offline, ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: fake.url },
      });
      expect(stdout).toContain('claude (claude-haiku-4-5) › OK.');
      expect(stdout).not.toContain('offline stand-in');
      expect(fake.requests).toHaveLength(2);
      expect(JSON.stringify(fake.requests[1]?.system)).toContain('Celsius');
    } finally {
      await fake.close();
    }
  });

  it('with OPENAI_API_KEY set, the real OpenAI client answers (here against the loopback fake)', async () => {
    const fake = await startFakeOpenAI();
    try {
      const { stdout } = await run(process.execPath, [...tsx, 'demo/run-demo.ts'], {
        env: { ...offline, OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: fake.baseURL },
      });
      expect(stdout).toContain('openai (gpt-4o-mini) › OK.');
      expect(fake.requests).toHaveLength(2);
      expect(JSON.stringify(fake.requests[1]?.body)).toContain('Celsius');
    } finally {
      await fake.close();
    }
  });

  it('session --expect fails with exit code 1 when the memory did not arrive', async () => {
    const db = join(folder, 'empty.db');
    const session = run(
      process.execPath,
      [...tsx, 'demo/session.ts', '--db', db, '--session', '2', '--say', 'Hello?', '--expect', 'Celsius'],
      { env: offline },
    );
    await expect(session).rejects.toMatchObject({ code: 1 });
  });
});

describe('npm run chat', () => {
  it('remembers across runs and quits on quit or at the end of input', async () => {
    const db = join(folder, 'chat.db');
    const chat = (input: string) => {
      const child = execFile(process.execPath, [...tsx, 'demo/chat.ts', '--store', db, '--user', 'ada'], {
        env: offline,
      });
      child.stdin?.end(input);
      return new Promise<string>((resolve, reject) => {
        let output = '';
        child.stdout?.on('data', (chunk) => (output += chunk));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`chat exited ${code}`))));
      });
    };
    await chat('I live in Lisbon.\nquit\n');
    const second = await chat('Where do I live?\n');
    expect(second).toContain('From what I remember: User lives in Lisbon.');
  });
});
