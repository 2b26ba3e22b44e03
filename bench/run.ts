// Ingest benchmark over the loghub corpus (../shared/data/loghub): starts a fresh server on
// 127.0.0.1:0, pushes the files as protobuf+snappy batches of ~1 MiB from 4 concurrent senders
// (like Alloy's loki.write), then flushes and reports lines/s, MiB/s, server CPU seconds, RSS
// (idle, peak) and bytes on disk per raw MiB. Usage: npm run bench -- [--repeat N] [--help]
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encodePushRequestSnappy } from '../src/push/index.js';
import { startTestServer, removeDir, SHARED, ROOT } from '../test/helpers/server.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write('npm run bench -- [--repeat N]\n  Ingests ../shared/data/loghub into a fresh server N times (default 3) and prints medians.\n');
  process.exit(0);
}
const repeat = Number(args[args.indexOf('--repeat') + 1]) || 3;

function procStat(pid: number): { cpuS: number; rss: number; hwm: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const tck = 100;
  const cpuS = (Number(stat[11]) + Number(stat[12])) / tck;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { cpuS, rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

function du(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += du(p);
    else n += statSync(p).blocks * 512;
  }
  return n;
}

function buildBatches(): { bodies: Buffer[][]; lines: number; rawBytes: number } {
  const dir = join(SHARED, 'data/loghub');
  const files = readdirSync(dir).filter((f) => f.endsWith('_2k.log')).sort();
  const now = BigInt(Date.now() - 2 * 3600_000) * 1_000_000n;
  const senders: Buffer[][] = [[], [], [], []];
  let lines = 0;
  let rawBytes = 0;
  files.forEach((f, k) => {
    const job = f.replace('_2k.log', '').toLowerCase();
    const all = readFileSync(join(dir, f), 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length);
    for (let host = 0; host < 2; host++) {
      const entries = all.map((line, i) => ({ tsNs: now + BigInt(i) * 1_000_000_000n + BigInt(k), line }));
      for (const e of entries) rawBytes += Buffer.byteLength(e.line);
      lines += entries.length;
      let batch: typeof entries = [];
      let size = 0;
      const flushBatch = (): void => {
        senders[(k * 2 + host) % 4]!.push(encodePushRequestSnappy([{ labels: `{host="node-0${host + 1}", job="${job}"}`, entries: batch }]));
        batch = [];
        size = 0;
      };
      for (const e of entries) {
        batch.push(e);
        size += e.line.length;
        if (size >= 1 << 20) flushBatch();
      }
      if (batch.length) flushBatch();
    }
  });
  return { bodies: senders, lines, rawBytes };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function runOnce(): Promise<Record<string, number>> {
  const { bodies, lines, rawBytes } = buildBatches();
  const server = await startTestServer({ args: ['-querier.scan-workers=2'] });
  await new Promise((r) => setTimeout(r, 2000));
  const idle = procStat(server.pid);
  const t0 = performance.now();
  await Promise.all(
    bodies.map(async (list) => {
      for (const body of list) {
        const r = await fetch(server.url + '/loki/api/v1/push', { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body });
        await r.arrayBuffer();
        if (r.status !== 204) throw new Error(`push failed: ${r.status}`);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const afterIngest = procStat(server.pid);
  await (await fetch(server.url + '/flush', { method: 'POST' })).arrayBuffer();
  const end = procStat(server.pid);
  const chunkBytes = du(join(server.dataDir, 'chunks'));
  const diskBytes = du(server.dataDir);
  await server.stop();
  removeDir(server.dataDir);
  const rawMiB = rawBytes / 1048576;
  return {
    lines, rawMiB, wallS: wall, linesPerS: lines / wall, mibPerS: rawMiB / wall,
    cpuS: afterIngest.cpuS - idle.cpuS, cpuSPerGiB: ((afterIngest.cpuS - idle.cpuS) / rawMiB) * 1024,
    idleRssMiB: idle.rss / 1048576, peakRssMiB: end.hwm / 1048576,
    chunkBytesPerRawMiB: chunkBytes / rawMiB, diskBytesPerRawMiB: diskBytes / rawMiB,
  };
}

const runs: Record<string, number>[] = [];
for (let i = 0; i < repeat; i++) {
  process.stderr.write(`run ${i + 1}/${repeat}...\n`);
  runs.push(await runOnce());
}
const keys = Object.keys(runs[0]!);
const med: Record<string, number> = {};
for (const k of keys) med[k] = median(runs.map((r) => r[k]!));
console.log('ingest, loghub corpus (median of ' + repeat + ' runs)');
for (const k of keys) console.log(`  ${k.padEnd(22)} ${med[k]!.toFixed(k === 'lines' ? 0 : 2)}`);
writeFileSync(join(ROOT, 'bench/results/ingest.json'), JSON.stringify({ date: new Date().toISOString(), runs, median: med }, null, 2));
