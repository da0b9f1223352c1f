import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// mem0ai writes its config under MEM0_DIR: one temporary folder for the whole run, removed after.
export default function setup(): () => void {
  const folder = mkdtempSync(join(tmpdir(), 'with-memory-mem0-'));
  process.env.MEM0_DIR = folder;
  return () => rmSync(folder, { recursive: true, force: true });
}
