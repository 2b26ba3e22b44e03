// RequestArena carves a push's columns and WAL index out of pooled blocks: views never overlap,
// are aligned for their element type, `zeros` is zeroed even in reused memory, requests larger
// than a block get a buffer of their own, and release() hands the blocks back for the next push.
import { describe, expect, it } from 'vitest';
import { FRESH, RequestArena } from '../../src/util/request-arena.js';

describe('RequestArena', () => {
  it('hands out disjoint, aligned views of one block', () => {
    const a = new RequestArena();
    const f = a.f64(3);
    const i = a.i32(5);
    const z = a.zeros(7);
    const b = a.bytes(9);
    const g = a.f64(1);
    expect([f.length, i.length, z.length, b.length, g.length]).toEqual([3, 5, 7, 9, 1]);
    for (const v of [f, i, z, b, g]) expect(v.buffer).toBe(f.buffer);
    expect(f.byteOffset % 8).toBe(0);
    expect(g.byteOffset % 8).toBe(0);
    expect(i.byteOffset % 4).toBe(0);
    const spans = [f, i, z, b, g].map((v) => [v.byteOffset, v.byteOffset + v.byteLength] as const).sort((x, y) => x[0] - y[0]);
    for (let k = 1; k < spans.length; k++) expect(spans[k]![0]).toBeGreaterThanOrEqual(spans[k - 1]![1]);
    expect(Buffer.isBuffer(b)).toBe(true);
    a.release();
  });

  it('zeroes `zeros` in reused memory, and the next arena reuses released blocks', () => {
    const a = new RequestArena();
    const first = a.bytes(4096).fill(0xff);
    const block = first.buffer;
    a.release();
    expect(a.heldBytes).toBe(0);
    const b = new RequestArena();
    const z = b.zeros(4096);
    expect(z.buffer).toBe(block); // the same pooled block again
    expect(z.every((x) => x === 0)).toBe(true);
    b.release();
  });

  it('takes a new block when one is full, and a buffer of its own for a large request', () => {
    const a = new RequestArena();
    const x = a.bytes(200 << 10);
    const y = a.bytes(100 << 10); // does not fit behind x in a 256 KiB block
    expect(y.buffer).not.toBe(x.buffer);
    const big = a.f64(100_000); // 800 KB
    expect(big.length).toBe(100_000);
    expect(big.buffer.byteLength).toBeGreaterThanOrEqual(800_000);
    expect(a.heldBytes).toBeGreaterThanOrEqual((512 << 10) + 800_000);
    a.release();
    expect(a.heldBytes).toBe(0);
  });

  it('FRESH gives plain arrays of the asked length, zeros zeroed', () => {
    expect(FRESH.f64(4)).toBeInstanceOf(Float64Array);
    expect(FRESH.i32(4).length).toBe(4);
    expect(FRESH.zeros(16).every((x) => x === 0)).toBe(true);
    expect(Buffer.isBuffer(FRESH.bytes(3))).toBe(true);
  });
});
