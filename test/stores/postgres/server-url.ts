/** The PostgreSQL server the tests use: `.ci/run` starts it; `WITH_MEMORY_TEST_DATABASE_URL` points elsewhere. */
export const serverUrl = process.env.WITH_MEMORY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
