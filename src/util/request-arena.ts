// Memory for one push request's lifetime, carved out of pooled 256 KiB blocks and handed back in
// one go once the push has returned: the per-stream entry columns its body decodes into
// (push/protobuf.ts, push/batch.ts) and the index part of its WAL record (wal/record.ts).
// Allocated afresh, these were ~0.2 GB of ArrayBuffers per ingested GiB, a third of the main
// thread's (the rest: the HTTP parser's copies of request bodies). V8 (Node 20) counts ArrayBuffer
// memory allocated since the last major GC against the old generation's room until a scavenge
// frees it, and the server's heap is small (~15 MB live, ~12 MB of room), so such buffers start
// major collections that find nothing to free (README "Memory").
import { BufferPool } from './buffer-pool.js';

/** Where typed arrays and byte buffers of a request come from. */
export interface ArenaAlloc {
  /** n float64s, contents undefined */
  f64(n: number): Float64Array;
  /** n int32s, contents undefined */
  i32(n: number): Int32Array;
  /** n bytes, zero-filled */
  zeros(n: number): Uint8Array;
  /** n bytes, contents undefined */
  bytes(n: number): Buffer;
}

/** Plain allocations (no arena: tests, WAL replay, callers without a request). */
export const FRESH: ArenaAlloc = {
  f64: (n) => new Float64Array(n),
  i32: (n) => new Int32Array(n),
  zeros: (n) => new Uint8Array(n),
  bytes: (n) => Buffer.allocUnsafe(n),
};

const BLOCK = 256 << 10;
/** pooled blocks (a push of ~1 MiB needs about one); larger requests take a pooled buffer of their own */
const blocks = new BufferPool(16, 16 << 20, BLOCK);

/** A request's allocations; release() hands them all back (nothing from it may be used after). */
export class RequestArena implements ArenaAlloc {
  private held: Buffer[] = [];
  private cur: Buffer | null = null;
  private used = 0;

  /** Byte offset of `n` bytes (8-aligned) in this.cur, which then holds them. */
  private take(n: number): number {
    const need = (n + 7) & ~7;
    if (this.cur === null || this.used + need > this.cur.length) {
      this.cur = blocks.acquire(Math.max(BLOCK, need));
      this.held.push(this.cur);
      this.used = 0;
    }
    const at = this.cur.byteOffset + this.used;
    this.used += need;
    return at;
  }

  f64(n: number): Float64Array {
    const at = this.take(8 * n);
    return new Float64Array(this.cur!.buffer, at, n);
  }

  i32(n: number): Int32Array {
    const at = this.take(4 * n);
    return new Int32Array(this.cur!.buffer, at, n);
  }

  zeros(n: number): Uint8Array {
    const at = this.take(n);
    return new Uint8Array(this.cur!.buffer, at, n).fill(0);
  }

  bytes(n: number): Buffer {
    const at = this.take(n);
    return Buffer.from(this.cur!.buffer, at, n);
  }

  /** Bytes of the blocks this arena holds. */
  get heldBytes(): number {
    let n = 0;
    for (const b of this.held) n += b.length;
    return n;
  }

  /** Gives every block back to the pool; the arena can be used again afterwards. */
  release(): void {
    for (const b of this.held) blocks.release(b);
    this.held = [];
    this.cur = null;
    this.used = 0;
  }
}
