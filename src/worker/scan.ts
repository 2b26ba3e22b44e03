// The scan loops that run inside worker threads: walk a stream's blocks (chunk files and
// in-memory head blocks) in time order and read only what the query needs:
// - blocks outside the time range are never touched; a block whose trigram bloom filter proves
//   that a required literal is absent is skipped after reading only its small index section;
// - leading literal line filters run on the raw block bytes (one search per literal over the
//   whole block, native or TypeScript kernels), and a line becomes a string only when a
//   pipeline stage or the result needs it;
// - count_over_time / rate / bytes_over_time / bytes_rate whose pipeline is answered by the
//   byte filters alone never decode lines: timestamps and line lengths come from the meta
//   section, series labels from the stream (plus structured metadata when the grouping can see
//   it), and a block lying inside one step window is counted from its header alone.
// Log queries stop early once `limit` entries beat anything a later block could hold.
import { closeSync } from 'node:fs';
import { SEC_LINES, SEC_META, SEC_SM, type BlockData, type BlockInfo, type BlockSource } from '../chunk/block.js';
import {
  decodeLines, decodeMeta, decodeSmRaw, decodeSmRecord, MetaScratch, smRecordEnds, splitNs, type DecodedMeta,
} from '../chunk/block-reader.js';
import { BlockIndex } from '../chunk/block-index.js';
import { readChunkFooter, readFileBlock, readFileBlockIndex, type ChunkFooter } from '../chunk/chunk-file.js';
import { compilePipeline, compileSampleExtractor, canInjectVectorGrouping, type StreamSampleExtractor } from '../logql/pipeline/index.js';
import { evalRangeAggregation } from '../logql/eval/index.js';
import { durationSeconds } from '../logql/eval/range.js';
import { stepCount, type SeriesSamples, type StepGrid, type StepSeries } from '../logql/eval/types.js';
import type { RangeAggregationExpr } from '../logql/ast.js';
import { NO_LABELS, type Labels } from '../util/labels.js';
import { kernels } from '../native/index.js';
import { planLineFilters, requiredLabelPairs, type LabelPair, type LinePlan } from './prefilter.js';
import { smPairHash } from '../chunk/sm-pair-filter.js';
import { cmpBackward, cmpForward } from './merge.js';
import { stableLabelsHash } from '../util/xxhash.js';
import { Scratch, TypedScratch } from '../util/scratch.js';
import type { LogScanResult, LogScanTask, SampleScanResult, SampleScanTask, ScanStats, ScannedEntry, StreamSource } from './protocol.js';

export class ScanCancelled extends Error {
  constructor() {
    super('scan cancelled');
    this.name = 'ScanCancelled';
  }
}

const textDecoder = new TextDecoder();
const footerCache = new Map<string, ChunkFooter>();
const FOOTER_CACHE_MAX = 4096;

function footer(path: string): ChunkFooter {
  let f = footerCache.get(path);
  if (!f) {
    f = readChunkFooter(path);
    if (footerCache.size >= FOOTER_CACHE_MAX) footerCache.delete(footerCache.keys().next().value!);
    footerCache.set(path, f);
  }
  return f;
}

type FileBlock = Extract<BlockSource, { kind: 'file' }>;

interface PlannedBlock {
  ord: number;
  info: BlockInfo;
  mem: BlockData | null;
  file: FileBlock | null;
}

/** Blocks of a stream overlapping [from, through], numbered in push order. */
function planBlocks(src: StreamSource, fromNs: bigint, throughNs: bigint, stats: ScanStats): PlannedBlock[] {
  const out: PlannedBlock[] = [];
  let ord = 0;
  for (const path of src.files) {
    const f = footer(path);
    stats.chunksRead++;
    for (const b of f.blocks) {
      const o = ord++;
      if (b.info.maxTs < fromNs || b.info.minTs > throughNs) continue;
      out.push({ ord: o, info: b.info, mem: null, file: b });
    }
  }
  for (const b of src.mem) {
    const o = ord++;
    if (b.info.maxTs < fromNs || b.info.minTs > throughNs) continue;
    out.push({ ord: o, info: b.info, mem: b, file: null });
  }
  return out;
}

const NO_INDEX = new BlockIndex(new Uint8Array(0));

/**
 * Reused buffers for block reads and section decoding: a scan handles one block at a time and
 * copies out what it keeps (lines become strings), so nothing outlives the next block's read.
 */
const S_INDEX = new Scratch();
const S_BLOCK = new Scratch();
const S_META = new Scratch();
const S_LINES = new Scratch();
const S_SM = new Scratch();
// per-entry columns of the block being scanned (one block at a time per worker)
const C_META = new MetaScratch();
const C_MASK = new Scratch();
const C_SM_ENDS = new TypedScratch((n) => new Uint32Array(n));
const C_READER_ENDS = new TypedScratch((n) => new Uint32Array(n));

