import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIRECT_ALIGN, STAGE_BYTES, openSegment, stagingBuffer } from '../../src/wal/segment-file.js';
import { Wal } from '../../src/wal/wal.js';
import { alignedBuffer } from '../../src/native/index.js';
import { removeDir, tempDataDir } from '../helpers/server.js';
import { takesODirect } from '../helpers/fs.js';

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 255;
  }
  return b;
}

const SIZES = [1, 4095, 1, 4096, 4097, 100_000, STAGE_BYTES + 5000, 3 * STAGE_BYTES, 7, STAGE_BYTES - 3];

describe('WAL segment files', () => {
  it('direct appends hold exactly the bytes given, zero-padded to a page until close', async () => {
    const dir = tempDataDir();
    const path = join(dir, 'seg');
    const stage = stagingBuffer();
    const seg = await openSegment(path, stage);
    expect(seg.direct).toBe(stage !== null && takesODirect(dir));
    const want: Buffer[] = [];
    let end = 0;
    for (const [i, n] of SIZES.entries()) {
      // one append in several parts, as the WAL gives a record's header and payload parts
      const b = bytes(n, i + 1);
      const cut = n >> 1;
      await seg.append([b.subarray(0, cut), b.subarray(cut)], n);
      want.push(b);
      end += n;
      const file = readFileSync(path);
      expect(file.subarray(0, end).equals(Buffer.concat(want))).toBe(true);
      if (seg.direct) {
        expect(file.length).toBe(Math.ceil(end / DIRECT_ALIGN) * DIRECT_ALIGN);
        expect(file.subarray(end).every((x) => x === 0)).toBe(true);
      } else {
        expect(file.length).toBe(end);
      }
    }
    await seg.close();
    expect(statSync(path).size).toBe(end);
    expect(readFileSync(path).equals(Buffer.concat(want))).toBe(true);
    removeDir(dir);
  });

  it('goes buffered when the filesystem refuses direct writes, keeping every byte', async () => {
    const dir = tempDataDir();
    if (!takesODirect(dir) || !alignedBuffer(8192, DIRECT_ALIGN)) {
      // nothing to refuse here: the segment is buffered from the start
      expect((await openSegment(join(dir, 'x'), stagingBuffer())).direct).toBe(false);
      removeDir(dir);
      return;
    }
    const path = join(dir, 'seg');
    // staging memory one byte off alignment: the kernel answers EINVAL, as a filesystem that
    // opens with O_DIRECT but cannot write that way does
    const aligned = alignedBuffer(STAGE_BYTES + DIRECT_ALIGN, DIRECT_ALIGN)!;
    const seg = await openSegment(path, aligned.subarray(1, 1 + STAGE_BYTES));
    expect(seg.direct).toBe(true);
    const a = bytes(5000, 1), b = bytes(9000, 2);
    await seg.append([a], a.length);
    expect(seg.refused).toBe(true);
    await seg.append([b], b.length);
    await seg.close();
    expect(readFileSync(path).equals(Buffer.concat([a, b]))).toBe(true);
    removeDir(dir);
  });

  it('replays a segment left with zero padding by a crash, reporting no damage', async () => {
    const dir = tempDataDir();
    const w = new Wal(dir, 1 << 20);
    w.replay(() => {});
    for (let i = 0; i < 20; i++) await w.append(bytes(100 + i * 37, i)).durable;
    // no close(): the process "dies" with the last page padded (when direct)
    const segPath = join(dir, readdirSync(dir).find((f) => f.endsWith('.wal'))!);
    const logical = Array.from({ length: 20 }, (_, i) => 8 + 100 + i * 37).reduce((x, y) => x + y, 0);
    expect(statSync(segPath).size).toBe(w.directIO ? Math.ceil(logical / DIRECT_ALIGN) * DIRECT_ALIGN : logical);
    const got: Buffer[] = [];
    const stats = new Wal(dir, 1 << 20).replay((p) => got.push(Buffer.from(p)));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => bytes(100 + i * 37, i)));
    expect(stats.truncated).toEqual([]);
    expect(statSync(segPath).size).toBe(logical);
    await w.close();
    removeDir(dir);
  });

  it('reports a zero length followed by other bytes as damage, not padding', async () => {
    const dir = tempDataDir();
    const w = new Wal(dir, 1 << 20, { directIO: false });
    w.replay(() => {});
    await w.append(Buffer.from('kept')).durable;
    await w.append(Buffer.from('lost')).durable;
    await w.close();
    const segPath = join(dir, readdirSync(dir).find((f) => f.endsWith('.wal'))!);
    const data = readFileSync(segPath);
    data.fill(0, 12, 16); // the second record's length
    writeFileSync(segPath, data);
    const got: string[] = [];
    const stats = new Wal(dir, 1 << 20).replay((p) => got.push(p.toString()));
    expect(got).toEqual(['kept']);
    expect(stats.truncated).toEqual([{ segment: '00000001.wal', offset: 12, droppedBytes: 12, reason: 'empty record' }]);
    removeDir(dir);
  });

  it('opens later segments buffered once a filesystem refused direct writes', async () => {
    const dir = tempDataDir();
    const aligned = alignedBuffer(STAGE_BYTES + DIRECT_ALIGN, DIRECT_ALIGN);
    const w = new Wal(dir, 8192, aligned ? { stage: aligned.subarray(1, 1 + STAGE_BYTES) } : {});
    w.replay(() => {});
    const recs = Array.from({ length: 6 }, (_, i) => bytes(3000, i + 10));
    for (const r of recs) await w.append(r).durable; // 3008-byte records: two per 8 KiB segment
    expect(w.directIO).toBe(false);
    await w.close();
    // refused in the first segment only (without the addon or O_DIRECT: never tried)
    expect(w.metrics.directRefused).toBe(aligned && takesODirect(dir) ? 1 : 0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.wal'))).toHaveLength(3);
    const got: Buffer[] = [];
    const stats = new Wal(dir, 8192).replay((p) => got.push(Buffer.from(p)));
    expect(got).toEqual(recs);
    expect(stats.truncated).toEqual([]);
    removeDir(dir);
  });
});
