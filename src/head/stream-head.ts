// One stream's in-memory tail: the compressed blocks cut since the last chunk flush, the open
// block still growing, and what the ingester needs to enforce Loki's per-stream rules (exact
// duplicate of the last entry, out-of-order window) and to know when to flush. Its timestamps
// are kept as exact (ms, ns remainder) numbers (entry.ts); the bigint fields are views of them.
import type { Labels } from '../util/labels.js';
import { blockBytes, type BlockData, type BlockInfo } from '../chunk/block.js';
import { OpenBlock } from '../chunk/open-block.js';
import { slabPool, type BlockSlab } from '../chunk/block-slab.js';
import { NEVER } from '../chunk/read-leases.js';
import type { PendingCut } from '../chunk/block-cut.js';
import { LogEntry, entryMs, entryRem, lineLength, msOf, nsOf, remOf, type EntryLike } from '../push/entry.js';
import type { EntryBatch } from '../push/batch.js';

const EMPTY = new Uint8Array(0);

export interface StreamRecord {
  id: number;
  tenant: string;
  fingerprint: string;
  labels: Labels;
  labelsString: string;
  /** time range covered by flushed chunks (from the index) */
  flushedMinTs: bigint | null;
  flushedMaxTs: bigint | null;
  /** WAL position up to which this stream's entries are in chunk files */
  flushedPos: number;
  head: StreamHead;
}

export class StreamHead {
  closed: BlockData[] = [];
  closedBytes = 0;
  /** blocks handed to an in-flight chunk write; still served to queries until indexed */
  flushing: BlockData[] = [];
  open: OpenBlock | null = null;
  /** timestamp of the last appended entry as (ms, ns remainder); -1n (none) is (-1, 999999) */
  lastMs = -1;
  lastRem = 999999;
  /** last line of the last cut block (the open block holds the last line otherwise) */
  private cutLastLine: Uint8Array = EMPTY;
  /** section sizes of the last cut block: the next open block's allocation hint */
  private sizeHint: { meta: number; lines: number; sm: number } | undefined;
  /** highest timestamp ever accepted (for the out-of-order window), -1n = none */
  highestMs = -1;
  highestRem = 999999;
  private minMs = 0;
  private minRem = 0;
  private maxMs = 0;
  private maxRem = 0;
  entries = 0;
  /** WAL positions of the first and last record applied since the last flush */
  firstPos = -1;
  lastPos = -1;
  /** wall-clock ms of the first entry since the last flush, and of the last append */
  startedAt = 0;
  lastAppendAt = 0;

  /** where this head's closed blocks are compressed to (a flush starts a new one) */
  private slab: BlockSlab | null = null;
  /** the slabs of `closed` (since the last takeForFlush), and of each batch of `flushing` blocks */
  private slabs: BlockSlab[] = [];
  private readonly flushingSlabs = new Map<BlockData[], BlockSlab[]>();
  /** blocks being cut off the event loop (chunk/block-cut.ts), whose closed form is not in yet */
  private cutting: PendingCut[] = [];
  /** woken when `cutting` empties */
  private cutWaiters: (() => void)[] = [];
  private readonly slabFor = (bound: number): BlockSlab => {
    if (this.slab === null || this.slab.room() < bound) {
      this.slab = slabPool.acquire(bound);
      this.slabs.push(this.slab);
    }
    return this.slab;
  };

  constructor(private readonly blockSize: number) {}

  get lastTs(): bigint {
    return nsOf(this.lastMs, this.lastRem);
  }

  get highestTs(): bigint {
    return nsOf(this.highestMs, this.highestRem);
  }

  get minTs(): bigint {
    return nsOf(this.minMs, this.minRem);
  }

  set minTs(v: bigint) {
    this.minMs = msOf(v);
    this.minRem = remOf(v);
  }

  get maxTs(): bigint {
    return nsOf(this.maxMs, this.maxRem);
  }

