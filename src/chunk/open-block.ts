// The growing block at the tip of a stream's head: entries are encoded straight into the block's
// section layout (FORMAT.md) in SharedArrayBuffer-backed buffers, append-only, so a query can take
// a zero-copy snapshot (the bytes below the current lengths never change) and a cut only has to
// compress. Timestamps are kept as exact (ms, ns remainder) numbers (entry.ts) and a batch of
// entries whose lines are byte ranges of one push body is copied in one native call.
import { copyRanges } from '../native/index.js';
import { drainPooled } from '../util/buffer-pool.js';
import type { BlockSlab } from './block-slab.js';
import type { Labels } from '../util/labels.js';
import { LogEntry, entryMs, entryRem, lineLength, msOf, nsOf, remOf, writeLine, type EntryLike } from '../push/entry.js';
import { levelSm, levelValue, type EntryBatch } from '../push/batch.js';
import { DETECTED_LEVEL } from '../push/detect.js';
import { putUvarint, zigzag } from '../util/varint.js';
import { PairCache } from '../util/pair-cache.js';
import { CODEC_NONE, type BlockData, type BlockInfo } from './block.js';
import { closeSections, startCut, type PendingCut } from './block-cut.js';
import { buildBlockIndex, SmNameTracker } from './block-index.js';
import { NEVER, readLeases, UNSEEN } from './read-leases.js';

const EMPTY = new Uint8Array(0);

/** Line ranges of the batch appendEntries copies (grown as needed, reused). */
let rangeScratch = new Int32Array(1024);

/** zigzag(ns(ms, rem) - ns(prevMs, prevRem)) exactly as the bigint difference would give it. */
function tsDelta(ms: number, rem: number, prevMs: number, prevRem: number): number {
  const dms = ms - prevMs;
  // |dms| < 9e9 (104 days): the ns difference is below 2^53 and exact as a number
  if (dms < 9e9 && dms > -9e9) return zigzag(dms * 1000000 + (rem - prevRem));
  return zigzag(Number(nsOf(ms, rem) - nsOf(prevMs, prevRem)));
}

/** Encoded sm-section bytes of single-pair structured metadata (mostly detected_level=...). */
const onePair = new PairCache((name: string, value: string): Buffer => {
  const nb = Buffer.from(name, 'utf8');
  const vb = Buffer.from(value, 'utf8');
  const t = Buffer.allocUnsafe(3 + 2 * 10 + nb.length + vb.length);
  let p = putUvarint(t, 0, 1);
  p = putUvarint(t, p, nb.length);
  p += nb.copy(t, p);
  p = putUvarint(t, p, vb.length);
  p += vb.copy(t, p);
  return Buffer.from(t.subarray(0, p));
});

// The last frozen single-pair metadata seen and its bytes: consecutive entries nearly always carry
// the same frozen detected_level list (detect.ts levelOnly), so an identity check replaces the
// two map lookups. Only frozen lists are remembered: their pair can never change.
let lastSm: Labels | null = null;
let lastSmBytes: Buffer = Buffer.alloc(0);

/** The sm-section bytes of an entry without structured metadata (a zero pair count). */
const EMPTY_SM = Buffer.from([0]);

/** Most meta-section bytes one entry takes: a 64-bit varint delta and a 32-bit varint length. */
const META_MAX = 15;

/**
 * Line buffers of open blocks a flush dropped before any query saw them, for the next open
 * blocks. A flush under the head cap drops dozens of full-size open blocks at once and their
 * streams make new ones moments later: fresh memory costs a page fault per 4 KiB written (~12 µs
 * each on the bench VM) and more than the copy itself. Bounded (LINE_POOL_MAX buffers) and
 * emptied when ingest goes quiet (head/reclaim.ts).
 */
const linePool: Buffer[] = [];
const LINE_POOL_MAX = 48;
/** Buffers below this size come from malloc's heap, not their own mapping: not worth keeping. */
const LINE_POOL_MIN = 128 * 1024;

/** A pooled line buffer of at least `cap` bytes, else a new one. */
function sharedBuffer(cap: number): Buffer {
  if (cap >= LINE_POOL_MIN) {
    // the most recently pooled buffer that is big enough
    for (let i = linePool.length - 1; i >= 0; i--) {
      const b = linePool[i]!;
      if (b.length >= cap) {
        linePool[i] = linePool[linePool.length - 1]!;
        linePool.pop();
        return b;
      }
    }
  }
  return Buffer.from(new SharedArrayBuffer(cap));
}

