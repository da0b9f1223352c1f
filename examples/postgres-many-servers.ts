/**
 * Many servers, one memory: two instances of a Claude agent (two processes or machines in real
 * life, here two connection pools in one script) share their users' memories through PostgreSQL.
 *
 * The user tells the agent on server A how they like temperatures; a later request lands on
 * server B, whose memory search finds what server A wrote, so Claude answers in Celsius without
 * being told again.
 *
 * Run:  DATABASE_URL=postgres://user@host/db ANTHROPIC_API_KEY=sk-ant-... npx tsx examples/postgres-many-servers.ts
 * Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); the memories go to
 * a schema of this run, dropped at the end. ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL are read by
 * the Anthropic SDK itself; ANTHROPIC_MODEL picks the model.
 * Exits 0 when server B was given what server A wrote.
 */

import Anthropic from '@anthropic-ai/sdk';
import pg from 'pg';
import { flushMemory, type Memory, withMemory } from 'with-memory';
import { postgresStore } from 'with-memory/postgres';

const model = process.env.ANTHROPIC_MODEL ?? 'claude-haiku-4-5';
const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `with_memory_example_${process.pid}`;

/** One server: its own pool and store on the shared database, its own wrapped client. */
function startServer(name: string) {
  const pool = new pg.Pool({ connectionString });
  const store = postgresStore({ pool, schema });
  let injected: Memory[] = [];
  const claude = withMemory(new Anthropic(), {
    scope: { userId: 'user_42' },
    store,
    onSearch: (event) => {
      injected = [...event.standing, ...event.hits];
    },
  });
  return {
    pool,
    async ask(text: string): Promise<Memory[]> {
      const reply = await claude.messages.create({
        model,
        max_tokens: 300,
        messages: [{ role: 'user', content: text }],
      });
      await flushMemory(claude); // the write is in PostgreSQL when this resolves
      const answer = reply.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      console.log(`${name} › user: ${text}`);
      for (const memory of injected) console.log(`${name} › memory: [${memory.type ?? 'memory'}] ${memory.text}`);
      console.log(`${name} › claude: ${answer}`);
      return injected;
    },
  };
}

const serverA = startServer('server A');
const serverB = startServer('server B');
try {
  await serverA.ask('I prefer all temperatures in Celsius, never Fahrenheit.');
  const given = await serverB.ask("What's a comfortable room temperature?");
  const shared = given.some((memory) => memory.text.includes('Celsius'));
  console.log(shared ? '✔ Server B was given what server A wrote' : '✘ Server B was not given the memory');
  process.exitCode = shared ? 0 : 1;
} finally {
  await serverA.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await Promise.all([serverA.pool.end(), serverB.pool.end()]);
}
