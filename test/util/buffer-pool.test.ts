// BufferPool hands out exact-length buffers, reuses only what came back through release()
// (each once: a double release must not let two users share a buffer), keeps at most maxFree,
// and leaves small and huge requests to plain allocation.
import { describe, expect, it } from 'vitest';
import { BufferPool, drainBufferPools } from '../../src/util/buffer-pool.js';

describe('BufferPool', () => {
  it('drainBufferPools lets go of what every pool holds; lent buffers still come back after', () => {
    const p = new BufferPool(4, 1 << 22, 1024);
    const q = new BufferPool(4, 1 << 22, 1024);
    const a = p.acquire(100_000);
    const b = p.acquire(3000);
    const c = q.acquire(50_000);
    p.release(a);
    q.release(c);
    expect(p.freeBytes + q.freeBytes).toBe(131072 + 65536);
    expect(drainBufferPools()).toBeGreaterThanOrEqual(131072 + 65536);
    expect(p.freeBytes + q.freeBytes).toBe(0);
    expect(p.acquire(100_000).buffer).not.toBe(a.buffer);
    p.release(b); // lent before the drain: taken back
    expect(p.acquire(3000).buffer).toBe(b.buffer);
  });

  it('reuses a released buffer for a request that fits', () => {
    const p = new BufferPool(2, 1 << 22, 1024);
    const a = p.acquire(100_000);
    expect(a.length).toBe(100_000);
    p.release(a);
    const b = p.acquire(90_000);
    expect(b.length).toBe(90_000);
    expect(b.buffer).toBe(a.buffer);
    const c = p.acquire(90_000); // a is lent out again: c is new
    expect(c.buffer).not.toBe(a.buffer);
  });

  it('takes a buffer back once only, and ignores foreign buffers', () => {
    const p = new BufferPool(4, 1 << 22, 1024);
    const a = p.acquire(5000);
    p.release(a);
    p.release(a);
    p.release(Buffer.alloc(8000));
    const x = p.acquire(5000);
    const y = p.acquire(5000);
    expect(x.buffer).toBe(a.buffer);
    expect(y.buffer).not.toBe(a.buffer);
  });

  it('keeps at most maxFree buffers, preferring large ones', () => {
    const p = new BufferPool(2, 1 << 22, 1024);
    const bufs = [p.acquire(2000), p.acquire(300_000), p.acquire(40_000)];
    for (const b of bufs) p.release(b);
    expect(p.freeBytes).toBe(2 ** Math.ceil(Math.log2(300_000)) + 2 ** Math.ceil(Math.log2(40_000)));
  });

  it('leaves small and huge requests to plain allocation', () => {
    const p = new BufferPool(2, 1 << 20, 4096);
    const small = p.acquire(100);
    const huge = p.acquire(2 << 20);
    p.release(small);
    p.release(huge);
    expect(p.freeBytes).toBe(0);
  });
});
