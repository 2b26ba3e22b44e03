// Write-ahead log: append-only segment files of checksummed records with group commit. Every
// push is encoded as one record; records appended while a write+fdatasync is in flight are
// written together by the next one, and each push is acknowledged only after the fdatasync that
// covers it. Each record has a position (segment << 32 | offset) so the ingester can tell, after a
// restart, which records a flushed chunk already holds.
//
// Segments are written with O_DIRECT where the filesystem allows it (segment-file.ts).
//
// Record: u32 payload length | u32 crc32(payload) | payload (appended as one or several parts).
// A length of 0 ends a segment: no record is empty, and a direct write's page padding is zeros.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, ftruncateSync, fstatSync } from 'node:fs';
import { unlink as unlinkAsync } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { openSegment, stagingBuffer, type SegmentFile } from './segment-file.js';

const HEADER = 8;
const SEG_SHIFT = 2 ** 32;
const MAX_RECORD = 512 * 1024 * 1024;

export function segmentOf(pos: number): number {
  return Math.floor(pos / SEG_SHIFT);
}

function segName(seg: number): string {
  return String(seg).padStart(8, '0') + '.wal';
}

interface Pending {
  seg: number;
  header: Buffer;
  /** the payload, possibly in several parts written back to back (no copy to join them) */
  payload: Uint8Array[];
  /** header + payload bytes */
  size: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface ReplayStats {
  records: number;
  bytes: number;
  segments: number;
  /** what was cut off a torn or corrupt tail, for the start-up log */
  truncated: { segment: string; offset: number; droppedBytes: number; reason: string }[];
}

export interface WalMetrics {
  fsyncs: number;
  bytesWritten: number;
  records: number;
  /** segments whose filesystem opened them with O_DIRECT but refused direct writes */
  directRefused: number;
}

export interface WalOptions {
  /** write segments with O_DIRECT where the filesystem allows it (default true) */
  directIO?: boolean;
  /** the staging buffer for direct writes (default: a page-aligned one from the addon; tests) */
  stage?: Uint8Array;
}

export class Wal {
  private seg = 0;
  private segOffset = 0;
  private pending: Pending[] = [];
  private writing = false;
  private fh: SegmentFile | null = null;
  private fhSeg = -1;
  private closed = false;
  /** the page-aligned staging buffer of direct writes; null: buffered writes */
  private stage: Uint8Array | null | undefined;
  readonly metrics: WalMetrics = { fsyncs: 0, bytesWritten: 0, records: 0, directRefused: 0 };

  constructor(private readonly dir: string, private readonly segmentSize: number, private readonly opts: WalOptions = {}) {
    mkdirSync(dir, { recursive: true });
  }

  /** Whether the segment being written bypasses the page cache (for /metrics and tests). */
  get directIO(): boolean {
    return this.fh?.direct === true && !this.fh.refused;
  }

  private segments(): number[] {
    return readdirSync(this.dir)
      .filter((f) => /^\d{8}\.wal$/.test(f))
      .map((f) => Number(f.slice(0, 8)))
      .sort((a, b) => a - b);
  }

