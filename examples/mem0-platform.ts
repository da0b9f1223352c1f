/**
 * Memories on the mem0 platform: the same `withMemory` call, with `mem0Store` as the store.
 *
 * mem0 distils facts itself, so `withMemory` sends it each exchange as it happened (the default
 * extractor for such a store) and mem0 answers PENDING: it extracts in the background, and the
 * memories appear a moment later. This example waits for them, then starts a new conversation that
 * is given them. It starts by deleting what an earlier run left on the platform for its user.
 *
 * Run:  MEM0_API_KEY=m0-... ANTHROPIC_API_KEY=sk-ant-... npx tsx examples/mem0-platform.ts
 * Environment: MEM0_API_KEY is read by `mem0Store` (when no `apiKey` is passed); MEM0_HOST points at
 * a self-hosted or proxied platform (default https://api.mem0.ai); ANTHROPIC_API_KEY and
 * ANTHROPIC_BASE_URL are read by the Anthropic SDK itself; ANTHROPIC_MODEL picks the model.
 * Exits 0 when the second conversation was given what mem0 extracted from the first.
 */

import Anthropic from '@anthropic-ai/sdk';
import { flushMemory, type Memory, withMemory } from 'with-memory';
import { mem0Store } from 'with-memory/mem0';

const model = process.env.ANTHROPIC_MODEL ?? 'claude-haiku-4-5';
const scope = { userId: 'with-memory-example-user' };
const store = mem0Store({ host: process.env.MEM0_HOST ?? 'https://api.mem0.ai' });

// Start clean: forget what an earlier run of this example left for its user.
const forgotten = await store.deleteAll?.(scope);
console.log(`forgot   › ${forgotten ?? 0} memories of ${scope.userId} from an earlier run`);

let injected: Memory[] = [];
const claude = withMemory(new Anthropic(), {
  scope,
  store,
  onSearch: (event) => {
    injected = [...event.standing, ...event.hits];
  },
  onWrite: (event) => {
    for (const change of event.changes)
      console.log(`mem0     › ${change.event}${change.text ? `: ${change.text}` : ''}`);
  },
});

async function ask(text: string): Promise<string> {
  const reply = await claude.messages.create({
    model,
    max_tokens: 300,
    system: 'You are a travel assistant. Answer in one or two sentences.',
    messages: [{ role: 'user', content: text }],
  });
  const answer = reply.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
  console.log(`user     › ${text}`);
  for (const memory of injected) console.log(`memory   › ${memory.text}`);
  console.log(`claude   › ${answer}`);
  return answer;
}

console.log('\n── Conversation 1');
await ask('I prefer aisle seats when I fly.');
const report = await flushMemory(claude); // the write is sent; mem0 answers PENDING and extracts

// A real application just carries on; the example waits to show the memories arriving.
console.log('\n── Waiting for mem0 to extract the memories');
let extracted: Memory[] = [];
for (let attempt = 0; attempt < 120 && extracted.length === 0; attempt += 1) {
  if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500));
  extracted = (await store.list?.({ scope })) ?? [];
}
for (const memory of extracted) console.log(`stored   › ${memory.text}`);

console.log('\n── Conversation 2');
await ask('Which seat should I pick when I fly to Tokyo?');
const received = injected.map((memory) => memory.text).join('\n');
const lastReport = await flushMemory(claude); // before the process exits: the last write is under way
await store.close?.();

const ok = report.failed.length + lastReport.failed.length === 0 && extracted.length > 0 && /aisle/i.test(received);
console.log(
  ok
    ? '\n✔ Conversation 2 was given what mem0 extracted from conversation 1.'
    : '\n✘ Conversation 2 was not given the memory mem0 extracted.',
);
process.exitCode = ok ? 0 : 1;
