// Memory for a stream's closed (compressed) head blocks: blocks are compressed straight into one
// large SharedArrayBuffer per stream, one after another, instead of each into its own buffer of
// ~50-100 KiB. Buffers that size come from glibc's heap arenas, where blocks freed by a flush
// leave holes that long-lived neighbours pin (the bench kept ~75 MiB of arena after every head
// was flushed); a slab is above the mmap threshold, so it is its own mapping, resident only as
// far as it was written, and returned whole to the OS once its stream's blocks are flushed and
// collected. Slabs are written append-only: bytes a query or a flush holds never change.
export const SLAB_BYTES = 1 << 20;

export class BlockSlab {
  readonly bytes: Uint8Array;
  used = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(new SharedArrayBuffer(size));
  }
  room(): number {
    return this.bytes.length - this.used;
  }
}
