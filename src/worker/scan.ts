// The scan loops that run inside worker threads: walk a stream's blocks (chunk files and
// in-memory head blocks) in time order, skip blocks outside the query range, decode only the
// sections needed, run the LogQL pipeline per entry and collect either log entries (bounded by
// the query limit, stopping early when no later block can improve the result) or metric samples.
import { closeSync } from 'node:fs';
import type { BlockData } from '../chunk/block.js';
import { decodeLines, decodeMeta, decodeStructuredMetadata, splitNs } from '../chunk/block-reader.js';
import { readChunkFooter, readFileBlock, type ChunkFooter } from '../chunk/chunk-file.js';
import { compilePipeline, compileSampleExtractor } from '../logql/pipeline/index.js';
import { evalRangeAggregation } from '../logql/eval/index.js';
import type { SeriesSamples } from '../logql/eval/types.js';
import type { Labels } from '../util/labels.js';
import { mergeSorted } from './merge.js';
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

interface PlannedBlock {
  ord: number;
  minTs: bigint;
  maxTs: bigint;
  load: () => BlockData;
}

/** Blocks of a stream overlapping [from, through], numbered in push order. */
function planBlocks(src: StreamSource, fromNs: bigint, throughNs: bigint, stats: ScanStats, fds: Map<string, number>): PlannedBlock[] {
  const out: PlannedBlock[] = [];
  let ord = 0;
  for (const path of src.files) {
    const f = footer(path);
    stats.chunksRead++;
    for (const b of f.blocks) {
      const o = ord++;
      if (b.info.maxTs < fromNs || b.info.minTs > throughNs) continue;
      out.push({ ord: o, minTs: b.info.minTs, maxTs: b.info.maxTs, load: () => readFileBlock(b, fds) });
    }
  }
  for (const b of src.mem) {
    const o = ord++;
    if (b.info.maxTs < fromNs || b.info.minTs > throughNs) continue;
    out.push({ ord: o, minTs: b.info.minTs, maxTs: b.info.maxTs, load: () => b });
  }
  return out;
}

function cmpForward(a: ScannedEntry, b: ScannedEntry): number {
  return a.tsMs - b.tsMs || a.tsRem - b.tsRem || a.seq - b.seq;
}
function cmpBackward(a: ScannedEntry, b: ScannedEntry): number {
  return b.tsMs - a.tsMs || b.tsRem - a.tsRem || b.seq - a.seq;
}

