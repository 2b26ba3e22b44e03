// In-process ingest micro-benchmark: the peer workload's protobuf+snappy bodies pushed straight
// through the push path (decode → validate → ingester.push with WAL fsync → head append → block
// cut → chunk flush), without HTTP, so the CPU cost of each stage can be compared between
// changes in seconds instead of minutes. The full end-to-end figure stays `npm run bench`.
// Usage: node --import tsx bench/ingest.ts [--gib N] [--inflight N] [--help]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorkload, loadLoghub, loghubDir } from './workload.js';
import { decodePushBody, validatePush, DEFAULT_PUSH_LIMITS, type PushLimits } from '../src/push/index.js';
import { Ingester } from '../src/head/ingester.js';
import { nowNs } from '../src/util/time.js';
import { BufferPool } from '../src/util/buffer-pool.js';
import { RequestArena } from '../src/util/request-arena.js';
import type { PushBody } from '../src/wal/record.js';

const argv = process.argv.slice(2);
if (argv.includes('--help')) {
  console.log('node --import tsx bench/ingest.ts [--gib N (default 0.05)] [--inflight N (default 4)] [--seed N] [--head-cap MiB (default 64, the server\'s)] [--profile FILE.cpuprofile]\n' +
    'Pushes the peer workload through decode/validate/ingester in-process and prints CPU-s per GiB by stage.');
  process.exit(0);
}
const arg = (name: string, def: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const gib = arg('--gib', 0.05);
const inflight = arg('--inflight', 4);
const seed = arg('--seed', 1);
/** ingester.max_head_bytes in MiB (the server's default: 64; 0 = no cap) */
const headCapMiB = arg('--head-cap', 64);
const profIdx = argv.indexOf('--profile');
const profile = profIdx >= 0 ? argv[profIdx + 1]! : null;

const root = join(import.meta.dirname, '..');
const jobs = loadLoghub(loghubDir(root));
process.stderr.write(`building workload (${gib} GiB)...\n`);
const w = buildWorkload(jobs, gib * 2 ** 30, seed, Date.now() - 60_000);
// interleave senders as the HTTP bench does (round robin)
const bodies: Buffer[] = [];
for (let i = 0; ; i++) {
  let any = false;
  for (const s of w.bodies) if (i < s.length) { bodies.push(s[i]!); any = true; }
  if (!any) break;
}
const dir = mkdtempSync(join(tmpdir(), 'bramble-ingest-'));
const log = { info() {}, warn() {}, error(o: unknown) { console.error(o); } };
const ing = new Ingester({ dataDir: dir, blockSize: 256 * 1024, chunkTargetSize: 1_572_864, maxChunkAgeMs: 2 * 3600_000, chunkIdlePeriodMs: 30 * 60_000, walSegmentSize: 128 * 1024 * 1024, maxHeadBytes: headCapMiB * 2 ** 20 }, log);
ing.start();
const limits: PushLimits = { ...DEFAULT_PUSH_LIMITS, rejectOldSamples: false };

const session = profile ? new Session() : null;
if (session) { session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start'); }
let decodeMs = 0;
let validateMs = 0;
let pushMs = 0;
const lat: number[] = [];
let next = 0;
// process CPU (all threads) in ms: wall clock is meaningless on the shared machine
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const cpu0 = process.cpuUsage();
const faults0 = process.resourceUsage().minorPageFault;
const t0 = performance.now();
let maxRss = 0;
const rssTimer = setInterval(() => { maxRss = Math.max(maxRss, process.memoryUsage.rss()); }, 100);
const bodyPool = new BufferPool(4);
async function sender(): Promise<void> {
  while (next < bodies.length) {
    const body = bodies[next++]!;
    const t = performance.now();
    const s0 = cpuMs();
    let raw: Buffer | null = null;
    let pushBody: PushBody | undefined;
    const arena = new RequestArena();
    const streams = decodePushBody(body, 'application/x-protobuf', undefined, {
      maxDecompressedBytes: 0, bodyBuffer: (n) => (raw = bodyPool.acquire(n)), arena, onProtobufBody: (snappy, r) => { pushBody = { snappy, raw: r, arena }; },
    });
    const s1 = cpuMs();
    const v = validatePush(streams, 'fake', limits, nowNs());
    const s2 = cpuMs();
    await ing.waitForHeadRoom(); // as the push route does (not a stage: flushes run meanwhile)
    const s2b = cpuMs();
    const p = ing.push('fake', v.accepted, pushBody);
    const s3 = cpuMs();
    ing.flushFull();
    decodeMs += s1 - s0;
    validateMs += s2 - s1;
    pushMs += s3 - s2b;
    await p;
    if (raw !== null) bodyPool.release(raw); // as the push route does
    arena.release();
    lat.push(performance.now() - t);
  }
}
await Promise.all(Array.from({ length: inflight }, sender));
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;
const faults = process.resourceUsage().minorPageFault - faults0;
const f0 = performance.now();
await ing.flush(true);
const flushS = (performance.now() - f0) / 1000;
clearInterval(rssTimer);
if (session) { const { profile: p } = await session.post('Profiler.stop'); writeFileSync(profile!, JSON.stringify(p)); }
await ing.close();
rmSync(dir, { recursive: true, force: true });
lat.sort((a, b) => a - b);
const g = w.rawBytes / 2 ** 30;
const r = (x: number): string => x.toFixed(2);
console.log(JSON.stringify({
  lines: w.lines, rawMiB: r(w.rawBytes / 2 ** 20), pushes: bodies.length, wallS: r(wall), mibPerS: r(w.rawBytes / 2 ** 20 / wall),
  cpuSPerGiB: r(cpuS / g), sysSPerGiB: r(cpu.system / 1e6 / g), minorFaultsPerMiB: Math.round(faults / (w.rawBytes / 2 ** 20)), decodeSPerGiB: r(decodeMs / 1000 / g), validateSPerGiB: r(validateMs / 1000 / g), pushSyncSPerGiB: r(pushMs / 1000 / g),
  capFlushes: ing.capFlushes, p50Ms: r(lat[Math.floor(lat.length * 0.5)]!), p99Ms: r(lat[Math.floor(lat.length * 0.99)]!), flushS: r(flushS), maxRssMiB: r(maxRss / 2 ** 20),
}));
