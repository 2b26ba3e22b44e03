// One stream's in-memory tail: the compressed blocks cut since the last chunk flush, the open
// block still growing, and what the ingester needs to enforce Loki's per-stream rules (exact
// duplicate of the last entry, out-of-order window) and to know when to flush.
import type { Labels } from '../util/labels.js';
import { blockBytes, type BlockData } from '../chunk/block.js';
import { OpenBlock } from '../chunk/open-block.js';
import { BlockSlab, SLAB_BYTES } from '../chunk/block-slab.js';
import { LogEntry, type EntryLike } from '../push/entry.js';

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
  lastTs = -1n;
  /** last line of the last cut block (the open block holds the last line otherwise) */
  private cutLastLine: Uint8Array = EMPTY;
  /** section sizes of the last cut block: the next open block's allocation hint */
  private sizeHint: { meta: number; lines: number; sm: number } | undefined;
  /** highest timestamp ever accepted (for the out-of-order window) */
  highestTs = -1n;
  minTs = 0n;
  maxTs = 0n;
  entries = 0;
  /** WAL positions of the first and last record applied since the last flush */
  firstPos = -1;
  lastPos = -1;
  /** wall-clock ms of the first entry since the last flush, and of the last append */
  startedAt = 0;
  lastAppendAt = 0;

  /** where this head's closed blocks are compressed to (a flush starts a new one) */
  private slab: BlockSlab | null = null;
  private readonly slabFor = (bound: number): BlockSlab => {
    if (this.slab === null || this.slab.room() < bound) this.slab = new BlockSlab(Math.max(SLAB_BYTES, bound));
    return this.slab;
  };

  constructor(private readonly blockSize: number) {}

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

  /** Appends an entry (its line's bytes are copied into the open block). */
  appendEntry(e: EntryLike, pos: number, now: number): void {
    const tsNs = e.tsNs;
    if (this.open === null) this.open = new OpenBlock(this.blockSize, this.sizeHint);
    if (this.entries === 0) {
      this.minTs = this.maxTs = tsNs;
      this.firstPos = pos;
      this.startedAt = now;
    } else {
      if (tsNs < this.minTs) this.minTs = tsNs;
      if (tsNs > this.maxTs) this.maxTs = tsNs;
    }
    const open = this.open;
    open.appendEntry(tsNs, e);
    this.entries++;
    this.lastPos = pos;
    this.lastAppendAt = now;
    this.lastTs = tsNs;
    if (tsNs > this.highestTs) this.highestTs = tsNs;
    if (open.lineBytes >= this.blockSize) this.cutBlock();
  }

  /** Closes the open block; `keepBuffers`: its memory is reused for the next one (more appends expected). */
  cutBlock(keepBuffers = true): void {
    if (this.open === null || this.open.entries === 0) return;
    this.cutLastLine = new Uint8Array(this.open.lastLine()); // a copy: the block's buffer is reused or dropped
    this.sizeHint = this.open.sizes();
    const b = this.open.cut(this.slabFor);
    this.closed.push(b);
    this.closedBytes += blockBytes(b);
    this.open = keepBuffers ? this.open.reset() : null;
  }

  /** All blocks a query must read from memory right now (zero-copy). */
  snapshot(): BlockData[] {
    const out = this.flushing.length ? [...this.flushing, ...this.closed] : [...this.closed];
    if (this.open && this.open.entries > 0) out.push(this.open.snapshot());
    return out;
  }

  /** Bytes held in memory by this head. */
  memoryBytes(): number {
    let n = this.closedBytes + (this.open ? this.open.sizeBytes : 0);
    for (const b of this.flushing) n += blockBytes(b);
    return n;
  }

  /** Takes everything for a chunk flush: the head is empty afterwards (blocks move to `flushing`). */
  takeForFlush(): { blocks: BlockData[]; lastPos: number; firstPos: number } {
    this.cutBlock(false);
    this.open = null; // an idle stream keeps no block buffers
    this.slab = null; // nor the slab its flushed blocks live in
    const blocks = this.closed;
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
}
