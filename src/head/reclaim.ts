// Gives memory the heads no longer need back to the operating system, at the moments the server
// knows a lot of it just died:
// - Flushed heads leave their blocks (SharedArrayBuffers in glibc's heap) to V8's next full
//   collection, which may not come for minutes while the JS heap itself is small: RSS stayed
//   ~70 MiB higher through the bench's queries. After every 16 MiB of chunks written, one full
//   collection at most every 2 s gives them back. While queries run (and with the addon) it is
//   incremental: V8 marks on helper threads and in small steps, then pauses once to finish (half
//   as many pauses over 20 ms in the soak). Otherwise gc() pauses for the whole collection
//   (~20-35 ms), which costs less CPU.
// - The garbage of an ingest burst: once pushes stop for 250 ms after 64 MiB or more came in,
//   one collection.
// - The pools of block memory (slabs, open blocks' line buffers: up to ~37 MiB) and of push
//   bodies and WAL records (a few MiB) serve ingest only: once 250 ms pass without a push they
//   are emptied, 16 MiB per look (queries right after a burst would otherwise run on top of
//   them). With the addon their pages go back to the OS as they are dropped (madvise, 3-8 ms per
//   16 MiB here) and V8 unmaps the empty mappings whenever it collects. Without it only a
//   collection frees them: each 16 MiB step is then followed by its own forced collection 0.5 s
//   after the last (one collection freeing all ~45 MiB, unmapping each slab while the scans of
//   the first query after the burst ran, paused the event loop 45-64 ms). The bench's
//   collections after the steps took 25-35 ms each, during the first queries: with the addon
//   there are none.
// - Block memory dies outside the JS heap, so V8 may not collect it for a long time when little
//   JS garbage is made (a steady trickle of pushes): after 24 MiB of ArrayBuffer growth since
//   the last forced collection, one more.
// - Blocks, chunk files and query buffers of a few hundred KiB come and go all the time; glibc
//   keeps freed pages inside its arenas unless asked. Handing them back every 5 s (malloc_trim,
//   on a thread-pool thread) keeps RSS flat under sustained load. The trim holds each arena's
//   lock while it walks it, so any malloc on the event loop waits for the main arena's share:
//   after a burst that is 45-120 ms (30+ MiB handed back, slower when scans keep both cores
//   busy). So a trim that falls due while queries run waits until none has run for 1 s, or at
//   most 30 s under a steady query load.
import { canReleasePages, mallocTrimAsync, startIncrementalGc } from '../native/index.js';
import { majorGc } from '../util/gc.js';
import { slabPool } from '../chunk/block-slab.js';
import { drainLinePool } from '../chunk/open-block.js';
import { drainCutStages } from '../chunk/block-cut.js';
import { drainBufferPools } from '../util/buffer-pool.js';

/** Chunk bytes flushed (heads freed) between two forced full GCs. */
const GC_AFTER_FLUSHED_BYTES = 16 * 1024 * 1024;
const GC_MIN_INTERVAL_MS = 2000;
/**
 * Growth of the main thread's ArrayBuffer memory (process.memoryUsage().arrayBuffers: heads' block
 * buffers and slabs included) since the last forced GC that asks for another. Dead block memory
 * is only freed by a full collection, and since pushes make almost no JS garbage any more, V8's
 * own collections are rare under a steady trickle of pushes.
 */
const GC_AFTER_ARRAY_BUFFER_GROWTH = 24 * 1024 * 1024;
/** The collection after the pools were emptied waits only this long after the previous one. */
const GC_AFTER_DRAIN_GAP_MS = 500;
/** Pool memory let go per step (then one collection frees it); ... */
const DRAIN_STEP_BYTES = 16 * 1024 * 1024;
/** ... and at least this much let go since the last collection asks for one. */
const GC_AFTER_DRAINED_BYTES = 8 * 1024 * 1024;
/** Line bytes ingested in a burst before the quiet after it gets a full GC. */
const GC_AFTER_INGESTED_BYTES = 64 * 1024 * 1024;
/**
 * After an incremental collection was asked for, the looks that follow it for this long (2 s)
 * take the lowest ArrayBuffer figure as what was live after it (it ends some time after the ask).
 */
