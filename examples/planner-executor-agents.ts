/**
 * A planner and an executor that share what the user told either of them about themselves, while
 * each keeps its own task memories: one option, `shared`.
 *
 *   withMemory(claude, { scope: { userId, agentId: 'planner' }, shared: { userId } })
 *
 * Each call searches the agent's own scope and the shared one (one search step, one block). What
 * the user is and prefers (memories of type `preference` and `profile`) and what the user said
 * (episodes, in the user's words) are written to the shared scope `{ userId }`, so every agent of
 * that user sees them; everything else (here the task each agent took note of) stays under the
 * agent's own `{ userId, agentId }`. Another agent's own memories are never read through the
 * shared scope.
 *
 * Run:  ANTHROPIC_API_KEY=sk-ant-... npx tsx examples/planner-executor-agents.ts
 * Environment: ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL are read by the Anthropic SDK itself;
 * ANTHROPIC_MODEL picks the model. The memories live in this process only (`inMemoryStore()`).
 * Exits 0 when each agent was given the shared memories and its own tasks, and not the other's.
 */

import Anthropic from '@anthropic-ai/sdk';
import { flushMemory, inMemoryStore, type Memory, withMemory } from 'with-memory';

const model = process.env.ANTHROPIC_MODEL ?? 'claude-haiku-4-5';
const userId = 'user_42';
const store = inMemoryStore();
const claude = new Anthropic();

/** A model call with memory; returns the answer and what memory gave it. */
type Ask = (text: string) => Promise<{ answer: string; injected: Memory[] }>;

/** An agent with its own memories (`{ userId, agentId }`) that shares the user's with the others. */
function agent(agentId: string, system: string): Ask {
  const injected: Memory[] = [];
  const client = withMemory(claude, {
    scope: { userId, agentId },
    shared: { userId },
    store,
    onSearch: (event) => injected.push(...event.standing, ...event.hits),
  });
  return async (text) => {
    injected.length = 0;
    const reply = await client.messages.create({
      model,
      max_tokens: 500,
      system,
      messages: [{ role: 'user', content: text }],
    });
    const answer = reply.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    return { answer, injected: [...injected] };
  };
}

const planner = agent('planner', 'You plan trips: answer with a short day-by-day plan.');
const executor = agent('executor', 'You book what a plan needs: list the bookings you would make.');

function show(name: string, text: string, result: { answer: string; injected: Memory[] }): void {
  console.log(`\n${name.padEnd(8)} ‹ ${text.split('\n')[0]}`);
  for (const memory of result.injected) {
    console.log(`memory   › [${memory.scope.agentId ?? 'shared'}] ${memory.text}`);
  }
  console.log(`${name.padEnd(8)} › ${result.answer.split('\n').join(`\n${' '.repeat(11)}`)}`);
}

console.log('── What the user is and prefers is shared; the tasks an agent is told about are its own');
for (const [name, ask, text] of [
  ['planner', planner, "I'm vegetarian. I live in Porto."],
  ['planner', planner, "I'm working on a guidebook of Lisbon cafés."],
  ['executor', executor, 'I prefer window seats on trains.'],
  ['executor', executor, "I'm working on the expense report of my last train trip."],
] as const) {
  show(name, text, await ask(text));
}
// Every write bound for the store, from any of the wrappers, stored before the agents work.
const report = await flushMemory(store);

console.log('\n── The agents at work');
const planText = 'Plan a weekend in Lisbon for me.';
const plan = await planner(planText);
show('planner', planText, plan);
const bookingText = `Book what this plan needs:\n${plan.answer}`;
const booking = await executor(bookingText);
show('executor', bookingText, booking);

const lastReport = await flushMemory(store);

console.log('\n── Every memory of the user (a search or list under { userId } alone sees them all)');
const all = await store.list({ scope: { userId } });
for (const memory of all) console.log(`stored   › ${JSON.stringify(memory.scope)} ${memory.text}`);
await store.close();

const gave = (result: { injected: Memory[] }, text: string) =>
  result.injected.some((memory) => memory.text.includes(text));
/** The memories of an agent's own scope that were injected. */
const ownOf = (result: { injected: Memory[] }, agentId: string) =>
  result.injected.filter((memory) => memory.scope.agentId === agentId).map((memory) => memory.text);
const ok =
  report.failed.length + lastReport.failed.length === 0 &&
  [plan, booking].every(
    (result) => gave(result, 'vegetarian') && gave(result, 'Porto') && gave(result, 'window seats'),
  ) &&
  ownOf(plan, 'planner').some((text) => text.includes('guidebook')) &&
  ownOf(plan, 'executor').length === 0 &&
  ownOf(booking, 'executor').some((text) => text.includes('expense report')) &&
  ownOf(booking, 'planner').length === 0;
console.log(
  ok
    ? '\n✔ Both agents were given the shared memories; each was given its own tasks and not the other’s.'
    : '\n✘ An agent was not given the memories it should have, or was given the other agent’s.',
);
process.exitCode = ok ? 0 : 1;
