// PatternMiner: the pattern ingester + pattern querier of Loki in one pure object. The ingest
// path calls observe() for every pushed entry (per stream: entries older than the stream's last
// observed timestamp are ignored, the stream's tokenizer is chosen from its first line, and one
// Drain instance is kept per detected level). query() returns what `/loki/api/v1/patterns`
// answers: samples of every cluster of the selected streams in [start, end], re-bucketed to
// `step` (min 10 s), merged by (pattern, level) across streams, then patterns with fewer than 30
// lines dropped and at most 300 kept (largest first). prune() is Loki's periodic sweep: it drops
// sample chunks older than `retainFor` (3 h) and forgets empty clusters and streams; the server
// should call it about once a minute to keep memory bounded.
import { Drain, DrainConfig, LogCluster, defaultDrainConfig } from './drain.js';
import { detectLogFormat } from './tokenizers.js';

export interface PatternMinerOptions {
  drain?: Partial<DrainConfig>;
  /** pattern_ingester.retain_for; default 3 h. */
  retainForMs?: number;
  /** Wall clock in ms (limiter pauses and pruning); default Date.now. */
  now?: () => number;
  /** Querier pruning: minimum total count of a returned pattern (Loki: 30). */
  minClusterSize?: number;
  /** Querier cap on returned patterns (Loki: 300). */
  maxPatterns?: number;
}

export interface PatternSeries {
  pattern: string;
  level: string;
  /** [unix seconds, count] pairs, ascending. */
  samples: [number, number][];
}

const KNOWN_LEVELS = new Set(['unknown', 'debug', 'info', 'warn', 'error', 'fatal', 'critical', 'trace']);
const TIME_RESOLUTION_MS = 10_000;

class PatternStream {
  lastTs = -(2n ** 63n);
  readonly drains = new Map<string, Drain>();
  constructor(readonly format: string) {}
}

export class PatternMiner {
  private readonly streams = new Map<string, PatternStream>();
  private readonly cfg: DrainConfig;
  private readonly retainForMs: number;
  private readonly now: () => number;
  private readonly minClusterSize: number;
  private readonly maxPatterns: number;

  constructor(opts: PatternMinerOptions = {}) {
    this.cfg = { ...defaultDrainConfig(), ...(opts.drain ?? {}) };
    this.retainForMs = opts.retainForMs ?? 3 * 3600_000;
    this.now = opts.now ?? Date.now;
    this.minClusterSize = opts.minClusterSize ?? 30;
    this.maxPatterns = opts.maxPatterns ?? 300;
  }

  /**
   * Trains on one pushed entry. streamKey identifies the stream (its label string, after
   * service_name was added); level is the entry's `detected_level` (undefined -> "unknown").
   */
  observe(streamKey: string, tsNs: bigint, line: string, level: string | undefined): void {
    let s = this.streams.get(streamKey);
    if (s === undefined) {
      s = new PatternStream(detectLogFormat(line));
      this.streams.set(streamKey, s);
    }
    if (tsNs < s.lastTs) return;
    s.lastTs = tsNs;
    let lvl = level === undefined ? 'unknown' : level.toLowerCase();
    let d = s.drains.get(lvl);
    if (d === undefined) {
      if (!KNOWN_LEVELS.has(lvl)) {
        lvl = 'unknown';
        d = s.drains.get(lvl);
      }
      if (d === undefined) {
        d = new Drain(this.cfg, s.format, this.now);
        s.drains.set(lvl, d);
      }
    }
    d.train(line, Number(tsNs / 1_000_000n));
  }

  /** Number of streams with pattern state (for metrics/tests). */
  streamCount(): number {
    return this.streams.size;
  }

