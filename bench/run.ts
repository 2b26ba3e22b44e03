// The peer benchmark (../shared/peer-figures.md) against Bramble: generate the seeded loghub
// workload, start a fresh server, ingest it with 4 protobuf+snappy senders, run q1..q6 on head
// data, POST /flush, run them again on flushed data, and print our figures next to Grafana
// Loki's with the ratio. Correctness checks (q1 = exactly the planted needles, q3 sums to the
// lines ingested, ...) fail the run loudly. Results go to bench/results/latest.json and
// bench/results/runs/<timestamp>.json. `npm run bench -- --help` for options.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { buildWorkload, loadLoghub, loghubDir, NEEDLE, type Workload } from './workload.js';
import { cpuSeconds, diskBreakdown, machineBusySeconds, memInfo, RssSampler, selfCpuSeconds, type DiskBreakdown } from './proc.js';
import { buildServer, parseMetrics, startBenchServer, type BenchServer } from './server.js';
import { peerFor, type PeerPhase, type PeerRun } from './peer.js';
import { GC_KINDS } from '../src/util/gc.js';

const ROOT = resolve(import.meta.dirname, '..');
const MiB = 2 ** 20;
const GiB = 2 ** 30;

const HELP = `npm run bench -- [options]

Reproduces the workload Grafana Loki was measured with (../shared/peer-figures.md) against a
freshly started Bramble on 127.0.0.1 and prints our figures, Loki's and the ratio.

  --gib N        raw line bytes to generate and ingest, in GiB (default 0.1; Loki was measured at
                 0.5 and 2: at those sizes every row is compared, otherwise only size-independent ones)
  --runs N       timed runs per query after 1 warm-up (default 5, as Loki's figures)
  --quick        smoke run for CI: 0.02 GiB, 1 timed run, 10 calls per label API (under a minute)
  --pi           constrain the server like a Raspberry Pi: one core (taskset -c 0) and a 512 MiB
                 memory cap (cgroup v2 memory.max if writable, else --max-old-space-size plus an
                 RSS watchdog that fails the run when VmRSS exceeds the cap)
  --mem-cap MIB  memory cap for --pi (default 512)
  --keep         keep the server's data dir and log (path printed at the end)
  --tsx          run the server from src/ through tsx instead of compiling it with tsc first
  --profile DIR  write a V8 CPU profile of the server (start to stop) into DIR (open it in
                 Chrome DevTools or speedscope)
  --seed N       workload seed (default 1)
  --q6-calls N   calls per label API (default 50)
  --help         this text

Exit status: 0 when every correctness check passed, 1 otherwise (the table is still printed).
`;

