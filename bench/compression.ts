// Compression study: how block size, LZ4 search depth and chunk size trade bytes on disk against
// compress and decode time, on the peer workload's lines (per stream, as the server cuts them).
// Blocks are built with the server's own OpenBlock (same sections, index and codec), cut at each
// block size with LZ4 fast (depth 1, what ingest uses) and deeper hash-chain searches (what a
// compaction rewrite could afford); chunks are written with the server's chunk writer.
// Usage: node --import tsx bench/compression.ts [--gib N] [--help]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorkload, loadLoghub, loghubDir } from './workload.js';
import { decodePushBody } from '../src/push/index.js';
import { OpenBlock } from '../src/chunk/open-block.js';
import { blockBytes, type BlockData } from '../src/chunk/block.js';
import { decodeLines, decodeMeta } from '../src/chunk/block-reader.js';
import { writeChunkFileAsync } from '../src/chunk/chunk-file.js';
import { kernels } from '../src/native/index.js';
import { Scratch } from '../src/util/scratch.js';
import { labelsToString } from '../src/util/labels.js';

const argv = process.argv.slice(2);
if (argv.includes('--help')) {
  console.log('node --import tsx bench/compression.ts [--gib N (default 0.1)] [--seed N]\n' +
    'Ratio, compress and decode speed by block size and LZ4 search depth, and chunk file overhead by\n' +
    'chunk target size, over the peer workload. Prints a table; writes bench/results/compression-latest.json.');
  process.exit(0);
}
const arg = (name: string, def: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const gib = arg('--gib', 0.1);
const seed = arg('--seed', 1);
const MiB = 2 ** 20;
const root = join(import.meta.dirname, '..');

process.stderr.write(`building workload (${gib} GiB), kernels: ${kernels.name} ...\n`);
const w = buildWorkload(loadLoghub(loghubDir(root)), gib * 2 ** 30, seed, Date.now() - 60_000);
// per-stream entries in push order (what each stream's head sees)
const byStream = new Map<string, { tsNs: bigint; line: string; structuredMetadata: [] }[]>();
for (const list of w.bodies) for (const body of list) {
  for (const s of decodePushBody(body, 'application/x-protobuf', undefined, { maxDecompressedBytes: 64 * MiB })) {
    const key = labelsToString(s.labels);
    let arr = byStream.get(key);
    if (!arr) byStream.set(key, (arr = []));
    for (const e of s.entries) arr.push({ tsNs: e.tsNs, line: e.line, structuredMetadata: [] });
  }
}
const raw = w.rawBytes;

function cutAll(blockSize: number, depth: number): { blocks: BlockData[][]; cpuS: number } {
  const out: BlockData[][] = [];
  let cpu = 0;
  for (const entries of byStream.values()) {
    const blocks: BlockData[] = [];
    let open = new OpenBlock(blockSize);
    for (const e of entries) {
      open.appendEntry(e.tsNs, e);
      if (open.lineBytes >= blockSize) {
        const t = process.cpuUsage();
        blocks.push(open.cut(undefined, depth));
        const d = process.cpuUsage(t);
        cpu += (d.user + d.system) / 1e6;
        open = new OpenBlock(blockSize);
      }
    }
    if (open.entries > 0) blocks.push(open.cut(undefined, depth));
    out.push(blocks);
  }
  return { blocks: out, cpuS: cpu };
}

function decodeAll(blocks: BlockData[][]): number {
  const lines = new Scratch();
  const meta = new Scratch();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (const list of blocks) for (const b of list) {
      decodeLines(b, lines);
      decodeMeta(b, meta);
    }
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

interface Row { blockKiB: number; depth: number; ratio: number; compressCpuSPerGiB: number; decodeMiBPerS: number; blocks: number }
const rows: Row[] = [];
for (const blockKiB of [64, 128, 256, 512, 1024]) {
  for (const depth of [1, 4, 16]) {
    const { blocks, cpuS } = cutAll(blockKiB * 1024, depth);
    let bytes = 0;
    let n = 0;
    for (const list of blocks) for (const b of list) {
      bytes += blockBytes(b);
      n++;
    }
    const decS = decodeAll(blocks);
    const row = { blockKiB, depth, ratio: bytes / raw, compressCpuSPerGiB: cpuS / (raw / 2 ** 30), decodeMiBPerS: raw / MiB / decS, blocks: n };
    rows.push(row);
    process.stderr.write(`block ${blockKiB} KiB depth ${depth}: ratio ${row.ratio.toFixed(3)}, compress ${row.compressCpuSPerGiB.toFixed(2)} CPU-s/GiB, decode ${row.decodeMiBPerS.toFixed(0)} MiB/s, ${n} blocks\n`);
  }
}

// chunk size: file overhead (footer, per-block records) and file count at the default block size
const { blocks: b256 } = cutAll(256 * 1024, 1);
const dir = mkdtempSync(join(tmpdir(), 'bramble-compression-'));
const chunkRows: { targetKiB: number; files: number; fileBytes: number; blockBytes: number; overheadPct: number }[] = [];
try {
  for (const targetKiB of [256, 512, 1536, 4096]) {
    let files = 0;
    let fileBytes = 0;
    let blockTotal = 0;
    let k = 0;
    for (const list of b256) {
      let cur: BlockData[] = [];
      let curBytes = 0;
      const flush = async (): Promise<void> => {
        if (cur.length === 0) return;
        const s = await writeChunkFileAsync(join(dir, `${targetKiB}-${k++}.chk`), 'fake', '{a="b"}', cur);
        files++;
        fileBytes += s.bytes;
        cur = [];
        curBytes = 0;
      };
      for (const b of list) {
        cur.push(b);
        curBytes += blockBytes(b);
        blockTotal += blockBytes(b);
        if (curBytes >= targetKiB * 1024) await flush();
      }
      await flush();
    }
    chunkRows.push({ targetKiB, files, fileBytes, blockBytes: blockTotal, overheadPct: ((fileBytes - blockTotal) / blockTotal) * 100 });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\ncompression study: ${(raw / MiB).toFixed(1)} MiB raw, ${w.lines.toLocaleString('en-US')} lines, ${byStream.size} streams, ${kernels.name} kernels\n`);
console.log('block KiB  LZ4 depth  bytes/raw  compress CPU-s/GiB  decode MiB/s  blocks');
for (const r of rows) console.log(`${String(r.blockKiB).padStart(9)}  ${String(r.depth).padStart(9)}  ${r.ratio.toFixed(3).padStart(9)}  ${r.compressCpuSPerGiB.toFixed(2).padStart(18)}  ${r.decodeMiBPerS.toFixed(0).padStart(12)}  ${String(r.blocks).padStart(6)}`);
console.log('\nchunk target KiB  files  file bytes over block bytes');
for (const c of chunkRows) console.log(`${String(c.targetKiB).padStart(16)}  ${String(c.files).padStart(5)}  ${c.overheadPct.toFixed(2).padStart(6)} %`);
const { writeFileSync, mkdirSync } = await import('node:fs');
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'compression-latest.json'), JSON.stringify({ date: new Date().toISOString(), gib, seed, kernels: kernels.name, rawBytes: raw, lines: w.lines, streams: byStream.size, blocks: rows, chunks: chunkRows }, null, 2));