/** A zeroed entry mask for a block of n entries (reused storage). */
function blockMask(n: number): Uint8Array {
  return C_MASK.get(n).fill(0);
}

/** A block's filter index (valid until the next blockIndex call). */
function blockIndex(pb: PlannedBlock, fds: Map<string, number>): BlockIndex {
  if (pb.mem) return pb.mem.index && pb.mem.index.length > 0 ? new BlockIndex(pb.mem.index) : NO_INDEX;
  return pb.file!.indexLen > 0 ? new BlockIndex(readFileBlockIndex(pb.file!, fds, S_INDEX)) : NO_INDEX;
}

/** A block's compressed sections (file blocks: valid until the next loadBlock call). */
function loadBlock(pb: PlannedBlock, fds: Map<string, number>, want: number): BlockData {
  if (pb.mem) return pb.mem;
  return readFileBlock(pb.file!, fds, want, EMPTY, S_BLOCK);
}

const EMPTY = new Uint8Array(0);

/**
 * Compiled scan-side view of a pipeline's literal filters and of the structured-metadata pairs
 * its label filters require (checked against each block's index before anything is decoded).
 */
class LineFilterPlan {
  /** byte-level line filters to apply */
  readonly active: boolean;
  private readonly pairs: { name: string; h: number }[];
  constructor(readonly plan: LinePlan, pairs: readonly LabelPair[] = []) {
    this.active = plan.must.length > 0 || plan.mustNot.length > 0;
    this.pairs = pairs.map((p) => ({ name: p.name, h: smPairHash(p.name, p.value) }));
  }
  /** The pair hashes that rule a block of this stream out (pairs named like a stream label do not). */
  pairsFor(labels: Labels): number[] {
    const out: number[] = [];
    for (const p of this.pairs) if (!labels.some((l) => l.name === p.name)) out.push(p.h);
    return out;
  }
  /** Whether a block of a stream with these pairs may be skipped after reading its index. */
  skips(pairs: readonly number[]): boolean {
    return this.active || pairs.length > 0;
  }
  /** False when the block's index proves some required literal clause or metadata pair cannot match. */
  blockMayMatch(ix: BlockIndex, pairs: readonly number[]): boolean {
    outer: for (const clause of this.plan.must) {
      for (const lit of clause) if (ix.mayContain(lit)) continue outer;
      return false;
    }
    for (const h of pairs) if (!ix.mayHaveSmPair(h)) return false;
    return true;
  }
  /** Narrows `mask` to entries passing the byte filters; returns how many are left. */
  apply(lines: Uint8Array, meta: DecodedMeta, mask: Uint8Array, left: number): number {
    for (const clause of this.plan.must) {
      if (left === 0) return 0;
      left = kernels.filterLines(lines, meta.lineOff, meta.n, clause, mask, true);
    }
    if (left > 0 && this.plan.mustNot.length > 0) left = kernels.filterLines(lines, meta.lineOff, meta.n, this.plan.mustNot, mask, false);
    return left;
  }
}

function newStats(): ScanStats {
  return { blocks: 0, entriesScanned: 0, bytesScanned: 0, chunksRead: 0, blocksSkipped: 0 };
}

/** The part of a stream's labels.StableHash that fits a double exactly (52 bits). */
export function streamOrderHash(labels: StreamSource['labels']): number {
  return Number(stableLabelsHash(labels) >> 12n);
}

/** Marks entries with from <= ts < to (inclusive/exclusive per flags); returns count and bytes. */
function timeMask(meta: DecodedMeta, mask: Uint8Array, fromMs: number, fromRem: number, fromIncl: boolean, toMs: number, toRem: number, toIncl: boolean): [number, number] {
  const { tsMs, tsRem, lineOff, n } = meta;
  let count = 0;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const ms = tsMs[i]!;
    const rem = tsRem[i]!;
    let ok: boolean;
    if (ms < fromMs || ms > toMs) ok = false;
    else {
      ok = true;
      if (ms === fromMs && (fromIncl ? rem < fromRem : rem <= fromRem)) ok = false;
      if (ms === toMs && (toIncl ? rem > toRem : rem >= toRem)) ok = false;
    }
    if (ok) {
      mask[i] = 1;
      count++;
      bytes += lineOff[i + 1]! - lineOff[i]!;
    } else mask[i] = 0;
  }
  return [count, bytes];
}