interface Options {
  gib: number;
  runs: number;
  q6Calls: number;
  pi: boolean;
  memCapMiB: number;
  keep: boolean;
  tsx: boolean;
  seed: number;
  quick: boolean;
  profile: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { gib: 0.1, runs: 5, q6Calls: 50, pi: false, memCapMiB: 512, keep: false, tsx: false, seed: 1, quick: false, profile: null };
  const explicit = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): number => {
      const v = inline ?? argv[++i];
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number, got ${JSON.stringify(v)}`);
      explicit.add(name);
      return n;
    };
    switch (name) {
      case '--help': case '-h': process.stdout.write(HELP); process.exit(0); break;
      case '--gib': o.gib = value(); break;
      case '--runs': o.runs = Math.floor(value()); break;
      case '--q6-calls': o.q6Calls = Math.floor(value()); break;
      case '--mem-cap': o.memCapMiB = value(); break;
      case '--seed': o.seed = Math.floor(value()); break;
      case '--quick': o.quick = true; break;
      case '--pi': o.pi = true; break;
      case '--keep': o.keep = true; break;
      case '--tsx': o.tsx = true; break;
      case '--profile': {
        const v = inline ?? argv[++i];
        if (!v) throw new Error('--profile needs a directory');
        o.profile = resolve(v);
        break;
      }
      default: throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  if (o.quick) {
    if (!explicit.has('--gib')) o.gib = 0.02;
    if (!explicit.has('--runs')) o.runs = 1;
    if (!explicit.has('--q6-calls')) o.q6Calls = 10;
  }
  return o;
}

const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

/** Nearest-rank percentile of an unsorted list. */
function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const median = (xs: number[]): number => pct(xs, 50);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class BenchFailure extends Error {}

// ------------------------------------------------------------------------------------------ HTTP

async function getJson(url: string): Promise<{ status: number; body: unknown; text: string }> {
  const r = await fetch(url);
  const text = await r.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body, text };
}

async function scrape(base: string): Promise<Map<string, number>> {
  return parseMetrics(await (await fetch(base + '/metrics')).text());
}

// ---------------------------------------------------------------------------------------- ingest

interface IngestResult {
  wallS: number;
  mibPerS: number;
  linesPerS: number;
  pushes: number;
  retried: number;
  failed: number;
  pushP50: number;
  pushP99: number;
  serverCpuS: number;
  cpuSPerGiB: number;
  avgCores: number;
  clientCpuS: number;
  otherCpuS: number;
  peakRssSampled: number;
  hwm: number;
  /** most bytes the heads held (bramble_head_bytes, scraped every second) and their cap */
  headPeakBytes: number;
  headCapBytes: number;
  walFsyncs: number;
  walBytes: number;
  /** main-thread V8 collections during ingest: major ones, and all pauses (bramble_gc_* in /metrics) */
  majorGcs: number;
  gcPauseS: number;
}

async function ingest(srv: BenchServer, w: Workload, sampler: RssSampler): Promise<IngestResult> {
  const latencies: number[] = [];
  let retried = 0;
  let failed = 0;
  let done = 0;
  const url = srv.url + '/loki/api/v1/push';
  const progress = setInterval(() => log(`ingest: ${done}/${w.pushes} pushes`), 5000);
  // the memory budget for heads (ingester.max_head_bytes): what they really held, once a second
  let headPeakBytes = 0;
  const heads = setInterval(() => {
    scrape(srv.url).then((m) => { headPeakBytes = Math.max(headPeakBytes, m.get('bramble_head_bytes') ?? 0); }, () => {});
  }, 1000);
  const before = await scrape(srv.url);
  sampler.reset();
  const cpu0 = cpuSeconds(srv.pid);
  const self0 = selfCpuSeconds();
  const mach0 = machineBusySeconds();
  const t0 = performance.now();
  try {
    await Promise.all(
      w.bodies.map(async (list) => {
        for (const body of list) {
          for (let attempt = 0; ; attempt++) {
            const s = performance.now();
            let status = 0;
            let text = '';
            try {
              const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: body as Uint8Array<ArrayBuffer> });
              status = r.status;
              text = await r.text();
            } catch (e) {
              if (srv.proc.exitCode !== null || srv.proc.signalCode !== null) throw new BenchFailure(`server died during ingest (${(e as Error).message})`);
              text = (e as Error).message;
            }
            if (status === 204 || status === 200) {
              latencies.push(performance.now() - s);
              break;
            }
            if ((status === 429 || status >= 500 || status === 0) && attempt < 5) {
              retried++;
              await sleep(100 * 2 ** attempt);
              continue;
            }
            failed++;
            log(`push failed: HTTP ${status}: ${text.slice(0, 200)}`);
            break;
          }
          done++;
        }
      }),
    );
  } finally {
    clearInterval(progress);
    clearInterval(heads);
  }
  const wallS = (performance.now() - t0) / 1000;
  const serverCpuS = cpuSeconds(srv.pid) - cpu0;
  const clientCpuS = selfCpuSeconds() - self0;
  const otherCpuS = Math.max(0, machineBusySeconds() - mach0 - serverCpuS - clientCpuS);
  sampler.sample();
  const after = await scrape(srv.url);
  const delta = (k: string): number => (after.get(k) ?? NaN) - (before.get(k) ?? NaN);
  const rawMiB = w.rawBytes / MiB;
  return {
    walFsyncs: delta('bramble_wal_fsyncs_total'), walBytes: delta('bramble_wal_bytes_written_total'),
    majorGcs: delta('bramble_gc_collections_total{kind="major"}'),
    gcPauseS: GC_KINDS.reduce((a, k) => a + delta(`bramble_gc_pause_seconds_total{kind="${k}"}`), 0),
    wallS, mibPerS: rawMiB / wallS, linesPerS: w.lines / wallS, pushes: latencies.length, retried, failed,
    pushP50: pct(latencies, 50), pushP99: pct(latencies, 99), serverCpuS, cpuSPerGiB: serverCpuS / (w.rawBytes / GiB),
    avgCores: serverCpuS / wallS, clientCpuS, otherCpuS, peakRssSampled: sampler.peak, hwm: memInfo(srv.pid).hwm,
    headPeakBytes: Math.max(headPeakBytes, after.get('bramble_head_bytes') ?? 0), headCapBytes: after.get('bramble_head_max_bytes') ?? NaN,
  };
}

// --------------------------------------------------------------------------------------- queries

interface QueryResult {
  /** wrong answers seen (the timing still counts) */
  wrong: string[];
  medianMs: number;
  minMs: number;
  cpuS: number;
  otherCpuS: number;
  lagMaxMs: number;
  lagP99Ms: number;
  runsMs: number[];
  check: string;
  /** server RSS peak (200 ms samples) while this query's runs went on */
  rssPeakMiB?: number;
}

interface QueryDef {
  id: string;
  title: string;
  params: Record<string, string>;
  /** throws BenchFailure on a wrong answer; returns a short summary */
  check: (body: unknown) => string;
}

type Matrix = { metric: Record<string, string>; values: [number, string][] }[];
type Streams = { stream: Record<string, string>; values: [string, string][] }[];

function resultOf(body: unknown, type: string): unknown {
  const b = body as { status?: string; data?: { resultType?: string; result?: unknown } };
  if (b?.status !== 'success' || b.data?.resultType !== type) throw new BenchFailure(`expected a successful ${type} answer, got ${JSON.stringify(body).slice(0, 300)}`);
  return b.data.result;
}

function queryDefs(w: Workload): QueryDef[] {
  const ns = (x: bigint): string => x.toString();
  const start = ns(w.firstNs - 60_000_000_000n);
  const end = ns(w.lastNs + 60_000_000_000n);
  const needleKeys = new Map(w.needles.map((n) => [`${n.tsNs}\u0000${n.line}`, n]));
  return [
    {
      id: 'q1', title: `{job=~".+"} |= "${NEEDLE}"`,
      params: { query: `{job=~".+"} |= "${NEEDLE}"`, limit: '1000', direction: 'backward', start, end },
      check(body) {
        const streams = resultOf(body, 'streams') as Streams;
        const seen = new Set<string>();
        for (const s of streams) {
          for (const [ts, line] of s.values) {
            const k = `${ts}\u0000${line}`;
            const n = needleKeys.get(k);
            if (!n) throw new BenchFailure(`q1 returned a line that is not a planted needle: ${ts} ${line.slice(0, 120)}`);
            if (!n.labels.includes(`host="${s.stream.host}"`) || !n.labels.includes(`job="${s.stream.job}"`)) throw new BenchFailure(`q1 needle at ${ts} came back in stream ${JSON.stringify(s.stream)}, planted in ${n.labels}`);
            if (seen.has(k)) throw new BenchFailure(`q1 returned needle ${ts} twice`);
            seen.add(k);
          }
        }
        if (seen.size !== w.needles.length) throw new BenchFailure(`q1 found ${seen.size} of ${w.needles.length} planted needles`);
        return `${seen.size}/${w.needles.length} needles`;
      },
    },
    {
      id: 'q2', title: '{job="hadoop"} |~ "error|fail(ed)?"',
      params: { query: '{job="hadoop"} |~ "error|fail(ed)?"', limit: '100', direction: 'backward', start, end },
      check(body) {
        const streams = resultOf(body, 'streams') as Streams;
        let n = 0;
        for (const s of streams) {
          if (s.stream.job !== 'hadoop') throw new BenchFailure(`q2 returned job ${s.stream.job}`);
          for (const [, line] of s.values) {
            if (!/error|fail(ed)?/.test(line)) throw new BenchFailure(`q2 returned a non-matching line: ${line.slice(0, 120)}`);
            n++;
          }
        }
        const want = Math.min(100, w.q2Matches);
        if (n !== want) throw new BenchFailure(`q2 returned ${n} lines, expected ${want} (hadoop has ${w.q2Matches} matching lines)`);
        return `${n} lines`;
      },
    },
    {
      id: 'q3', title: 'sum by (job) (count_over_time({job=~".+"}[1m]))',
      params: { query: 'sum by (job) (count_over_time({job=~".+"}[1m]))', step: '60', start, end },
      check(body) {
        const m = resultOf(body, 'matrix') as Matrix;
        let sum = 0;
        for (const s of m) {
          let js = 0;
          for (const [, v] of s.values) js += Number(v);
          const want = w.linesByJob.get(s.metric.job ?? '');
          if (want !== js) throw new BenchFailure(`q3 job ${s.metric.job}: counted ${js}, ingested ${want}`);
          sum += js;
        }
        if (m.length !== w.linesByJob.size) throw new BenchFailure(`q3 returned ${m.length} series, expected ${w.linesByJob.size}`);
        if (sum !== w.lines) throw new BenchFailure(`q3 values sum to ${sum}, ingested ${w.lines} lines`);
        return `${m.length} series, sum ${sum}`;
      },
    },
    {
      id: 'q4', title: '{namespace="infra"} last 15 min',
      params: { query: '{namespace="infra"}', limit: '1000', direction: 'backward', start: ns(w.lastNs - 900_000_000_000n), end: ns(w.lastNs) },
      check(body) {
        const streams = resultOf(body, 'streams') as Streams;
        const ts: bigint[] = [];
        for (const s of streams) {
          if (s.stream.namespace !== 'infra') throw new BenchFailure(`q4 returned namespace ${s.stream.namespace}`);
          let prev: bigint | null = null;
          for (const [t] of s.values) {
            const v = BigInt(t);
            if (prev !== null && v > prev) throw new BenchFailure('q4 stream entries are not newest first');
            prev = v;
            ts.push(v);
          }
        }
        const want = Math.min(1000, w.q4Lines);
        if (ts.length !== want) throw new BenchFailure(`q4 returned ${ts.length} lines, expected ${want}`);
        const lo = w.lastNs - 900_000_000_000n;
        if (ts.some((t) => t < lo || t >= w.lastNs)) throw new BenchFailure('q4 returned a line outside [last-15m, last)');
        return `${ts.length} lines`;
      },
    },
    {
      id: 'q5', title: 'sum(rate({job=~".+"} |= "error" [5m]))',
      params: { query: 'sum(rate({job=~".+"} |= "error" [5m]))', step: '60', start, end },
      check(body) {
        const m = resultOf(body, 'matrix') as Matrix;
        if (m.length !== 1 || m[0]!.values.length === 0) throw new BenchFailure(`q5 returned ${m.length} series`);
        return `${m[0]!.values.length} points`;
      },
    },
  ];
}

async function timedQuery(srv: BenchServer, d: QueryDef, runs: number): Promise<QueryResult> {
  const qs = new URLSearchParams(d.params).toString();
  const url = `${srv.url}/loki/api/v1/query_range?${qs}`;
  const one = async (): Promise<{ ms: number; cpu: number; other: number; check: string }> => {
    const c0 = cpuSeconds(srv.pid);
    const s0 = selfCpuSeconds();
    const m0 = machineBusySeconds();
    const t0 = performance.now();
    const r = await getJson(url);
    const ms = performance.now() - t0;
    const cpu = cpuSeconds(srv.pid) - c0;
    const other = Math.max(0, machineBusySeconds() - m0 - cpu - (selfCpuSeconds() - s0));
    if (r.status !== 200) throw new BenchFailure(`${d.id} answered HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    let check: string;
    try {
      check = d.check(r.body);
    } catch (e) {
      if (!(e instanceof BenchFailure)) throw e;
      check = 'WRONG: ' + e.message;
    }
    return { ms, cpu, other, check };
  };
  const warm = await one();
  await scrape(srv.url); // resets the event-loop lag window
  const rs = [];
  for (let i = 0; i < runs; i++) rs.push(await one());
  const m = await scrape(srv.url);
  const wrong = [...new Set([warm, ...rs].map((r) => r.check).filter((c) => c.startsWith('WRONG: ')).map((c) => `${d.id}: ${c.slice(7)}`))];
  return {
    wrong,
    medianMs: median(rs.map((r) => r.ms)), minMs: Math.min(...rs.map((r) => r.ms)), cpuS: median(rs.map((r) => r.cpu)),
    otherCpuS: median(rs.map((r) => r.other)), runsMs: rs.map((r) => r.ms),
    lagMaxMs: (m.get('bramble_event_loop_lag_max_seconds') ?? NaN) * 1000, lagP99Ms: (m.get('bramble_event_loop_lag_p99_seconds') ?? NaN) * 1000,
    check: rs[rs.length - 1]!.check,
  };
}

