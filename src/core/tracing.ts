/**
 * OpenTelemetry spans of the turn pipeline: `with-memory.search`, `with-memory.build` and
 * `with-memory.write`, each a child of the span that was active when the caller made the call.
 * `@opentelemetry/api` is an optional peer: it is loaded on a pipeline's first turn when it is
 * installed; without it, or without a registered tracer provider, nothing is recorded.
 *
 * Spans carry counts, sizes and error kinds, never memory text (unless `recordText` asks for the
 * query and the memory block), and scope ids only hashed, or not at all.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import { estimateTokens } from './token-estimate.js';
import type { Scope } from './types.js';

type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** How the pipeline's OpenTelemetry spans are made (`withMemory({ tracing })`). */
export interface TracingOptions {
  /**
   * Make spans when `@opentelemetry/api` is installed; `false` never loads it.
   * @default true
   */
  enabled?: boolean;
  /**
   * How scope ids appear on spans: `'hashed'` (the first 16 hex digits of their SHA-256, enough to
   * follow one user across traces; guessable ids can be found by hashing guesses) or `'omitted'`.
   * @default 'hashed'
   */
  scopeIds?: 'hashed' | 'omitted';
  /**
   * Also record the search query and the memory block on the spans. Memory text then leaves the
   * process with your traces.
   * @default false
   */
  recordText?: boolean;
}

/** The tracing of one turn, parented to the caller's span. */
export interface TurnTracing {
  /** Runs the search (and standing list) in a `with-memory.search` span. */
  search<T extends { hits: unknown[]; standing: unknown[] }>(query: string, work: () => Promise<T>): Promise<T>;
  /** Runs the prompt builder in a `with-memory.build` span. */
  build(memories: number, work: () => string): string;
  /** Runs the write of the turn in a `with-memory.write` span; `work` resolves to the failed writes. */
  write<T extends unknown[]>(work: () => Promise<T>): Promise<T>;
}

/** The tracing of one pipeline. */
export interface PipelineTracing {
  /** The tracing of a turn of `scope` that starts now, under the caller's active span. */
  turn(scope: Scope): Promise<TurnTracing>;
}

/** What a span of ours counts while its work runs; found through the context. */
interface StepRecord {
  span: Span;
  errorType?: string;
  operations: number;
  attempts: number;
}

const tracerName = 'with-memory';
let loading: Promise<OpenTelemetryApi | undefined> | undefined;
let api: OpenTelemetryApi | undefined;
let stepKey: symbol | undefined;

function loadApi(): Promise<OpenTelemetryApi | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (module) => {
      api = module;
      stepKey = module.createContextKey('with-memory.step');
      return module;
    },
    // Not installed: no tracing, and no second try.
    () => undefined,
  );
  return loading;
}

const noTracing: TurnTracing = {
  search: (_query, work) => work(),
  build: (_memories, work) => work(),
  write: (work) => work(),
};

/** The tracing of a pipeline over `storeName`; each turn names its own scope (it may change per call). */
export function createTracing(
  { enabled = true, scopeIds = 'hashed', recordText = false }: TracingOptions,
  storeName: string,
): PipelineTracing {
  let tracer: Tracer | undefined;

  return {
    async turn(scope) {
      const loaded = enabled ? await loadApi() : undefined;
      if (!loaded) return noTracing;
      const common: Record<string, string> = { 'with_memory.store': storeName };
      if (scopeIds === 'hashed') {
        for (const [field, attribute] of scopeAttributes) {
          const id = scope[field];
          if (id !== undefined) common[attribute] = hashId(id);
        }
      }
      const otel = loaded;
      tracer ??= otel.trace.getTracer(tracerName);
      const turnTracer = tracer;
      // Taken now, while the caller's span is active: a background write ends long after it.
      const parent = otel.context.active();

      /** Runs `work` in a span; `describe` adds what the work found, only when the span records. */
      function run<T>(
        name: string,
        attributes: Attributes,
        work: () => T,
        describe: (result: Awaited<T>, step: StepRecord) => Attributes,
      ): T {
        const span = turnTracer.startSpan(name, undefined, parent);
        // No provider, or sampled out: no attribute is computed, no context is switched.
        if (!span.isRecording()) {
          span.end();
          return work();
        }
        span.setAttributes({ ...common, ...attributes });
        const step: StepRecord = { span, operations: 0, attempts: 0 };
        const finish = (result: Awaited<T> | undefined) => {
          if (result !== undefined) span.setAttributes(describe(result, step));
          if (step.errorType !== undefined) {
            span.setAttribute('error.type', step.errorType);
            span.setStatus({ code: otel.SpanStatusCode.ERROR, message: step.errorType });
          }
          span.end();
        };
        const failed = (error: unknown) => {
          step.errorType ??= errorType(error);
          finish(undefined);
          throw error;
        };
        let result: T;
        try {
          result = otel.context.with(otel.trace.setSpan(parent, span).setValue(stepKey as symbol, step), work);
        } catch (error) {
          return failed(error);
        }
        if (result instanceof Promise) {
          return result.then((value: Awaited<T>) => {
            finish(value);
            return value;
          }, failed) as T;
        }
        finish(result as Awaited<T>);
        return result;
      }

      return {
        search: (query, work) =>
          run('with-memory.search', recordText ? { 'with_memory.search.query': query } : {}, work, (found) => ({
            'with_memory.search.hits': found.hits.length,
            'with_memory.search.standing': found.standing.length,
          })),
        build: (memories, work) =>
          run('with-memory.build', { 'with_memory.build.memories': memories }, work, (block) => ({
            'with_memory.block.tokens': estimateTokens(block),
            ...(recordText && { 'with_memory.block.text': block }),
          })),
        write: (work) =>
          run('with-memory.write', {}, work, (failed, step) => ({
            'with_memory.write.operations': step.operations,
            'with_memory.write.attempts': step.attempts,
            'with_memory.write.failed': failed.length,
          })),
      };
    },
  };
}

/** Notes on the active span of ours (if any) that an error of this kind happened in its work. */
export function recordTracedError(error: unknown): void {
  const step = activeStep();
  if (step) step.errorType ??= errorType(error);
}

/** Notes on the active write span (if any) that one operation was tried `attempts` times. */
export function recordTracedAttempts(attempts: number): void {
  const step = activeStep();
  if (!step) return;
  step.operations += 1;
  step.attempts += attempts;
}

function activeStep(): StepRecord | undefined {
  if (!api || stepKey === undefined) return undefined;
  return api.context.active().getValue(stepKey) as StepRecord | undefined;
}

const scopeAttributes = [
  ['userId', 'with_memory.scope.user_id'],
  ['agentId', 'with_memory.scope.agent_id'],
  ['runId', 'with_memory.scope.run_id'],
  ['appId', 'with_memory.scope.app_id'],
] as const;

function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 16);
}

/** The error's class name: never its message, which may quote a store's answer. */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