/** Time bounds of a scan in (ms, ns remainder) form, with per-side inclusiveness. */
interface TimeBounds {
  fromMs: number;
  fromRem: number;
  fromIncl: boolean;
  toMs: number;
  toRem: number;
  toIncl: boolean;
}

interface MatchingBlock {
  meta: DecodedMeta;
  mask: Uint8Array;
  lines: Uint8Array;
  sm: SmReader;
}

/**
 * A block's structured metadata, decoded per entry on demand: a scan usually needs it for few of
 * a block's entries (those that pass the filters and the limit), and most entries repeat one of a
 * few records (detected_level=info...), so decoded records are shared by their bytes (read-only:
 * pipelines copy what they take).
 */
class SmReader {
  private raw: Uint8Array = EMPTY;
  private ends: Uint32Array = new Uint32Array(0);
  private readonly cache = new Map<string, Labels>();

  load(block: BlockData, n: number): this {
    this.raw = decodeSmRaw(block, S_SM);
    this.ends = smRecordEnds(this.raw, n, C_READER_ENDS);
    return this;
  }

  get(i: number): Labels {
    const raw = this.raw;
    const start = i === 0 ? 0 : this.ends[i - 1]!;
    const end = this.ends[i]!;
    if (end - start === 1) return NO_LABELS; // count 0
    if (end - start > 256) return decodeSmRecord(raw, start);
    const key = Buffer.from(raw.buffer, raw.byteOffset + start, end - start).toString('latin1');
    let v = this.cache.get(key);
    if (v === undefined) {
      v = decodeSmRecord(raw, start);
      if (this.cache.size < 4096) this.cache.set(key, v);
    }
    return v;
  }
}

/**
 * Reads one planned block for a line-level scan: skipped when its filter proves a required literal
 * absent, entries outside the time bounds masked off, then the byte-level line filters applied.
 * Returns null when nothing in the block can match.
 */
function readMatchingBlock(pb: PlannedBlock, fds: Map<string, number>, lf: LineFilterPlan, pairs: readonly number[], t: TimeBounds, stats: ScanStats, sm: SmReader): MatchingBlock | null {
  if (lf.skips(pairs) && !lf.blockMayMatch(blockIndex(pb, fds), pairs)) {
    stats.blocksSkipped++;
    return null;
  }
  const block = loadBlock(pb, fds, SEC_META | SEC_SM | SEC_LINES);
  stats.blocks++;
  const meta = decodeMeta(block, S_META, C_META);
  const mask = blockMask(meta.n);
  const [inRange, inBytes] = timeMask(meta, mask, t.fromMs, t.fromRem, t.fromIncl, t.toMs, t.toRem, t.toIncl);
  stats.entriesScanned += inRange;
  stats.bytesScanned += inBytes;
  if (inRange === 0) return null;
  const lines = decodeLines(block, S_LINES);
  if (lf.active && lf.apply(lines, meta, mask, inRange) === 0) return null;
  return { meta, mask, lines, sm: sm.load(block, meta.n) };
}

/** `plain`: no byte filters, bloom skips or step accumulators (the reference the tests compare with). */
export interface ScanOptions {
  plain?: boolean;
  /**
   * log scans: stream accepted entries here in batches; only the last batch is returned (the
   * worker sends it with its final reply, one message fewer per task)
   */
  sink?: LogSink;
}

/** Where a log scan streams its results (the worker posts them to the coordinator). */
export interface LogSink {
  /** Takes accepted entries sorted in the query's order; may block while the coordinator is behind. */
  emit(entries: ScannedEntry[]): void;
  /** The coordinator's limit-th best timestamp so far (ns), or null: nothing worse can be returned. */
  bound(): bigint | null;
}

/**
 * A streamed batch closes (at a block's end) once it holds `limit` entries, so that the
 * coordinator can publish its bound after the first batch, or 1 MiB of lines, so that large
 * results move in pieces the coordinator takes at its own pace. Smaller batches cost a message and
 * a wake-up each (measured: 250-entry batches made "last 1000 lines" scans wait for the main thread).
 */
const BATCH_LINE_BYTES = 1 << 20;

const NO_PLAN = (pipeline: LinePlan['rest']): LinePlan => ({ must: [], mustNot: [], rest: [...pipeline] });