  set maxTs(v: bigint) {
    this.maxMs = msOf(v);
    this.maxRem = remOf(v);
  }

  get isEmpty(): boolean {
    return this.entries === 0;
  }

  /** The last appended line (decoded). */
  get lastLine(): string {
    const b = this.lastLineBytes();
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  }

  private lastLineBytes(): Uint8Array {
    return this.open !== null && this.open.entries > 0 ? this.open.lastLine() : this.cutLastLine;
  }

  /** Is `e`'s line byte-equal to the last appended line? (Loki's duplicate check, with lastTs.) */
  isLastLine(e: EntryLike): boolean {
    const last = this.lastLineBytes();
    if (e instanceof LogEntry && e.src !== null) {
      if (e.end - e.start !== last.length) return false;
      return e.src.compare(last, 0, last.length, e.start, e.end) === 0;
    }
    return Buffer.from(e.line, 'utf8').equals(last);
  }

  /** Is src[start, end) byte-equal to the last appended line? */
  isLastLineRange(src: Buffer, start: number, end: number): boolean {
    const last = this.lastLineBytes();
    if (end - start !== last.length) return false;
    return src.compare(last, 0, last.length, start, end) === 0;
  }

  /** Appends an entry (its line's bytes are copied into the open block). */
  appendEntry(e: EntryLike, pos: number, now: number): void {
    this.appendEntries([e], pos, now);
  }

