// Slab recycling (chunk/block-slab.ts SlabPool): a head's slabs go back to the pool only after
// their blocks were written to a chunk file and no query can still read them (never, when a
// snapshot without a read lease saw them); a failed flush keeps them as head data; and blocks
// read back exactly whether or not slabs were reused.
import { describe, expect, it } from 'vitest';
import { StreamHead } from '../../src/head/stream-head.js';
import { SLAB_BYTES, SlabPool, slabPool, BlockSlab } from '../../src/chunk/block-slab.js';
import { LogEntry } from '../../src/push/entry.js';
import { decodeLines, decodeMeta } from '../../src/chunk/block-reader.js';
import type { BlockData } from '../../src/chunk/block.js';
import { pooledLineBuffers } from '../../src/chunk/open-block.js';
import { nativeKernels } from '../../src/native/index.js';
import { NEVER, readLeases } from '../../src/chunk/read-leases.js';

const T0 = 1795132800000000000n;

function fill(h: StreamHead, n: number, tag: string): void {
  for (let i = 0; i < n; i++) {
    const line = `${tag} line ${i} ${'abcdefghij'.repeat(i % 7)} ${(i * 7919) % 1000}`;
    h.appendEntry(LogEntry.fromString(T0 + BigInt(i), line, []), 1, 0);
  }
}

/** Cuts the open block and waits until its closed form is in (it may be cut off the event loop). */
async function cut(h: StreamHead): Promise<void> {
  h.cutBlock();
  await h.cutsSettled();
}

function text(blocks: BlockData[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    const m = decodeMeta(b);
    const lines = decodeLines(b);
    for (let i = 0; i < m.n; i++) out.push(Buffer.from(lines.subarray(m.lineOff[i]!, m.lineOff[i + 1]!)).toString());
  }
  return out;
}

describe('SlabPool', () => {
  it('hands back released slabs, emptied, and keeps at most max', () => {
    const p = new SlabPool(2);
    const a = p.acquire(10);
    a.used = 500;
    const b = p.acquire(10);
    const c = p.acquire(10);
    p.release(a);
    p.release(b);
    p.release(c);
    expect(p.size).toBe(2);
    const again = p.acquire(100);
    expect(again === a || again === b).toBe(true);
    expect(again.used).toBe(0);
  });

  it('never takes back an exposed or odd-sized slab, and gives a new one for a big bound', () => {
    const p = new SlabPool(4);
    const a = p.acquire(1);
    a.exposedAt = NEVER;
    p.release(a);
    p.release(new BlockSlab(SLAB_BYTES * 2));
    expect(p.size).toBe(0);
    p.release(p.acquire(1));
    expect(p.acquire(SLAB_BYTES + 1).bytes.length).toBe(SLAB_BYTES + 1);
    expect(p.size).toBe(1);
  });
});

describe('SlabPool.drain', () => {
  it('hands a drained slab\'s pages back to the OS at once (with the addon): they read as zeros', () => {
    const p = new SlabPool(2);
    const s = p.acquire(10);
    s.bytes.fill(3);
    p.release(s);
    expect(p.drain()).toBe(SLAB_BYTES);
    expect(p.size).toBe(0);
    const zeros = s.bytes.reduce((n, x) => n + (x === 0 ? 1 : 0), 0);
    if (nativeKernels) expect(zeros).toBeGreaterThanOrEqual(SLAB_BYTES - 2 * 4096);
    else expect(zeros).toBe(0);
  });
});

