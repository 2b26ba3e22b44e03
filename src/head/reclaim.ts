// Gives memory the heads no longer need back to the operating system, at the moments the server
// knows a lot of it just died:
// - Flushed heads leave their blocks (SharedArrayBuffers in glibc's heap) to V8's next full
//   collection, which may not come for minutes while the JS heap itself is small: RSS stayed
//   ~70 MiB higher through the bench's queries. After every 16 MiB of chunks written, one full
//   collection (a ~25-35 ms pause at 0.5 GiB) at most every 2 s gives them back.
// - The garbage of an ingest burst (entries promoted while their push waited for fsync): once
//   pushes stop for a trim period after 64 MiB or more came in, one collection.
// - The pools of block memory (slabs, open blocks' line buffers: up to ~40 MiB) serve ingest
//   only: once pushes stop for a trim period they are emptied, for that collection to free.
// - Blocks, chunk files and query buffers of a few hundred KiB come and go all the time; glibc
//   keeps freed pages inside its arenas unless asked. Handing them back every 5 s (malloc_trim,
//   on a thread-pool thread, off the event loop) keeps RSS flat under sustained load.
import { mallocTrimAsync } from '../native/index.js';
import { majorGc } from '../util/gc.js';
import { slabPool } from '../chunk/block-slab.js';
import { drainLinePool } from '../chunk/open-block.js';

/** Chunk bytes flushed (heads freed) between two forced full GCs. */
const GC_AFTER_FLUSHED_BYTES = 16 * 1024 * 1024;
const GC_MIN_INTERVAL_MS = 2000;
/** Line bytes ingested in a burst before the quiet after it gets a full GC. */
const GC_AFTER_INGESTED_BYTES = 64 * 1024 * 1024;
const TRIM_PERIOD_MS = 5_000;

/** What the reclaimer watches: the ingester's running totals. */
export interface IngestTotals {
  chunkBytesFlushed: number;
  bytesIngested: number;
}

/** What it reports (the server's /metrics counters). */
export interface ReclaimMetrics {
  forcedGcs: number;
  forcedGcSeconds: number;
  mallocTrimSeconds: number;
}

export class Reclaimer {
  private gcAtFlushed = 0;
  private gcAtIngested = 0;
  private gcAt = 0;
  private gcQueued = false;
  private ingestedAtLastTick = 0;
  private trimming = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly totals: () => IngestTotals, private readonly metrics: ReclaimMetrics) {}

  /** Starts the periodic trim (and burst check). */
  start(): void {
    this.timer = setInterval(() => this.tick(), TRIM_PERIOD_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The ingester's flush hook: a full GC once enough chunk bytes were flushed since the last. */
  afterFlush(): void {
    if (this.gcQueued || this.totals().chunkBytesFlushed - this.gcAtFlushed < GC_AFTER_FLUSHED_BYTES) return;
    this.gcQueued = true;
    setTimeout(() => this.runGc(), Math.max(0, this.gcAt + GC_MIN_INTERVAL_MS - performance.now())).unref();
  }

  private runGc(): void {
    this.gcQueued = false;
    const t = this.totals();
    this.gcAtFlushed = t.chunkBytesFlushed;
    this.gcAtIngested = t.bytesIngested;
    this.gcAt = performance.now();
    const ms = majorGc();
    if (ms !== null) {
      this.metrics.forcedGcs++;
      this.metrics.forcedGcSeconds += ms / 1000;
    }
  }

  private tick(): void {
    const now = this.totals().bytesIngested;
    const quiet = now === this.ingestedAtLastTick;
    this.ingestedAtLastTick = now;
    if (quiet) {
      slabPool.drain();
      drainLinePool();
    }
    if (quiet && !this.gcQueued && now - this.gcAtIngested >= GC_AFTER_INGESTED_BYTES && performance.now() - this.gcAt >= GC_MIN_INTERVAL_MS) this.runGc();
    if (this.trimming) return;
    this.trimming = true;
    const t0 = performance.now();
    void mallocTrimAsync()
      .catch(() => false)
      .finally(() => {
        this.trimming = false;
        this.metrics.mallocTrimSeconds += (performance.now() - t0) / 1000;
      });
  }
}