/** Buffers in the pool now (tests). */
export function pooledLineBuffers(): number {
  return linePool.length;
}

/**
 * Lets pooled line buffers go when ingest has gone quiet, until `maxBytes` went (all by default):
 * pages to the OS at once (with the addon), mappings to the next GC; returns their bytes.
 */
export function drainLinePool(maxBytes = Infinity): number {
  return drainPooled(linePool, maxBytes, (b) => b);
}

class SharedBuf {
  buf: Buffer;
  len = 0;
  /** `soft`: the size this buffer usually ends at (growth stops there when that is enough) */
  constructor(cap: number, private readonly soft = Infinity) {
    this.buf = sharedBuffer(cap);
  }
  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    // x4: a new stream's first block reaches full size in 3 copies instead of 6; a step that
    // would land within 2x of the usual final size goes there at once (4K→16K→64K→288K instead
    // of →256K→288K, which copied a whole block once more per stream)
    const need = this.len + extra;
    let cap = this.buf.length * 4;
    if (cap * 2 > this.soft) cap = Math.max(this.soft, need + (need >>> 3));
    while (cap < need) cap *= 2;
    const next = sharedBuffer(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next; // readers holding the old buffer keep a valid, immutable prefix
  }
  view(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.len);
  }
}

export class OpenBlock {
  private meta: SharedBuf;
  private lines: SharedBuf;
  private sm: SharedBuf;
  // first, smallest, largest and previous timestamp as (ms, ns remainder)
  private firstMs = 0;
  private firstRem = 0;
  private minMs = 0;
  private minRem = 0;
  private maxMs = 0;
  private maxRem = 0;
  private prevMs = 0;
  private prevRem = 0;
  entries = 0;
  private lastLineLen = 0;
  /** distinct structured-metadata names so far (the index section's list) */
  private readonly smNames = new SmNameTracker();
  /**
   * The newest read lease a snapshot of the buffers was handed to (read-leases.ts): they are
   * written again (reset) only once no lease up to it is open. UNSEEN: no snapshot; NEVER: one
   * without a lease, or the block was dropped.
   */
  private exposedAt = UNSEEN;

  /**
   * `expectedLineBytes` is the block size. `hint` sizes the buffers from the stream's previous
   * block (its final section lengths): a busy stream then allocates each block once instead of
   * doubling from 4 KiB, while thousands of quiet streams still start small.
   */
  constructor(expectedLineBytes: number, hint?: { meta: number; lines: number; sm: number }) {
    const full = expectedLineBytes + (expectedLineBytes >>> 3);
    if (hint) {
      this.meta = new SharedBuf(Math.max(4096, hint.meta + (hint.meta >>> 3)));
      // After a block of at least half the block size, the full size: then pooled line buffers
      // are all one size and any of them fits (sized by the previous block they differed by a
      // few lines' bytes, and a pooled buffer could be a little too small).
      this.lines = new SharedBuf(hint.lines >= expectedLineBytes >>> 1 ? full : Math.max(4096, hint.lines + (expectedLineBytes >>> 3)), full);
      this.sm = new SharedBuf(Math.max(1024, hint.sm + (hint.sm >>> 3)));
    } else {
      this.meta = new SharedBuf(4096);
      this.lines = new SharedBuf(Math.min(4096, expectedLineBytes), full);
      this.sm = new SharedBuf(1024);
    }
  }

  get firstTs(): bigint {
    return nsOf(this.firstMs, this.firstRem);
  }

  get minTs(): bigint {
    return nsOf(this.minMs, this.minRem);
  }

  get maxTs(): bigint {
    return nsOf(this.maxMs, this.maxRem);
  }

  /** Final section lengths (the next block's size hint). */
  sizes(): { meta: number; lines: number; sm: number } {
    return { meta: this.meta.len, lines: this.lines.len, sm: this.sm.len };
  }

