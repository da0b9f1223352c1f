import { Memory } from 'mem0ai/oss';

/** Dimensions of the test embedder: few enough that a one-word query still reaches a 100 KB text. */
const dimension = 64;

/**
 * A deterministic stand-in for an embedding model: hashed bag of words, presence only. Texts that
 * share words point the same way; no model, no network.
 */
export const hashEmbedder = {
  async embedQuery(text: string): Promise<number[]> {
    return embed(text);
  },
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map(embed);
  },
};

function embed(text: string): number[] {
  const vector = new Array<number>(dimension).fill(0);
  for (const word of text
    .normalize('NFKC')
    .toLowerCase()
    .match(/[\p{L}\p{N}]+/gu) ?? []) {
    const stem = word.length > 3 ? word.replace(/s$/, '') : word;
    let hash = 0x811c9dc5;
    for (const character of stem) hash = Math.imul(hash ^ (character.codePointAt(0) ?? 0), 0x01000193) >>> 0;
    vector[hash % dimension] = 1;
  }
  // A text without words still needs a direction, or cosine similarity divides by zero.
  if (!vector.includes(1)) vector[0] = 1;
  return vector;
}

/**
 * mem0 OSS `Memory` fully in process, as reference section 2.4 configures it: the SQLite vector
 * store in memory, history in memory, the hash embedder, and the OpenAI LLM pointed at `llmUrl`
 * (a loopback fake; nothing listens at the default, so inference fails loudly if a test forgets).
 */
export function createOssMemory({ llmUrl = 'http://127.0.0.1:9/v1' }: { llmUrl?: string } = {}): Memory {
  return new Memory({
    version: 'v1.1',
    vectorStore: { provider: 'memory', config: { collectionName: 'memories', dimension, dbPath: ':memory:' } },
    historyStore: { provider: 'memory', config: {} },
    embedder: { provider: 'langchain', config: { model: hashEmbedder } },
    llm: { provider: 'openai', config: { apiKey: 'test-key', baseURL: llmUrl, model: 'gpt-test' } },
  });
}
