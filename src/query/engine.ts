// The query coordinator: picks the streams a query touches (in-memory stream registry backed by
// the SQLite index), splits their chunk files and head blocks into scan tasks for the worker
// pool, merges what comes back (k-way by timestamp for log queries, per-step series for metric
// queries) and applies Loki's result rules (limit, direction, interval, duplicates, series limit).
import type { LabelMatcher, LogSelectorExpr, RangeAggregationExpr, SampleExpr } from '../logql/ast.js';
import type { Ingester } from '../head/ingester.js';
import type { StreamRecord } from '../head/stream-head.js';
import { readLeases } from '../chunk/read-leases.js';
import { WorkerPool } from '../worker/pool.js';
import { newResultBound, unpackEntries, writeResultBound, type ResultBatch, type ScanStats, type ScannedEntry, type StreamSource, type Task } from '../worker/protocol.js';
import { cmpBackward, cmpForward, mergeSorted } from '../worker/merge.js';
import { evaluateSampleExpr } from '../logql/eval/index.js';
import type { QueryValue, StepGrid, StepSeries } from '../logql/eval/types.js';
import { compileMatchers, matchesLabels } from './matchers.js';
import { labelsKey, sortLabels, type Labels } from '../util/labels.js';

export interface ResultEntry {
  tsMs: number;
  tsRem: number;
  line: string;
  categorized?: ScannedEntry['categorized'];
}

export interface ResultStream {
  labels: Labels;
  entries: ResultEntry[];
}

export interface QueryStats {
  entriesScanned: number;
  bytesScanned: number;
  chunksRead: number;
  blocks: number;
  blocksSkipped: number;
  entriesReturned: number;
  execTimeMs: number;
}

export function emptyStats(): QueryStats {
  return { entriesScanned: 0, bytesScanned: 0, chunksRead: 0, blocks: 0, blocksSkipped: 0, entriesReturned: 0, execTimeMs: 0 };
}

function addStats(a: QueryStats, b: ScanStats): void {
  a.entriesScanned += b.entriesScanned;
  a.bytesScanned += b.bytesScanned;
  a.chunksRead += b.chunksRead;
  a.blocks += b.blocks;
  a.blocksSkipped += b.blocksSkipped;
}

/** Label Loki's multi-tenant querier adds to every result of a query over several tenants. */
export const TENANT_LABEL = '__tenant_id__';
/** A stream's own `__tenant_id__` label is kept under this name (Loki's retainExistingPrefix). */
export const RETAINED_TENANT_LABEL = 'original_' + TENANT_LABEL;

/**
 * Loki's filterValuesByMatchers: `__tenant_id__` matchers pick tenants out of `tenants` and are
 * dropped; `original___tenant_id__` matchers target a stream's own `__tenant_id__` label.
 */
export function splitTenantMatchers(tenants: readonly string[], matchers: readonly LabelMatcher[]): { tenants: string[]; matchers: LabelMatcher[] } {
  const tenantMatchers: LabelMatcher[] = [];
  const rest: LabelMatcher[] = [];
  for (const m of matchers) {
    if (m.name === TENANT_LABEL) tenantMatchers.push(m);
    else if (m.name === RETAINED_TENANT_LABEL) rest.push({ ...m, name: TENANT_LABEL });
    else rest.push(m);
  }
  const cm = compileMatchers(tenantMatchers);
  return { tenants: tenants.filter((t) => matchesLabels(cm, [{ name: TENANT_LABEL, value: t }])), matchers: rest };
}

/** Loki's relabel: `__tenant_id__` set to `tenant`, a stream's own one kept as `original___tenant_id__`. */
export function withTenantLabel(labels: Labels, tenant: string): Labels {
  const out: Labels = [];
  for (const l of labels) {
    if (l.name === TENANT_LABEL) out.push({ name: RETAINED_TENANT_LABEL, value: l.value });
    else if (l.name !== RETAINED_TENANT_LABEL || !labels.some((x) => x.name === TENANT_LABEL)) out.push(l);
  }
  out.push({ name: TENANT_LABEL, value: tenant });
  return sortLabels(out);
}