export function scanLogs(task: LogScanTask, cancel: Int32Array, opts: ScanOptions = {}): LogScanResult {
  const stats = newStats();
  const smReader = new SmReader();
  const lf = opts.plain ? new LineFilterPlan(NO_PLAN(task.selector.pipeline)) : new LineFilterPlan(planLineFilters(task.selector.pipeline), requiredLabelPairs(task.selector.pipeline));
  const pipeline = compilePipeline(lf.plan.rest);
  const backward = task.direction === 'backward';
  const cmp = backward ? cmpBackward : cmpForward;
  const [fromMs, fromRem] = splitNs(task.fromNs);
  const [toMs, toRem] = splitNs(task.toNs);
  const logBounds: TimeBounds = { fromMs, fromRem, fromIncl: true, toMs, toRem, toIncl: false };
  const throughNs = task.toNs - 1n;
  const fds = new Map<string, number>();
  // All streams' blocks in one order (newest first for backward, oldest first for forward), so
  // the scan stops as soon as `limit` entries are found that no remaining block can beat,
  // whichever streams they came from.
  const planned: { pb: PlannedBlock; si: number }[] = [];
  for (let si = 0; si < task.streams.length; si++) {
    for (const pb of planBlocks(task.streams[si]!, task.fromNs, throughNs, stats)) planned.push({ pb, si });
  }
  planned.sort(
    backward
      ? (a, b) => (b.pb.info.maxTs > a.pb.info.maxTs ? 1 : b.pb.info.maxTs < a.pb.info.maxTs ? -1 : a.si - b.si || b.pb.ord - a.pb.ord)
      : (a, b) => (a.pb.info.minTs < b.pb.info.minTs ? -1 : a.pb.info.minTs > b.pb.info.minTs ? 1 : a.si - b.si || a.pb.ord - b.pb.ord),
  );
  const pipes = new Map<number, ReturnType<typeof pipeline.forStream>>();
  const hashes = new Map<number, number>();
  const pairsBy = new Map<number, number[]>();
  // `found` keeps this scan's best `limit` entries (for its own bound); with a sink, entries are
  // also queued in `pending` and streamed out in batches.
  const found: ScannedEntry[] = [];
  const sink = opts.sink;
  const pending: ScannedEntry[] = [];
  let pendingBytes = 0;
  let last: ScannedEntry[] = [];
  // the queued entries as a batch, emptying the queue
  const takePending = (): ScannedEntry[] => {
    if (pending.length === 0) return [];
    pending.sort(cmp);
    // what has fallen behind the bound since it was queued is not sent, nor what is beyond the
    // best `limit` of the batch (those beat it)
    let n = Math.min(pending.length, task.limit);
    if (worstNs !== null) while (n > 0 && beyond(pending[n - 1]!.tsMs, pending[n - 1]!.tsRem)) n--;
    const batch = pending.splice(0, pending.length);
    pendingBytes = 0;
    batch.length = n;
    return batch;
  };
  const flush = (): void => {
    if (!sink) return;
    const batch = takePending();
    if (batch.length > 0) sink.emit(batch);
  };
  let worstNs: bigint | null = null;
  // the same bound as (ms, ns remainder) for per-entry checks without a bigint
  let worstMs = 0;
  let worstRem = 0;
  // Entries worse than `ns` cannot be returned: tighten the bound (it never loosens).
  const tighten = (ns: bigint): void => {
    if (worstNs !== null && (backward ? ns <= worstNs : ns >= worstNs)) return;
    worstNs = ns;
    [worstMs, worstRem] = splitNs(ns);
  };
  // strictly worse than the bound (equal timestamps may still win the tie-break)
  const beyond = (ms: number, rem: number): boolean =>
    backward ? ms < worstMs || (ms === worstMs && rem < worstRem) : ms > worstMs || (ms === worstMs && rem > worstRem);
  const trim = (): void => {
    found.sort(cmp);
    if (found.length > task.limit) found.length = task.limit;
    if (found.length === task.limit) {
      const w = found[task.limit - 1]!;
      tighten(BigInt(w.tsMs) * 1_000_000n + BigInt(w.tsRem));
    }
  };
  try {
    for (const { pb, si } of planned) {
      if (Atomics.load(cancel, 0) === 1) throw new ScanCancelled();
      if (sink) {
        const g = sink.bound();
        if (g !== null) tighten(g);
      }
      // Stop when `limit` entries are found that all beat anything this (and any later) block could hold.
      if (worstNs !== null && (backward ? pb.info.maxTs < worstNs : pb.info.minTs > worstNs)) break;
      let pairs = pairsBy.get(si);
      if (!pairs) {
        pairs = lf.pairsFor(task.streams[si]!.labels);
        pairsBy.set(si, pairs);
      }
      const mb = readMatchingBlock(pb, fds, lf, pairs, logBounds, stats, smReader);
      if (mb === null) continue;
      const { meta, mask, lines, sm } = mb;
      let sp = pipes.get(si);
      if (!sp) {
        sp = pipeline.forStream(task.streams[si]!.labels);
        pipes.set(si, sp);
      }
      const { tsMs, tsRem, lineOff, n } = meta;
      const seqBase = si * 2 ** 40 + pb.ord * 1_048_576;
      let h = hashes.get(si);
      if (h === undefined) {
        h = streamOrderHash(task.streams[si]!.labels);
        hashes.set(si, h);
      }
      for (let i = 0; i < n; i++) {
        if (mask[i] === 0) continue;
        const ms = tsMs[i]!;
        const rem = tsRem[i]!;
        // Entries that cannot beat the limit-th best found so far are not even decoded (equal
        // timestamps may still win the tie-break, so they are kept).
        if (worstNs !== null && beyond(ms, rem)) continue;
        const line = textDecoder.decode(lines.subarray(lineOff[i]!, lineOff[i + 1]!));
        if (!sp.process(BigInt(ms) * 1_000_000n + BigInt(rem), line, sm.get(i))) continue;
        const e: ScannedEntry = {
          tsMs: ms, tsRem: rem, seq: seqBase + i, h, line: sp.line, key: sp.labelsKey(), labels: sp.labels(),
          categorized: task.categorize ? sp.categorized() : undefined,
        };
        found.push(e);
        if (sink) {
          pending.push(e);
          pendingBytes += e.line.length;
        }
        if (found.length >= 2 * task.limit) trim();
      }
      if (found.length >= task.limit) trim();
      if (pending.length >= task.limit || pendingBytes >= BATCH_LINE_BYTES) flush();
    }
    trim();
    // with a sink the last batch is returned, not emitted: the worker sends it with its reply
    if (sink) last = takePending();
  } finally {
    closeFds(fds);
  }
  return { entries: sink ? last : found, stats };
}