const BASELINE_TICKS = 8;
/**
 * A collection is incremental only while queries run or ran this recently (ms): it pauses the
 * event loop less, but costs more CPU in all (a memory-reducing collection compacts more, and
 * marking slows the code that runs meanwhile: +0.3-0.5 CPU-s per 0.5 GiB in each of four bench
 * ingest pairs). With no query to answer, the cheaper forced one.
 */
const INCREMENTAL_GC_QUERY_QUIET_MS = 5000;
/** How often the reclaimer looks (is ingest quiet?); glibc is asked to trim every TRIM_TICKS looks. */
const TICK_MS = 250;
const TRIM_TICKS = 20;
/** A trim that is due waits for this long without queries ... */
const TRIM_QUERY_QUIET_MS = 1000;
/** ... but not for more than this many looks (30 s). */
const TRIM_MAX_DEFER_TICKS = 120;

/** What the reclaimer watches: the ingester's running totals. */
export interface IngestTotals {
  chunkBytesFlushed: number;
  bytesIngested: number;
  /** pushes under way (held back by the head cap, or waiting for their WAL write): not quiet */
  pushesInFlight: number;
}

/** What it reports (the server's /metrics counters). */
export interface ReclaimMetrics {
  /** full collections asked for, incremental or at once */
  forcedGcs: number;
  /** of them, those asked for incrementally (they pause later, in steps, not in forcedGcSeconds) */
  incrementalGcs: number;
  /** main-thread time of those forced at once */
  forcedGcSeconds: number;
  mallocTrimSeconds: number;
}

/** What the reclaimer asks of the rest of the server (tests pass their own). */
export interface ReclaimHooks {
  /** the main thread's ArrayBuffer bytes (default: process.memoryUsage's) */
  arrayBuffers?: () => number;
  /** milliseconds since the last query ended, 0 while one runs (default: never a query); trims wait for quiet, and collections are incremental while it is short */
  queryQuietMs?: () => number;
  /** hands free C heap pages back to the OS, off the event loop (default: malloc_trim) */
  trim?: () => Promise<boolean>;
  /** whether pools hand their pages back as they are drained (default: with the addon) */
  releasesPages?: boolean;
  /**
   * asks for an incremental major collection and returns at once; false where it cannot (then
   * the reclaimer forces one: default, the addon's moderate memory-pressure notification)
   */
  incrementalGc?: () => boolean;
}

export class Reclaimer {
  private gcAtFlushed = 0;
  private gcAtIngested = 0;
  private gcAt = 0;
  private gcQueued = false;
  private ingestedAtLastTick = 0;
  /** arrayBuffers right after the last forced GC (what was live then) */
  private arrayBuffersAfterGc = 0;
  /** pool bytes let go since the last forced GC */
  private drainedSinceGc = 0;
  private ticks = 0;
  /** looks left that still lower arrayBuffersAfterGc (after an incremental collection was asked) */
  private baselineTicks = 0;
  /** the tick at which the owed trim fell due (-1: none owed) */
  private trimDueAt = -1;
  /** when the last trim started and ended (performance.now(); start -1: none yet; end -1 while one runs) */
  private readonly lastTrim = { startMs: -1, endMs: -1 };
  private timer: NodeJS.Timeout | null = null;

  private readonly arrayBuffers: () => number;
  private readonly queryQuietMs: () => number;
  private readonly trim: () => Promise<boolean>;
  private readonly releasesPages: boolean;
  private readonly incrementalGc: () => boolean;

  constructor(
    private readonly totals: () => IngestTotals,
    private readonly metrics: ReclaimMetrics,
    hooks: ReclaimHooks = {},
  ) {
    this.arrayBuffers = hooks.arrayBuffers ?? (() => process.memoryUsage().arrayBuffers);
    this.queryQuietMs = hooks.queryQuietMs ?? (() => Infinity);
    this.trim = hooks.trim ?? mallocTrimAsync;
    this.releasesPages = hooks.releasesPages ?? canReleasePages();
    this.incrementalGc = hooks.incrementalGc ?? startIncrementalGc;
  }