interface LabelApiResult {
  p50: number;
  p99: number;
  check: string;
}

async function labelApi(srv: BenchServer, path: string, calls: number, check: (body: unknown) => string): Promise<LabelApiResult> {
  // timed from a small process of its own (bench/label-client.mjs): this one holds the workload,
  // and its own collections showed up as 10-20 ms outliers of ~1 ms calls
  const out = await runLabelClient(srv.url + path, calls);
  if (out.status !== 200) throw new BenchFailure(`${path} answered HTTP ${out.status}: ${out.first.slice(0, 300)}`);
  let body: unknown = null;
  try {
    body = JSON.parse(out.first);
  } catch {
    /* checked below */
  }
  const summary = check(body);
  return { p50: pct(out.ms, 50), p99: pct(out.ms, 99), check: summary };
}

function runLabelClient(url: string, calls: number): Promise<{ status: number; first: string; ms: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench/label-client.mjs'), url, String(calls)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => { text += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new BenchFailure(`label client exited with ${code}`));
      resolve(JSON.parse(text) as { status: number; first: string; ms: number[] });
    });
  });
}

interface PhaseResult {
  queries: Record<string, QueryResult | null>;
  labels: LabelApiResult | null;
  values: LabelApiResult | null;
  series: LabelApiResult | null;
  failures: string[];
}

