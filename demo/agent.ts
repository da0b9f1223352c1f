import type { Scope, SearchEvent } from '../src/index.js';
import { type MemoryStore, withMemory } from '../src/index.js';
import { offlineLabel, offlineModel } from './offline-model.js';

/** A chat agent with memory: the real Claude or OpenAI model when a key is set, else the stand-in. */
export interface DemoAgent {
  /** Who answers: printed before each reply. */
  label: string;
  ask(text: string): Promise<string>;
  /** The wrapped client or function, for `flushMemory`. */
  wrapped: object;
}

const system = 'You are a friendly assistant. Answer in one or two sentences.';

export async function createAgent(options: {
  store: MemoryStore;
  scope: Scope;
  onSearch: (event: SearchEvent) => void;
}): Promise<DemoAgent> {
  const memory = { ...options, onError: (error: Error) => console.error(`memory error › ${error.message}`) };
  if (process.env.ANTHROPIC_API_KEY) {
    const { default: Anthropic } = await import('@anthropic-ai/sdk');
    const claude = withMemory(new Anthropic(), memory);
    const model = process.env.ANTHROPIC_MODEL ?? 'claude-haiku-4-5';
    return {
      label: `claude (${model})`,
      wrapped: claude,
      async ask(text) {
        const reply = await claude.messages.create({
          model,
          max_tokens: 300,
          system,
          messages: [{ role: 'user', content: text }],
        });
        return reply.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      },
    };
  }
  if (process.env.OPENAI_API_KEY) {
    const { default: OpenAI } = await import('openai');
    const openai = withMemory(new OpenAI(), memory);
    const model = process.env.OPENAI_MODEL ?? 'gpt-4o-mini';
    return {
      label: `openai (${model})`,
      wrapped: openai,
      async ask(text) {
        const reply = await openai.chat.completions.create({
          model,
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: text },
          ],
        });
        return reply.choices[0]?.message.content ?? '';
      },
    };
  }
  const standIn = withMemory(offlineModel, memory);
  return {
    label: offlineLabel,
    wrapped: standIn,
    ask: (text) => standIn({ system, messages: [{ role: 'user', content: text }] }),
  };
}
