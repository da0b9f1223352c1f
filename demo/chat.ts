/**
 * `npm run chat`: an interactive chat with memory. Memories persist across runs.
 *
 * Usage: npm run chat -- [--user <id>] [--store <path to a local .db file> | mem0]
 * `--store mem0` uses the mem0 platform (MEM0_API_KEY). Quit with `quit`, `exit` or Ctrl-D.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { flushMemory, localStore, type MemoryStore, type SearchEvent } from '../src/index.js';
import { mem0Store } from '../src/stores/mem0/index.js';
import { createAgent } from './agent.js';

const { values } = parseArgs({
  options: {
    user: { type: 'string', default: 'chat-user' },
    store: { type: 'string', default: '.with-memory/chat.db' },
  },
});
const store: MemoryStore = values.store === 'mem0' ? mem0Store() : localStore({ path: values.store });
let search: SearchEvent | undefined;
const agent = await createAgent({ store, scope: { userId: values.user }, onSearch: (event) => (search = event) });

console.log(`Chatting as "${values.user}" with ${agent.label}; memories in ${values.store}. Type quit to leave.`);
const lines = createInterface({ input: process.stdin, output: process.stdout, prompt: 'you › ' });
lines.prompt();
// The line iterator ends on Ctrl-D or at the end of piped input.
for await (const line of lines) {
  const text = line.trim();
  if (text === 'quit' || text === 'exit') break;
  if (text !== '') {
    const reply = await agent.ask(text);
    const recalled = [...(search?.standing ?? []), ...(search?.hits ?? [])];
    if (recalled.length > 0) console.log(`  (recalled: ${recalled.map((memory) => memory.text).join(' | ')})`);
    for (const replyLine of reply.split('\n')) console.log(`${agent.label} › ${replyLine}`);
  }
  lines.prompt();
}
lines.close();
await flushMemory(agent.wrapped);
await store.close?.();