  /**
   * The `/patterns` answer for the given streams (null = all) over [startNs, endNs] with the
   * request's step (ns). Series are ordered by total count, largest first.
   */
  query(streamKeys: Set<string> | null, startNs: bigint, endNs: bigint, stepNs: bigint): PatternSeries[] {
    const from = Number(startNs / 1_000_000n);
    let through = Number(endNs / 1_000_000n);
    if (endNs % 1_000_000n !== 0n) through++;
    let step = Number(stepNs / 1_000_000n);
    if (step < TIME_RESOLUTION_MS) step = TIME_RESOLUTION_MS;
    const interval = this.cfg.sampleIntervalMs;

    // (level \x00 pattern) -> ts -> count
    const merged = new Map<string, Map<number, number>>();
    const visit = (s: PatternStream) => {
      for (const [lvl, d] of s.drains) {
        for (const c of d.allClusters()) {
          const pattern = c.pattern();
          if (pattern === '') continue;
          let acc: Map<number, number> | undefined;
          for (const chunk of c.chunks) {
            acc = addRange(chunk.ts, chunk.counts, from, through, step, interval, acc, merged, lvl, pattern);
          }
        }
      }
    };
    if (streamKeys === null) {
      for (const s of this.streams.values()) visit(s);
    } else {
      for (const k of streamKeys) {
        const s = this.streams.get(k);
        if (s !== undefined) visit(s);
      }
    }

    const out: { series: PatternSeries; total: number }[] = [];
    for (const [key, byTs] of merged) {
      const sep = key.indexOf('\x00');
      const times = [...byTs.keys()].sort((a, b) => a - b);
      let total = 0;
      const samples: [number, number][] = [];
      for (const t of times) {
        const v = byTs.get(t)!;
        total += v;
        samples.push([Math.floor(t / 1000), v]);
      }
      if (total < this.minClusterSize) continue;
      out.push({ series: { pattern: key.slice(sep + 1), level: key.slice(0, sep), samples }, total });
    }
    out.sort((a, b) => b.total - a.total);
    if (out.length > this.maxPatterns) out.length = this.maxPatterns;
    return out.map((o) => o.series);
  }

  /**
   * Loki's periodic sweep: drops sample chunks whose newest sample is more than retainFor before
   * now, deletes clusters left without samples, prunes empty tree branches, and forgets streams
   * without clusters (their last-timestamp and format are then re-learned).
   */
  prune(nowMs: number = this.now()): void {
    for (const [key, s] of this.streams) {
      let total = 0;
      for (const d of s.drains.values()) {
        const dead: LogCluster[] = [];
        for (const c of d.allClusters()) {
          c.prune(nowMs, this.retainForMs);
          if (c.size === 0) dead.push(c);
        }
        for (const c of dead) d.delete(c);
        d.pruneTree();
        total += d.clusterCount();
      }
      if (total === 0) this.streams.delete(key);
    }
  }
}

/** Chunk.ForRange + merge into the accumulator for (level, pattern). */
function addRange(
  ts: number[], counts: number[], start: number, end: number, step: number, interval: number,
  acc: Map<number, number> | undefined, merged: Map<string, Map<number, number>>, lvl: string, pattern: string,
): Map<number, number> | undefined {
  const n = ts.length;
  if (n === 0) return acc;
  const first = ts[0]!;
  const last = ts[n - 1]!;
  if (start >= end || first >= end || last < start) return acc;
  let lo = 0;
  if (start > first) lo = lowerBound(ts, start);
  let hi = n;
  if (end < last) hi = lowerBound(ts, end);
  if (lo >= hi) return acc;
  if (acc === undefined) {
    const key = lvl + '\x00' + pattern;
    acc = merged.get(key);
    if (acc === undefined) {
      acc = new Map();
      merged.set(key, acc);
    }
  }
  if (step === interval) {
    for (let i = lo; i < hi; i++) acc.set(ts[i]!, (acc.get(ts[i]!) ?? 0) + counts[i]!);
    return acc;
  }
  let cur = ts[lo]! - (ts[lo]! % step);
  let curVal = 0;
  for (let i = lo; i < hi; i++) {
    const t = ts[i]!;
    if (t >= cur + step) {
      acc.set(cur, (acc.get(cur) ?? 0) + curVal);
      const target = t - (t % step);
      for (let z = cur + step; z < target; z += step) if (!acc.has(z)) acc.set(z, 0);
      cur = target;
      curVal = 0;
    }
    curVal += counts[i]!;
  }
  acc.set(cur, (acc.get(cur) ?? 0) + curVal);
  return acc;
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
