/**
 * One session of the demo, in its own process: opens the local store, says one thing to the agent,
 * prints what memory did, and exits. `run-demo.ts` runs it twice.
 *
 * Usage: tsx demo/session.ts --db <file> --session <n> --say <text> [--expect <word>]
 * With --expect, exits 1 unless the memories injected into this session contain that word.
 */
import { parseArgs } from 'node:util';
import { flushMemory, localStore, type SearchEvent } from '../src/index.js';
import { createAgent } from './agent.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    session: { type: 'string', default: '1' },
    say: { type: 'string' },
    expect: { type: 'string' },
    user: { type: 'string', default: 'demo-user' },
  },
});
if (!values.db || !values.say) {
  console.error('usage: tsx demo/session.ts --db <file> --session <n> --say <text> [--expect <word>]');
  process.exit(2);
}

const scope = { userId: values.user };
const store = localStore({ path: values.db });
let search: SearchEvent | undefined;
const agent = await createAgent({ store, scope, onSearch: (event) => (search = event) });

console.log(`\n── Session ${values.session} · process ${process.pid} · store ${values.db}`);
console.log(`user      › ${values.say}`);
const reply = await agent.ask(values.say);

const found = [...(search?.standing ?? []), ...(search?.hits ?? [])];
if (found.length === 0) console.log('memories  › none found');
for (const memory of found) console.log(`memories  › [${memory.type ?? 'memory'}] ${memory.text}`);
if (search?.memoryBlock) {
  console.log('injected  › this block was appended to the system prompt:');
  for (const line of search.memoryBlock.split('\n')) console.log(`            ${line}`);
}
for (const line of reply.split('\n')) console.log(`${agent.label} › ${line}`);

const report = await flushMemory(agent.wrapped);
const stored = await store.list({ scope });
for (const memory of stored) console.log(`stored    › [${memory.type ?? 'memory'}] ${memory.text}`);
await store.close();

if (report.failed.length > 0) {
  console.error(`✘ ${report.failed.length} memory write(s) failed`);
  process.exit(1);
}
if (values.expect) {
  const received = search?.memoryBlock.toLowerCase().includes(values.expect.toLowerCase()) ?? false;
  console.log(
    received
      ? `\n✔ Session ${values.session} received the memory ("${values.expect}") written by an earlier process.`
      : `\n✘ Session ${values.session} did not receive a memory mentioning "${values.expect}".`,
  );
  process.exit(received ? 0 : 1);
}
