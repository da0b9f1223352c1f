import type { MemoryFunctionRequest } from '../src/index.js';

/** The label the offline stand-in model puts on every line it prints. */
export const offlineLabel = '[offline stand-in model]';

/**
 * A stand-in for a real LLM when no API key is set: it answers only from what it was given (the
 * system prompt with its memory block, and the user's message), so the demo shows the memory
 * arriving. It is no language model: a few fixed answers, chosen by what the prompt contains.
 */
export async function offlineModel({ system = '', messages }: MemoryFunctionRequest): Promise<string> {
  const question = messages.at(-1)?.content ?? '';
  const remembered = system
    .split('\n')
    .filter((line) => line.startsWith('- '))
    .map((line) => line.replace(/^- (\[[^\]]*\] )?/, ''));
  const lines: string[] = [];
  lines.push(
    remembered.length === 0
      ? 'I was given no memories about you.'
      : `I was given ${remembered.length} memory(ies) about you: ${remembered.map((text) => `"${text}"`).join('; ')}`,
  );
  if (/temperature|warm|cold|degrees/i.test(question) && question.includes('?')) {
    const memoryText = remembered.join(' ');
    if (/celsius/i.test(memoryText)) {
      lines.push('A comfortable room temperature is about 20–22 °C.');
    } else if (/fahrenheit/i.test(memoryText)) {
      lines.push('A comfortable room temperature is about 68–72 °F.');
    } else {
      lines.push('A comfortable room temperature is about 20–22 °C (68–72 °F).');
    }
  } else if (!question.trim().endsWith('?')) {
    lines.push("Noted — I'll keep that in mind.");
  } else if (remembered.length > 0) {
    // Words compared by their first four letters, so "live" meets "lives".
    const stems = (text: string) => (text.toLowerCase().match(/[a-z]{3,}/g) ?? []).map((word) => word.slice(0, 4));
    const asked = new Set(stems(question));
    const overlap = (text: string) => stems(text).filter((stem) => asked.has(stem)).length;
    const best = [...remembered].sort((a, b) => overlap(b) - overlap(a))[0];
    lines.push(`From what I remember: ${best}`);
  } else {
    lines.push('I can only answer from what I was given, and that does not say.');
  }
  return lines.join('\n');
}