  /** The last appended line's bytes (zero-copy view; empty when there is none). */
  lastLine(): Uint8Array {
    if (this.entries === 0) return EMPTY;
    const b = this.lines.buf;
    return new Uint8Array(b.buffer, b.byteOffset + this.lines.len - this.lastLineLen, this.lastLineLen);
  }

  get lineBytes(): number {
    return this.lines.len;
  }

  /** Approximate bytes held (for memory accounting). */
  get sizeBytes(): number {
    return this.meta.buf.length + this.lines.buf.length + this.sm.buf.length;
  }

  /** Appends an entry given as a string line (the compactor's re-encoding, tests). */
  append(tsNs: bigint, line: string, sm: Labels): void {
    this.appendEntry(tsNs, { tsNs, line, structuredMetadata: sm });
  }

  /** Appends an entry: the line's bytes are copied (no UTF-8 re-encoding for byte-range lines). */
  appendEntry(tsNs: bigint, e: EntryLike): void {
    const ms = msOf(tsNs);
    const rem = remOf(tsNs);
    this.noteTs(ms, rem);
    const lineLen = lineLength(e);
    const meta = this.meta;
    meta.ensure(20);
    const p = putUvarint(meta.buf, meta.len, tsDelta(ms, rem, this.prevMs, this.prevRem));
    meta.len = putUvarint(meta.buf, p, lineLen);
    this.prevMs = ms;
    this.prevRem = rem;
    const lines = this.lines;
    lines.ensure(lineLen);
    lines.len += writeLine(e, lines.buf, lines.len);
    this.lastLineLen = lineLen;
    this.appendSm(e.structuredMetadata);
    this.entries++;
  }

  /**
   * Appends entries[from..to) in order while the block holds fewer than `limit` line bytes before
   * each (at least one entry); returns the index after the last appended one. The same bytes as
   * appendEntry one by one; lines that are byte ranges of one buffer are copied in one call.
   */
  appendEntries(entries: readonly EntryLike[], from: number, to: number, limit: number): number {
    // which entries go in, their line bytes, and whether every line is a range of one buffer
    const base = this.lines.len;
    let bytes = 0;
    let src: Buffer | null = null;
    let oneSrc = true;
    let k = from;
    while (k < to && (k === from || base + bytes < limit)) {
      const e = entries[k]!;
      bytes += lineLength(e);
      if (oneSrc) {
        if (e instanceof LogEntry && e.src !== null && (src === null || e.src === src)) src = e.src;
        else oneSrc = false;
      }
      k++;
    }
    const n = k - from;
    const lines = this.lines;
    lines.ensure(bytes);
    if (oneSrc && src !== null) {
      if (rangeScratch.length < 2 * n) rangeScratch = new Int32Array(Math.max(2 * n, 2 * rangeScratch.length));
      const r = rangeScratch;
      for (let i = 0; i < n; i++) {
        const e = entries[from + i] as LogEntry;
        r[2 * i] = e.start;
        r[2 * i + 1] = e.end;
      }
      const end = copyRanges(src, r, n, lines.buf, base);
      if (end !== base + bytes) throw new Error('OpenBlock: line ranges outside their buffer');
      lines.len = end;
    } else {
      for (let i = from; i < k; i++) lines.len += writeLine(entries[i]!, lines.buf, lines.len);
    }
    const meta = this.meta;
    let mb = meta.buf;
    let p = meta.len;
    let prevMs = this.prevMs;
    let prevRem = this.prevRem;
    for (let i = from; i < k; i++) {
      const e = entries[i]!;
      const ms = entryMs(e);
      const rem = entryRem(e);
      this.noteTs(ms, rem);
      if (p + META_MAX > mb.length) mb = this.metaRoom(p, k - i);
      p = putUvarint(mb, p, this.entries === 0 ? 0 : tsDelta(ms, rem, prevMs, prevRem));
      p = putUvarint(mb, p, lineLength(e));
      prevMs = ms;
      prevRem = rem;
      const sm = e.structuredMetadata;
      const smb = this.sm;
      const lb = lastSmBytes;
      if (sm === lastSm && smb.len + lb.length <= smb.buf.length) {
        // the common case inline: the same frozen level list as the entry before, room enough
        const dst = smb.buf;
        const at = smb.len;
        for (let q = 0; q < lb.length; q++) dst[at + q] = lb[q]!;
        smb.len = at + lb.length;
        this.smNames.add(sm);
      } else this.appendSm(sm);
      this.entries++;
    }
    meta.len = p;
    this.prevMs = prevMs;
    this.prevRem = prevRem;
    this.lastLineLen = lineLength(entries[k - 1]!);
    return k;
  }

