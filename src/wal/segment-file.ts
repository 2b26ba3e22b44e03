// How one WAL segment reaches the disk. Each append is written and then fdatasync'd. Where the
// filesystem takes O_DIRECT (ext4, xfs, btrfs, ...) the bytes go from a page-aligned staging
// buffer straight to the device: the log is written once and read only after a crash, so putting
// it through the page cache only cost a copy into freshly allocated cache pages (measured:
// 1.0-1.6 ms of system CPU per MiB while the cache grows, against 0.16 with O_DIRECT) and evicted
// pages that queries want. Elsewhere (tmpfs, no addon, a filesystem that refuses) appends are
// plain buffered writev calls.
//
// Direct appends work in whole 4 KiB pages: the last partial page is kept in the staging buffer
// and written again, extended, by the next append (from its page start), so the file holds up to
// 4095 zero bytes past its logical end until close() cuts them off. A crash can leave them:
// replay reads a record length of 0 as the end of the log (no record is empty). Rewriting that
// page cannot damage acknowledged bytes: it carries the same bytes before the new ones.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { alignedBuffer } from '../native/index.js';

/** O_DIRECT's alignment for memory, file offsets and lengths (covers 512 B and 4 KiB devices). */
export const DIRECT_ALIGN = 4096;
/** Bytes staged per direct write; bigger appends take several writes and one fdatasync. */
export const STAGE_BYTES = 1 << 20;

export interface SegmentFile {
  /** true when appends bypass the page cache */
  readonly direct: boolean;
  /** true once the filesystem refused a direct write (appends then went buffered) */
  readonly refused: boolean;
  /**
   * Writes `parts` (len bytes in all) after what the segment holds and waits for fdatasync. If it
   * throws, the segment is cut back to what it held before (best effort).
   */
  append(parts: Uint8Array[], len: number): Promise<void>;
  /** Cuts any zero padding off, syncs and closes. */
  close(): Promise<void>;
}

/** A page-aligned staging buffer for direct appends (null without the addon's alignedBuffer). */
export function stagingBuffer(): Uint8Array | null {
  return alignedBuffer(STAGE_BYTES, DIRECT_ALIGN);
}

/**
 * Opens (creating) a segment for appending: direct when `stage` is given and the filesystem takes
 * O_DIRECT for an empty file, else buffered.
 */
export async function openSegment(path: string, stage: Uint8Array | null): Promise<SegmentFile> {
  if (stage && constants.O_DIRECT !== undefined) {
    let fh: FileHandle | null = null;
    try {
      fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT, 0o644);
      if ((await fh.stat()).size === 0) return new DirectSegment(fh, stage, path);
    } catch {
      /* EINVAL: this filesystem has no O_DIRECT */
    }
    await fh?.close().catch(() => {});
  }
  return new BufferedSegment(await open(path, 'a'));
}

class BufferedSegment implements SegmentFile {
  readonly direct = false;
  readonly refused = false;
  private size = -1;

  constructor(private readonly fh: FileHandle) {}

  async append(parts: Uint8Array[], len: number): Promise<void> {
    if (this.size < 0) this.size = (await this.fh.stat()).size;
    try {
      await this.fh.writev(parts);
      await this.fh.datasync();
      this.size += len;
    } catch (e) {
      // leave no partial record behind
      try { await this.fh.truncate(this.size); } catch { /* best effort */ }
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.fh.datasync();
    await this.fh.close();
  }
}

class DirectSegment implements SegmentFile {
  readonly direct = true;
  /** the segment's logical length (bytes of records) */
  private end = 0;
  /** bytes of the last partial page, kept at stage[0..tail) */
  private tail = 0;
  /** the filesystem refused a direct write: later appends go through the page cache */
  private fallback: BufferedSegment | null = null;
  /** set when it did (the WAL then opens further segments buffered) */
  refused = false;

  constructor(private readonly fh: FileHandle, private readonly stage: Uint8Array, private readonly path: string) {}

  async append(parts: Uint8Array[], len: number): Promise<void> {
    if (this.fallback) return this.fallback.append(parts, len);
    const stage = this.stage;
    const cap = stage.length;
    let fill = this.tail;
    let fileOff = this.end - this.tail;
    try {
      for (const p of parts) {
        let from = 0;
        while (from < p.length) {
          const n = Math.min(p.length - from, cap - fill);
          stage.set(n === p.length ? p : p.subarray(from, from + n), fill);
          fill += n;
          from += n;
          if (fill === cap) {
            await this.writeFull(cap, fileOff);
            fileOff += cap;
            fill = 0;
          }
        }
      }
      if (fill > 0) {
        const padded = (fill + DIRECT_ALIGN - 1) & ~(DIRECT_ALIGN - 1);
        stage.fill(0, fill, padded);
        await this.writeFull(padded, fileOff);
      }
      await this.fh.datasync();
    } catch (e) {
      // Nothing new is acknowledged: cut the file back. (The WAL moves on to a new segment, so
      // this one is only closed after a failure; the staging buffer's kept page no longer matters.)
      await this.fh.truncate(this.end).catch(() => {});
      if ((e as NodeJS.ErrnoException).code === 'EINVAL') {
        // the filesystem opened with O_DIRECT but refuses the writes: go buffered
        this.refused = true;
        this.fallback = new BufferedSegment(await open(this.path, 'a'));
        return this.fallback.append(parts, len);
      }
      throw e;
    }
    this.end += len;
    // writes start on page boundaries, so the used part of the last page written ends at fill
    const newTail = this.end & (DIRECT_ALIGN - 1);
    if (newTail > 0) stage.copyWithin(0, fill - newTail, fill);
    this.tail = newTail;
  }

  private async writeFull(n: number, position: number): Promise<void> {
    let done = 0;
    while (done < n) {
      const { bytesWritten } = await this.fh.write(this.stage, done, n - done, position + done);
      if (bytesWritten <= 0 || (bytesWritten & (DIRECT_ALIGN - 1)) !== 0) throw Object.assign(new Error('short direct WAL write'), { code: 'EIO' });
      done += bytesWritten;
    }
  }

  async close(): Promise<void> {
    if (!this.fallback) await this.fh.truncate(this.end); // the last page's zero padding
    await this.fh.datasync();
    await this.fh.close();
    await this.fallback?.close();
  }
}
