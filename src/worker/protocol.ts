// Messages between the query coordinator (main thread) and the scan workers. Everything is
// plain structured-clone data; block bytes travel as SharedArrayBuffer views (shared, not copied).
// Results stream back as batches while a scan runs; a worker may have at most CREDITS batches
// unprocessed by the coordinator and otherwise waits (back-pressure through a shared counter).
import type { BlockData } from '../chunk/block.js';
import type { Grouping, LogSelectorExpr, RangeAggregationExpr } from '../logql/ast.js';
import type { Labels } from '../util/labels.js';
import type { StepGrid, StepSeries } from '../logql/eval/types.js';

/** One stream's data for a scan: its labels, chunk files (in flush order) and in-memory blocks. */
export interface StreamSource {
  labels: Labels;
  files: string[];
  mem: BlockData[];
}

export interface LogScanTask {
  type: 'logScan';
  streams: StreamSource[];
  selector: LogSelectorExpr;
  /** entries with from <= ts < to */
  fromNs: bigint;
  toNs: bigint;
  direction: 'forward' | 'backward';
  limit: number;
  categorize: boolean;
  /**
   * The query's shared result bound (newResultBound), written by the coordinator once it holds
   * `limit` entries: scans of every partition skip blocks and entries that cannot beat it.
   */
  bound?: BigInt64Array;
}

/**
 * A shared [set flag, timestamp ns] pair: the timestamp of the limit-th best entry the coordinator
 * holds. It only ever gets better (newer for backward queries, older for forward ones).
 */
export function newResultBound(): BigInt64Array {
  return new BigInt64Array(new SharedArrayBuffer(16));
}

export function readResultBound(b: BigInt64Array): bigint | null {
  return Atomics.load(b, 0) === 1n ? Atomics.load(b, 1) : null;
}

export function writeResultBound(b: BigInt64Array, ns: bigint): void {
  Atomics.store(b, 1, ns);
  Atomics.store(b, 0, 1n);
}

export interface ScannedEntry {
  tsMs: number;
  tsRem: number;
  /** order among equal timestamps of one stream (push order) */
  seq: number;
  /** top 52 bits of the stream's labels.StableHash: Loki orders equal timestamps of different streams by it, ascending in both directions */
  h: number;
  line: string;
  key: string;
  labels: Labels;
  categorized?: { stream: Labels; structuredMetadata: Labels; parsed: Labels };
}

export interface ScanStats {
  blocks: number;
  entriesScanned: number;
  bytesScanned: number;
  chunksRead: number;
  /** blocks whose index section proved they cannot match (never decompressed) */
  blocksSkipped: number;
}

export interface LogScanResult {
  entries: ScannedEntry[];
  stats: ScanStats;
}

/**
 * Log entries as they cross from a worker to the coordinator: columns instead of one object per
 * entry, and each label set once. Cloning an array of entry objects writes every property name
 * and key string per entry (~330 bytes and ~4 µs an entry for "last 1000 lines"); columns are
 * typed-array copies plus one string per line.
 */
export interface EntryColumns {
  /** per entry: tsMs, tsRem, seq, h */
  nums: Float64Array;
  lines: string[];
  /** per entry: index into keys and labels */
  set: Uint32Array;
  keys: string[];
  labels: Labels[];
  /** per entry (categorize-labels queries only) */
  categorized?: (ScannedEntry['categorized'])[];
}

export function packEntries(entries: readonly ScannedEntry[], categorize: boolean): EntryColumns {
  const n = entries.length;
  const nums = new Float64Array(n * 4);
  const lines = new Array<string>(n);
  const set = new Uint32Array(n);
  const keys: string[] = [];
  const labels: Labels[] = [];
  const index = new Map<string, number>();
  const categorized = categorize ? new Array<ScannedEntry['categorized']>(n) : undefined;
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    nums[i * 4] = e.tsMs;
    nums[i * 4 + 1] = e.tsRem;
    nums[i * 4 + 2] = e.seq;
    nums[i * 4 + 3] = e.h;
    lines[i] = e.line;
    let k = index.get(e.key);
    if (k === undefined) {
      k = keys.length;
      index.set(e.key, k);
      keys.push(e.key);
      labels.push(e.labels);
    }
    set[i] = k;
    if (categorized) categorized[i] = e.categorized;
  }
  return { nums, lines, set, keys, labels, categorized };
}

export function unpackEntries(c: EntryColumns): ScannedEntry[] {
  const n = c.lines.length;
  const out = new Array<ScannedEntry>(n);
  for (let i = 0; i < n; i++) {
    const k = c.set[i]!;
    out[i] = {
      tsMs: c.nums[i * 4]!, tsRem: c.nums[i * 4 + 1]!, seq: c.nums[i * 4 + 2]!, h: c.nums[i * 4 + 3]!,
      line: c.lines[i]!, key: c.keys[k]!, labels: c.labels[k]!, categorized: c.categorized?.[i],
    };
  }
  return out;
}

export interface SampleScanTask {
  type: 'sampleScan';
  streams: StreamSource[];
  expr: RangeAggregationExpr;
  extraGrouping?: Grouping;
  grid: StepGrid;
  /** samples with from < ts <= to are needed */
  fromNs: bigint;
  toNs: bigint;
}

export interface SampleScanResult {
  series: StepSeries[];
  stats: ScanStats;
}

export type Task = LogScanTask | SampleScanTask;

/** One batch of a running scan's results. */
export type ResultBatch =
  /** log entries accepted so far, sorted in the query's order */
  | { kind: 'entries'; entries: EntryColumns }
  /** finished series of a metric scan (a series is sent once, whole) */
  | { kind: 'series'; series: StepSeries[] };

/** Batches a worker may post before the coordinator has taken them (then it waits). */
export const CREDITS = 4;

/**
 * Worker side of the back-pressure: takes one credit to post a batch, waiting while there is none.
 * Returns false (nothing taken) once the task is cancelled; the pool notifies `credits` on every
 * credit it gives back and on cancel, the timeout is only a safety net.
 */
export function takeCredit(credits: Int32Array, cancel: Int32Array, waitMs = 10_000): boolean {
  for (;;) {
    if (Atomics.load(cancel, 0) === 1) return false;
    const c = Atomics.load(credits, 0);
    if (c > 0) {
      if (Atomics.compareExchange(credits, 0, c, c - 1) === c) return true;
      continue;
    }
    Atomics.wait(credits, 0, c, waitMs);
  }
}

export interface TaskMessage {
  id: number;
  task: Task;
  /** Int32 flag set to 1 by the coordinator to cancel */
  cancel: Int32Array;
  /** Int32: batches the worker may still post (starts at CREDITS; +1 per batch the coordinator took) */
  credits: Int32Array;
}

/** The worker isolate's memory after a task (for /metrics: where the process's RSS goes). */
export interface WorkerMemory {
  heapUsed: number;
  heapTotal: number;
  external: number;
}

export type ReplyMessage =
  | { id: number; type: 'batch'; batch: ResultBatch }
  // a task's last result batch rides with its reply: each message from a worker makes the event
  // loop take the port's lock, which a worker thread can hold (see src/worker/scan-loop.ts)
  | { id: number; type: 'done'; stats: ScanStats; mem: WorkerMemory; batch?: ResultBatch }
  | { id: number; type: 'error'; error: { message: string; status: number; name: string }; mem: WorkerMemory };