export function scanLogs(task: LogScanTask, cancel: Int32Array): LogScanResult {
  const stats: ScanStats = { blocks: 0, entriesScanned: 0, bytesScanned: 0, chunksRead: 0 };
  const pipeline = compilePipeline(task.selector.pipeline);
  const backward = task.direction === 'backward';
  const cmp = backward ? cmpBackward : cmpForward;
  const [fromMs, fromRem] = splitNs(task.fromNs);
  const [toMs, toRem] = splitNs(task.toNs);
  const throughNs = task.toNs - 1n;
  let all: ScannedEntry[] = [];
  const fds = new Map<string, number>();
  try {
    for (let si = 0; si < task.streams.length; si++) {
      const src = task.streams[si]!;
      const sp = pipeline.forStream(src.labels);
      const blocks = planBlocks(src, task.fromNs, throughNs, stats, fds);
      // Newest blocks first for backward queries, oldest first for forward ones.
      blocks.sort(backward ? (a, b) => (b.maxTs > a.maxTs ? 1 : b.maxTs < a.maxTs ? -1 : b.ord - a.ord) : (a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : a.ord - b.ord));
      const found: ScannedEntry[] = [];
      for (let bi = 0; bi < blocks.length; bi++) {
        if (Atomics.load(cancel, 0) === 1) throw new ScanCancelled();
        const pb = blocks[bi]!;
        // Stop when `limit` entries are found that all beat anything this block could hold.
        if (found.length >= task.limit) {
          found.sort(cmp);
          found.length = task.limit;
          const worst = found[task.limit - 1]!;
          const worstNs = BigInt(worst.tsMs) * 1_000_000n + BigInt(worst.tsRem);
          if (backward ? pb.maxTs < worstNs : pb.minTs > worstNs) break;
        }
        const block = pb.load();
        stats.blocks++;
        const meta = decodeMeta(block);
        let lines: Uint8Array | null = null;
        let sm: Labels[] | null = null;
        const { tsMs, tsRem, lineOff, n } = meta;
        const seqBase = pb.ord * 1_048_576;
        for (let i = 0; i < n; i++) {
          const ms = tsMs[i]!;
          const rem = tsRem[i]!;
          if (ms < fromMs || (ms === fromMs && rem < fromRem)) continue;
          if (ms > toMs || (ms === toMs && rem >= toRem)) continue;
          if (lines === null) {
            lines = decodeLines(block);
            sm = decodeStructuredMetadata(block);
          }
          const line = textDecoder.decode(lines.subarray(lineOff[i]!, lineOff[i + 1]!));
          stats.entriesScanned++;
          stats.bytesScanned += lineOff[i + 1]! - lineOff[i]!;
          if (!sp.process(BigInt(ms) * 1_000_000n + BigInt(rem), line, sm![i]!)) continue;
          found.push({
            tsMs: ms, tsRem: rem, seq: seqBase + i, line: sp.line, key: sp.labelsKey(), labels: sp.labels(),
            categorized: task.categorize ? sp.categorized() : undefined,
          });
        }
      }
      found.sort(cmp);
      if (found.length > task.limit) found.length = task.limit;
      for (const e of found) e.seq += si * 2 ** 40;
      all = all.length === 0 ? found : mergeSorted(all, found, cmp, task.limit);
    }
  } finally {
    closeFds(fds);
  }
  return { entries: all, stats };
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

export function scanSamples(task: SampleScanTask, cancel: Int32Array): SampleScanResult {
  const stats: ScanStats = { blocks: 0, entriesScanned: 0, bytesScanned: 0, chunksRead: 0 };
  const extractor = compileSampleExtractor(task.expr, task.extraGrouping);
  const fromEx = task.fromNs; // exclusive
  const through = task.toNs; // inclusive
  const [fromMs, fromRem] = splitNs(fromEx);
  const [toMs, toRem] = splitNs(through);
  const series = new Map<string, SeriesSamples & { sorted: boolean; lastTs: bigint }>();
  const fds = new Map<string, number>();
  try {
    for (const src of task.streams) {
      const ex = extractor.forStream(src.labels);
      const blocks = planBlocks(src, fromEx + 1n, through, stats, fds);
      blocks.sort((a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : a.ord - b.ord));
      for (const pb of blocks) {
        if (Atomics.load(cancel, 0) === 1) throw new ScanCancelled();
        const block = pb.load();
        stats.blocks++;
        const { tsMs, tsRem, lineOff, n } = decodeMeta(block);
        let lines: Uint8Array | null = null;
        let sm: Labels[] | null = null;
        for (let i = 0; i < n; i++) {
          const ms = tsMs[i]!;
          const rem = tsRem[i]!;
          if (ms < fromMs || (ms === fromMs && rem <= fromRem)) continue;
          if (ms > toMs || (ms === toMs && rem > toRem)) continue;
          if (lines === null) {
            lines = decodeLines(block);
            sm = decodeStructuredMetadata(block);
          }
          const line = textDecoder.decode(lines.subarray(lineOff[i]!, lineOff[i + 1]!));
          stats.entriesScanned++;
          stats.bytesScanned += lineOff[i + 1]! - lineOff[i]!;
          const ts = BigInt(ms) * 1_000_000n + BigInt(rem);
          if (!ex.process(ts, line, sm![i]!)) continue;
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
  return { series: evalRangeAggregation(task.expr, list, task.grid), stats };
}
