#!/usr/bin/env node
// The `bramble` executable (package.json "bin"): runs the compiled entry in dist/, which
// dispatches `serve` (default), `export`, `import`, `query` and `repair`.
// The server is started with glibc's mmap threshold fixed (MALLOC_MMAP_THRESHOLD_) and a 2 MiB
// V8 semi-space, as `npm start` and the Docker image do (README "Memory"); both only take effect
// at process start, so `serve` re-executes itself once with them set, forwarding signals and
// exit code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write(`bramble: ${entry} is missing; build it first with \`npm run build\` (npm install does this too)\n`);
  process.exit(1);
}
const CLIENT_COMMANDS = new Set(['export', 'import', 'query', 'repair']);
const args = process.argv.slice(2);
if (CLIENT_COMMANDS.has(args[0]) || process.env.MALLOC_MMAP_THRESHOLD_ !== undefined || process.platform !== 'linux') {
  await import(entry);
} else {
  const child = spawn(process.execPath, [...process.execArgv, '--max-semi-space-size=2', '--heap-growing-percent=50', entry, ...args], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' },
  });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
