// Soak test: a fresh Bramble (127.0.0.1:0, temp data dir, stopped by PID) takes a steady,
// Raspberry-Pi-sized push load (protobuf+snappy batches of raw loghub lines from several senders,
// 128 streams with job/host/namespace labels) for several minutes while query clients run log
// queries with filters, metric queries, the label/series/index APIs and a live tail; heads are
// flushed and the compactor runs during the soak. It records push and query errors, server RSS
// every few seconds (min/median/max and the slope of a linear fit over the second half), the
// server's event-loop lag (bramble_event_loop_lag_max_seconds), and at the end checks that every
// acknowledged line is stored exactly once (per-stream counts over the whole range plus exact
// spot-checks). Prints a table, writes bench/results/soak-latest.json and runs/soak-<time>.json.
// `npm run bench:soak -- --help` for options.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus, totalmem } from 'node:os';
import WebSocket from 'ws';
import { encodePushRequestSnappy } from '../src/push/index.js';
import { loadLoghub, loghubDir, perturb, Rng, streamDefs, type LoghubJob, type StreamDef } from './workload.js';
import { cpuSeconds, memInfo } from './proc.js';
import { buildServer, parseMetrics, startBenchServer, type BenchServer } from './server.js';

const ROOT = resolve(import.meta.dirname, '..');
const MiB = 2 ** 20;

const HELP = `npm run bench:soak -- [options]

Starts a fresh Bramble on 127.0.0.1 (default limits) and pushes raw loghub lines at a steady
rate while query clients run concurrently; flushes and the compactor run during the soak. At
the end every acknowledged line must be stored exactly once.

  --minutes N    soak duration (default 10, at most 120; --minutes 1 for a quick run). The
                 first minutes are warm-up (heads fill to their steady size, workers and
                 allocator arenas grow), so the RSS-slope check needs about 10 minutes.
  --rate MIB     raw line bytes pushed per second, in MiB (default 2: a busy Raspberry Pi)
  --senders N    concurrent push clients, 1-8 (default 3)
  --queriers N   concurrent query clients (default 2), plus one live tail
  --pi           pin the server to one core with a 512 MiB memory cap (as npm run bench --pi)
  --tsx          run the server from src/ through tsx instead of compiling it first
  --keep         keep the server's data dir and log
  --profile DIR  write a V8 CPU profile of the server into DIR, with the server's log as
                 DIR/server.log (it logs every event-loop stall of 30 ms or more, see
                 BRAMBLE_STALL_LOG_MS); \`node --import tsx bench/stalls.ts --help\` reads them
  --seed N       workload seed (default 1)
  --help         this text

Pass criteria (exit 1 otherwise): 0 push errors, 0 query errors, every acknowledged line
present exactly once, tail received entries, RSS slope over the second half under 5 MiB/min.
`;