  /** appendEntries for entries held as columns (push/batch.ts): the same bytes. */
  appendBatch(b: EntryBatch, from: number, to: number, limit: number): number {
    const r = b.ranges;
    const base = this.lines.len;
    let bytes = 0;
    let k = from;
    while (k < to && (k === from || base + bytes < limit)) {
      bytes += r[2 * k + 1]! - r[2 * k]!;
      k++;
    }
    const n = k - from;
    const lines = this.lines;
    lines.ensure(bytes);
    const end = copyRanges(b.src, from === 0 ? r : r.subarray(2 * from, 2 * k), n, lines.buf, base);
    if (end !== base + bytes) throw new Error('OpenBlock: line ranges outside their buffer');
    lines.len = end;
    const meta = this.meta;
    let mb = meta.buf;
    let p = meta.len;
    let prevMs = this.prevMs;
    let prevRem = this.prevRem;
    const msCol = b.ms;
    const remCol = b.rem;
    for (let i = from; i < k; i++) {
      const ms = msCol[i]!;
      const rem = remCol[i]!;
      this.noteTs(ms, rem);
      if (p + META_MAX > mb.length) mb = this.metaRoom(p, k - i);
      p = putUvarint(mb, p, this.entries === 0 ? 0 : tsDelta(ms, rem, prevMs, prevRem));
      p = putUvarint(mb, p, r[2 * i + 1]! - r[2 * i]!);
      prevMs = ms;
      prevRem = rem;
      this.entries++;
    }
    meta.len = p;
    // the sm section: one record per entry, the same bytes through a run of one level code, so
    // each run is written once and doubled with copyWithin (a byte loop per entry cost ~65 ns)
    const lv = b.level;
    const smb = this.sm;
    let i = from;
    while (i < k) {
      const c = lv[i]!;
      let j = i + 1;
      while (j < k && lv[j] === c) j++;
      const cb = c === 0 ? EMPTY_SM : onePair.get(DETECTED_LEVEL, levelValue(c));
      this.smNames.add(levelSm(c));
      const total = (j - i) * cb.length;
      smb.ensure(total);
      const dst = smb.buf;
      const at = smb.len;
      dst.set(cb, at);
      for (let w = cb.length; w < total; ) {
        const m = Math.min(w, total - w);
        dst.copyWithin(at + w, at, at + m);
        w += m;
      }
      smb.len = at + total;
      i = j;
    }
    this.prevMs = prevMs;
    this.prevRem = prevRem;
    this.lastLineLen = r[2 * k - 1]! - r[2 * k - 2]!;
    return k;
  }

  /**
   * The meta buffer with room for `left` more entries at the worst case, the section being `p`
   * bytes long now. Asked only when the next entry may not fit: the size hint makes growth rare,
   * where reserving the worst case for a whole batch up front grew nearly every fresh block.
   */
  private metaRoom(p: number, left: number): Buffer {
    this.meta.len = p;
    this.meta.ensure(META_MAX * left);
    return this.meta.buf;
  }

  /** Takes (ms, rem) into the first/min/max timestamps (before `entries` counts the entry). */
  private noteTs(ms: number, rem: number): void {
    if (this.entries === 0) {
      this.firstMs = this.minMs = this.maxMs = this.prevMs = ms;
      this.firstRem = this.minRem = this.maxRem = this.prevRem = rem;
    } else {
      if (ms < this.minMs || (ms === this.minMs && rem < this.minRem)) {
        this.minMs = ms;
        this.minRem = rem;
      }
      if (ms > this.maxMs || (ms === this.maxMs && rem > this.maxRem)) {
        this.maxMs = ms;
        this.maxRem = rem;
      }
    }
  }

