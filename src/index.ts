/**
 * `with-memory`: long-term memory for AI agents. `withMemory()` wraps an Anthropic or OpenAI
 * client, or any LLM function: it searches a memory store before each call, puts what it finds
 * into the system prompt, and writes the exchange back after the reply.
 *
 * The root entry loads no SDK and no native module until a store or provider needs one.
 *
 * @module
 */

export { type CheckStoreOptions, checkStore } from './check-store.js';
export {
  ExtractionError,
  InvalidOptionsError,
  MemoryError,
  StoreError,
  type StoreOperation,
  StoreTimeoutError,
} from './core/errors.js';
export type {
  DebugOptions,
  ErrorContext,
  ErrorStage,
  ScopeFunction,
  SearchEvent,
  SearchSettings,
  WithMemoryOptions,
  WriteCandidate,
  WriteEvent,
} from './core/options.js';
export { redactSensitive } from './core/redact.js';
export type { TracingOptions } from './core/tracing.js';
export type {
  AddOptions,
  BuiltInMemoryType,
  ChangeOptions,
  ChatMessage,
  ExtractContext,
  Extractor,
  FactInput,
  HistoryEntry,
  ListOptions,
  Memory,
  MemoryChange,
  MemoryHit,
  MemoryOperation,
  MemoryPatch,
  MemoryStore,
  MemoryType,
  MemoryWrite,
  Metadata,
  MetadataFilter,
  MetadataValue,
  PromptBuilder,
  PromptInput,
  Scope,
  ScoreParts,
  SearchOptions,
  Turn,
} from './core/types.js';
export { type FailedWrite, type FlushReport, flushMemory } from './core/writeback.js';
export type { MemoryFunction, MemoryFunctionRequest } from './providers/function.js';
export { type InMemoryStore, type InMemoryStoreOptions, inMemoryStore } from './stores/in-memory.js';
export * from './stores/local/index.js';
export { type ConsolidateOptions, type ConsolidateReport, consolidate } from './strategies/consolidate.js';
export { exchangeExtractor } from './strategies/extract/exchange-extractor.js';
export { type HeuristicExtractorOptions, heuristicExtractor } from './strategies/extract/heuristic/index.js';
export type { CompleteFunction, ModelSource } from './strategies/extract/llm-client.js';
export {
  type LlmExtractorOptions,
  type LlmExtractorPrompts,
  llmExtractor,
} from './strategies/extract/llm-extractor.js';
export {
  type ExtractionPromptInput,
  extractionPrompt,
  llmPromptVersion,
  type NumberedText,
  type ReconciliationPromptInput,
  reconciliationPrompt,
} from './strategies/extract/llm-extractor-prompts.js';
export { type SystemPromptBuilderOptions, systemPromptBuilder } from './strategies/prompt/system-prompt-builder.js';
export {
  type MemoryFileHandlers,
  type MemoryToolCommands,
  memoryToolHandlers,
} from './tools/memory-file-handlers.js';
export {
  type ChatFunctionTool,
  type ChatToolCall,
  type MemoryToolName,
  type OpenAIMemoryTools,
  openaiMemoryTools,
  type ResponsesFunctionCall,
  type ResponsesFunctionTool,
  type RunnableMemoryTool,
} from './tools/openai-memory-tools.js';
export { withMemory } from './with-memory.js';
