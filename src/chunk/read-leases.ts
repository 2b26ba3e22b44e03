// Which in-memory head bytes a query may still be reading. A query opens a lease before it takes
// head snapshots (zero-copy views of open blocks' buffers and of block slabs) and closes it once
// every scan that read them has ended in its worker. Memory a snapshot exposed is written again
// only after every lease that could have seen it is closed; until then the head writes its next
// blocks elsewhere, and the memory waits here to go back to its pool.
//
// Before, exposed memory was never reused. A dashboard's rate query over every stream every few
// seconds exposes every stream's open block, so every block of every stream went to fresh
// memory, whose page faults (some 12 µs per 4 KiB on the bench VM) cost the event loop more than
// copying the lines in did.
//
// Memory exposed without a lease (exposedAt NEVER) is never written again, as before.

/** exposedAt of memory seen without a lease: never reused. */
export const NEVER = Infinity;
/** exposedAt of memory no snapshot has seen. */
export const UNSEEN = 0;

interface Retired {
  exposedAt: number;
  bytes: number;
  free: () => void;
}

/**
 * Bytes of retired memory waiting for leases at most; beyond that the oldest is left to the GC.
 * Queries take milliseconds to a few seconds, and the pools it goes back to hold less than this
 * (48 line buffers, 24 slabs), but one long query must not make the head hold everything
 * retired meanwhile.
 */
export const MAX_WAITING_BYTES = 32 * 1024 * 1024;

export class ReadLeases {
  private last = 0;
  /** open leases, oldest first (queries end roughly in the order they began) */
  private readonly openSeqs: number[] = [];
  private waiting: Retired[] = [];
  private waitingBytes = 0;

  /** Opens a lease: snapshots taken under it expose memory at this sequence number. */
  open(): number {
    const seq = ++this.last;
    this.openSeqs.push(seq);
    return seq;
  }

  /** Closes a lease (once; closing it again does nothing) and frees what waited only for it. */
  close(seq: number): void {
    const i = this.openSeqs.indexOf(seq);
    if (i < 0) return;
    this.openSeqs.splice(i, 1);
    if (i === 0 && this.waiting.length > 0) this.drain();
  }

  /** Leases open now. */
  get openCount(): number {
    return this.openSeqs.length;
  }

  /** Retired pieces of memory waiting for leases to close. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Their bytes. */
  get waitingSize(): number {
    return this.waitingBytes;
  }

  /** Can memory last exposed at `exposedAt` be written again now? */
  reusable(exposedAt: number): boolean {
    return exposedAt === UNSEEN || (exposedAt !== NEVER && (this.openSeqs.length === 0 || exposedAt < this.openSeqs[0]!));
  }

  /**
   * Memory (`bytes` of it) that left the head: `free` hands it back to its pool now if no open
   * lease can be reading it, else once they have all closed. Memory exposed without a lease is
   * dropped.
   */
  retire(exposedAt: number, bytes: number, free: () => void): void {
    if (exposedAt === NEVER) return;
    if (this.reusable(exposedAt)) {
      free();
      return;
    }
    this.waiting.push({ exposedAt, bytes, free });
    this.waitingBytes += bytes;
    while (this.waitingBytes > MAX_WAITING_BYTES) this.waitingBytes -= this.waiting.shift()!.bytes;
  }

  private drain(): void {
    const keep: Retired[] = [];
    const ready: Retired[] = [];
    for (const r of this.waiting) (this.reusable(r.exposedAt) ? ready : keep).push(r);
    this.waiting = keep;
    for (const r of ready) {
      this.waitingBytes -= r.bytes;
      r.free();
    }
  }
}

/** The leases every head and query of this process share. */
export const readLeases = new ReadLeases();
