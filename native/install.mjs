#!/usr/bin/env node
// `npm install` hook: builds the optional native scan kernels (native/src/*.cc) from source with
// node-pre-gyp (never downloads a prebuilt binary). A failed build is not an error: Bramble then
// uses its TypeScript kernels (same results, slower scans) and says so here.
// Usage: node native/install.mjs [--help]   (BRAMBLE_SKIP_NATIVE=1 skips the build)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('node native/install.mjs: build the optional native scan kernels from source (node-pre-gyp).\n' +
    'Needs a C++ compiler, make and python3; on failure Bramble falls back to TypeScript kernels.\n' +
    'Set BRAMBLE_SKIP_NATIVE=1 to skip the build.');
  process.exit(0);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.BRAMBLE_SKIP_NATIVE === '1') {
  console.log('bramble: BRAMBLE_SKIP_NATIVE=1, native scan kernels not built (TypeScript kernels will be used)');
  process.exit(0);
}
let bin;
try {
  bin = join(dirname(createRequire(import.meta.url).resolve('@mapbox/node-pre-gyp/package.json')), 'bin', 'node-pre-gyp');
} catch {
  console.warn('bramble: @mapbox/node-pre-gyp is not installed; native scan kernels not built (TypeScript kernels will be used)');
  process.exit(0);
}
console.log('bramble: building native scan kernels from source...');
const args = [bin, 'install', '--build-from-source', '--update-binary'];
// Use the headers installed next to this node binary so node-gyp never downloads them.
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.warn(
    'bramble: WARNING: building the native scan kernels failed (exit ' + (r.status ?? r.signal) + ').\n' +
    '  Bramble works without them (TypeScript kernels, identical results, slower scans).\n' +
    '  To build them install a C++ toolchain (Debian: apt-get install build-essential python3) and run: npm run build:native',
  );
}
process.exit(0);
