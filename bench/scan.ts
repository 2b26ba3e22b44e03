// Scan-engine micro benchmark: starts a Bramble server (from this checkout or another one given
// with --root, to compare before/after), pushes the loghub sample logs ×N as 32 streams
// (16 jobs × 2 hosts; a needle line every 100,000 lines), then times four queries on head
// data and again after POST /flush:
//   q1 {job=~".+"} |= "needle-7f3a9c"                     (limit 1000, backward)
//   q2 {job="hadoop"} |~ "error|fail(ed)?"                (limit 100, backward)
//   q3 sum by (job) (count_over_time({job=~".+"}[1m]))   (step 60 s)
//   q5 sum(rate({job=~".+"} |= "error" [5m]))            (step 60 s)
// Each query: one warm-up, then --runs timed runs; prints the median and min wall time.
// Usage: node --import tsx bench/scan.ts [--copies N] [--runs R] [--root DIR] [--native 0|1]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('node --import tsx bench/scan.ts [--copies N=20] [--runs R=5] [--root DIR=.] [--native 0|1]\n' +
    'Pushes loghub ×N into a fresh server started from DIR/src/main.ts and times the scan queries (head, then flushed).');
  process.exit(0);
}
const copies = Number(arg('copies', '20'));
const runs = Number(arg('runs', '5'));
const root = resolve(arg('root', '.'));
const native = arg('native', '1');
const DATA = resolve(import.meta.dirname, '../../shared/data/loghub');
if (!Number.isInteger(copies) || copies < 1 || !Number.isInteger(runs) || runs < 1) {
  console.error('--copies and --runs take positive integers');
  process.exit(2);
}

async function startServer(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const config = join(dataDir, 'bench.yaml');
  writeFileSync(config, 'limits_config:\n  reject_old_samples: false\n  ingestion_rate_mb: 1024\n  ingestion_burst_size_mb: 1024\n  per_stream_rate_limit: 512MB\n  per_stream_rate_limit_burst: 1024MB\n  max_entries_limit_per_query: 100000\n');
  const args = ['--import', 'tsx', join(root, 'src/main.ts'), '-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0', `-common.path-prefix=${dataDir}`, `-config.file=${config}`];
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BRAMBLE_NATIVE: native } });
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  const url = await new Promise<string>((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error('server did not start within 60 s')), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /listening on (https?):\/\/[^:"]+:(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        res(`http://127.0.0.1:${m[2]}`);
      }
    });
    proc.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    proc.on('exit', (c) => rej(new Error(`server exited with ${c}`)));
  });
  return {
    url,
    async stop() {
      if (proc.exitCode === null) process.kill(proc.pid!, 'SIGTERM');
      await exited;
    },
  };
}

const files = readdirSync(DATA).filter((f) => f.endsWith('_2k.log')).sort();
const jobs = files.map((f) => f.replace('_2k.log', '').toLowerCase());
const texts = files.map((f) => readFileSync(join(DATA, f), 'utf8').split('\n').filter((l) => l.length > 0));
const totalLines = texts.reduce((a, t) => a + t.length, 0) * copies;
// minute-aligned so every run puts the same lines into the same steps
const endNs = BigInt(Math.floor((Date.now() - 60_000) / 60_000) * 60_000) * 1_000_000n;
const startNs = endNs - 7_200_000_000_000n;
const spacing = 7_200_000_000_000n / BigInt(totalLines);

