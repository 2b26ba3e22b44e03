#!/usr/bin/env node
// The `bramble` executable (package.json "bin"): runs the compiled entry in dist/, which
// dispatches `serve` (default), `export`, `import` and `query`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write(`bramble: ${entry} is missing; build it first with \`npm run build\` (npm install does this too)\n`);
  process.exit(1);
}
await import(entry);
