// mem0ai reads this once, at import: no telemetry during tests (MEM0_DIR comes from global-setup.ts).
process.env.MEM0_TELEMETRY = 'false';
// Tests never reach a real provider, even when the developer has keys in the environment.
delete process.env.ANTHROPIC_API_KEY;
delete process.env.OPENAI_API_KEY;
delete process.env.MEM0_API_KEY;
