// Reusable buffers for decode loops that finish with one block before reading the next:
// scan workers read and decompress thousands of ~100-300 KiB block sections per query, and
// allocating a fresh buffer for each (freed later by the GC) is what grew the allocator's
// arenas under sustained queries. The same holds for the per-entry arrays of a block
// (timestamps, offsets, masks): fresh ones added up to ~20 bytes per scanned line of external
// memory, which V8 only collects after 64 MiB of it. A view from get() is valid until the next get().

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

type Typed = Float64Array | Int32Array | Uint32Array | Uint8Array;

/** A reusable typed array of one kind (per-entry columns of the block being decoded). */
export class TypedScratch<T extends Typed> {
  private buf: T;

  constructor(private readonly make: (n: number) => T) {
    this.buf = make(0);
  }

  /** An array of exactly n elements (a view of the reused storage; contents undefined). */
  get(n: number): T {
    if (this.buf.length < n) this.buf = this.make(Math.max(n, this.buf.length * 2, 1024));
    return this.buf.subarray(0, n) as T;
  }
}