describe('StreamHead slabs', () => {
  it('returns the slabs of written, unseen blocks to the shared pool and writes the next blocks there', async () => {
    const h = new StreamHead(4096);
    fill(h, 400, 'a');
    const before = slabPool.size;
    const { blocks } = h.takeForFlush();
    const want = text(blocks);
    h.flushDone(blocks);
    h.flushWritten(blocks);
    expect(slabPool.size).toBe(before + 1);
    const h2 = new StreamHead(4096);
    fill(h2, 300, 'b');
    await cut(h2);
    expect(slabPool.size).toBe(before); // the new head took it
    expect(text(h2.snapshot())).toEqual(Array.from({ length: 300 }, (_, i) => `b line ${i} ${'abcdefghij'.repeat(i % 7)} ${(i * 7919) % 1000}`));
    expect(want.length).toBe(400);
  });

  it('keeps slabs a snapshot saw, before or during the flush', async () => {
    for (const when of ['before', 'during'] as const) {
      const h = new StreamHead(4096);
      fill(h, 400, 'c');
      await h.cutsSettled(); // the snapshot sees the blocks in their slabs
      let seen: BlockData[] = [];
      if (when === 'before') seen = h.snapshot();
      const { blocks } = h.takeForFlush();
      if (when === 'during') seen = h.snapshot();
      const want = text(seen);
      const before = slabPool.size;
      h.flushDone(blocks);
      h.flushWritten(blocks);
      expect(slabPool.size).toBe(before);
      const other = new StreamHead(4096);
      fill(other, 400, 'd');
      await cut(other);
      expect(text(seen)).toEqual(want);
    }
  });

  it('takes back slabs a query saw under a read lease once the lease is closed, and its bytes held until then', async () => {
    for (const when of ['before', 'during'] as const) {
      const h = new StreamHead(4096);
      fill(h, 400, 'g');
      await h.cutsSettled(); // the snapshot sees the blocks in their slabs
      const lease = readLeases.open();
      let seen: BlockData[] = [];
      if (when === 'before') seen = h.snapshot(lease);
      const { blocks } = h.takeForFlush();
      if (when === 'during') seen = h.snapshot(lease);
      const want = text(seen);
      const before = slabPool.size;
      h.flushDone(blocks);
      h.flushWritten(blocks);
      expect(slabPool.size).toBe(before); // the query may still read them
      const other = new StreamHead(4096);
      fill(other, 400, 'h');
      await cut(other); // writes elsewhere
      expect(text(seen)).toEqual(want);
      readLeases.close(lease);
      expect(slabPool.size).toBe(before + 1);
      const next = new StreamHead(4096);
      fill(next, 300, 'i');
      await cut(next);
      expect(slabPool.size).toBe(before); // written again now
      expect(text(next.snapshot())).toHaveLength(300);
    }
  });

  it('keeps the slabs of a failed flush as head data until a later flush writes them', async () => {
    const h = new StreamHead(4096);
    fill(h, 400, 'e');
    const { blocks, firstPos } = h.takeForFlush();
    const want = text(blocks);
    h.flushDone(blocks);
    h.restoreAfterFailedFlush(blocks, firstPos);
    const before = slabPool.size;
    h.flushWritten(blocks); // a stale call must not release anything
    expect(slabPool.size).toBe(before);
    const other = new StreamHead(4096);
    fill(other, 400, 'f');
    await cut(other);
    expect(text(h.snapshot())).toEqual(want);
  });
});

describe('StreamHead line buffers', () => {
  it('sizes the block after a flush like a full block, not like the remainder the flush cut', () => {
    // 256 KiB blocks: line buffers that size are pooled; a remainder of a few KiB is not
    const h = new StreamHead(256 * 1024);
    const line = 'x'.repeat(1000);
    let i = 0;
    const add = (n: number): void => {
      for (let k = 0; k < n; k++, i++) h.appendEntry(LogEntry.fromString(T0 + BigInt(i), `${i} ${line}`, []), 1, 0);
    };
    add(300); // one full block cut (~256 KiB), then ~40 KiB in the open block
    const { blocks } = h.takeForFlush(); // cuts the remainder; the open block's buffer goes to the pool
    h.flushDone(blocks);
    h.flushWritten(blocks);
    const pooled = pooledLineBuffers();
    expect(pooled).toBeGreaterThan(0);
    add(1); // the next block takes a full-size buffer from the pool
    expect(pooledLineBuffers()).toBe(pooled - 1);
  });
});