  /** Starts the periodic trim (and burst check). */
  start(): void {
    this.arrayBuffersAfterGc = this.arrayBuffers();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The ingester's flush hook: a full GC once enough chunk bytes were flushed since the last. */
  afterFlush(): void {
    if (this.totals().chunkBytesFlushed - this.gcAtFlushed >= GC_AFTER_FLUSHED_BYTES) this.queueGc();
  }

  /** One full GC as soon as `gapMs` have passed since the last (once, however often asked). */
  private queueGc(gapMs = GC_MIN_INTERVAL_MS): void {
    if (this.gcQueued) return;
    this.gcQueued = true;
    setTimeout(() => this.runGc(), Math.max(0, this.gcAt + gapMs - performance.now())).unref();
  }

  private runGc(): void {
    this.gcQueued = false;
    const t = this.totals();
    this.gcAtFlushed = t.chunkBytesFlushed;
    this.gcAtIngested = t.bytesIngested;
    this.gcAt = performance.now();
    this.drainedSinceGc = 0;
    if (this.queryQuietMs() < INCREMENTAL_GC_QUERY_QUIET_MS && this.incrementalGc()) {
      // marking runs from now on, in steps and on helper threads; the memory goes when it ends
      this.metrics.forcedGcs++;
      this.metrics.incrementalGcs++;
      this.arrayBuffersAfterGc = this.arrayBuffers();
      this.baselineTicks = BASELINE_TICKS;
      return;
    }
    const ms = majorGc();
    this.arrayBuffersAfterGc = this.arrayBuffers();
    if (ms !== null) {
      this.metrics.forcedGcs++;
      this.metrics.forcedGcSeconds += ms / 1000;
    }
  }

  private tick(): void {
    const t = this.totals();
    const now = t.bytesIngested;
    const quiet = now === this.ingestedAtLastTick && t.pushesInFlight === 0;
    this.ingestedAtLastTick = now;
    if (this.baselineTicks > 0) {
      this.baselineTicks--;
      this.arrayBuffersAfterGc = Math.min(this.arrayBuffersAfterGc, this.arrayBuffers());
    }
    if (quiet && !this.gcQueued) {
      let n = slabPool.drain(DRAIN_STEP_BYTES);
      if (n < DRAIN_STEP_BYTES) n += drainLinePool(DRAIN_STEP_BYTES - n);
      if (n < DRAIN_STEP_BYTES) n += drainCutStages(DRAIN_STEP_BYTES - n);
      if (n < DRAIN_STEP_BYTES) n += drainBufferPools(DRAIN_STEP_BYTES - n);
      // without page release what the pools let go is freed by the next full GC: ask for one
      // when that is a lot (soon: ingest has stopped, and a query may be starting on top of it)
      if (!this.releasesPages) {
        this.drainedSinceGc += n;
        if (this.drainedSinceGc >= GC_AFTER_DRAINED_BYTES) this.queueGc(GC_AFTER_DRAIN_GAP_MS);
      }
    }
    if (this.arrayBuffers() - this.arrayBuffersAfterGc >= GC_AFTER_ARRAY_BUFFER_GROWTH) this.queueGc();
    if (quiet && !this.gcQueued && now - this.gcAtIngested >= GC_AFTER_INGESTED_BYTES && performance.now() - this.gcAt >= GC_MIN_INTERVAL_MS) this.runGc();
    if (++this.ticks % TRIM_TICKS === 0 && this.trimDueAt < 0) this.trimDueAt = this.ticks;
    if (this.trimDueAt < 0 || this.trimRunning) return;
    if (this.queryQuietMs() < TRIM_QUERY_QUIET_MS && this.ticks - this.trimDueAt < TRIM_MAX_DEFER_TICKS) return;
    this.trimDueAt = -1;
    const t0 = performance.now();
    this.lastTrim.startMs = t0;
    this.lastTrim.endMs = -1;
    void this.trim()
      .catch(() => false)
      .finally(() => {
        this.lastTrim.endMs = performance.now();
        this.metrics.mallocTrimSeconds += (this.lastTrim.endMs - t0) / 1000;
      });
  }

  private get trimRunning(): boolean {
    return this.lastTrim.startMs >= 0 && this.lastTrim.endMs < 0;
  }

  /** Did a trim run at some time between fromMs and toMs (performance.now())? For the stall log. */
  trimDuring(fromMs: number, toMs: number): boolean {
    const t = this.lastTrim;
    return t.startMs >= 0 && t.startMs <= toMs && (t.endMs < 0 || t.endMs >= fromMs);
  }
}
