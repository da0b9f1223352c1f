/**
 * `npm run demo`: the Celsius scenario in two separate processes on a fresh local store.
 * Session 1 states a preference and quits; session 2, a new process, asks a question and must
 * receive the preference as memory. Exits 0 only if it did.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const folder = mkdtempSync(join(tmpdir(), 'with-memory-demo-'));
const db = join(folder, 'memory.db');
const session = fileURLToPath(new URL('./session.ts', import.meta.url));
const model = process.env.ANTHROPIC_API_KEY
  ? 'Claude (ANTHROPIC_API_KEY is set)'
  : process.env.OPENAI_API_KEY
    ? 'OpenAI (OPENAI_API_KEY is set)'
    : 'an offline stand-in model (set ANTHROPIC_API_KEY or OPENAI_API_KEY for a real one)';
console.log(`with-memory demo: two processes, one local store, answers from ${model}.`);

function runSession(number: number, say: string, expect?: string): number {
  const args = ['--import', 'tsx', session, '--db', db, '--session', String(number), '--say', say];
  if (expect) args.push('--expect', expect);
  return spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1;
}

let status = runSession(1, 'I prefer all temperatures in Celsius, never Fahrenheit.');
if (status === 0) status = runSession(2, "What's a comfortable room temperature?", 'Celsius');
rmSync(folder, { recursive: true, force: true });
process.exit(status);