/**
 * A query whose scan results would hold more than the memory budget (bramble.query.max_result_bytes,
 * on by default whatever the limits say): 400, in the words of Loki's max_query_bytes_read answer.
 */
export class QueryTooLargeError extends Error {
  readonly status = 400;
  constructor(limit: number) {
    super(`the query result would hold too many bytes (limit: ${ibytes(limit)}); consider adding more specific stream selectors, a line filter or a smaller limit, or reduce the time range of the query`);
    this.name = 'QueryTooLargeError';
  }
}

/** go-humanize IBytes ("512 B", "1.5 KiB", "128 MiB"), as Loki's limit messages print sizes. */
export function ibytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  const e = Math.min(Math.floor(Math.log(n) / Math.log(1024)), units.length - 1);
  const v = Math.floor((n / 1024 ** e) * 10 + 0.5) / 10;
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[e]}`;
}

/** Bytes held per scanned entry beyond its line (object, labels reference, key). */
const ENTRY_OVERHEAD = 96;

/** Approximate memory metric series hold: 9 bytes a step per series (value + present flag). */
function seriesBytes(series: StepSeries[]): number {
  let n = 0;
  for (const s of series) n += ENTRY_OVERHEAD + s.key.length + s.values.length * 9;
  return n;
}

/** Result memory used so far by one query (shared by its tenants and range aggregations). */
interface Budget {
  used: number;
  readonly max: number;
}

/** Range aggregations whose per-step values add up across disjoint sets of streams. */
const SUMMABLE = new Set(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'sum_over_time']);

export class QueryEngine {
  constructor(
    private readonly ingester: Ingester,
    private readonly pool: WorkerPool,
    private readonly limits: { maxQuerySeries: number; maxResultBytes?: number },
  ) {}

  private newBudget(): Budget {
    return { used: 0, max: this.limits.maxResultBytes ?? 0 };
  }

  /**
   * Runs scan tasks on the pool. `take(i, batch)` gets each result batch of task i as it arrives
   * and answers by how many bytes the query's held results grew (or shrank); once they are over
   * the budget, every scan is cancelled and the query fails with QueryTooLargeError. Any other
   * failure also cancels the remaining scans. `onEnded` is called once no worker reads any of
   * the tasks (for cancelled scans possibly after this returns).
   */
  private async runStreaming(tasks: Task[], signal: AbortSignal | undefined, budget: Budget, take: (i: number, b: ResultBatch) => number, onEnded: () => void): Promise<ScanStats[]> {
    let running = tasks.length;
    const ended = (): void => {
      if (--running === 0) onEnded();
    };
    if (running === 0) onEnded();
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(signal!.reason);
    if (signal?.aborted) ac.abort(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.all(
        tasks.map((t, i) =>
          this.pool.run(t, (b) => {
            budget.used += take(i, b);
            if (budget.max > 0 && budget.used > budget.max) throw new QueryTooLargeError(budget.max);
          }, ac.signal, ended),
        ),
      );
    } catch (e) {
      if (!ac.signal.aborted) ac.abort(e instanceof QueryTooLargeError ? 'query result too large' : 'query failed');
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Streams of `tenant` matching `matchers` with data in [from, through]. With `headAnyTime`,
   * streams holding unflushed data count whatever the range: Loki's label APIs answer from the
   * ingesters' in-memory index, which has no time filter.
   */
  selectStreams(tenant: string, matchers: LabelMatcher[], fromNs: bigint, throughNs: bigint, headAnyTime = false): StreamRecord[] {
    const cm = compileMatchers(matchers);
    const out: StreamRecord[] = [];
    for (const s of this.ingester.listStreams(tenant)) {
      if (!matchesLabels(cm, s.labels)) continue;
      if (!(headAnyTime && !s.head.isEmpty) && !this.ingester.streamOverlaps(s, fromNs, throughNs)) continue;
      out.push(s);
    }
    return out;
  }

  /**
   * Scans `streams` over [from, through] with the tasks `build` makes from their sources. The
   * in-memory blocks are snapshots under a read lease (chunk/read-leases.ts), closed once no
   * worker reads them any more, so the heads can write that memory again.
   */
  private async scanSources(
    streams: StreamRecord[], fromNs: bigint, throughNs: bigint, build: (sources: StreamSource[]) => Task[],
    signal: AbortSignal | undefined, budget: Budget, take: (i: number, b: ResultBatch) => number,
  ): Promise<ScanStats[]> {
    const lease = readLeases.open();
    let tasks: Task[];
    try {
      tasks = build(streams.map((s) => {
        const { files, mem } = this.ingester.sources(s, fromNs, throughNs, lease);
        return { labels: s.labels, files, mem };
      }));
    } catch (e) {
      readLeases.close(lease);
      throw e;
    }
    return this.runStreaming(tasks, signal, budget, take, () => readLeases.close(lease));
  }

  /** Splits sources into up to `n` groups of similar size (by bytes). */
  private partition(sources: StreamSource[], n: number): StreamSource[][] {
    if (n <= 1 || sources.length <= 1) return [sources];
    const parts: { size: number; list: StreamSource[] }[] = Array.from({ length: Math.min(n, sources.length) }, () => ({ size: 0, list: [] }));
    const weighted = sources.map((s) => ({ s, w: s.files.length * 1_500_000 + s.mem.reduce((a, b) => a + b.info.linesU, 0) + 1 }));
    weighted.sort((a, b) => b.w - a.w);
    for (const { s, w } of weighted) {
      let best = parts[0]!;
      for (const p of parts) if (p.size < best.size) best = p;
      best.list.push(s);
      best.size += w;
    }
    return parts.map((p) => p.list).filter((l) => l.length > 0);
  }

  /** A log query over [start, end): newest or oldest `limit` entries, grouped by label set. */
  async logQuery(
    tenant: string,
    sel: LogSelectorExpr,
    opts: { start: bigint; end: bigint; limit: number; direction: 'forward' | 'backward'; interval: bigint; categorize: boolean },
    signal?: AbortSignal,
    budget: Budget = this.newBudget(),
  ): Promise<{ streams: ResultStream[]; stats: QueryStats }> {
    const started = Date.now();
    const stats = emptyStats();
    const through = opts.end - 1n;
    const streams = this.selectStreams(tenant, sel.matchers, opts.start, through);
    const scanLimit = opts.interval > 0n ? 1_000_000 : opts.limit;
    const backward = opts.direction === 'backward';
    const cmp = backward ? cmpBackward : cmpForward;
    // Batches are merged as they arrive into the best `scanLimit` entries; once there are that
    // many, their worst timestamp is shared with every partition's scan (blocks and entries that
    // cannot beat it are skipped).
    const bound = newResultBound();
    let merged: ScannedEntry[] = [];
    const scans = await this.scanSources(
      streams, opts.start, through,
      (sources) => this.partition(sources, this.pool.size).map((p) => ({ type: 'logScan', streams: p, selector: sel, fromNs: opts.start, toNs: opts.end, direction: opts.direction, limit: scanLimit, categorize: opts.categorize, bound })),
      signal, budget,
      (i, b) => {
        if (b.kind !== 'entries') return 0;
        const entries = unpackEntries(b.entries);
        let grew = 0;
        for (const e of entries) {
          e.seq += i * 2 ** 48;
          grew += ENTRY_OVERHEAD + e.line.length;
        }
        const cut: ScannedEntry[] = [];
        merged = mergeSorted(merged, entries, cmp, scanLimit, cut);
        for (const e of cut) grew -= ENTRY_OVERHEAD + e.line.length;
        if (merged.length >= scanLimit && scanLimit > 0) {
          const w = merged[scanLimit - 1]!;
          writeResultBound(bound, BigInt(w.tsMs) * 1_000_000n + BigInt(w.tsRem));
        }
        return grew;
      },
    );
    for (const s of scans) addStats(stats, s);
    // Group by final label set; drop exact duplicates (same labels, timestamp and line).
    const groups = new Map<string, { labels: Labels; entries: ResultEntry[]; seen: Set<string> | null; lastMs: number; lastRem: number }>();
    let emitted = 0;
    // Loki's readStreams: an entry is kept when it is at least `interval` past the last kept one
    // (exact nanoseconds: entries carry sub-millisecond parts).
    let lastNs: bigint | null = null;
    for (const e of merged) {
      if (emitted >= opts.limit) break;
      if (opts.interval > 0n && lastNs !== null) {
        const ns = BigInt(e.tsMs) * 1_000_000n + BigInt(e.tsRem);
        if ((backward ? lastNs - ns : ns - lastNs) < opts.interval) continue;
      }
      // With categorize-labels, results are keyed by the stream labels alone.
      const key = opts.categorize && e.categorized ? labelsKey(e.categorized.stream) : e.key;
      let g = groups.get(key);
      if (!g) {
        g = { labels: opts.categorize && e.categorized ? e.categorized.stream : e.labels, entries: [], seen: null, lastMs: -1, lastRem: -1 };
        groups.set(key, g);
      }
      if (g.lastMs === e.tsMs && g.lastRem === e.tsRem) {
        if (g.seen === null) g.seen = new Set([g.entries[g.entries.length - 1]!.line]);
        if (g.seen.has(e.line)) continue;
        g.seen.add(e.line);
      } else {
        g.seen = null;
      }
      g.lastMs = e.tsMs;
      g.lastRem = e.tsRem;
      g.entries.push({ tsMs: e.tsMs, tsRem: e.tsRem, line: e.line, categorized: e.categorized });
      emitted++;
      if (opts.interval > 0n) lastNs = BigInt(e.tsMs) * 1_000_000n + BigInt(e.tsRem);
    }
    stats.entriesReturned = emitted;
    stats.execTimeMs = Date.now() - started;
    return { streams: [...groups.values()].map((g) => ({ labels: g.labels, entries: g.entries })), stats };
  }

  /**
   * A log query over several tenants (Loki's MultiTenantQuerier.SelectLogs): `__tenant_id__`
   * matchers choose the tenants, each tenant is queried alone, its streams get the
   * `__tenant_id__` label, and the newest/oldest `limit` entries of them all are kept.
   * One tenant is a plain logQuery (no tenant label), as in Loki.
   */
  async logQueryTenants(
    tenants: readonly string[],
    sel: LogSelectorExpr,
    opts: { start: bigint; end: bigint; limit: number; direction: 'forward' | 'backward'; interval: bigint; categorize: boolean },
    signal?: AbortSignal,
  ): Promise<{ streams: ResultStream[]; stats: QueryStats }> {
    if (tenants.length === 1) return this.logQuery(tenants[0]!, sel, opts, signal);
    const started = Date.now();
    const stats = emptyStats();
    const picked = splitTenantMatchers(tenants, sel.matchers);
    const tagged: { stream: number; e: ResultEntry }[] = [];
    const out: ResultStream[] = [];
    const budget = this.newBudget();
    for (const t of picked.tenants) {
      const r = await this.logQuery(t, { ...sel, matchers: picked.matchers }, opts, signal, budget);
      for (const k of Object.keys(stats) as (keyof QueryStats)[]) stats[k] += r.stats[k];
      for (const st of r.streams) {
        const idx = out.length;
        out.push({ labels: withTenantLabel(st.labels, t), entries: [] });
        for (const e of st.entries) tagged.push({ stream: idx, e });
      }
    }
    const backward = opts.direction === 'backward';
    tagged.sort((a, b) => (backward ? b.e.tsMs - a.e.tsMs || b.e.tsRem - a.e.tsRem : a.e.tsMs - b.e.tsMs || a.e.tsRem - b.e.tsRem) || a.stream - b.stream);
    const n = Math.min(tagged.length, opts.limit);
    for (let i = 0; i < n; i++) out[tagged[i]!.stream]!.entries.push(tagged[i]!.e);
    stats.entriesReturned = n;
    stats.execTimeMs = Date.now() - started;
    return { streams: out.filter((s) => s.entries.length > 0), stats };
  }

  /** A metric query: range aggregations scanned in workers, the rest evaluated here. */
  async metricQuery(tenant: string | readonly string[], expr: SampleExpr, grid: StepGrid, instant: boolean, signal?: AbortSignal, maxQuerySeries = this.limits.maxQuerySeries): Promise<{ value: QueryValue; stats: QueryStats }> {
    const started = Date.now();
    const stats = emptyStats();
    const budget = this.newBudget();
    const fetchTenant = async (tenant: string, r: RangeAggregationExpr): Promise<StepSeries[]> => {
      const from = grid.startNs - r.range.rangeNs - r.range.offsetNs;
      const to = grid.endNs - r.range.offsetNs;
      const streams = this.selectStreams(tenant, r.range.selector.matchers, from + 1n, to);
      // The evaluator hands us `sum by (...)` groupings pushed into summable range aggregations
      // (Loki's canInjectVectorGrouping); series may then span streams, but their per-step values
      // still add up across partitions. Other relabelling needs every stream in one scan.
      const relabels = r.grouping !== undefined || r.range.selector.pipeline.some((s) => s.kind === 'drop' || s.kind === 'keep' || s.kind === 'labelFormat');
      const splittable = !relabels || SUMMABLE.has(r.op);
      const results: StepSeries[][] = [];
      const scans = await this.scanSources(
        streams, from + 1n, to,
        (sources) => {
          const parts = splittable ? this.partition(sources, this.pool.size) : [sources];
          for (let i = 0; i < parts.length; i++) results.push([]);
          return parts.map((p) => ({ type: 'sampleScan', streams: p, expr: r, grid, fromNs: from, toNs: to }));
        },
        signal, budget,
        (i, b) => {
          if (b.kind !== 'series') return 0;
          const list = results[i]!;
          for (const x of b.series) list.push(x);
          return seriesBytes(b.series);
        },
      );
      for (const s of scans) addStats(stats, s);
      if (results.length === 1) return results[0]!;
      return mergeStepSeries(results, !relabels);
    };
    const tenants = typeof tenant === 'string' ? [tenant] : tenant;
    // Several tenants (Loki's MultiTenantQuerier.SelectSamples): each range aggregation runs per
    // tenant chosen by its `__tenant_id__` matchers; series get the tenant label unless a
    // grouping pushed into the aggregation drops it, and equal series of different tenants add up.
    const fetchRange = tenants.length === 1
      ? (r: RangeAggregationExpr) => fetchTenant(tenants[0]!, r)
      : async (r: RangeAggregationExpr): Promise<StepSeries[]> => {
        const picked = splitTenantMatchers(tenants, r.range.selector.matchers);
        const rr: RangeAggregationExpr = { ...r, range: { ...r.range, selector: { ...r.range.selector, matchers: picked.matchers } } };
        const g = r.grouping;
        const keepsTenant = !g || (g.without ? !g.labels.includes(TENANT_LABEL) : g.labels.includes(TENANT_LABEL));
        const parts: StepSeries[][] = [];
        for (const t of picked.tenants) {
          const series = await fetchTenant(t, rr);
          if (keepsTenant) {
            for (const x of series) {
              x.labels = withTenantLabel(x.labels, t);
              x.key = labelsKey(x.labels);
            }
          }
          parts.push(series);
        }
        return parts.length === 1 ? parts[0]! : mergeStepSeries(parts, false);
      };
    const value = await evaluateSampleExpr(expr, grid, instant, fetchRange, { maxQuerySeries });
    stats.execTimeMs = Date.now() - started;
    return { value, stats };
  }
}

/** Combines per-partition results: disjoint series are concatenated, shared ones summed. */
function mergeStepSeries(parts: StepSeries[][], disjoint: boolean): StepSeries[] {
  if (disjoint) return parts.flat();
  const byKey = new Map<string, StepSeries>();
  for (const list of parts) {
    for (const s of list) {
      const cur = byKey.get(s.key);
      if (!cur) {
        byKey.set(s.key, { labels: s.labels, key: s.key, values: Float64Array.from(s.values), present: Uint8Array.from(s.present) });
        continue;
      }
      for (let i = 0; i < s.values.length; i++) {
        if (!s.present[i]) continue;
        if (cur.present[i]) cur.values[i]! += s.values[i]!;
        else {
          cur.values[i] = s.values[i]!;
          cur.present[i] = 1;
        }
      }
    }
  }
  return [...byKey.values()];
}