function closeFds(fds: Map<string, number>): void {
  for (const fd of fds.values()) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }
}

// ---------------------------------------------------------------- metric scans

const LINE_OPS = new Set(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate']);

/**
 * Per-series step accumulators for count/bytes range aggregations: each entry adds to the
 * contiguous run of steps whose window (t-range, t] holds it, through difference arrays, so
 * the cost per entry is O(1) whatever range/step is, and sums stay exact integers.
 */
class StepAccumulator {
  readonly nSteps: number;
  private readonly baseMs: number;
  private readonly baseRem: number;
  private readonly range: number;
  private readonly step: number;
  readonly series = new Map<string, { labels: Labels; cnt: Float64Array; bytes: Float64Array | null }>();
  // current elementary interval (lo, hi] of relative time with a constant step run [kmin, kmax]
  lo = 1;
  hi = 0;
  kmin = 0;
  kmax = -1;

  constructor(readonly expr: RangeAggregationExpr, grid: StepGrid, private readonly wantBytes: boolean) {
    this.nSteps = stepCount(grid);
    const base = grid.startNs - expr.range.rangeNs - expr.range.offsetNs;
    [this.baseMs, this.baseRem] = splitNs(base);
    this.range = Number(expr.range.rangeNs);
    this.step = Number(grid.stepNs);
  }

  /** Usable when every relative time of the query is an exact float (spans < 104 days). */
  static fits(grid: StepGrid, expr: RangeAggregationExpr): boolean {
    return grid.endNs - grid.startNs + expr.range.rangeNs < 2n ** 52n;
  }

  rel(ms: number, rem: number): number {
    return (ms - this.baseMs) * 1_000_000 + (rem - this.baseRem);
  }

  relNs(ts: bigint): number {
    const [ms, rem] = splitNs(ts);
    return this.rel(ms, rem);
  }

  /** Sets (lo, hi], kmin, kmax for relative time t. */
  locate(t: number): void {
    const { range, step, nSteps } = this;
    let kmax: number;
    let kmin: number;
    let lo: number;
    let hi: number;
    if (step <= 0) {
      // one window (0, range]
      if (t <= 0) { kmin = 0; kmax = -1; lo = -Infinity; hi = 0; }
      else if (t <= range) { kmin = 0; kmax = 0; lo = 0; hi = range; }
      else { kmin = 1; kmax = 0; lo = range; hi = Infinity; }
    } else {
      // kmax: largest k with k*step < t ; kmin: smallest k with t <= range + k*step
      kmax = Math.ceil(t / step) - 1;
      while ((kmax + 1) * step < t) kmax++;
      while (kmax >= 0 && kmax * step >= t) kmax--;
      if (t <= range) kmin = 0;
      else {
        kmin = Math.ceil((t - range) / step);
        while (kmin > 0 && range + (kmin - 1) * step >= t) kmin--;
        while (range + kmin * step < t) kmin++;
      }
      lo = Math.max(kmax * step, kmin > 0 ? range + (kmin - 1) * step : -Infinity);
      hi = Math.min((kmax + 1) * step, range + kmin * step);
    }
    this.lo = lo;
    this.hi = hi;
    this.kmin = kmin;
    this.kmax = Math.min(kmax, nSteps - 1);
  }

  seriesFor(key: string, labels: Labels): { cnt: Float64Array; bytes: Float64Array | null } {
    let s = this.series.get(key);
    if (!s) {
      s = { labels, cnt: new Float64Array(this.nSteps + 1), bytes: this.wantBytes ? new Float64Array(this.nSteps + 1) : null };
      this.series.set(key, s);
    }
    return s;
  }

  /** Adds `count` entries of `bytes` total at the current interval's steps. */
  add(s: { cnt: Float64Array; bytes: Float64Array | null }, count: number, bytes: number): void {
    const a = this.kmin;
    const b = this.kmax;
    if (a > b || count === 0) return;
    s.cnt[a]! += count;
    s.cnt[b + 1]! -= count;
    if (s.bytes) {
      s.bytes[a]! += bytes;
      s.bytes[b + 1]! -= bytes;
    }
  }

  result(): StepSeries[] {
    const out: StepSeries[] = [];
    const seconds = durationSeconds(this.expr.range.rangeNs);
    const op = this.expr.op;
    for (const [key, s] of this.series) {
      const values = new Float64Array(this.nSteps);
      const present = new Uint8Array(this.nSteps);
      let c = 0;
      let b = 0;
      let any = false;
      for (let k = 0; k < this.nSteps; k++) {
        c += s.cnt[k]!;
        if (s.bytes) b += s.bytes[k]!;
        if (c <= 0) continue;
        present[k] = 1;
        any = true;
        values[k] = op === 'count_over_time' ? c : op === 'rate' ? c / seconds : op === 'bytes_over_time' ? b : b / seconds;
      }
      if (any) out.push({ labels: s.labels, key, values, present });
    }
    return out;
  }
}

/** The grouping the sample extractor applies (mirrors compileSampleExtractor). */
function effectiveGrouping(expr: RangeAggregationExpr, extra: SampleScanTask['extraGrouping']): { names: string[]; without: boolean; noLabels: boolean } | null {
  let g = expr.grouping;
  if (extra && !expr.grouping && canInjectVectorGrouping('sum', expr.op)) g = extra;
  if (!g) return null;
  return { names: g.labels, without: g.without, noLabels: g.labels.length === 0 && !g.without };
}

/**
 * Can an entry's structured metadata change the series label set of a stream's samples in this
 * block? Only when its names (after Loki's `_extracted` renaming of names clashing with stream
 * labels) meet the grouping, or it carries an error label.
 */
function smMatters(grouping: ReturnType<typeof effectiveGrouping>, streamNames: Set<string>, info: BlockInfo, ix: BlockIndex): boolean {
  if (info.smU === info.entries) return false; // no entry has metadata
  if (grouping === null || grouping.without) return true;
  if (ix.mayHaveSmName('__error__') || ix.mayHaveSmName('__error_details__')) return true;
  for (const g of grouping.names) {
    if (!streamNames.has(g) && ix.mayHaveSmName(g)) return true;
    if (g.endsWith('_extracted')) {
      const base = g.slice(0, -'_extracted'.length);
      if (streamNames.has(base) && ix.mayHaveSmName(base)) return true;
    }
  }
  return false;
}

function sameBytes(raw: Uint8Array, a0: number, a1: number, b0: number, b1: number): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  for (let i = 0; i < a1 - a0; i++) if (raw[a0 + i] !== raw[b0 + i]) return false;
  return true;
}