/** Runs one query or label API; a BenchFailure (error answer, wrong result) is recorded, not thrown. */
async function attempt<T>(failures: string[], phase: string, f: () => Promise<T>): Promise<T | null> {
  try {
    return await f();
  } catch (e) {
    if (!(e instanceof BenchFailure)) throw e;
    failures.push(`${phase}: ${e.message}`);
    log(`${phase}: FAILED: ${e.message}`);
    return null;
  }
}

async function queryPhase(srv: BenchServer, w: Workload, o: Options, phase: string, sampler: RssSampler): Promise<PhaseResult> {
  const queries: Record<string, QueryResult | null> = {};
  const failures: string[] = [];
  for (const d of queryDefs(w)) {
    log(`${phase}: ${d.id} ${d.title} (1 warm-up + ${o.runs} runs)`);
    sampler.sample();
    sampler.startWindow();
    const r = await attempt(failures, phase, () => timedQuery(srv, d, o.runs));
    sampler.sample();
    if (r) {
      r.rssPeakMiB = Math.round(sampler.windowPeak / MiB);
      log(`${phase}: ${d.id} median ${r.medianMs.toFixed(0)} ms, min ${r.minMs.toFixed(0)} ms, CPU ${r.cpuS.toFixed(2)} s, lag max ${r.lagMaxMs.toFixed(0)} ms, RSS peak ${r.rssPeakMiB} MiB; ${r.check}`);
      for (const x of r.wrong) failures.push(`${phase}: ${x}`);
    }
    queries[d.id] = r;
  }
  const range = `start=${w.firstNs - 60_000_000_000n}&end=${w.lastNs + 60_000_000_000n}`;
  const jobs = [...w.linesByJob.keys()].sort();
  log(`${phase}: q6 label APIs (200 warm-up + ${o.q6Calls} timed calls each, from bench/label-client.mjs)`);
  const data = (body: unknown): unknown => {
    const b = body as { status?: string; data?: unknown };
    if (b?.status !== 'success') throw new BenchFailure(`label API failed: ${JSON.stringify(body).slice(0, 200)}`);
    return b.data;
  };
  const labels = await attempt(failures, phase, () => labelApi(srv, `/loki/api/v1/labels?${range}`, o.q6Calls, (body) => {
    const names = data(body) as string[];
    for (const n of ['host', 'job', 'namespace', 'service_name']) if (!names.includes(n)) throw new BenchFailure(`labels API misses ${n}: ${names.join(', ')}`);
    return names.join(', ');
  }));
  const values = await attempt(failures, phase, () => labelApi(srv, `/loki/api/v1/label/job/values?${range}`, o.q6Calls, (body) => {
    const v = data(body) as string[];
    if (v.join(',') !== jobs.join(',')) throw new BenchFailure(`job values ${v.join(',')} != ${jobs.join(',')}`);
    return `${v.length} jobs`;
  }));
  const series = await attempt(failures, phase, () => labelApi(srv, `/loki/api/v1/series?match[]=${encodeURIComponent('{job="openssh"}')}&${range}`, o.q6Calls, (body) => {
    const s = data(body) as Record<string, string>[];
    if (s.length !== 8 || s.some((x) => x.job !== 'openssh')) throw new BenchFailure(`series {job="openssh"} returned ${s.length} series: ${JSON.stringify(s).slice(0, 200)}`);
    return `${s.length} series`;
  }));
  return { queries, labels, values, series, failures };
}

