// LZ4 fast-mode (depth 1) compression study: CPU time and output size of the native
// lz4CompressInto on the sections the ingest path cuts (256 KiB blocks of one stream's loghub
// lines, perturbed as in the peer workload, with their meta and sm sections), optionally against
// other builds of the addon loaded side by side (old/new alternate within one process, so a noisy
// machine shifts both alike) and lz4-napi's compressSync.
// Usage: node --import tsx bench/lz4-fast.ts [--blocks N] [--reps N] [--depth N] [--addon path.node ...]
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { compressSync, uncompressSync } from 'lz4-napi';
import { loadLoghub, loghubDir, perturb, Rng, streamDefs } from './workload.js';
import { OpenBlock } from '../src/chunk/open-block.js';
import { lz4Bound, nativeBinaryPath } from '../src/native/index.js';

const argv = process.argv.slice(2);
if (argv.includes('--help')) {
  console.log('node --import tsx bench/lz4-fast.ts [--blocks N (300)] [--reps N (9)] [--depth N (1)] [--block-kib N (256)] [--napi] [--addon a.node ...] [--dump file]\n' +
    'Median CPU MiB/s and compressed/raw ratio of lz4CompressInto per addon (default: this tree\'s build).');
  process.exit(0);
}
const arg = (name: string, def: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const nBlocks = arg('--blocks', 300);
const reps = arg('--reps', 9);
const depth = arg('--depth', 1);
const blockBytes = arg('--block-kib', 256) * 1024;
const addons: string[] = [];
for (let i = 0; i < argv.length; i++) if (argv[i] === '--addon') addons.push(resolve(argv[++i]!));
if (addons.length === 0) addons.push(nativeBinaryPath());
const MiB = 2 ** 20;
const root = join(import.meta.dirname, '..');

type Compress = (src: Uint8Array, dst: Uint8Array, at: number, depth: number) => number;
const req = createRequire(import.meta.url);
const impls: { name: string; fn: Compress }[] = addons.map((p) => ({ name: p, fn: (req(p) as { lz4CompressInto: Compress }).lz4CompressInto }));
if (argv.includes('--napi')) {
  impls.push({ name: 'lz4-napi', fn: (src, dst, at) => {
    const o = compressSync(Buffer.from(src.buffer, src.byteOffset, src.length));
    dst.set(o, at);
    return o.length;
  } });
}

// sections of nBlocks blocks: streams in turn, each cut at blockBytes of lines
const jobs = loadLoghub(loghubDir(root));
const streams = streamDefs(jobs);
const rng = new Rng(1);
const cursor = streams.map((s) => (251 * s.hostIndex) % jobs[s.jobIndex]!.lines.length);
const sections: { name: string; bytes: Uint8Array }[] = [];
let tsNs = 1_700_000_000_000_000_000n;
for (let b = 0; b < nBlocks; b++) {
  const si = (b * 7) % streams.length; // streams in turn, jobs interleaved
  const j = jobs[streams[si]!.jobIndex]!;
  const open = new OpenBlock(blockBytes);
  while (open.lineBytes < blockBytes) {
    const line = Buffer.from(j.bytes[cursor[si]!]!);
    perturb(line, rng);
    cursor[si] = (cursor[si]! + 1) % j.lines.length;
    tsNs += BigInt(1_000_000 + rng.int(50_000_000));
    open.appendEntry(tsNs, { tsNs, line: line.toString('utf8'), structuredMetadata: [] });
  }
  const s = open.snapshot();
  sections.push({ name: 'meta', bytes: s.meta }, { name: 'sm', bytes: s.sm }, { name: 'lines', bytes: s.lines });
}
let raw = 0;
let maxLen = 0;
for (const s of sections) {
  raw += s.bytes.length;
  maxLen = Math.max(maxLen, s.bytes.length);
}
const dst = new Uint8Array(lz4Bound(maxLen) + 64);
const dumpAt = argv.indexOf('--dump');
if (dumpAt >= 0) {
  // the sections as u32-LE length + bytes, for a native harness
  const parts: Uint8Array[] = [];
  for (const s of sections) {
    const h = new Uint8Array(4);
    new DataView(h.buffer).setUint32(0, s.bytes.length, true);
    parts.push(h, s.bytes);
  }
  writeFileSync(argv[dumpAt + 1]!, Buffer.concat(parts));
}

// correctness and size once per impl
const sizes = new Map<string, number>();
for (const im of impls) {
  let out = 0;
  for (const s of sections) {
    const n = im.fn(s.bytes, dst, 0, depth);
    out += n;
    if (s.bytes.length > 0) {
      const back = uncompressSync(Buffer.from(dst.subarray(0, n)));
      if (!back.equals(Buffer.from(s.bytes.buffer, s.bytes.byteOffset, s.bytes.length))) throw new Error(`${im.name}: round trip failed`);
    }
  }
  sizes.set(im.name, out);
}

const times = new Map<string, number[]>(impls.map((im) => [im.name, []]));
for (let r = 0; r < reps; r++) {
  for (const im of r % 2 === 0 ? impls : [...impls].reverse()) {
    const t = process.cpuUsage();
    for (const s of sections) im.fn(s.bytes, dst, 0, depth);
    const d = process.cpuUsage(t);
    times.get(im.name)!.push((d.user + d.system) / 1e6);
  }
}
const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1]!;
};
console.log(`${nBlocks} blocks of ${blockBytes / 1024} KiB (+ meta, sm): ${(raw / MiB).toFixed(1)} MiB raw, depth ${depth}, ${reps} reps`);
for (const im of impls) {
  const t = times.get(im.name)!;
  const med = median(t);
  console.log(`${im.name}: median ${(raw / MiB / med).toFixed(0)} MiB/s (min ${(raw / MiB / Math.max(...t)).toFixed(0)}, max ${(raw / MiB / Math.min(...t)).toFixed(0)}), ` +
    `${sizes.get(im.name)} bytes, ratio ${(sizes.get(im.name)! / raw).toFixed(4)}`);
}
