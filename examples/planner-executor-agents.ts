/**
 * A planner and an executor that share what the user told them about themselves, while each keeps
 * memories of its own.
 *
 * How scopes match: a search under `{ userId, agentId: 'planner' }` finds only memories stored with
 * that agentId; a search under `{ userId }` finds every memory of the user, the planner's and the
 * executor's included. A scope cannot say "no agentId", so the user-level memories that every
 * agent may read carry a marker, `metadata: { shared: true }`, and their search filters on it.
 *
 * The setup:
 * - Shared, user-level memories are written with scope `{ userId }` and `metadata: { shared: true }`
 *   (here by the front desk, the assistant the user talks to about themselves).
 * - Each agent is two wrappers around the same client:
 *     own   = withMemory(claude, { scope: { userId, agentId } })
 *             reads and writes the agent's own memories;
 *     agent = withMemory(own, { scope: { userId }, mode: 'read-only', search: { filters: { shared: true } } })
 *             also reads the shared memories, and writes nothing.
 *   Each call searches both and injects both blocks; the agent writes only under its own agentId,
 *   so the other agent never sees it.
 *
 * Run:  ANTHROPIC_API_KEY=sk-ant-... npx tsx examples/planner-executor-agents.ts
 * Environment: ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL are read by the Anthropic SDK itself;
 * ANTHROPIC_MODEL picks the model. The memories live in this process only (`inMemoryStore()`).
 * Exits 0 when each agent was given the shared memories and its own, and not the other's.
 */

import Anthropic from '@anthropic-ai/sdk';
import { flushMemory, heuristicExtractor, inMemoryStore, type Memory, type SearchEvent, withMemory } from 'with-memory';

const model = process.env.ANTHROPIC_MODEL ?? 'claude-haiku-4-5';
const userId = 'user_42';
const store = inMemoryStore();
const claude = new Anthropic();
const shared = { shared: true };

/** A model call with memory; returns the answer and what memory gave it. */
type Ask = (text: string) => Promise<{ answer: string; injected: Memory[] }>;

function caller(client: Anthropic, system: string, injected: Memory[]): Ask {
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

/** The assistant the user talks to about themselves: what it learns is the user's, for every agent. */
function frontDesk(): Ask {
  const injected: Memory[] = [];
  const client = withMemory(claude, {
    scope: { userId },
    store,
    extract: heuristicExtractor({ metadata: shared }),
    search: { filters: shared },
    onSearch: (event) => injected.push(...event.standing, ...event.hits),
  });
  return caller(client, 'You are the front desk of a travel service. Be brief.', injected);
}

/** An agent with its own memories (`{ userId, agentId }`) and read-only access to the shared ones. */
function agent(agentId: string, system: string): Ask {
  const injected: Memory[] = [];
  const onSearch = (event: SearchEvent) => injected.push(...event.standing, ...event.hits);
  const own = withMemory(claude, { scope: { userId, agentId }, store, onSearch });
  const withShared = withMemory(own, {
    scope: { userId },
    store,
    mode: 'read-only',
    search: { filters: shared },
    onSearch,
  });
  return caller(withShared, system, injected);
}

const desk = frontDesk();
const planner = agent('planner', 'You plan trips: answer with a short day-by-day plan.');
const executor = agent('executor', 'You book what a plan needs: list the bookings you would make.');

function show(name: string, text: string, result: { answer: string; injected: Memory[] }): void {
  console.log(`\n${name.padEnd(8)} ‹ ${text.split('\n')[0]}`);
  for (const memory of result.injected) {
    console.log(`memory   › [${memory.scope.agentId ?? 'shared'}] ${memory.text}`);
  }
  console.log(`${name.padEnd(8)} › ${result.answer.split('\n').join(`\n${' '.repeat(11)}`)}`);
}

console.log('── What the user tells the front desk is shared; what they tell an agent is that agent’s');
for (const [name, ask, text] of [
  ['desk', desk, "I'm vegetarian. I live in Porto."],
  ['planner', planner, 'I prefer at most three activities a day.'],
  ['executor', executor, 'I prefer window seats on trains.'],
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
const ok =
  report.failed.length + lastReport.failed.length === 0 &&
  gave(plan, 'vegetarian') &&
  gave(plan, 'three activities') &&
  !gave(plan, 'window seats') &&
  gave(booking, 'vegetarian') &&
  gave(booking, 'window seats') &&
  !gave(booking, 'three activities');
console.log(
  ok
    ? '\n✔ Both agents were given the shared memories; each was given its own and not the other’s.'
    : '\n✘ An agent was not given the memories it should have, or was given the other agent’s.',
);
process.exitCode = ok ? 0 : 1;
