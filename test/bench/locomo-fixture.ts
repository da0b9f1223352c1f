import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * A tiny invented conversation in LoCoMo's format (the real data is never copied into the
 * repository), with one malformed evidence string as the real file has.
 */
const sample = {
  sample_id: 'conv-test',
  conversation: {
    speaker_a: 'Ana',
    speaker_b: 'Ben',
    session_1_date_time: '2:00 pm on 3 March, 2023',
    session_1: [
      { speaker: 'Ana', dia_id: 'D1:1', text: 'Hi Ben! I adopted a puppy called Miso last week.' },
      { speaker: 'Ben', dia_id: 'D1:2', text: 'That is lovely! What breed is Miso?' },
      { speaker: 'Ana', dia_id: 'D1:3', text: 'A shiba inu, very stubborn.', blip_caption: 'a photo of a small dog' },
      { speaker: 'Ben', dia_id: 'D1:4', text: 'I started rowing on the river every Sunday.' },
    ],
    session_2_date_time: '9:15 am on 20 April, 2023',
    session_2: [
      { speaker: 'Ana', dia_id: 'D2:1', text: 'Ben, how is the rowing going?' },
      { speaker: 'Ben', dia_id: 'D2:2', text: 'Great, I joined a rowing club in Porto yesterday.' },
      { speaker: 'Ana', dia_id: 'D2:3', text: 'I am painting a portrait of Miso for my mother.' },
    ],
  },
  qa: [
    { question: 'When did Ana adopt a puppy?', answer: 'last week', evidence: ['D1:1'], category: 2 },
    { question: "What breed is Ana's dog?", answer: 'shiba inu', evidence: ['D1:3'], category: 4 },
    { question: 'Which club did Ben join?', answer: 'rowing club', evidence: ['D1:4; D2:2'], category: 1 },
    { question: 'Would Ana enjoy an art class?', answer: 'yes', evidence: ['D2:3', 'D9:9'], category: 3 },
    { question: 'What did Ben say about cats?', adversarial_answer: 'nothing', evidence: ['D1:2'], category: 5 },
  ],
};

/** Writes the fixture to a temporary file; call `dispose` when done. */
function writeLocomoFixture(): { path: string; dispose(): void } {
  const directory = mkdtempSync(join(tmpdir(), 'with-memory-locomo-'));
  const path = join(directory, 'locomo-fixture.json');
  writeFileSync(path, JSON.stringify([sample]));
  return { path, dispose: () => rmSync(directory, { recursive: true, force: true }) };
}

/** The fixture's path, for the test that calls it; the file is removed when that test ends. */
export function locomoFixture(): string {
  const { path, dispose } = writeLocomoFixture();
  onTestFinished(dispose);
  return path;
}

/** A new temporary folder, for the test that calls it; removed when that test ends. */
export function temporaryFolder(prefix: string): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}