  /**
   * Appends entries in order (as appendEntry one by one: blocks are cut at the same entries);
   * returns their line bytes.
   */
  appendEntries(entries: readonly EntryLike[], pos: number, now: number): number {
    const n = entries.length;
    if (n === 0) return 0;
    const ms = new Float64Array(n);
    const rem = new Int32Array(n);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      ms[i] = entryMs(e);
      rem[i] = entryRem(e);
      bytes += lineLength(e);
    }
    this.noteTimes(ms, rem, n, pos, now);
    let i = 0;
    while (i < n) {
      if (this.open === null) this.open = new OpenBlock(this.blockSize, this.sizeHint);
      const open = this.open;
      i = open.appendEntries(entries, i, n, this.blockSize);
      if (open.lineBytes >= this.blockSize) this.cutBlock();
    }
    return bytes;
  }

  /** appendEntries for entries held as columns (the same blocks, bytes and bookkeeping). */
  appendBatch(b: EntryBatch, pos: number, now: number): number {
    const n = b.n;
    if (n === 0) return 0;
    const r = b.ranges;
    const bytes = sumRanges(r, n);
    this.noteTimes(b.ms, b.rem, n, pos, now);
    let i = 0;
    while (i < n) {
      if (this.open === null) this.open = new OpenBlock(this.blockSize, this.sizeHint);
      const open = this.open;
      i = open.appendBatch(b, i, n, this.blockSize);
      if (open.lineBytes >= this.blockSize) this.cutBlock();
    }
    return bytes;
  }

  /** Takes n appended timestamps (in order) into the head's first/min/max/highest/last and positions. */
  private noteTimes(msCol: Float64Array, remCol: Int32Array, n: number, pos: number, now: number): void {
    let minMs = this.minMs, minRem = this.minRem, maxMs = this.maxMs, maxRem = this.maxRem;
    let hiMs = this.highestMs, hiRem = this.highestRem;
    let ms = 0, rem = 0;
    for (let i = 0; i < n; i++) {
      ms = msCol[i]!;
      rem = remCol[i]!;
      if (i === 0 && this.entries === 0) {
        minMs = maxMs = ms;
        minRem = maxRem = rem;
      } else {
        if (ms < minMs || (ms === minMs && rem < minRem)) { minMs = ms; minRem = rem; }
        if (ms > maxMs || (ms === maxMs && rem > maxRem)) { maxMs = ms; maxRem = rem; }
      }
      if (ms > hiMs || (ms === hiMs && rem > hiRem)) { hiMs = ms; hiRem = rem; }
    }
    if (this.entries === 0) {
      this.firstPos = pos;
      this.startedAt = now;
    }
    this.minMs = minMs; this.minRem = minRem; this.maxMs = maxMs; this.maxRem = maxRem;
    this.highestMs = hiMs; this.highestRem = hiRem;
    this.lastMs = ms; this.lastRem = rem;
    this.entries += n;
    this.lastPos = pos;
    this.lastAppendAt = now;
  }

  /**
   * Closes the open block; `keepBuffers`: its memory is reused for the next one (more appends
   * expected). The block is compressed off the event loop when it can be (chunk/block-cut.ts;
   * queries read its uncompressed copy until then), else here; `sync`: here in any case.
   */
  cutBlock(keepBuffers = true, sync = false): void {
    if (this.open === null || this.open.entries === 0) return;
    this.cutLastLine = new Uint8Array(this.open.lastLine()); // a copy: the block's buffer is reused or dropped
    // The next block's buffer sizes: a full block's, not those of the remainder a flush cuts
    // (sized by that, the stream's next block grew from a small buffer through fresh ones).
    const sizes = this.open.sizes();
    if (keepBuffers || this.sizeHint === undefined || sizes.lines >= this.sizeHint.lines) this.sizeHint = sizes;
    const pending = sync ? null : this.open.startCut(this.slabFor);
    if (pending !== null) {
      this.closed.push(pending.block);
      this.closedBytes += blockBytes(pending.block);
      this.cutting.push(pending);
      pending.done.then(
        (b) => this.cutDone(pending, b),
        // no closed form could be made: the block stays in `cutting`, and takeForFlush tries again
        () => this.wakeIfSettled(),
      );
    } else {
      const b = this.open.cut(this.slabFor);
      this.closed.push(b);
      this.closedBytes += blockBytes(b);
    }
    if (keepBuffers) {
      const next = this.open.reset();
      if (next === null) this.open.recycle(); // a query may still read it: its buffer waits
      this.open = next;
    } else {
      this.open.recycle();
      this.open = null;
    }
  }

  /** Blocks being cut off the event loop now (whose work has not settled). */
  get cutsUnderWay(): number {
    let n = 0;
    for (const p of this.cutting) if (!p.settled) n++;
    return n;
  }

  /** Resolves once no block of this head is being cut off the event loop (more may start later). */
  cutsSettled(): Promise<void> {
    if (this.cutsUnderWay === 0) return Promise.resolve();
    return new Promise((resolve) => this.cutWaiters.push(resolve));
  }

  private wakeIfSettled(): void {
    if (this.cutsUnderWay === 0) for (const w of this.cutWaiters.splice(0)) w();
  }

  /** A cut's closed form replaces its uncompressed copy (null: finishCutsNow already did). */
  private cutDone(p: PendingCut, b: BlockData | null): void {
    const k = this.cutting.indexOf(p);
    if (k < 0) return;
    this.cutting.splice(k, 1);
    if (b !== null) this.replaceBlock(p.block, b);
    this.wakeIfSettled();
  }

  private replaceBlock(from: BlockData, to: BlockData): void {
    const i = this.closed.indexOf(from);
    if (i < 0) return;
    this.closed[i] = to;
    this.closedBytes += blockBytes(to) - blockBytes(from);
  }

  /** Compresses the blocks still being cut off the event loop here and now (a flush takes them). */
  private finishCutsNow(): void {
    for (const p of this.cutting) this.replaceBlock(p.block, p.finishNow());
    this.cutting = [];
    for (const w of this.cutWaiters.splice(0)) w();
  }

  /**
   * All blocks a query must read from memory right now (zero-copy). `lease`: the query's read
   * lease (chunk/read-leases.ts), until whose close the memory is not written again; without
   * one, it never is.
   */
  snapshot(lease = NEVER): BlockData[] {
    for (const s of this.slabs) if (lease > s.exposedAt) s.exposedAt = lease;
    for (const ss of this.flushingSlabs.values()) for (const s of ss) if (lease > s.exposedAt) s.exposedAt = lease;
    for (const p of this.cutting) p.expose(lease);
    const out = this.flushing.length ? [...this.flushing, ...this.closed] : [...this.closed];
    if (this.open && this.open.entries > 0) out.push(this.open.snapshot(lease));
    return out;
  }

  /**
   * The infos of the blocks snapshot() would return, without exposing any memory: callers that
   * only count (stats, volume, the bytes-read limit) must not stop the head reusing its buffers
   * (an exposed block's memory is never written again, so the next one faults in fresh pages).
   */
  blockInfos(): BlockInfo[] {
    const out: BlockInfo[] = [];
    for (const b of this.flushing) out.push(b.info);
    for (const b of this.closed) out.push(b.info);
    if (this.open && this.open.entries > 0) out.push(this.open.info());
    return out;
  }

  /** Bytes held in memory by this head. */
  memoryBytes(): number {
    let n = this.closedBytes + (this.open ? this.open.sizeBytes : 0);
    for (const b of this.flushing) n += blockBytes(b);
    return n;
  }

  /**
   * Takes everything for a chunk flush: the head is empty afterwards (blocks move to
   * `flushing`). What is still being cut off the event loop is compressed here: a flush first
   * cuts the open block and waits for cutsSettled (Ingester.flushStream).
   */
  takeForFlush(): { blocks: BlockData[]; lastPos: number; firstPos: number } {
    this.cutBlock(false, true);
    this.finishCutsNow();
    if (this.open !== null) {
      // an idle stream keeps no block buffers (an empty open block's go to the pool)
      this.open.recycle();
      this.open = null;
    }
    this.slab = null; // nor the slab its flushed blocks live in
    const blocks = this.closed;
    if (this.slabs.length > 0) {
      this.flushingSlabs.set(blocks, this.slabs);
      this.slabs = [];
    }
    this.flushing = this.flushing.concat(blocks);
    this.closed = [];
    this.closedBytes = 0;
    const lastPos = this.lastPos;
    const firstPos = this.firstPos;
    this.entries = 0;
    this.firstPos = -1;
    return { blocks, lastPos, firstPos };
  }

  /** Undoes takeForFlush when the chunk write failed: the blocks become head data again. */
  restoreAfterFailedFlush(blocks: BlockData[], firstPos: number): void {
    this.flushDone(blocks);
    // the blocks are head data again: so are their slabs (never reused while they are)
    const ss = this.flushingSlabs.get(blocks);
    if (ss !== undefined) {
      this.flushingSlabs.delete(blocks);
      this.slabs = ss.concat(this.slabs);
    }
    this.closed = blocks.concat(this.closed);
    for (const b of blocks) {
      this.closedBytes += blockBytes(b);
      this.entries += b.info.entries;
      if (b.info.minTs < this.minTs || this.entries === b.info.entries) this.minTs = b.info.minTs;
      if (b.info.maxTs > this.maxTs) this.maxTs = b.info.maxTs;
    }
    this.firstPos = firstPos;
  }

  flushDone(blocks: BlockData[]): void {
    this.flushing = this.flushing.filter((b) => !blocks.includes(b));
  }

  /**
   * The blocks takeForFlush returned are in an indexed chunk file and gone from the head (after
   * flushDone): their slabs go back to the pool unless a snapshot exposed them.
   */
  flushWritten(blocks: BlockData[]): void {
    const ss = this.flushingSlabs.get(blocks);
    if (ss === undefined) return;
    this.flushingSlabs.delete(blocks);
    for (const s of ss) slabPool.release(s);
  }
}

/** Σ (end - start) of the first n ranges. */
function sumRanges(r: Int32Array, n: number): number {
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += r[2 * i + 1]! - r[2 * i]!;
  return bytes;
}
