import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// mem0ai reads these once, at import: no telemetry and no writes to ~/.mem0 during tests.
process.env.MEM0_TELEMETRY = 'false';
process.env.MEM0_DIR ??= mkdtempSync(join(tmpdir(), 'with-memory-mem0-'));
// Tests never reach a real provider, even when the developer has keys in the environment.
delete process.env.ANTHROPIC_API_KEY;
delete process.env.OPENAI_API_KEY;
delete process.env.MEM0_API_KEY;