async function ingest(url: string): Promise<{ seconds: number; bytes: number }> {
  const t = Date.now();
  let g = 0;
  let bytes = 0;
  const batchLines = 20_000;
  // lines interleave over all jobs so every stream covers the whole 2 h window
  const streams = new Map<string, { stream: Record<string, string>; values: [string, string][] }>();
  const flush = async (): Promise<void> => {
    if (streams.size === 0) return;
    const body = JSON.stringify({ streams: [...streams.values()] });
    streams.clear();
    const r = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (r.status !== 204) throw new Error(`push failed: ${r.status} ${await r.text()}`);
  };
  const maxLen = Math.max(...texts.map((x) => x.length));
  let pending = 0;
  for (let c = 0; c < copies; c++) {
    for (let i = 0; i < maxLen; i++) {
      for (let j = 0; j < texts.length; j++) {
        const lines = texts[j]!;
        if (i >= lines.length) continue;
        let line = lines[i]!;
        if (g % 100_000 === 50_000) line += ' needle-7f3a9c';
        const host = `node-0${(i + c) % 2}`;
        const key = `${jobs[j]}/${host}`;
        let s = streams.get(key);
        if (!s) {
          s = { stream: { job: jobs[j]!, host }, values: [] };
          streams.set(key, s);
        }
        s.values.push([String(startNs + BigInt(g) * spacing), line]);
        bytes += line.length;
        g++;
        if (++pending >= batchLines) {
          pending = 0;
          await flush();
        }
      }
    }
    process.stderr.write(`\ringested ${g}/${totalLines} lines`);
  }
  await flush();
  process.stderr.write('\n');
  return { seconds: (Date.now() - t) / 1000, bytes };
}

const Q = {
  q1: { path: 'query_range', query: '{job=~".+"} |= "needle-7f3a9c"', limit: '1000' },
  q2: { path: 'query_range', query: '{job="hadoop"} |~ "error|fail(ed)?"', limit: '100' },
  q3: { path: 'query_range', query: 'sum by (job) (count_over_time({job=~".+"}[1m]))', step: '60' },
  q5: { path: 'query_range', query: 'sum(rate({job=~".+"} |= "error" [5m]))', step: '60' },
} as const;

async function time(url: string, q: (typeof Q)[keyof typeof Q]): Promise<{ ms: number; summary: string }> {
  const p = new URLSearchParams({ query: q.query, start: String(startNs - 60_000_000_000n), end: String(endNs + 60_000_000_000n), direction: 'backward' });
  if ('limit' in q) p.set('limit', q.limit);
  if ('step' in q) p.set('step', q.step);
  const t = performance.now();
  const r = await fetch(`${url}/loki/api/v1/${q.path}?${p}`);
  const body = (await r.json()) as { data: { resultType: string; result: { values: [string, string][] }[] } };
  const ms = performance.now() - t;
  if (r.status !== 200) throw new Error(`${q.query}: HTTP ${r.status} ${JSON.stringify(body)}`);
  const res = body.data.result;
  let summary: string;
  if (body.data.resultType === 'streams') summary = `${res.reduce((a, s) => a + s.values.length, 0)} lines`;
  else {
    let sum = 0;
    for (const s of res) for (const v of s.values) sum += Number(v[1]);
    summary = `${res.length} series, sum ${Math.round(sum)}`;
  }
  return { ms, summary };
}

async function measure(url: string, phase: string): Promise<void> {
  for (const [name, q] of Object.entries(Q)) {
    const warm = await time(url, q);
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push((await time(url, q)).ms);
    ms.sort((a, b) => a - b);
    console.log(`${phase.padEnd(7)} ${name}  median ${ms[Math.floor(ms.length / 2)]!.toFixed(0).padStart(6)} ms  min ${ms[0]!.toFixed(0).padStart(6)} ms   (${warm.summary})`);
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'bramble-bench-scan-'));
const srv = await startServer(dataDir);
try {
  console.log(`root ${root}, native kernels ${native === '0' ? 'off' : 'on if built'}, ${copies} copies = ${totalLines} lines`);
  const ing = await ingest(srv.url);
  console.log(`ingest ${(ing.bytes / 1048576).toFixed(1)} MiB in ${ing.seconds.toFixed(1)} s`);
  await measure(srv.url, 'head');
  const r = await fetch(`${srv.url}/flush`, { method: 'POST' });
  if (r.status >= 300) throw new Error(`flush failed: ${r.status}`);
  await measure(srv.url, 'flushed');
} finally {
  await srv.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
