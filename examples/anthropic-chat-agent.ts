/**
 * A Claude chat agent with long-term memory: it reads before it responds and writes after.
 *
 * Two chat sessions with the same user. In the first, the user says where they live and how they
 * like their answers; after each reply, `withMemory` writes what it learned to the store. The
 * second session is a fresh conversation: before Claude answers, the memories are searched and
 * appended to the system prompt, so Claude knows the user without being told again.
 *
 * Run:  ANTHROPIC_API_KEY=sk-ant-... npx tsx examples/anthropic-chat-agent.ts
 * Environment: ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL are read by the Anthropic SDK itself;
 * ANTHROPIC_MODEL picks the model; WITH_MEMORY_DB is the memory file (default: one in a temporary
 * folder, deleted at the end, so every run starts with an empty memory).
 * Exits 0 when the second session received the memories written by the first.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { flushMemory, localStore, type Memory, withMemory } from 'with-memory';

const model = process.env.ANTHROPIC_MODEL ?? 'claude-haiku-4-5';
const folder = mkdtempSync(join(tmpdir(), 'with-memory-example-'));
const path = process.env.WITH_MEMORY_DB ?? join(folder, 'memory.db');
const store = localStore({ path });

let injected: Memory[] = [];
const claude = withMemory(new Anthropic(), {
  scope: { userId: 'user_42' },
  store,
  // Only to print what memory did; the agent itself needs no hooks.
  onSearch: (event) => {
    injected = [...event.standing, ...event.hits];
  },
});

/** A chat session: one conversation with its own history, as any chat loop keeps it. */
function startSession(title: string) {
  console.log(`\n── ${title}`);
  const messages: Anthropic.MessageParam[] = [];
  return async (text: string): Promise<string> => {
    messages.push({ role: 'user', content: text });
    const reply = await claude.messages.create({
      model,
      max_tokens: 300,
      system: 'You are a friendly assistant. Answer in one or two sentences.',
      messages,
    });
    const answer = reply.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    messages.push({ role: 'assistant', content: answer });
    console.log(`user     › ${text}`);
    for (const memory of injected) console.log(`memory   › [${memory.type ?? 'memory'}] ${memory.text}`);
    console.log(`claude   › ${answer}`);
    return answer;
  };
}

const firstSession = startSession('Session 1: the user introduces themselves');
await firstSession('Hi! I live in Porto.');
await firstSession('I prefer short answers with metric units.');

// Writes run in the background, after each reply; flushMemory waits for them (call it before a
// process exits, or, as here, before the next session must see them).
const report = await flushMemory(claude);
const stored = await store.list({ scope: { userId: 'user_42' } });
console.log(`\n── Stored in ${path}`);
for (const memory of stored) console.log(`stored   › [${memory.type ?? 'memory'}] ${memory.text}`);

const secondSession = startSession('Session 2: a new conversation, same user');
await secondSession('What should I wear for a walk tomorrow?');
const received = injected.map((memory) => memory.text).join('\n');
const lastReport = await flushMemory(claude); // before the process exits: the last write is under way
await store.close();
rmSync(folder, { recursive: true, force: true });

const ok = report.failed.length + lastReport.failed.length === 0 && /Porto/.test(received) && /metric/.test(received);
console.log(
  ok
    ? '\n✔ Session 2 was given what session 1 taught: where the user lives and how they like answers.'
    : '\n✘ Session 2 was not given the memories of session 1.',
);
process.exitCode = ok ? 0 : 1;
