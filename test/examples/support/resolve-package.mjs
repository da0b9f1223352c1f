// `node --import tsx --import ./test/examples/support/resolve-package.mjs examples/<name>.ts`:
// lets an example import `with-memory`, `with-memory/mem0`, `with-memory/ai-sdk`,
// `with-memory/testing` and `with-memory/postgres` by name in this repository, unbuilt. Users who installed the package
// need none of this.
import { register } from 'node:module';

register('./resolve-package-hooks.mjs', import.meta.url);
