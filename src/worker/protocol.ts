// Messages between the query coordinator (main thread) and the scan workers. Everything is
// plain structured-clone data; block bytes travel as SharedArrayBuffer views (shared, not copied).
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
  /**
   * Set by the worker before posting: each entry's labels sent once per label set (entries then
   * carry only their key), as cloning a labels array per entry dominated replies of `limit` lines.
   * unpackLabels() restores them.
   */
  labelSets?: Map<string, Labels>;
}

/** Moves per-entry labels into labelSets (worker side, before postMessage). */
export function packLabels(r: LogScanResult): void {
  const sets = new Map<string, Labels>();
  for (const e of r.entries) {
    if (!sets.has(e.key)) sets.set(e.key, e.labels);
    (e as { labels: Labels | undefined }).labels = undefined;
  }
  r.labelSets = sets;
}

/** Gives every entry its labels back (receiving side). */
export function unpackLabels(r: LogScanResult): void {
  const sets = r.labelSets;
  if (!sets) return;
  for (const e of r.entries) e.labels = sets.get(e.key)!;
  r.labelSets = undefined;
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

export interface TaskMessage {
  id: number;
  task: Task;
  /** Int32 flag set to 1 by the coordinator to cancel */
  cancel: Int32Array;
}

/** The worker isolate's memory after a task (for /metrics: where the process's RSS goes). */
export interface WorkerMemory {
  heapUsed: number;
  heapTotal: number;
  external: number;
}

export type ReplyMessage =
  | { id: number; ok: true; result: LogScanResult | SampleScanResult; mem: WorkerMemory }
  | { id: number; ok: false; error: { message: string; status: number; name: string }; mem: WorkerMemory };
