// A reusable byte buffer for decode loops that finish with one block before reading the next:
// scan workers read and decompress thousands of ~100-300 KiB block sections per query, and
// allocating a fresh buffer for each (freed later by the GC) is what grew the allocator's
// arenas under sustained queries. A view from get() is valid until the next get().

export class Scratch {
  private buf = new Uint8Array(0);

  /** A buffer of exactly n bytes (a view of the reused storage; contents undefined). */
  get(n: number): Uint8Array {
    if (this.buf.length < n) this.buf = new Uint8Array(Math.max(n, Math.min(this.buf.length * 2, 8 << 20), 64 << 10));
    return this.buf.subarray(0, n);
  }

  /** Bytes held (for memory accounting). */
  get capacity(): number {
    return this.buf.length;
  }
}