export function scanSamples(task: SampleScanTask, cancel: Int32Array, opts: ScanOptions = {}): SampleScanResult {
  const expr = task.expr;
  if (opts.plain) return scanGenericSamples(task, expr, new LineFilterPlan(NO_PLAN(expr.range.selector.pipeline)), cancel);
  const lf = new LineFilterPlan(planLineFilters(expr.range.selector.pipeline), requiredLabelPairs(expr.range.selector.pipeline));
  const restExpr: RangeAggregationExpr = { ...expr, range: { ...expr.range, selector: { ...expr.range.selector, pipeline: lf.plan.rest } } };
  if (LINE_OPS.has(expr.op) && !expr.range.unwrap && StepAccumulator.fits(task.grid, expr)) return scanLineSamples(task, restExpr, lf, cancel);
  return scanGenericSamples(task, restExpr, lf, cancel);
}

/** count/rate/bytes range aggregations straight into step accumulators. */
function scanLineSamples(task: SampleScanTask, expr: RangeAggregationExpr, lf: LineFilterPlan, cancel: Int32Array): SampleScanResult {
  const smReader = new SmReader();
  const stats = newStats();
  const extractor = compileSampleExtractor(expr, task.extraGrouping);
  const timeOnly = expr.range.selector.pipeline.length === 0;
  const grouping = effectiveGrouping(expr, task.extraGrouping);
  const wantBytes = expr.op === 'bytes_over_time' || expr.op === 'bytes_rate';
  const acc = new StepAccumulator(expr, task.grid, wantBytes);
  const [fromMs, fromRem] = splitNs(task.fromNs);
  const [toMs, toRem] = splitNs(task.toNs);
  const fds = new Map<string, number>();
  try {
    for (const src of task.streams) {
      const ex = extractor.forStream(src.labels);
      const pairs = lf.pairsFor(src.labels);
      const streamNames = new Set(src.labels.map((l) => l.name));
      // the stream's series when metadata cannot matter
      let plain: ReturnType<StepAccumulator['seriesFor']> | null = null;
      const plainSeries = (): ReturnType<StepAccumulator['seriesFor']> => {
        if (plain === null) {
          ex.process(0n, '', []);
          plain = acc.seriesFor(ex.labelsKey(), ex.labels());
        }
        return plain;
      };
      const bySm = new Map<string, ReturnType<StepAccumulator['seriesFor']>>();
      const blocks = planBlocks(src, task.fromNs + 1n, task.toNs, stats);
      for (const pb of blocks) {
        if (Atomics.load(cancel, 0) === 1) throw new ScanCancelled();
        const needIndex = lf.skips(pairs) || (timeOnly && pb.info.smU !== pb.info.entries);
        const ix = needIndex ? blockIndex(pb, fds) : NO_INDEX;
        if (lf.skips(pairs) && !lf.blockMayMatch(ix, pairs)) {
          stats.blocksSkipped++;
          continue;
        }
        const useSm = !timeOnly || smMatters(grouping, streamNames, pb.info, ix);
        if (timeOnly && !useSm && !lf.active) {
          // Whole block inside one elementary step interval: count it from its header.
          const tMin = acc.relNs(pb.info.minTs);
          const tMax = acc.relNs(pb.info.maxTs);
          acc.locate(tMin);
          if (tMax <= acc.hi) {
            stats.blocks++;
            if (acc.kmin <= acc.kmax) {
              stats.entriesScanned += pb.info.entries;
              stats.bytesScanned += pb.info.lineBytes;
              acc.add(plainSeries(), pb.info.entries, pb.info.lineBytes);
            }
            continue;
          }
        }
        const want = SEC_META | (useSm ? SEC_SM : 0) | (lf.active || !timeOnly ? SEC_LINES : 0);
        const block = loadBlock(pb, fds, want);
        stats.blocks++;
        const meta = decodeMeta(block, S_META, C_META);
        const mask = blockMask(meta.n);
        const [inRange, inBytes] = timeMask(meta, mask, fromMs, fromRem, false, toMs, toRem, true);
        stats.entriesScanned += inRange;
        stats.bytesScanned += inBytes;
        if (inRange === 0) continue;
        let lines: Uint8Array | null = null;
        if (lf.active) {
          lines = decodeLines(block, S_LINES);
          if (lf.apply(lines, meta, mask, inRange) === 0) continue;
        }
        const { tsMs, tsRem, lineOff, n } = meta;
        if (timeOnly) {
          // runs of entries with the same series and step interval are added at once
          let smRaw: Uint8Array | null = null;
          let smEnds: Uint32Array | null = null;
          if (useSm) {
            smRaw = decodeSmRaw(block, S_SM);
            smEnds = smRecordEnds(smRaw, n, C_SM_ENDS);
          }
          let cur = useSm ? null : plainSeries();
          let prevStart = -1;
          let prevEnd = -1;
          let runCount = 0;
          let runBytes = 0;
          acc.lo = 1;
          acc.hi = 0;
          for (let i = 0; i < n; i++) {
            if (mask[i] === 0) continue;
            const t = acc.rel(tsMs[i]!, tsRem[i]!);
            let series = cur;
            if (smRaw !== null) {
              const start = i === 0 ? 0 : smEnds![i - 1]!;
              const end = smEnds![i]!;
              if (cur === null || !sameBytes(smRaw, start, end, prevStart, prevEnd)) {
                const key = Buffer.from(smRaw.buffer, smRaw.byteOffset + start, end - start).toString('latin1');
                series = bySm.get(key) ?? null;
                if (series === null) {
                  ex.process(0n, '', decodeSmRecord(smRaw, start));
                  series = acc.seriesFor(ex.labelsKey(), ex.labels());
                  bySm.set(key, series);
                }
              }
              prevStart = start;
              prevEnd = end;
            }
            if (series !== cur || t <= acc.lo || t > acc.hi) {
              if (runCount > 0) acc.add(cur!, runCount, runBytes);
              runCount = 0;
              runBytes = 0;
              cur = series;
              if (t <= acc.lo || t > acc.hi) acc.locate(t);
            }
            runCount++;
            runBytes += lineOff[i + 1]! - lineOff[i]!;
          }
          if (runCount > 0) acc.add(cur!, runCount, runBytes);
          continue;
        }
        // a pipeline still runs per line
        lines ??= decodeLines(block, S_LINES);
        const sm = smReader.load(block, n);
        for (let i = 0; i < n; i++) {
          if (mask[i] === 0) continue;
          const ms = tsMs[i]!;
          const rem = tsRem[i]!;
          const line = textDecoder.decode(lines.subarray(lineOff[i]!, lineOff[i + 1]!));
          if (!ex.process(BigInt(ms) * 1_000_000n + BigInt(rem), line, sm.get(i))) continue;
          const t = acc.rel(ms, rem);
          if (t <= acc.lo || t > acc.hi) acc.locate(t);
          // value is 1 (count) or the byte length of the line after the pipeline
          acc.add(acc.seriesFor(ex.labelsKey(), ex.labels()), 1, wantBytes ? ex.value : 0);
        }
      }
    }
  } finally {
    closeFds(fds);
  }
  return { series: acc.result(), stats };
}

