// LogQL pipeline micro-benchmark: lines per second through src/logql/pipeline (and the range
// evaluator for metric queries) on one thread, without storage or HTTP. Datasets: the loghub
// corpus (16 jobs, lines replayed in file order) and seeded synthetic JSON log lines. Cases:
// `| json | level="error"`, `|~ "error|fail(ed)?"`, `sum by (job) (rate({...}[1m]))`, plus a
// baseline that only decodes the UTF-8 bytes to strings (what a scan worker does per line before
// the pipeline). Medians of N timed runs after 1 warm-up. `npm run bench:logql -- --help`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseExpr } from '../src/logql/syntax/index.js';
import { compilePipeline, compileSampleExtractor } from '../src/logql/pipeline/index.js';
import { evaluateSampleExpr, evalRangeAggregation, type SeriesSamples } from '../src/logql/eval/index.js';
import type { LogSelectorExpr, RangeAggregationExpr, SampleExpr } from '../src/logql/ast.js';
import type { Labels } from '../src/util/labels.js';
import { loadLoghub, loghubDir, Rng } from './workload.js';

const ROOT = resolve(import.meta.dirname, '..');

const HELP = `npm run bench:logql -- [options]

Single-thread throughput of the LogQL pipeline (src/logql/pipeline) over in-memory lines.

  --lines N   lines per dataset (default 300000)
  --runs N    timed runs per case after 1 warm-up (default 5); the median is reported
  --help      this text

Writes bench/results/logql-latest.json.
`;

interface Stream {
  labels: Labels;
  ts: bigint[];
  lines: string[];
  bytes: Buffer[];
}

interface Dataset {
  name: string;
  streams: Stream[];
  lines: number;
  bytes: number;
}

const START_NS = 1_700_000_000_000_000_000n;
const SPAN_NS = 3_600_000_000_000n;

function finish(name: string, perStream: { labels: Labels; lines: string[] }[]): Dataset {
  let total = 0;
  for (const s of perStream) total += s.lines.length;
  // unique, evenly spaced timestamps over one hour in round-robin order across streams
  const step = SPAN_NS / BigInt(total);
  let bytes = 0;
  const streams = perStream.map((s, si) => {
    const ts = s.lines.map((_, i) => START_NS + BigInt(i * perStream.length + si) * step);
    const b = s.lines.map((l) => Buffer.from(l, 'utf8'));
    for (const x of b) bytes += x.length;
    return { labels: s.labels, ts, lines: s.lines, bytes: b };
  });
  return { name, streams, lines: total, bytes };
}

function loghubDataset(n: number): Dataset {
  const jobs = loadLoghub(loghubDir(ROOT));
  const per = Math.ceil(n / jobs.length);
  return finish(
    'loghub',
    jobs.map((j) => ({
      labels: [{ name: 'job', value: j.job }],
      lines: Array.from({ length: per }, (_, i) => j.lines[i % j.lines.length]!),
    })),
  );
}

const LEVELS = ['info', 'info', 'info', 'info', 'debug', 'warn', 'error'];
const PATHS = ['/api/v1/users', '/api/v1/orders', '/healthz', '/api/v1/search', '/login', '/static/app.js'];
const MSGS = ['request completed', 'request failed', 'cache miss', 'upstream timeout', 'user logged in', 'retrying request', 'connection reset by peer'];

function jsonDataset(n: number): Dataset {
  const rng = new Rng(7);
  const nStreams = 8;
  const per = Math.ceil(n / nStreams);
  const streams = Array.from({ length: nStreams }, (_, k) => ({
    labels: [{ name: 'job', value: `app-${k}` }],
    lines: Array.from({ length: per }, () =>
      JSON.stringify({
        level: LEVELS[rng.int(LEVELS.length)],
        msg: MSGS[rng.int(MSGS.length)],
        method: rng.int(4) === 0 ? 'POST' : 'GET',
        path: PATHS[rng.int(PATHS.length)],
        status: [200, 200, 200, 201, 404, 500][rng.int(6)],
        duration_ms: rng.int(2000),
        user: { id: rng.int(100_000), region: ['eu', 'us', 'ap'][rng.int(3)] },
        trace_id: rng.u32().toString(16).padStart(8, '0') + rng.u32().toString(16).padStart(8, '0'),
      }),
    ),
  }));
  return finish('json', streams);
}

interface Case {
  name: string;
  /** processes the dataset once; returns lines that passed (log) or output points (metric) */
  run: (d: Dataset) => Promise<number>;
}