  /** Appends one entry's structured metadata to the sm section. */
  private appendSm(sm: Labels): void {
    this.smNames.add(sm);
    const smb = this.sm;
    if (sm.length === 1) {
      let b: Buffer;
      if (sm === lastSm) b = lastSmBytes;
      else {
        b = onePair.get(sm[0]!.name, sm[0]!.value);
        if (Object.isFrozen(sm) && Object.isFrozen(sm[0])) {
          lastSm = sm;
          lastSmBytes = b;
        }
      }
      smb.ensure(b.length);
      const dst = smb.buf;
      const at = smb.len;
      for (let k = 0; k < b.length; k++) dst[at + k] = b[k]!; // short: a loop beats a native copy
      smb.len = at + b.length;
      return;
    }
    let need = 8;
    for (const l of sm) need += 16 + l.name.length * 3 + l.value.length * 3;
    smb.ensure(need);
    let p = putUvarint(smb.buf, smb.len, sm.length);
    for (const l of sm) {
      const nl = Buffer.byteLength(l.name, 'utf8');
      p = putUvarint(smb.buf, p, nl);
      p += smb.buf.write(l.name, p, nl, 'utf8');
      const vl = Buffer.byteLength(l.value, 'utf8');
      p = putUvarint(smb.buf, p, vl);
      p += smb.buf.write(l.value, p, vl, 'utf8');
    }
    smb.len = p;
  }

  info(): BlockInfo {
    return {
      firstTs: this.firstTs,
      minTs: this.minTs,
      maxTs: this.maxTs,
      entries: this.entries,
      lineBytes: this.lines.len,
      metaU: this.meta.len,
      linesU: this.lines.len,
      smU: this.sm.len,
    };
  }

  /**
   * Empties the block for reuse after cut() when no query can still be reading its buffers (a
   * busy stream then writes every block into the same memory); null when one may be.
   */
  reset(): OpenBlock | null {
    if (!readLeases.reusable(this.exposedAt)) return null;
    this.exposedAt = UNSEEN;
    this.meta.len = this.lines.len = this.sm.len = 0;
    this.firstMs = this.minMs = this.maxMs = this.prevMs = 0;
    this.firstRem = this.minRem = this.maxRem = this.prevRem = 0;
    this.entries = 0;
    this.lastLineLen = 0;
    this.smNames.reset();
    return this;
  }

  /**
   * The block is dropped after cut() (or reset() refused): its line buffer goes to the pool for
   * the next open block once no query can still be reading it (at once when none saw it; never
   * when a snapshot without a lease did). The block must not be used again.
   */
  recycle(): void {
    const b = this.lines.buf;
    const at = this.exposedAt;
    this.exposedAt = NEVER; // never written again through this block
    if (b.length < LINE_POOL_MIN) return;
    readLeases.retire(at, b.length, () => {
      if (linePool.length < LINE_POOL_MAX) linePool.push(b);
    });
  }

  /**
   * Zero-copy view of the block as it is now (uncompressed sections). `lease`: the read lease
   * of the query that reads it (read-leases.ts); without one the buffers are never reused.
   */
  snapshot(lease = NEVER): BlockData {
    if (lease > this.exposedAt) this.exposedAt = lease;
    return { info: this.info(), codec: CODEC_NONE, index: EMPTY, meta: this.meta.view(), lines: this.lines.view(), sm: this.sm.view() };
  }

  /**
   * Builds the index section and compresses the sections (in a chunk file's order: index, meta,
   * sm, lines) into shared memory: the closed form of this block. `slabFor(bound)` gives a slab
   * with at least `bound` bytes of room to write into (a stream head's); without it the block
   * gets a SharedArrayBuffer of its own. `depth` > 1 searches LZ4 matches harder (compaction).
   */
  cut(slabFor?: (bound: number) => BlockSlab, depth = 1): BlockData {
    const linesV = this.lines.view();
    const smV = this.sm.view();
    const index = buildBlockIndex(linesV, smV, this.entries, this.smNames);
    return closeSections(this.info(), index, this.meta.view(), smV, linesV, slabFor, depth);
  }

  /**
   * Starts cutting the block off the event loop (block-cut.ts): its sections are copied, so the
   * block may be reset and written again at once. null when cuts run on the event loop here.
   */
  startCut(slabFor: (bound: number) => BlockSlab): PendingCut | null {
    return startCut({ info: this.info(), meta: this.meta.view(), sm: this.sm.view(), lines: this.lines.view(), entries: this.entries, smNames: this.smNames }, slabFor);
  }
}
