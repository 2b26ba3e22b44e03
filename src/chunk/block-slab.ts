// Memory for a stream's closed (compressed) head blocks: blocks are compressed straight into one
// large SharedArrayBuffer per stream, one after another, instead of each into its own buffer of
// ~50-100 KiB. Buffers that size come from glibc's heap arenas, where blocks freed by a flush
// leave holes that long-lived neighbours pin (the bench kept ~75 MiB of arena after every head
// was flushed); a slab is above the mmap threshold, so it is its own mapping, resident only as
// far as it was written, and returned whole to the OS once its stream's blocks are flushed and
// collected. Slabs are written append-only: bytes a query or a flush holds never change.
//
// A fresh mapping costs a page fault per 4 KiB written (~12 µs each on the bench VM, about
// 0.7 CPU-s per GiB ingested for the slabs alone), so a slab whose blocks were written to a chunk
// file and that no query snapshot ever saw goes back to a pool (SlabPool, up to 24 MiB) and
// the next head writes its blocks there instead of into new memory.
import { drainPooled } from '../util/buffer-pool.js';
import { readLeases, UNSEEN } from './read-leases.js';

export const SLAB_BYTES = 1 << 20;

export class BlockSlab {
  readonly bytes: Uint8Array;
  used = 0;
  /**
   * The newest read lease a snapshot of this slab's blocks was handed to (read-leases.ts): the
   * slab is written again only once no lease up to it is open (NEVER: a snapshot without one).
   */
  exposedAt = UNSEEN;
  constructor(size: number) {
    this.bytes = new Uint8Array(new SharedArrayBuffer(size));
  }
  room(): number {
    return this.bytes.length - this.used;
  }
}

/** Slabs nobody reads any more, ready to be written again (at most `max` of SLAB_BYTES kept). */
export class SlabPool {
  private readonly free: BlockSlab[] = [];
  constructor(private readonly max: number) {}

  /** A slab with at least `bound` bytes of room: a pooled one when it is big enough, else new. */
  acquire(bound: number): BlockSlab {
    if (bound <= SLAB_BYTES) {
      const s = this.free.pop();
      if (s !== undefined) return s;
    }
    return new BlockSlab(Math.max(SLAB_BYTES, bound));
  }

  /**
   * Takes back a slab whose blocks are all written to a chunk file and dropped from the head,
   * once no query can still be reading them (read-leases.ts). One a snapshot without a lease
   * exposed, or an odd-sized one, is left to the GC.
   */
  release(s: BlockSlab): void {
    if (s.bytes.length !== SLAB_BYTES) return;
    readLeases.retire(s.exposedAt, SLAB_BYTES, () => {
      if (this.free.length >= this.max || this.free.includes(s)) return;
      s.used = 0;
      s.exposedAt = UNSEEN;
      this.free.push(s);
    });
  }

  get size(): number {
    return this.free.length;
  }

  /**
   * Lets pooled slabs go when ingest has gone quiet, until `maxBytes` went (all by default):
   * their pages go back to the OS at once (with the addon), the mappings to the next GC; returns
   * their bytes.
   */
  drain(maxBytes = Infinity): number {
    return drainPooled(this.free, maxBytes, (s) => s.bytes);
  }
}

/**
 * The pool every stream head shares (24 MiB at most): a flush under the head cap frees dozens of
 * heads' slabs at once, and the same streams need as many again moments later.
 */
export const slabPool = new SlabPool(24);
