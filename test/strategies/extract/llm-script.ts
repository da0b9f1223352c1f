/**
 * Scripts the replies of the extractor's model on a fake server: one step per expected model call.
 * A reconciliation step names stored memories by their text; the step reads the numbers the prompt
 * gave them, as a real model would.
 */

/** A decision as a test writes it: memories by text instead of by number. */
export interface ScriptedDecision {
  action: string;
  fact?: number;
  memory?: string;
  text?: string;
  reason?: string;
}

/** One model call: its reply text, a JSON value to send, or a function of the prompt. */
export type ScriptStep = string | { json: unknown } | ((prompt: string) => string);

/** A model reply listing facts. */
export function facts(...list: Array<{ text: string; type: string; confidence?: number; date?: string }>): ScriptStep {
  return { json: { facts: list.map((fact) => ({ confidence: 0.9, ...fact })) } };
}

/** A reconciliation reply; `memory` texts become the numbers the prompt listed them under. */
export function decide(...decisions: ScriptedDecision[]): ScriptStep {
  return (prompt) => {
    const listed = storedMemories(prompt);
    return JSON.stringify({
      decisions: decisions.map(({ memory, ...decision }) => {
        if (memory === undefined) return decision;
        const found = listed.find((entry) => entry.text === memory);
        if (!found) throw new Error(`the prompt did not list the memory "${memory}"`);
        return { ...decision, memory: found.memory };
      }),
    });
  };
}

/** The stored memories a reconciliation prompt listed, with their numbers. */
export function storedMemories(prompt: string): Array<{ memory: number; text: string }> {
  const lines = prompt.split('\n');
  const heading = lines.findIndex((line) => line.startsWith('Stored memories'));
  return heading < 0 ? [] : (JSON.parse(lines[heading + 1] ?? '[]') as Array<{ memory: number; text: string }>);
}

/** True for an extraction prompt, false for a reconciliation prompt. */
export function isExtractionPrompt(prompt: string): boolean {
  return prompt.includes('The turn, as JSON data');
}

/** Plays the steps in order; a call with no step left answers `{}` and is counted as unexpected. */
export function script(steps: ScriptStep[]) {
  const queue = [...steps];
  const prompts: string[] = [];
  let unexpected = 0;
  return {
    prompts,
    get left() {
      return queue.length;
    },
    get unexpected() {
      return unexpected;
    },
    /** The reply text for one prompt. */
    reply(prompt: string): string {
      prompts.push(prompt);
      const step = queue.shift();
      if (step === undefined) {
        unexpected += 1;
        return '{}';
      }
      if (typeof step === 'string') return step;
      if (typeof step === 'function') return step(prompt);
      return JSON.stringify(step.json);
    },
    push(...more: ScriptStep[]) {
      queue.push(...more);
    },
  };
}

/** The prompt of an Anthropic or OpenAI chat request body (one user message). */
export function promptOf(body: Record<string, unknown>): string {
  const messages = body.messages as Array<{ content: unknown }> | undefined;
  const content = messages?.[0]?.content;
  return typeof content === 'string' ? content : JSON.stringify(content);
}
