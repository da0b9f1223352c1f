/**
 * An OpenAI support agent that remembers each customer from one ticket to the next.
 *
 * - `agentId: 'support'`: the memories belong to this customer and this agent. Another agent that
 *   serves the same customer (sales, say) searches under its own agentId and does not see them.
 * - Metadata: the extractor tags every memory it writes with `source: 'chat'`; what kind of memory
 *   it is (`preference`, `profile`, `fact`...) is the memory's `type`. Together they answer "which
 *   preferences did support learn in chat?" with one `list({ types, filters })`.
 * - `redact: true`: e-mail addresses, phone numbers, card numbers and API keys are masked before
 *   anything reaches the store; support chats are full of them.
 *
 * Run:  OPENAI_API_KEY=sk-... npx tsx examples/openai-support-agent.ts
 * Environment: OPENAI_API_KEY and OPENAI_BASE_URL are read by the OpenAI SDK itself; OPENAI_MODEL
 * picks the model. The memories live in this process only (`inMemoryStore()`).
 * Exits 0 when the second ticket was given the preference from the first, nothing stored holds the
 * customer's e-mail address, and another agent's search finds nothing.
 */

import OpenAI from 'openai';
import { flushMemory, heuristicExtractor, inMemoryStore, type Memory, withMemory } from 'with-memory';

const model = process.env.OPENAI_MODEL ?? 'gpt-4o-mini';
const customerId = 'customer_1001';
const store = inMemoryStore();

let injected: Memory[] = [];
const support = withMemory(new OpenAI(), {
  scope: { userId: customerId, agentId: 'support' },
  store,
  extract: heuristicExtractor({ metadata: { source: 'chat' } }),
  redact: true,
  onSearch: (event) => {
    injected = [...event.standing, ...event.hits];
  },
});

/** Answers one ticket: a new conversation each time, as a help desk opens them. */
async function answerTicket(ticket: string, text: string): Promise<string> {
  const completion = await support.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: 'You are the support agent of Acme. Be brief and kind.' },
      { role: 'user', content: text },
    ],
  });
  const answer = completion.choices[0]?.message.content ?? '';
  console.log(`\n── Ticket ${ticket}`);
  console.log(`customer › ${text}`);
  for (const memory of injected) console.log(`memory   › [${memory.type ?? 'memory'}] ${memory.text}`);
  console.log(`support  › ${answer}`);
  return answer;
}

await answerTicket(
  'T-1 (Monday)',
  'Hi, my order 4411 arrived damaged. I prefer email over phone calls. My email is ana.silva@example.com.',
);
// Background writes, waited for here so that the next ticket sees them.
const report = await flushMemory(support);

await answerTicket('T-2 (a week later)', 'Any news about my refund?');
const secondTicket = injected.map((memory) => memory.text).join('\n');
const lastReport = await flushMemory(support);

console.log('\n── What support learned in chat');
const learned = await store.list({ scope: { userId: customerId, agentId: 'support' }, filters: { source: 'chat' } });
for (const memory of learned) {
  console.log(`stored   › [${memory.type ?? 'memory'}] ${memory.text}  ${JSON.stringify(memory.metadata)}`);
}
const preferences = await store.list({
  scope: { userId: customerId, agentId: 'support' },
  types: ['preference'],
  filters: { source: 'chat' },
});
const salesSees = await store.search('email phone', { scope: { userId: customerId, agentId: 'sales' } });
console.log(`sales    › a search under agentId 'sales' finds ${salesSees.length} memories`);
await store.close();

const ok =
  report.failed.length + lastReport.failed.length === 0 &&
  /email over phone/.test(secondTicket) &&
  preferences.some((memory) => /email over phone/.test(memory.text)) &&
  !learned.some((memory) => memory.text.includes('ana.silva@example.com')) &&
  salesSees.length === 0;
console.log(
  ok
    ? '\n✔ Ticket T-2 was given the preference from T-1; the e-mail address was not stored; sales saw nothing.'
    : '\n✘ The support agent did not remember as it should.',
);
process.exitCode = ok ? 0 : 1;