/** Every other range aggregation: per-series samples, then the evaluator's range functions. */
function scanGenericSamples(task: SampleScanTask, expr: RangeAggregationExpr, lf: LineFilterPlan, cancel: Int32Array): SampleScanResult {
  const stats = newStats();
  const smReader = new SmReader();
  const extractor = compileSampleExtractor(expr, task.extraGrouping);
  const [fromMs, fromRem] = splitNs(task.fromNs);
  const [toMs, toRem] = splitNs(task.toNs);
  const sampleBounds: TimeBounds = { fromMs, fromRem, fromIncl: false, toMs, toRem, toIncl: true };
  const series = new Map<string, SeriesSamples & { sorted: boolean; lastTs: bigint }>();
  const fds = new Map<string, number>();
  try {
    for (const src of task.streams) {
      const ex: StreamSampleExtractor = extractor.forStream(src.labels);
      const pairs = lf.pairsFor(src.labels);
      const blocks = planBlocks(src, task.fromNs + 1n, task.toNs, stats);
      blocks.sort((a, b) => (a.info.minTs < b.info.minTs ? -1 : a.info.minTs > b.info.minTs ? 1 : a.ord - b.ord));
      for (const pb of blocks) {
        if (Atomics.load(cancel, 0) === 1) throw new ScanCancelled();
        const mb = readMatchingBlock(pb, fds, lf, pairs, sampleBounds, stats, smReader);
        if (mb === null) continue;
        const { meta, mask, lines, sm } = mb;
        const { tsMs, tsRem, lineOff, n } = meta;
        for (let i = 0; i < n; i++) {
          if (mask[i] === 0) continue;
          const line = textDecoder.decode(lines.subarray(lineOff[i]!, lineOff[i + 1]!));
          const ts = BigInt(tsMs[i]!) * 1_000_000n + BigInt(tsRem[i]!);
          if (!ex.process(ts, line, sm.get(i))) continue;
          const key = ex.labelsKey();
          let s = series.get(key);
          if (!s) {
            s = { labels: ex.labels(), key, ts: [], values: [], sorted: true, lastTs: -1n };
            series.set(key, s);
          }
          if (ts < s.lastTs) s.sorted = false;
          s.lastTs = ts;
          s.ts.push(ts);
          s.values.push(ex.value);
        }
      }
    }
  } finally {
    closeFds(fds);
  }
  const list: SeriesSamples[] = [];
  for (const s of series.values()) {
    if (!s.sorted) {
      const idx = s.ts.map((_, i) => i).sort((a, b) => (s.ts[a]! < s.ts[b]! ? -1 : s.ts[a]! > s.ts[b]! ? 1 : a - b));
      s.ts = idx.map((i) => s.ts[i]!);
      s.values = idx.map((i) => s.values[i]!);
    }
    list.push({ labels: s.labels, key: s.key, ts: s.ts, values: s.values });
  }
  return { series: evalRangeAggregation(expr, list, task.grid), stats };
}
