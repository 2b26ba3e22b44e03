// A small free list of large byte buffers for the ingest path, where every push needs two
// buffers of a few MiB for a few milliseconds (the decompressed request body, the WAL record).
// Allocating them afresh each time makes the C allocator either map and fault in fresh pages
// per push (costly in CPU) or keep growing its heap (costly in RSS); reusing a handful of
// buffers avoids both. Only buffers handed out by acquire() are taken back, each once.
// They serve ingest only: once pushes pause, the reclaimer empties every pool
// (drainBufferPools), so a burst's buffers (up to 16 MiB each) do not stay for good.

import { releasePages } from '../native/index.js';

/**
 * Pops pooled items off `free` until `maxBytes` went or none is left, handing each one's pages
 * back to the OS at once (with the addon; the mappings go at the next GC); returns their bytes.
 * The drain of every ingest pool: slabs, line buffers, push bodies and WAL records.
 */
export function drainPooled<T>(free: T[], maxBytes: number, bytesOf: (item: T) => Uint8Array): number {
  let n = 0;
  while (n < maxBytes && free.length > 0) {
    const b = bytesOf(free.pop()!);
    releasePages(b);
    n += b.length;
  }
  return n;
}

/** Every pool made (weakly: a pool dies with its owner, e.g. an ingester in the tests). */
const pools = new Set<WeakRef<BufferPool>>();

/** Empties the live pools until `maxBytes` went (all by default); returns the bytes let go. */
export function drainBufferPools(maxBytes = Infinity): number {
  let n = 0;
  for (const ref of pools) {
    const p = ref.deref();
    if (p) {
      if (n < maxBytes) n += p.drain(maxBytes - n);
    } else pools.delete(ref);
  }
  return n;
}

export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly lent = new WeakSet<ArrayBuffer>();

  /**
   * `maxFree`: buffers kept for reuse; `maxSize`: larger requests are plain allocations;
   * `minSize`: smaller requests are plain allocations too (Node's own slab serves them).
   */
  constructor(
    private readonly maxFree = 4,
    private readonly maxSize = 16 << 20,
    private readonly minSize = 64 << 10,
  ) {
    pools.add(new WeakRef(this));
  }

  /** A buffer of exactly n bytes (contents undefined). Give it back with release() when done. */
  acquire(n: number): Buffer {
    if (n < this.minSize || n > this.maxSize) return Buffer.allocUnsafe(n);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const c = this.free[i]!.byteLength;
      if (c >= n && (best < 0 || c < this.free[best]!.byteLength)) best = i;
    }
    let ab: ArrayBuffer;
    if (best >= 0) {
      ab = this.free[best]!;
      this.free.splice(best, 1);
    } else {
      // round up to a power of two: requests of similar size then share buffers
      ab = new ArrayBuffer(Math.min(this.maxSize, 2 ** Math.ceil(Math.log2(n))));
    }
    this.lent.add(ab);
    return Buffer.from(ab, 0, n);
  }

  /** Returns a buffer from acquire() (anything else is ignored); it must not be used afterwards. */
  release(b: Uint8Array): void {
    const ab = b.buffer as ArrayBuffer;
    if (!this.lent.has(ab)) return;
    this.lent.delete(ab);
    if (this.free.length < this.maxFree) {
      this.free.push(ab);
      return;
    }
    // keep the largest ones
    let smallest = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i]!.byteLength < this.free[smallest]!.byteLength) smallest = i;
    if (this.free[smallest]!.byteLength < ab.byteLength) this.free[smallest] = ab;
  }

  /**
   * Lets go of the buffers held for reuse until `maxBytes` went (lent ones come back as usual):
   * pages to the OS at once (with the addon), the rest to the next GC; returns their bytes.
   */
  drain(maxBytes = Infinity): number {
    return drainPooled(this.free, maxBytes, (ab) => new Uint8Array(ab));
  }

  /** Bytes held for reuse. */
  get freeBytes(): number {
    let n = 0;
    for (const ab of this.free) n += ab.byteLength;
    return n;
  }
}