// ----------------------------------------------------------------------------------------- flush

async function flush(srv: BenchServer): Promise<{ wallS: number; cpuS: number }> {
  const c0 = cpuSeconds(srv.pid);
  const t0 = performance.now();
  const r = await fetch(srv.url + '/flush', { method: 'POST' });
  await r.arrayBuffer();
  if (r.status !== 204 && r.status !== 200) throw new BenchFailure(`POST /flush answered HTTP ${r.status}`);
  const deadline = Date.now() + 600_000;
  for (;;) {
    const m = await scrape(srv.url);
    if ((m.get('loki_ingester_memory_chunks') ?? -1) === 0) break;
    if (Date.now() > deadline) throw new BenchFailure(`loki_ingester_memory_chunks still ${m.get('loki_ingester_memory_chunks')} 10 min after /flush`);
    await sleep(200);
  }
  return { wallS: (performance.now() - t0) / 1000, cpuS: cpuSeconds(srv.pid) - c0 };
}

// ----------------------------------------------------------------------------------------- table

interface Row {
  label: string;
  ours: number | null;
  loki: number | null;
  better: 'higher' | 'lower' | null;
  /** absolute figure that grows with the data volume: compared only at Loki's size */
  sized: boolean;
  digits: number;
}

function fmt(x: number | null, digits: number): string {
  if (x === null || !Number.isFinite(x)) return '—';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function renderTable(rows: (Row | string)[], peer: PeerRun, sizeMatches: boolean): string {
  const head = ['figure', 'Bramble', peer.name, 'Bramble/Loki', ''];
  const body: string[][] = [];
  for (const r of rows) {
    if (typeof r === 'string') {
      body.push([r, '', '', '', '']);
      continue;
    }
    const comparable = r.ours !== null && r.loki !== null && r.loki > 0 && Number.isFinite(r.ours) && (!r.sized || sizeMatches);
    const ratio = comparable ? r.ours! / r.loki! : null;
    let verdict = '';
    if (ratio !== null && r.better) verdict = (r.better === 'higher' ? ratio >= 1 : ratio <= 1) ? 'better' : 'worse';
    const lokiText = r.loki === null ? '' : fmt(r.loki, r.digits) + (r.sized && !sizeMatches ? ` (@${peer.gib} GiB)` : '');
    body.push([r.label, fmt(r.ours, r.digits), lokiText, ratio === null ? '' : `${ratio.toFixed(2)}x`, verdict]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function phaseRows(name: string, ph: PhaseResult, lp: PeerPhase, w: Workload): (Row | string)[] {
  const rows: (Row | string)[] = [`${name}:`];
  const rawMiB = w.rawBytes / MiB;
  const titles: Record<string, string> = { q1: 'q1 needle', q2: 'q2 regex hadoop', q3: 'q3 count_over_time', q4: 'q4 last 15m infra', q5: 'q5 rate |= error' };
  for (const id of ['q1', 'q2', 'q3', 'q4', 'q5'] as const) {
    const q = ph.queries[id] ?? null;
    const l = lp[id];
    rows.push(
      { label: `  ${titles[id]} median ms`, ours: q?.medianMs ?? null, loki: l.median, better: 'lower', sized: true, digits: 0 },
      { label: `  ${titles[id]} min ms`, ours: q?.minMs ?? null, loki: l.min, better: 'lower', sized: true, digits: 0 },
      { label: `  ${titles[id]} server CPU s`, ours: q?.cpuS ?? null, loki: l.cpu, better: 'lower', sized: true, digits: 2 },
      { label: `  ${titles[id]} event-loop lag max ms`, ours: q?.lagMaxMs ?? null, loki: null, better: null, sized: false, digits: 0 },
    );
  }
  const rate = (q: QueryResult | null | undefined, amount: number): number | null => (q ? amount / (q.medianMs / 1000) : null);
  return rows.concat([
    { label: '  q1 scan raw MiB/s (median)', ours: rate(ph.queries.q1, rawMiB), loki: null, better: 'higher', sized: false, digits: 0 },
    { label: '  q3 million lines/s (median)', ours: rate(ph.queries.q3, w.lines / 1e6), loki: null, better: 'higher', sized: false, digits: 2 },
    { label: '  q5 scan raw MiB/s (median)', ours: rate(ph.queries.q5, rawMiB), loki: null, better: 'higher', sized: false, digits: 0 },
    { label: '  q6 labels p50 ms', ours: ph.labels?.p50 ?? null, loki: lp.labels[0], better: 'lower', sized: false, digits: 1 },
    { label: '  q6 labels p99 ms', ours: ph.labels?.p99 ?? null, loki: lp.labels[1], better: 'lower', sized: false, digits: 1 },
    { label: '  q6 label/job/values p50 ms', ours: ph.values?.p50 ?? null, loki: lp.values[0], better: 'lower', sized: false, digits: 1 },
    { label: '  q6 label/job/values p99 ms', ours: ph.values?.p99 ?? null, loki: lp.values[1], better: 'lower', sized: false, digits: 1 },
    { label: '  q6 series {job="openssh"} p50 ms', ours: ph.series?.p50 ?? null, loki: lp.series[0], better: 'lower', sized: false, digits: 1 },
    { label: '  q6 series {job="openssh"} p99 ms', ours: ph.series?.p99 ?? null, loki: lp.series[1], better: 'lower', sized: false, digits: 1 },
  ]);
}

/** Fills Loki's derived scan rates (raw MiB/s, M lines/s) into the rows that have none. */
function withPeerRates(rows: (Row | string)[], peer: PeerRun, lp: PeerPhase): void {
  const rawMiB = peer.gib * 1024;
  for (const r of rows) {
    if (typeof r === 'string') continue;
    if (r.label === '  q1 scan raw MiB/s (median)') r.loki = rawMiB / (lp.q1.median / 1000);
    if (r.label === '  q3 million lines/s (median)') r.loki = peer.lines / 1e6 / (lp.q3.median / 1000);
    if (r.label === '  q5 scan raw MiB/s (median)') r.loki = rawMiB / (lp.q5.median / 1000);
  }
}

// ------------------------------------------------------------------------------------------ main

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  const { peer, sizeMatches } = peerFor(o.gib);
  const failures: string[] = [];
  const started = new Date();

  log(`generating ${o.gib} GiB of loghub lines (seed ${o.seed}) ...`);
  const jobs = loadLoghub(loghubDir(ROOT));
  const w = buildWorkload(jobs, o.gib * GiB, o.seed, Date.now() - 60_000, log);
  log(`workload: ${w.lines.toLocaleString('en-US')} lines, ${(w.rawBytes / MiB).toFixed(1)} MiB raw, ${w.pushes} pushes, wire ${(w.wireBytes / MiB).toFixed(1)} MiB (${(w.wireBytes / w.rawBytes).toFixed(3)} x raw), ${w.needles.length} needles, built in ${w.buildSeconds.toFixed(1)} s`);

  const entry = o.tsx ? null : buildServer(ROOT, log);
  const memCap = o.memCapMiB * MiB;
  const srv = await startBenchServer({ root: ROOT, tsx: o.tsx, pi: o.pi, memCap, log, profileDir: o.profile ?? undefined }, entry);
  log(`server pid ${srv.pid} at ${srv.url}, data ${srv.dataDir}${srv.constraints ? `; pi mode: ${srv.constraints}` : ''}; ${srv.workers ?? '?'} scan workers, ${srv.kernels ?? '?'} kernels`);

  let overCap: number | null = null;
  const sampler = new RssSampler(srv.pid, 200, (rss) => {
    if (o.pi && !srv.cgroup && rss > memCap && overCap === null) {
      overCap = rss;
      log(`RSS ${(rss / MiB).toFixed(0)} MiB exceeds the ${o.memCapMiB} MiB cap: stopping the server`);
      void srv.kill();
    }
  }).start();

  const result: Record<string, unknown> = {
    date: started.toISOString(), commit: gitCommit(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memTotalMiB: Math.round(totalmem() / MiB),
    options: o, serverMode: o.tsx ? 'tsx' : 'tsc-compiled', constraints: srv.constraints || null, scanWorkers: srv.workers, kernels: srv.kernels,
    workload: { lines: w.lines, rawBytes: w.rawBytes, pushes: w.pushes, wireBytes: w.wireBytes, needles: w.needles.length, firstNs: String(w.firstNs), lastNs: String(w.lastNs), seed: w.seed },
    peer: peer.name, sizeMatchesPeer: sizeMatches,
  };
  let ing: IngestResult | null = null;
  let head: PhaseResult | null = null;
  let flushed: PhaseResult | null = null;
  let fl: { wallS: number; cpuS: number } | null = null;
  let idleRss = 0;
  let diskIngest: DiskBreakdown | null = null;
  let diskFlush: DiskBreakdown | null = null;
  let hwmEnd = 0;
  try {
    await sleep(5000);
    idleRss = memInfo(srv.pid).rss;
    log(`idle RSS ${(idleRss / MiB).toFixed(0)} MiB; ingesting with 4 senders ...`);
    ing = await ingest(srv, w, sampler);
    log(`ingest: ${ing.wallS.toFixed(1)} s, ${ing.mibPerS.toFixed(1)} MiB/s, ${Math.round(ing.linesPerS).toLocaleString('en-US')} lines/s, server CPU ${ing.serverCpuS.toFixed(1)} s, other CPU ${ing.otherCpuS.toFixed(1)} s, ${ing.majorGcs} major GCs (GC pauses ${(ing.gcPauseS * 1000).toFixed(0)} ms)`);
    if (ing.failed > 0) failures.push(`${ing.failed} pushes failed`);
    const m = await scrape(srv.url);
    const received = m.get('loki_distributor_lines_received_total');
    if (received !== w.lines) failures.push(`server counted ${received} lines received, sent ${w.lines}`);
    diskIngest = diskBreakdown(srv.dataDir);
    sampler.reset();
    head = await queryPhase(srv, w, o, 'head', sampler);
    failures.push(...head.failures);
    log('POST /flush ...');
    fl = await flush(srv);
    diskFlush = diskBreakdown(srv.dataDir);
    log(`flush: ${fl.wallS.toFixed(1)} s, CPU ${fl.cpuS.toFixed(2)} s; chunks ${(diskFlush.chunks / MiB).toFixed(1)} MiB, index ${(diskFlush.index / MiB).toFixed(1)} MiB, WAL ${(diskFlush.wal / MiB).toFixed(1)} MiB`);
    flushed = await queryPhase(srv, w, o, 'flushed', sampler);
    failures.push(...flushed.failures);
    hwmEnd = memInfo(srv.pid).hwm;
  } catch (e) {
    const oom = srv.oomKills();
    if (overCap !== null) failures.push(`pi mode: server RSS reached ${((overCap as number) / MiB).toFixed(0)} MiB, over the ${o.memCapMiB} MiB cap`);
    else if (oom > 0) failures.push(`pi mode: the cgroup OOM-killed the server (${oom} kills) under memory.max=${o.memCapMiB} MiB`);
    else failures.push((e as Error).message);
  } finally {
    sampler.stop();
  }
  const peakQueries = sampler.peak;
  const code = await srv.stop();
  if (code !== 0 && failures.length === 0) failures.push(`server exited with status ${code} on SIGTERM`);
  srv.cleanup(o.keep);
  if (o.profile) log(`server CPU profile written to ${o.profile}`);

  const rawMiB = w.rawBytes / MiB;
  const rawGiB = w.rawBytes / GiB;
  const rows: (Row | string)[] = [
    'ingest:',
    { label: '  throughput raw MiB/s', ours: ing?.mibPerS ?? null, loki: peer.mibPerS, better: 'higher', sized: false, digits: 1 },
    { label: '  lines/s', ours: ing?.linesPerS ?? null, loki: peer.linesPerS, better: 'higher', sized: false, digits: 0 },
    { label: '  wall s', ours: ing?.wallS ?? null, loki: peer.wallS, better: 'lower', sized: true, digits: 1 },
    { label: '  server CPU s per raw GiB', ours: ing?.cpuSPerGiB ?? null, loki: peer.cpuSPerGiB, better: 'lower', sized: false, digits: 1 },
    { label: '  server cores busy (avg)', ours: ing?.avgCores ?? null, loki: peer.cpuS / peer.wallS, better: null, sized: false, digits: 2 },
    { label: '  push latency p50 ms', ours: ing?.pushP50 ?? null, loki: peer.pushP50, better: 'lower', sized: false, digits: 0 },
    { label: '  push latency p99 ms', ours: ing?.pushP99 ?? null, loki: peer.pushP99, better: 'lower', sized: false, digits: 0 },
    { label: '  WAL fsyncs', ours: ing?.walFsyncs ?? null, loki: null, better: null, sized: false, digits: 0 },
    { label: '  other processes CPU s (noise)', ours: ing?.otherCpuS ?? null, loki: null, better: null, sized: false, digits: 1 },
    'memory (MiB):',
    { label: '  RSS idle before ingest', ours: idleRss / MiB, loki: peer.idleRss, better: 'lower', sized: false, digits: 0 },
    { label: '  RSS peak during ingest (200 ms samples)', ours: ing ? ing.peakRssSampled / MiB : null, loki: peer.peakRssIngest, better: 'lower', sized: true, digits: 0 },
    { label: '  RSS peak during ingest (VmHWM)', ours: ing ? ing.hwm / MiB : null, loki: peer.peakRssIngest, better: 'lower', sized: true, digits: 0 },
    { label: '  RSS peak during queries (samples)', ours: peakQueries / MiB, loki: null, better: null, sized: true, digits: 0 },
    { label: '  RSS peak overall (VmHWM at end)', ours: hwmEnd ? hwmEnd / MiB : null, loki: peer.peakRssQueries, better: 'lower', sized: true, digits: 0 },
    { label: '  heads peak (1 s samples)', ours: ing ? ing.headPeakBytes / MiB : null, loki: null, better: null, sized: false, digits: 1 },
    { label: '  heads cap (ingester.max_head_bytes)', ours: ing ? ing.headCapBytes / MiB : null, loki: null, better: null, sized: false, digits: 0 },
    'disk (MiB, allocated):',
    { label: '  after ingest, whole data dir', ours: diskIngest ? diskIngest.total / MiB : null, loki: peer.diskAfterIngest, better: 'lower', sized: true, digits: 1 },
    { label: '  after ingest, per raw GiB', ours: diskIngest ? diskIngest.total / MiB / rawGiB : null, loki: peer.diskAfterIngest / peer.gib, better: 'lower', sized: false, digits: 0 },
    { label: '  after flush: chunks', ours: diskFlush ? diskFlush.chunks / MiB : null, loki: peer.chunks, better: 'lower', sized: true, digits: 1 },
    { label: '  after flush: index', ours: diskFlush ? diskFlush.index / MiB : null, loki: peer.index, better: null, sized: true, digits: 1 },
    { label: '  after flush: WAL', ours: diskFlush ? diskFlush.wal / MiB : null, loki: peer.wal, better: 'lower', sized: true, digits: 1 },
    { label: '  after flush: chunks per raw GiB', ours: diskFlush ? diskFlush.chunks / MiB / rawGiB : null, loki: peer.chunksPerGiB, better: 'lower', sized: false, digits: 0 },
    { label: '  after flush: data dir per raw GiB', ours: diskFlush ? diskFlush.total / MiB / rawGiB : null, loki: peer.dataDirPerGiB, better: 'lower', sized: false, digits: 0 },
    { label: '  flush wall s', ours: fl?.wallS ?? null, loki: peer.flushWallS, better: 'lower', sized: true, digits: 1 },
    { label: '  flush server CPU s', ours: fl?.cpuS ?? null, loki: peer.flushCpuS, better: 'lower', sized: true, digits: 2 },
  ];
  if (head) {
    const r = phaseRows('head (before /flush)', head, peer.head, w);
    withPeerRates(r, peer, peer.head);
    rows.push(...r);
  }
  if (flushed) {
    const r = phaseRows('flushed (after /flush)', flushed, peer.flushed, w);
    withPeerRates(r, peer, peer.flushed);
    rows.push(...r);
  }

  const checks: string[] = [];
  for (const [name, ph] of [['head', head], ['flushed', flushed]] as const) {
    if (!ph) continue;
    checks.push(`${name}: ` + Object.entries(ph.queries).map(([id, q]) => `${id} ${q ? q.check : 'failed'}`).join('; ') + `; labels [${ph.labels?.check ?? 'failed'}]; ${ph.values?.check ?? 'job values failed'}; ${ph.series?.check ?? 'series failed'}`);
  }

  const out: string[] = [];
  out.push(`Bramble ${result.commit} vs ${peer.name} — ${(rawMiB / 1024).toFixed(3)} GiB raw, ${w.lines.toLocaleString('en-US')} lines, ${w.pushes} pushes (${ing ? `${ing.pushes} ok / ${ing.retried} retried / ${ing.failed} failed` : 'ingest failed'}), ${o.runs} timed runs per query`);
  out.push(`server: ${result.serverMode}, ${srv.workers ?? '?'} scan workers, ${srv.kernels ?? '?'} kernels${srv.constraints ? `, pi mode: ${srv.constraints}` : ''}; machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}`);
  if (!sizeMatches) out.push(`Loki was measured at ${peer.gib} GiB: rows marked (@${peer.gib} GiB) grow with the data and get no ratio; compare rates and per-GiB rows.`);
  out.push('');
  out.push(renderTable(rows, peer, sizeMatches));
  out.push('');
  out.push('checks: ' + (checks.length ? checks.join('\n        ') : 'none completed'));
  if (failures.length) {
    out.push('');
    out.push('FAILED:');
    for (const f of failures) out.push('  - ' + f);
  }
  process.stdout.write(out.join('\n') + '\n');

  Object.assign(result, {
    ingest: ing, idleRssBytes: idleRss, peakRssQueriesSampledBytes: peakQueries, hwmEndBytes: hwmEnd, diskAfterIngest: diskIngest, diskAfterFlush: diskFlush, flush: fl,
    head, flushed, checks, failures, ok: failures.length === 0,
    table: rows.filter((r): r is Row => typeof r !== 'string').map((r) => ({ figure: r.label.trim(), bramble: r.ours, loki: r.loki, lokiComparable: r.loki !== null && (!r.sized || sizeMatches) })),
  });
  const dir = join(ROOT, 'bench/results');
  mkdirSync(join(dir, 'runs'), { recursive: true });
  const json = JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(dir, 'runs', `${stamp}${o.pi ? '-pi' : ''}.json`), json);
  writeFileSync(join(dir, o.pi ? 'latest-pi.json' : 'latest.json'), json);
  log(`results: bench/results/${o.pi ? 'latest-pi.json' : 'latest.json'} and bench/results/runs/${stamp}${o.pi ? '-pi' : ''}.json${o.keep ? `; data kept in ${srv.workDir}` : ''}`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