  /**
   * Reads every valid record in order and hands it to `apply`. A torn or corrupt record ends its
   * segment: the bytes from there on are cut off (logged via the returned stats), so start-up
   * never fails on a half-written tail. New records then go to a fresh segment.
   */
  replay(apply: (payload: Buffer, pos: number) => void): ReplayStats {
    const stats: ReplayStats = { records: 0, bytes: 0, segments: 0, truncated: [] };
    const segs = this.segments();
    for (const seg of segs) {
      stats.segments++;
      const path = join(this.dir, segName(seg));
      const data = readFileSync(path);
      let off = 0;
      let reason = '';
      while (off < data.length) {
        if (off + HEADER > data.length) { reason = 'torn record header'; break; }
        const len = data.readUInt32LE(off);
        if (len === 0) { reason = isZero(data, off) ? '' : 'empty record'; break; }
        if (len > MAX_RECORD || off + HEADER + len > data.length) { reason = 'torn record'; break; }
        const payload = data.subarray(off + HEADER, off + HEADER + len);
        if (crc32(payload) !== data.readUInt32LE(off + 4)) { reason = 'checksum mismatch'; break; }
        apply(payload, seg * SEG_SHIFT + off);
        stats.records++;
        stats.bytes += HEADER + len;
        off += HEADER + len;
      }
      if (off < data.length) {
        // a direct write's zero padding is no loss: cut it off without a report
        if (reason) stats.truncated.push({ segment: segName(seg), offset: off, droppedBytes: data.length - off, reason });
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, off);
        } finally {
          closeSync(fd);
        }
      }
    }
    this.seg = segs.length ? segs[segs.length - 1]! + 1 : 1;
    this.segOffset = 0;
    return stats;
  }

  /** Current append position (where the next record will go). */
  position(): number {
    return this.seg * SEG_SHIFT + this.segOffset;
  }

  /**
   * Queues a record. Returns its position at once and a promise that resolves when the record
   * is on stable storage (or rejects if writing it failed: then it must not be acknowledged).
   */
  append(payload: Uint8Array | Uint8Array[]): { pos: number; durable: Promise<void> } {
    if (this.closed) return { pos: -1, durable: Promise.reject(new Error('WAL is closed')) };
    const parts = Array.isArray(payload) ? payload : [payload];
    let len = 0;
    let crc = 0;
    for (const p of parts) {
      len += p.length;
      crc = crc32(p, crc);
    }
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32LE(len, 0);
    header.writeUInt32LE(crc, 4);
    const size = HEADER + len;
    if (this.segOffset > 0 && this.segOffset + size > this.segmentSize) {
      this.seg++;
      this.segOffset = 0;
    }
    const pos = this.seg * SEG_SHIFT + this.segOffset;
    this.segOffset += size;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const durable = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.pending.push({ seg: this.seg, header, payload: parts, size, resolve, reject });
    if (!this.writing) void this.writeLoop();
    return { pos, durable };
  }

  private async openSeg(seg: number): Promise<SegmentFile> {
    if (this.fh && this.fhSeg === seg) return this.fh;
    if (this.fh) {
      await this.closeSeg(this.fh);
      this.fh = null;
      this.metrics.fsyncs++;
    }
    if (this.stage === undefined) this.stage = this.opts.directIO === false ? null : (this.opts.stage ?? stagingBuffer());
    this.fh = await openSegment(join(this.dir, segName(seg)), this.stage);
    this.fhSeg = seg;
    return this.fh;
  }

  private async closeSeg(fh: SegmentFile): Promise<void> {
    if (fh.refused) {
      this.stage = null; // this filesystem refuses direct writes: stop trying
      this.metrics.directRefused++;
    }
    await fh.close();
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        let i = 0;
        try {
          while (i < batch.length) {
            const seg = batch[i]!.seg;
            let j = i;
            const bufs: Uint8Array[] = [];
            let len = 0;
            while (j < batch.length && batch[j]!.seg === seg) {
              const p = batch[j]!;
              bufs.push(p.header, ...p.payload);
              len += p.size;
              j++;
            }
            const fh = await this.openSeg(seg);
            await fh.append(bufs, len); // leaves no partial record behind when it throws
            this.metrics.fsyncs++;
            this.metrics.bytesWritten += len;
            this.metrics.records += j - i;
            for (let k = i; k < j; k++) batch[k]!.resolve();
            i = j;
          }
        } catch (e) {
          const err = e as Error;
          for (let k = i; k < batch.length; k++) batch[k]!.reject(err);
          // Records queued meanwhile had positions after the failed ones: fail them too and
          // continue in a fresh segment so positions stay truthful.
          const queued = this.pending;
          this.pending = [];
          for (const p of queued) p.reject(err);
          if (this.fh) { try { await this.closeSeg(this.fh); } catch { /* ignore */ } }
          this.fh = null;
          this.fhSeg = -1;
          this.seg++;
          this.segOffset = 0;
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Waits for all queued records to be durable. */
  async sync(): Promise<void> {
    while (this.writing || this.pending.length) {
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /**
   * Deletes whole segments that hold only records below `pos` (all flushed to chunks); returns
   * how many it started deleting. The unlinks run on the thread pool: freeing a 64 MiB file took
   * ~50 ms, which stalled the event loop. A segment whose unlink has not finished (or failed) is
   * harmless: replay skips records already in chunks, and the next call tries again.
   */
  removeBefore(pos: number): number {
    const keepFrom = segmentOf(pos);
    let removed = 0;
    for (const seg of this.segments()) {
      if (seg < keepFrom && seg !== this.fhSeg && seg < this.seg && !this.removing.has(seg)) {
        this.removing.add(seg);
        void unlinkAsync(join(this.dir, segName(seg)))
          .catch(() => {})
          .finally(() => this.removing.delete(seg));
        removed++;
      }
    }
    return removed;
  }

  private readonly removing = new Set<number>();

  /** Total bytes of all segment files (for metrics). */
  diskBytes(): number {
    let n = 0;
    for (const seg of this.segments()) {
      try {
        const fd = openSync(join(this.dir, segName(seg)), 'r');
        n += fstatSync(fd).size;
        closeSync(fd);
      } catch { /* raced with removal */ }
    }
    return n;
  }

  async close(): Promise<void> {
    await this.sync();
    this.closed = true;
    if (this.fh) {
      await this.closeSeg(this.fh);
      this.fh = null;
    }
  }
}

function isZero(b: Uint8Array, from: number): boolean {
  for (let i = from; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