function logCase(query: string): Case {
  const expr = parseExpr(query) as LogSelectorExpr;
  if (expr.kind !== 'logSelector') throw new Error(`${query} is not a log query`);
  return {
    name: query,
    async run(d) {
      const p = compilePipeline(expr.pipeline);
      const noSm: Labels = [];
      let passed = 0;
      for (const s of d.streams) {
        const sp = p.forStream(s.labels);
        const { ts, lines } = s;
        for (let i = 0; i < lines.length; i++) if (sp.process(ts[i]!, lines[i]!, noSm)) passed++;
      }
      return passed;
    },
  };
}

function metricCase(query: string): Case {
  const expr = parseExpr(query) as SampleExpr;
  return {
    name: query,
    async run(d) {
      const grid = { startNs: START_NS, endNs: START_NS + SPAN_NS, stepNs: 60_000_000_000n };
      const noSm: Labels = [];
      // the scan worker's part (extract samples per series, range-aggregate on the grid) runs in
      // fetchRange; the evaluator does the rest (here: sum by job), as in the query engine.
      const value = await evaluateSampleExpr(expr, grid, false, async (r: RangeAggregationExpr) => {
        const ex = compileSampleExtractor(r);
        const from = grid.startNs - r.range.rangeNs - r.range.offsetNs;
        const series = new Map<string, SeriesSamples>();
        for (const s of d.streams) {
          const se = ex.forStream(s.labels);
          const { ts, lines } = s;
          for (let i = 0; i < lines.length; i++) {
            const t = ts[i]!;
            if (t <= from) continue;
            if (!se.process(t, lines[i]!, noSm)) continue;
            const key = se.labelsKey();
            let x = series.get(key);
            if (!x) series.set(key, (x = { labels: se.labels(), key, ts: [], values: [] }));
            x.ts.push(t);
            x.values.push(se.value);
          }
        }
        return evalRangeAggregation(r, [...series.values()], grid);
      }, { maxQuerySeries: 100_000 });
      return value.type === 'matrix' ? value.series.length : value.type === 'vector' ? value.samples.length : 1;
    },
  };
}

const decodeCase: Case = {
  name: 'baseline: UTF-8 decode only',
  async run(d) {
    const dec = new TextDecoder();
    let n = 0;
    for (const s of d.streams) for (const b of s.bytes) n += dec.decode(b).length > 0 ? 1 : 0;
    return n;
  },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let lines = 300_000;
  let runs = 5;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(HELP);
      return;
    }
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return Math.floor(v);
    };
    if (a === '--lines') lines = num();
    else if (a === '--runs') runs = num();
    else throw new Error(`unknown option ${a} (see --help)`);
  }
  process.stderr.write(`building datasets (${lines.toLocaleString('en-US')} lines each) ...\n`);
  const datasets = [loghubDataset(lines), jsonDataset(lines)];
  const cases = [
    decodeCase,
    logCase('{job=~".+"} | json | level="error"'),
    logCase('{job=~".+"} |~ "error|fail(ed)?"'),
    metricCase('sum by (job) (rate({job=~".+"} [1m]))'),
  ];
  const results: { case: string; dataset: string; lines: number; linesPerS: number; mibPerS: number; nsPerLine: number; output: number; runsMs: number[] }[] = [];
  for (const c of cases) {
    for (const d of datasets) {
      process.stderr.write(`${c.name} over ${d.name} (1 warm-up + ${runs} runs) ...\n`);
      const output = await c.run(d);
      const ms: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        await c.run(d);
        ms.push(performance.now() - t0);
      }
      const med = median(ms) / 1000;
      results.push({ case: c.name, dataset: d.name, lines: d.lines, linesPerS: d.lines / med, mibPerS: d.bytes / 2 ** 20 / med, nsPerLine: (med * 1e9) / d.lines, output, runsMs: ms });
    }
  }
  const head = ['case', 'data', 'lines/s', 'MiB/s', 'ns/line', 'output'];
  const rows = results.map((r) => [r.case, r.dataset, Math.round(r.linesPerS).toLocaleString('en-US'), r.mibPerS.toFixed(1), r.nsPerLine.toFixed(0), String(r.output)]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  process.stdout.write(`LogQL pipeline, single thread, median of ${runs} runs (output = lines passing, or result series)\n`);
  process.stdout.write([fmt(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(fmt)].join('\n') + '\n');
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'logql-latest.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, lines, runs, results }, null, 2) + '\n');
  process.stderr.write('results: bench/results/logql-latest.json\n');
}

main().catch((e) => {
  process.stderr.write(`bench:logql: ${(e as Error).message}\n`);
  process.exit(1);
});