interface Options {
  minutes: number;
  rate: number;
  senders: number;
  queriers: number;
  pi: boolean;
  tsx: boolean;
  keep: boolean;
  seed: number;
  profile: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { minutes: 10, rate: 2, senders: 3, queriers: 2, pi: false, tsx: false, keep: false, seed: 1, profile: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): number => {
      const v = inline ?? argv[++i];
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number, got ${JSON.stringify(v)}`);
      return n;
    };
    switch (name) {
      case '--help': case '-h': process.stdout.write(HELP); process.exit(0); break;
      case '--minutes': o.minutes = value(); break;
      case '--rate': o.rate = value(); break;
      case '--senders': o.senders = Math.floor(value()); break;
      case '--queriers': o.queriers = Math.floor(value()); break;
      case '--seed': o.seed = Math.floor(value()); break;
      case '--pi': o.pi = true; break;
      case '--tsx': o.tsx = true; break;
      case '--keep': o.keep = true; break;
      case '--profile': o.profile = inline ?? argv[++i] ?? null; break;
      default: throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  if (o.minutes > 120) throw new Error('--minutes is at most 120');
  if (o.senders < 1 || o.senders > 8) throw new Error('--senders must be 1-8');
  return o;
}

/** Default limits (the point is that a Pi-sized rate never meets them); short flush and compaction periods. */
const SOAK_CONFIG = `auth_enabled: false
ingester:
  max_chunk_age: 1m
  chunk_idle_period: 30s
  flush_check_period: 5s
compactor:
  compaction_interval: 1m
`;

const log = (m: string): void => {
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
};

// ---------------------------------------------------------------------------------------------
// Push side

interface StreamState {
  def: StreamDef;
  job: LoghubJob;
  next: number;
  lastTsNs: bigint;
  acked: number;
  ackedBytes: number;
}

interface Spot {
  labels: string;
  tsNs: bigint;
  line: string;
}

interface PushStats {
  batches: number;
  errors: number;
  status429: number;
  errorSamples: string[];
  latenciesMs: number[];
  lines: number;
  bytes: number;
}

class Sender {
  private readonly rng: Rng;
  private readonly weights: number[];
  private readonly total: number;
  constructor(
    readonly id: number,
    private readonly streams: StreamState[],
    seed: number,
  ) {
    this.rng = new Rng(seed * 7919 + id);
    // Skewed stream weights: a few busy streams, many quiet ones.
    this.weights = streams.map((_, i) => 1 / (1 + ((i * 7) % streams.length)) ** 0.8);
    this.total = this.weights.reduce((a, b) => a + b, 0);
  }

  private pick(): StreamState {
    let r = this.rng.float() * this.total;
    for (let i = 0; i < this.weights.length; i++) {
      r -= this.weights[i]!;
      if (r <= 0) return this.streams[i]!;
    }
    return this.streams[this.streams.length - 1]!;
  }

  /** One batch of about `bytes` raw line bytes; timestamps unique and increasing per stream. */
  build(bytes: number): { body: Buffer; perStream: Map<StreamState, { lines: string[]; ts: bigint[] }>; lineBytes: number; lines: number } {
    const perStream = new Map<StreamState, { lines: string[]; ts: bigint[] }>();
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    let got = 0;
    let lines = 0;
    while (got < bytes) {
      const st = this.pick();
      const src = st.job.bytes[st.next % st.job.bytes.length]!;
      st.next++;
      const b = Buffer.from(src);
      perturb(b, this.rng);
      const line = b.toString('utf8');
      const ts = nowNs > st.lastTsNs ? nowNs : st.lastTsNs + 1n;
      st.lastTsNs = ts;
      let e = perStream.get(st);
      if (!e) perStream.set(st, (e = { lines: [], ts: [] }));
      e.lines.push(line);
      e.ts.push(ts);
      got += b.length;
      lines++;
    }
    const body = encodePushRequestSnappy([...perStream].map(([st, e]) => ({ labels: st.def.labels, entries: e.lines.map((line, i) => ({ tsNs: e.ts[i]!, line })) })));
    return { body, perStream, lineBytes: got, lines };
  }
}

async function runSender(url: string, s: Sender, bytesPerSec: number, until: number, stats: PushStats, spots: Spot[], spotEvery: number): Promise<void> {
  const tickMs = 1000;
  const started = Date.now();
  let sentBytes = 0;
  let spotCounter = s.id;
  while (Date.now() < until) {
    // Keep the long-run rate as Alloy does: batches of at most 1 MiB (loki.write batch_size),
    // sent back to back while behind after a slow push, else one per second.
    const due = ((Date.now() - started) / 1000 + 1) * bytesPerSec - sentBytes;
    const target = Math.min(MiB, Math.max(16 * 1024, due));
    const b = s.build(target);
    sentBytes += b.lineBytes;
    const t0 = performance.now();
    let ok = false;
    try {
      const r = await fetch(`${url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
        body: b.body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await r.text();
      ok = r.status === 204;
      if (!ok) {
        if (r.status === 429) stats.status429++;
        if (stats.errorSamples.length < 5) stats.errorSamples.push(`${r.status} ${text.slice(0, 200)}`);
      }
    } catch (e) {
      if (stats.errorSamples.length < 5) stats.errorSamples.push((e as Error).message);
    }
    stats.latenciesMs.push(performance.now() - t0);
    stats.batches++;
    if (!ok) {
      stats.errors++;
    } else {
      stats.lines += b.lines;
      stats.bytes += b.lineBytes;
      for (const [st, e] of b.perStream) {
        st.acked += e.lines.length;
        for (const l of e.lines) st.ackedBytes += Buffer.byteLength(l);
        for (let i = 0; i < e.lines.length; i++) {
          if (++spotCounter % spotEvery === 0) spots.push({ labels: st.def.labels, tsNs: e.ts[i]!, line: e.lines[i]! });
        }
      }
    }
    if (((Date.now() - started) / 1000) * bytesPerSec - sentBytes > 16 * 1024) continue; // behind now
    // Next batch on the next whole tick (Alloy/Promtail send about once a second).
    const sleep = started + Math.ceil((Date.now() - started + 1) / tickMs) * tickMs - Date.now();
    if (Date.now() + sleep >= until) break;
    await delay(sleep);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// Query side

interface QueryStats {
  calls: number;
  errors: number;
  errorSamples: string[];
  byName: Map<string, { calls: number; errors: number; ms: number[] }>;
}

type QueryDef = { name: string; path: (nowS: number) => string };

const enc = encodeURIComponent;
const QUERIES: QueryDef[] = [
  { name: 'log |= filter', path: (n) => `/loki/api/v1/query_range?query=${enc('{job="apache"} |= "error"')}&start=${n - 300}&end=${n}&limit=100` },
  { name: 'log regex, ns', path: (n) => `/loki/api/v1/query_range?query=${enc('{namespace="prod"} |~ "(?i)fail|exception"')}&start=${n - 300}&end=${n}&limit=1000` },
  { name: 'log != + line_format', path: (n) => `/loki/api/v1/query_range?query=${enc('{namespace="infra"} != "INFO" | line_format "{{.host}} {{__line__}}"')}&start=${n - 120}&end=${n}&limit=500&direction=forward` },
  { name: 'rate by job', path: (n) => `/loki/api/v1/query_range?query=${enc('sum by (job) (rate({namespace=~".+"}[1m]))')}&start=${n - 300}&end=${n}&step=15` },
  { name: 'topk bytes by host', path: (n) => `/loki/api/v1/query_range?query=${enc('topk(5, sum by (host) (bytes_over_time({job=~"a.*|h.*"}[1m])))')}&start=${n - 300}&end=${n}&step=30` },
  { name: 'count filter instant', path: (n) => `/loki/api/v1/query?query=${enc('sum(count_over_time({job="linux"} |= "session" [5m]))')}&time=${n}` },
  { name: 'labels', path: (n) => `/loki/api/v1/labels?start=${n - 3600}&end=${n}` },
  { name: 'label values', path: (n) => `/loki/api/v1/label/job/values?start=${n - 3600}&end=${n}` },
  { name: 'series', path: (n) => `/loki/api/v1/series?match[]=${enc('{namespace="data"}')}&start=${n - 3600}&end=${n}` },
  { name: 'index/volume', path: (n) => `/loki/api/v1/index/volume?query=${enc('{job=~".+"}')}&start=${n - 3600}&end=${n}` },
];

async function runQuerier(url: string, id: number, until: number, stats: QueryStats): Promise<void> {
  let i = id * 3;
  while (Date.now() < until) {
    const q = QUERIES[i++ % QUERIES.length]!;
    const nowS = Math.floor(Date.now() / 1000);
    const t0 = performance.now();
    let ok = false;
    let detail = '';
    try {
      const r = await fetch(url + q.path(nowS), { signal: AbortSignal.timeout(60_000) });
      const text = await r.text();
      ok = r.status === 200 && JSON.parse(text).status === 'success';
      if (!ok) detail = `${r.status} ${text.slice(0, 200)}`;
    } catch (e) {
      detail = (e as Error).message;
    }
    const ms = performance.now() - t0;
    let s = stats.byName.get(q.name);
    if (!s) stats.byName.set(q.name, (s = { calls: 0, errors: 0, ms: [] }));
    s.calls++;
    s.ms.push(ms);
    stats.calls++;
    if (!ok) {
      s.errors++;
      stats.errors++;
      if (stats.errorSamples.length < 5) stats.errorSamples.push(`${q.name}: ${detail}`);
    }
    await delay(250);
  }
}

interface TailStats {
  entries: number;
  frames: number;
  errors: string[];
  closedEarly: boolean;
}

function startTail(url: string, stats: TailStats): { stop: () => Promise<void> } {
  const q = enc('{job="apache"} |= "error"');
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/loki/api/v1/tail?query=${q}&start=${Date.now()}000000`);
  let stopping = false;
  const closed = new Promise<void>((res) => ws.on('close', () => res()));
  ws.on('message', (d) => {
    stats.frames++;
    try {
      const m = JSON.parse(d.toString()) as { streams?: { values: unknown[] }[] };
      for (const s of m.streams ?? []) stats.entries += s.values.length;
    } catch (e) {
      stats.errors.push(`bad tail frame: ${(e as Error).message}`);
    }
  });
  ws.on('error', (e) => stats.errors.push(e.message));
  ws.on('close', (code, reason) => {
    if (!stopping) {
      stats.closedEarly = true;
      stats.errors.push(`tail closed early: ${code} ${reason.toString()}`);
    }
  });
  return {
    stop: async () => {
      stopping = true;
      ws.close();
      await Promise.race([closed, delay(5000)]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Figures

function quantile(xs: number[], q: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Gauges of the server's memory the soak follows, by /metrics name (a breakdown of its RSS). */
const MEMORY_GAUGES: [string, string][] = [
  ['v8Heap', 'nodejs_heap_size_total_bytes'],
  ['external', 'nodejs_external_memory_bytes'],
  ['mallocHeap', 'bramble_malloc_heap_bytes'],
  ['mallocFree', 'bramble_malloc_free_bytes'],
  ['mallocMmap', 'bramble_malloc_mmap_bytes'],
  ['workersHeap', 'bramble_scan_workers_heap_bytes'],
  ['workersExternal', 'bramble_scan_workers_external_bytes'],
];

/** The main thread's collections, by /metrics counter (read once at the end). */
const GC_COUNTERS: [string, string][] = [
  ['major', 'bramble_gc_collections_total{kind="major"}'],
  ['majorPauseS', 'bramble_gc_pause_seconds_total{kind="major"}'],
  ['minor', 'bramble_gc_collections_total{kind="minor"}'],
  ['minorPauseS', 'bramble_gc_pause_seconds_total{kind="minor"}'],
  ['majorMaxS', 'bramble_gc_pause_max_seconds{kind="major"}'],
  ['incremental', 'bramble_gc_collections_total{kind="incremental"}'],
  ['incrementalMaxS', 'bramble_gc_pause_max_seconds{kind="incremental"}'],
  ['forced', 'bramble_forced_gc_total'],
  ['forcedS', 'bramble_forced_gc_seconds_total'],
  ['incrementalAsks', 'bramble_forced_gc_incremental_total'],
];

/** The server's event-loop lag maximum since the last scrape, its in-memory head bytes, memory gauges and GC counters. */
async function scrapeMetrics(url: string): Promise<{ lag: number | null; headBytes: number | null; memory: Record<string, number>; gc: Record<string, number> }> {
  const memory: Record<string, number> = {};
  const gc: Record<string, number> = {};
  try {
    const m = parseMetrics(await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text());
    for (const [key, name] of MEMORY_GAUGES) if (m.has(name)) memory[key] = m.get(name)!;
    for (const [key, name] of GC_COUNTERS) if (m.has(name)) gc[key] = m.get(name)!;
    return { lag: m.get('bramble_event_loop_lag_max_seconds') ?? null, headBytes: m.get('bramble_head_bytes') ?? null, memory, gc };
  } catch {
    return { lag: null, headBytes: null, memory, gc };
  }
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* plain-text error */
  }
  return { status: r.status, body };
}

// ---------------------------------------------------------------------------------------------
// Verification

interface Verify {
  streamsExpected: number;
  streamsMismatched: number;
  linesExpected: number;
  linesCounted: number;
  mismatchSamples: string[];
  spotChecked: number;
  spotFailed: number;
  spotSamples: string[];
}

function labelsOf(def: StreamDef): Record<string, string> {
  return { host: def.host, job: def.job, namespace: def.namespace };
}

async function verify(url: string, streams: StreamState[], spots: Spot[], startMs: number): Promise<Verify> {
  const v: Verify = { streamsExpected: 0, streamsMismatched: 0, linesExpected: 0, linesCounted: 0, mismatchSamples: [], spotChecked: 0, spotFailed: 0, spotSamples: [] };
  const endS = Math.ceil(Date.now() / 1000) + 1;
  const rangeS = endS - Math.floor(startMs / 1000) + 60;
  const q = `sum by (job, host, namespace) (count_over_time({job=~".+"}[${rangeS}s]))`;
  const r = await getJson(`${url}/loki/api/v1/query?query=${enc(q)}&time=${endS}`);
  if (r.status !== 200) throw new Error(`count query failed: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  const counted = new Map<string, number>();
  for (const s of r.body.data.result as { metric: Record<string, string>; value: [number, string] }[]) {
    counted.set(JSON.stringify({ host: s.metric.host, job: s.metric.job, namespace: s.metric.namespace }), Number(s.value[1]));
  }
  for (const st of streams) {
    if (st.acked === 0) continue;
    v.streamsExpected++;
    v.linesExpected += st.acked;
    const key = JSON.stringify(labelsOf(st.def));
    const got = counted.get(key) ?? 0;
    counted.delete(key);
    v.linesCounted += got;
    if (got !== st.acked) {
      v.streamsMismatched++;
      if (v.mismatchSamples.length < 5) v.mismatchSamples.push(`${st.def.labels}: acknowledged ${st.acked}, stored ${got}`);
    }
  }
  for (const [k, n] of counted) {
    v.streamsMismatched++;
    v.linesCounted += n;
    if (v.mismatchSamples.length < 5) v.mismatchSamples.push(`unexpected stream ${k}: ${n} lines`);
  }
  // Exact lines: each spot's stream holds exactly that line at exactly that nanosecond.
  const step = Math.max(1, Math.floor(spots.length / 200));
  for (let i = 0; i < spots.length; i += step) {
    const sp = spots[i]!;
    v.spotChecked++;
    const res = await getJson(`${url}/loki/api/v1/query_range?query=${enc(sp.labels)}&start=${sp.tsNs}&end=${sp.tsNs + 1n}&limit=10`);
    const entries: [string, string][] = res.status === 200 ? (res.body.data.result as { values: [string, string][] }[]).flatMap((s) => s.values) : [];
    if (entries.length !== 1 || entries[0]![0] !== String(sp.tsNs) || entries[0]![1] !== sp.line) {
      v.spotFailed++;
      if (v.spotSamples.length < 3) v.spotSamples.push(`${sp.labels} @${sp.tsNs}: got ${res.status} ${JSON.stringify(entries).slice(0, 200)}`);
    }
  }
  return v;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const jobs = loadLoghub(loghubDir(ROOT));
  const defs = streamDefs(jobs);
  const streams: StreamState[] = defs.map((def) => ({ def, job: jobs[def.jobIndex]!, next: 0, lastTsNs: 0n, acked: 0, ackedBytes: 0 }));
  const entry = o.tsx ? null : buildServer(ROOT, log);
  // with a profile, the server logs when each stall happened, to find it in the profile
  if (o.profile && process.env.BRAMBLE_STALL_LOG_MS === undefined) process.env.BRAMBLE_STALL_LOG_MS = '30';
  const srv: BenchServer = await startBenchServer({ root: ROOT, tsx: o.tsx, pi: o.pi, memCap: 512 * MiB, configYaml: SOAK_CONFIG, log, ...(o.profile ? { profileDir: o.profile } : {}) }, entry);
  log(`server pid ${srv.pid} on ${srv.url}${srv.constraints ? ` (${srv.constraints})` : ''}; data in ${srv.dataDir}`);
  const durationMs = o.minutes * 60_000;
  const startMs = Date.now();
  const until = startMs + durationMs;

  const rss: { t: number; rss: number }[] = [];
  const lags: number[] = [];
  /** when each scrape's maximum was seen (s since the start), to place the worst stalls */
  const lagAt: number[] = [];
  const heads: { t: number; bytes: number }[] = [];
  const memory: { t: number; m: Record<string, number> }[] = [];
  const sampler = setInterval(() => {
    try {
      rss.push({ t: (Date.now() - startMs) / 1000, rss: memInfo(srv.pid).rss });
    } catch {
      /* server gone: reported below */
    }
  }, 3000);
  const lagTimer = setInterval(() => {
    void scrapeMetrics(srv.url).then((m) => {
      if (m.lag !== null) {
        lags.push(m.lag);
        lagAt.push((Date.now() - startMs) / 1000);
      }
      if (m.headBytes !== null) heads.push({ t: (Date.now() - startMs) / 1000, bytes: m.headBytes });
      if (Object.keys(m.memory).length > 0) memory.push({ t: (Date.now() - startMs) / 1000, m: m.memory });
    });
  }, 5000);
  const progress = setInterval(() => {
    const last = rss[rss.length - 1];
    log(`${((Date.now() - startMs) / 60000).toFixed(1)}/${o.minutes} min: pushed ${(push.bytes / MiB).toFixed(0)} MiB in ${push.batches} batches (${push.errors} errors), ${qs.calls} queries (${qs.errors} errors), tail ${tail.entries} entries, RSS ${last ? (last.rss / MiB).toFixed(0) : '?'} MiB`);
  }, 30_000);

  const push: PushStats = { batches: 0, errors: 0, status429: 0, errorSamples: [], latenciesMs: [], lines: 0, bytes: 0 };
  const qs: QueryStats = { calls: 0, errors: 0, errorSamples: [], byName: new Map() };
  const tail: TailStats = { entries: 0, frames: 0, errors: [], closedEarly: false };
  const spots: Spot[] = [];
  const cpu0 = cpuSeconds(srv.pid);
  const tailer = startTail(srv.url, tail);

  const senders: Promise<void>[] = [];
  for (let k = 0; k < o.senders; k++) {
    const own = streams.filter((s) => s.def.index % o.senders === k);
    senders.push(runSender(srv.url, new Sender(k, own, o.seed), (o.rate * MiB) / o.senders, until, push, spots, 997));
  }
  const queriers: Promise<void>[] = [];
  for (let k = 0; k < o.queriers; k++) queriers.push(runQuerier(srv.url, k, until, qs));
  // One explicit flush in the middle, on top of the age/idle flushes.
  const flushAt = setTimeout(() => {
    void fetch(`${srv.url}/flush`, { method: 'POST' }).then((r) => log(`POST /flush mid-soak: ${r.status}`)).catch((e) => log(`POST /flush failed: ${(e as Error).message}`));
  }, durationMs / 2);
  await Promise.all([...senders, ...queriers]);
  clearTimeout(flushAt);
  await tailer.stop();
  clearInterval(sampler);
  clearInterval(lagTimer);
  clearInterval(progress);
  const elapsedS = (Date.now() - startMs) / 1000;
  const cpu = cpuSeconds(srv.pid) - cpu0;
  const last = await scrapeMetrics(srv.url);
  if (last.lag !== null) {
    lags.push(last.lag);
    lagAt.push((Date.now() - startMs) / 1000);
  }
  log(`soak done after ${elapsedS.toFixed(0)} s; verifying ${push.lines} acknowledged lines ...`);
  const v = await verify(srv.url, streams, spots, startMs);
  // Memory once the load is gone: heads flushed, then 8 s for the reclaimer's collection and trim.
  // What stays is the server's floor; a floor that rises with the soak's length is a leak.
  await fetch(`${srv.url}/flush`, { method: 'POST' }).catch(() => {});
  await delay(8000);
  const settled = { rssMiB: memInfo(srv.pid).rss / MiB, memoryMiB: Object.fromEntries(Object.entries((await scrapeMetrics(srv.url)).memory).map(([k, b]) => [k, b / MiB])) };
  const diskInfo = srv.dataDir;
  await srv.stop();
  if (o.profile) copyFileSync(srv.logFile, join(o.profile, 'server.log'));
  srv.cleanup(o.keep);

  // Figures
  const rssMiB = rss.map((r) => r.rss / MiB);
  const half = rss.filter((r) => r.t >= elapsedS / 2);
  const slopeMiBPerMin = slope(half.map((r) => r.t / 60), half.map((r) => r.rss / MiB));
  // Medians per quarter of the soak: a plateau shows as flat later quarters despite GC sawtooth.
  const quarterMedians = [0, 1, 2, 3].map((q) => quantile(rss.filter((r) => r.t >= (q * elapsedS) / 4 && r.t < ((q + 1) * elapsedS) / 4).map((r) => r.rss / MiB), 0.5));
  // the same per quarter for each memory gauge: which part of RSS grows
  const memoryQuarterMiB: Record<string, number[]> = {};
  for (const [key] of MEMORY_GAUGES) {
    if (!memory.some((x) => key in x.m)) continue;
    memoryQuarterMiB[key] = [0, 1, 2, 3].map((q) => quantile(memory.filter((x) => x.t >= (q * elapsedS) / 4 && x.t < ((q + 1) * elapsedS) / 4 && key in x.m).map((x) => x.m[key]! / MiB), 0.5));
  }
  const queryRows = [...qs.byName].map(([name, s]) => ({ name, calls: s.calls, errors: s.errors, p50Ms: quantile(s.ms, 0.5), p99Ms: quantile(s.ms, 0.99), maxMs: Math.max(...s.ms) }));
  const result = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', memGiB: totalmem() / 2 ** 30 },
    options: o,
    config: SOAK_CONFIG,
    constraints: srv.constraints,
    elapsedS,
    push: {
      batches: push.batches, errors: push.errors, status429: push.status429, errorSamples: push.errorSamples,
      lines: push.lines, rawMiB: push.bytes / MiB, rateMiBs: push.bytes / MiB / elapsedS, linesPerS: push.lines / elapsedS,
      latencyP50Ms: quantile(push.latenciesMs, 0.5), latencyP99Ms: quantile(push.latenciesMs, 0.99), latencyMaxMs: Math.max(0, ...push.latenciesMs),
    },
    queries: { calls: qs.calls, errors: qs.errors, errorSamples: qs.errorSamples, byName: queryRows },
    tail,
    rss: { samples: rss.length, minMiB: Math.min(...rssMiB), medianMiB: quantile(rssMiB, 0.5), maxMiB: Math.max(...rssMiB), secondHalfSlopeMiBPerMin: slopeMiBPerMin, quarterMediansMiB: quarterMedians, series: rss.map((r) => [Math.round(r.t), Math.round(r.rss / MiB)]) },
    headBytes: { medianMiB: quantile(heads.map((h) => h.bytes / MiB), 0.5), maxMiB: Math.max(0, ...heads.map((h) => h.bytes / MiB)), series: heads.map((h) => [Math.round(h.t), Math.round(h.bytes / MiB)]) },
    memoryQuarterMediansMiB: memoryQuarterMiB,
    settled,
    eventLoopLag: {
      scrapes: lags.length, maxMs: Math.max(0, ...lags) * 1000, p50OfMaxesMs: quantile(lags, 0.5) * 1000,
      // the five worst 5-s windows: [end of the window in s since the start, max lag ms]
      worst: lags.map((l, i) => [Math.round(lagAt[i]!), Math.round(l * 1000)]).sort((a, b) => b[1]! - a[1]!).slice(0, 5),
    },
    serverCpuS: cpu,
    serverCpuPct: (cpu / elapsedS) * 100,
    /** main-thread collections over the whole run (start-up and verification included) */
    gc: last.gc,
    verify: v,
  };
  const checks: [string, boolean][] = [
    ['push errors = 0', push.errors === 0],
    ['query errors = 0', qs.errors === 0],
    ['every acknowledged line stored exactly once (per-stream counts)', v.streamsMismatched === 0 && v.linesCounted === v.linesExpected],
    ['spot-checked lines exact', v.spotFailed === 0 && v.spotChecked > 0],
    ['tail received entries, stayed open', tail.entries > 0 && !tail.closedEarly && tail.errors.length === 0],
    ['RSS slope over the second half < 5 MiB/min', slopeMiBPerMin < 5],
  ];
  const pass = checks.every(([, ok]) => ok);

  const f1 = (x: number): string => x.toFixed(1);
  const out: string[] = [];
  out.push(`\nBramble soak: ${f1(elapsedS / 60)} min, ${o.senders} senders at ${o.rate} MiB/s target, ${o.queriers} query clients + 1 tail${srv.constraints ? `, ${srv.constraints}` : ''}`);
  out.push(`  push        ${push.lines} lines, ${f1(push.bytes / MiB)} MiB raw (${result.push.rateMiBs.toFixed(2)} MiB/s, ${result.push.linesPerS.toFixed(0)} lines/s), ${push.batches} batches, errors ${push.errors} (429: ${push.status429}), latency p50 ${f1(result.push.latencyP50Ms)} ms p99 ${f1(result.push.latencyP99Ms)} ms max ${f1(result.push.latencyMaxMs)} ms`);
  out.push(`  queries     ${qs.calls} calls, errors ${qs.errors}`);
  for (const r of queryRows) out.push(`    ${r.name.padEnd(22)} ${String(r.calls).padStart(5)} calls  p50 ${f1(r.p50Ms).padStart(7)} ms  p99 ${f1(r.p99Ms).padStart(7)} ms  max ${f1(r.maxMs).padStart(7)} ms  errors ${r.errors}`);
  out.push(`  tail        ${tail.entries} entries in ${tail.frames} frames, errors ${tail.errors.length}`);
  out.push(`  RSS         min ${f1(result.rss.minMiB)} / median ${f1(result.rss.medianMiB)} / max ${f1(result.rss.maxMiB)} MiB over ${rss.length} samples; 2nd-half slope ${slopeMiBPerMin.toFixed(2)} MiB/min; quarter medians ${quarterMedians.map((m) => m.toFixed(0)).join(' / ')} MiB`);
  out.push(`  head bytes  median ${f1(result.headBytes.medianMiB)} / max ${f1(result.headBytes.maxMiB)} MiB in memory (bramble_head_bytes)`);
  out.push(`  memory      quarter medians (MiB): ${Object.entries(memoryQuarterMiB).map(([k, v]) => `${k} ${v.map((m) => m.toFixed(0)).join('/')}`).join(', ')}`);
  out.push(`  settled     8 s after the load and a flush: RSS ${f1(settled.rssMiB)} MiB; ${Object.entries(settled.memoryMiB).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
  out.push(`  event loop  max lag ${f1(result.eventLoopLag.maxMs)} ms (median of per-5s maxima ${f1(result.eventLoopLag.p50OfMaxesMs)} ms); worst windows ${result.eventLoopLag.worst.map(([t, ms]) => `${ms} ms at ${t} s`).join(', ')} of ${f1(elapsedS)} s`);
  out.push(`  server CPU  ${f1(cpu)} s (${f1(result.serverCpuPct)}% of one core)`);
  const g = last.gc;
  const avgMs = (s: number | undefined, n: number | undefined): string => (n ? f1(((s ?? 0) / n) * 1000) : '-');
  const maxMs = (s: number | undefined): string => (s === undefined ? '?' : f1(s * 1000));
  const atOnce = g.forced === undefined ? undefined : g.forced - (g.incrementalAsks ?? 0);
  out.push(`  GC          main thread: ${g.major ?? '?'} major (avg pause ${avgMs(g.majorPauseS, g.major)} ms, max ${maxMs(g.majorMaxS)} ms), of them ${g.forced ?? '?'} asked for after flushes (${g.incrementalAsks ?? '?'} incrementally; the ${atOnce ?? '?'} forced at once paused ${avgMs(g.forcedS, atOnce)} ms on average); ${g.incremental ?? '?'} incremental marking steps (max ${maxMs(g.incrementalMaxS)} ms); ${g.minor ?? '?'} minor (avg ${avgMs(g.minorPauseS, g.minor)} ms)`);
  out.push(`  verify      ${v.streamsExpected} streams, ${v.linesExpected} lines acknowledged, ${v.linesCounted} counted, ${v.streamsMismatched} streams mismatched; ${v.spotChecked} exact spot-checks, ${v.spotFailed} failed`);
  for (const m of [...push.errorSamples, ...qs.errorSamples, ...tail.errors, ...v.mismatchSamples, ...v.spotSamples]) out.push(`    ! ${m}`);
  for (const [name, ok] of checks) out.push(`  [${ok ? 'ok' : 'FAIL'}] ${name}`);
  process.stdout.write(out.join('\n') + '\n');

  const dir = join(ROOT, 'bench/results');
  mkdirSync(join(dir, 'runs'), { recursive: true });
  const text = JSON.stringify({ ...result, checks: Object.fromEntries(checks), pass }, null, 2);
  writeFileSync(join(dir, 'soak-latest.json'), text);
  const file = join(dir, 'runs', `soak-${result.when.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, text);
  log(`results: ${file}${o.keep ? `; server data kept in ${diskInfo}` : ''}`);
  process.exit(pass ? 0 : 1);
}

main().catch((e) => {
  process.stderr.write(`soak failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
