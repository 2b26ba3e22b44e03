// The reclaimer asks for a full GC (incremental while queries run, else forced at once) after every
// 16 MiB of chunks flushed (at most one per 2 s), and once pushes pause (none under way, none
// arrived for 250 ms) after a burst of 64 MiB or more; such a pause also empties the memory pools,
// 16 MiB per look (per collection where the pages cannot be handed back at once). Driven here with
// fake timers and made-up ingest totals; the GC itself is real (counted in the metrics). The trim
// is tested with the native kernels.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Reclaimer, type IngestTotals, type ReclaimHooks } from '../../src/head/reclaim.js';
import { BlockSlab, SLAB_BYTES, slabPool } from '../../src/chunk/block-slab.js';
import { OpenBlock, pooledLineBuffers } from '../../src/chunk/open-block.js';
import { pooledStages } from '../../src/chunk/block-cut.js';
import { readLeases } from '../../src/chunk/read-leases.js';
import { canCutAsync } from '../../src/native/index.js';
import { BufferPool } from '../../src/util/buffer-pool.js';

const MiB = 1024 * 1024;

afterEach(() => {
  vi.useRealTimers();
});

function setup(hooks: ReclaimHooks = {}) {
  const totals: IngestTotals = { chunkBytesFlushed: 0, bytesIngested: 0, pushesInFlight: 0 };
  const metrics = { forcedGcs: 0, incrementalGcs: 0, forcedGcSeconds: 0, mallocTrimSeconds: 0 };
  const ab = { bytes: 100 * MiB };
  const r = new Reclaimer(() => totals, metrics, { arrayBuffers: () => ab.bytes, ...hooks });
  return { totals, metrics, r, ab };
}

describe('reclaimer', () => {
  it('collects after 16 MiB of flushed chunks, at most once per 2 s', async () => {
    vi.useFakeTimers();
    const { totals, metrics, r } = setup();
    totals.chunkBytesFlushed = 10 * MiB;
    r.afterFlush();
    await vi.advanceTimersByTimeAsync(3000);
    expect(metrics.forcedGcs).toBe(0);
    totals.chunkBytesFlushed = 17 * MiB;
    r.afterFlush();
    await vi.advanceTimersByTimeAsync(10);
    expect(metrics.forcedGcs).toBe(1);
    // another 16 MiB right away: queued until 2 s after the last collection, and only once
    totals.chunkBytesFlushed = 40 * MiB;
    r.afterFlush();
    r.afterFlush();
    await vi.advanceTimersByTimeAsync(1000);
    expect(metrics.forcedGcs).toBe(1);
    await vi.advanceTimersByTimeAsync(1100);
    expect(metrics.forcedGcs).toBe(2);
  });

  it('collects once when pushes pause after a 64 MiB burst', async () => {
    vi.useFakeTimers();
    const { totals, metrics, r } = setup();
    r.start();
    try {
      await vi.advanceTimersByTimeAsync(2000); // (the first collection may come 2 s after start)
      totals.bytesIngested = 30 * MiB;
      await vi.advanceTimersByTimeAsync(1000);
      totals.bytesIngested = 70 * MiB;
      totals.pushesInFlight = 1; // a push still under way (e.g. waiting for its fsync): not quiet
      await vi.advanceTimersByTimeAsync(1000);
      expect(metrics.forcedGcs).toBe(0);
      totals.pushesInFlight = 0;
      await vi.advanceTimersByTimeAsync(300); // 250 ms without pushes after 70 MiB
      expect(metrics.forcedGcs).toBe(1);
      await vi.advanceTimersByTimeAsync(15000); // nothing new came in
      expect(metrics.forcedGcs).toBe(1);
      totals.bytesIngested = 100 * MiB; // a small burst (30 MiB) is not enough
      await vi.advanceTimersByTimeAsync(10000);
      expect(metrics.forcedGcs).toBe(1);
    } finally {
      r.stop();
    }
  });

  it('empties the block memory pools once pushes pause, not while they come or wait (no page release: collections free them)', async () => {
    vi.useFakeTimers();
    const { totals, metrics, r } = setup({ releasesPages: false });
    const bodies = new BufferPool(4);
    const fillPools = (): void => {
      bodies.release(bodies.acquire(3 * MiB));
      for (let i = 0; i < 17; i++) slabPool.release(new BlockSlab(SLAB_BYTES));
      const b = new OpenBlock(256 * 1024, { meta: 64, lines: 256 * 1024, sm: 32 });
      b.append(1n, 'x', []);
      b.cut();
      b.recycle();
    };
    // a block cut off the event loop (while a query reads) leaves its stage in the pool
    const lease = readLeases.open();
    const cut = new OpenBlock(4096).startCut((n) => new BlockSlab(Math.max(n, SLAB_BYTES)));
    readLeases.close(lease);
    await cut?.done;
    expect(pooledStages() > 0).toBe(canCutAsync);
    r.start();
    try {
      await vi.advanceTimersByTimeAsync(2000);
      fillPools();
      totals.bytesIngested = 1 * MiB;
      await vi.advanceTimersByTimeAsync(250); // pushes came in during this tick
      totals.pushesInFlight = 2; // and more are under way
      await vi.advanceTimersByTimeAsync(1000);
      expect(slabPool.size).toBeGreaterThan(0);
      expect(pooledLineBuffers()).toBeGreaterThan(0);
      expect(bodies.freeBytes).toBe(4 * MiB);
      expect(metrics.forcedGcs).toBe(0);
      totals.pushesInFlight = 0;
      await vi.advanceTimersByTimeAsync(250); // quiet: 16 MiB go at once, and a collection frees them
      expect(slabPool.size).toBe(1);
      await vi.advanceTimersByTimeAsync(600); // the rest (~5 MiB) after that collection
      expect(slabPool.size).toBe(0);
      expect(pooledLineBuffers()).toBe(0);
      expect(pooledStages()).toBe(0);
      expect(bodies.freeBytes).toBe(0);
      expect(metrics.forcedGcs).toBe(1);
      await vi.advanceTimersByTimeAsync(2000);
      expect(metrics.forcedGcs).toBe(1); // under 8 MiB: left to V8
    } finally {
      r.stop();
    }
  });

  it('collects once ArrayBuffer memory grew 24 MiB since the last forced collection, pushes or not', async () => {
    vi.useFakeTimers();
    const { totals, metrics, r, ab } = setup();
    r.start();
    try {
      await vi.advanceTimersByTimeAsync(2500);
      totals.pushesInFlight = 1; // a steady trickle of pushes: never quiet
      for (let i = 1; i <= 5; i++) {
        totals.bytesIngested = i * MiB;
        ab.bytes = 100 * MiB + i * 4 * MiB; // up to +20 MiB: dead blocks V8 has not collected
        await vi.advanceTimersByTimeAsync(250);
      }
      expect(metrics.forcedGcs).toBe(0);
      ab.bytes = 125 * MiB; // +25 MiB
      await vi.advanceTimersByTimeAsync(2500); // (at most 2 s after the previous forced collection)
      expect(metrics.forcedGcs).toBe(1);
      // (the fake figure stays at 125 MiB: what was live after that collection is the new base)
      await vi.advanceTimersByTimeAsync(5000);
      expect(metrics.forcedGcs).toBe(1);
      ab.bytes = 150 * MiB;
      await vi.advanceTimersByTimeAsync(2500);
      expect(metrics.forcedGcs).toBe(2);
    } finally {
      r.stop();
    }
  });

  it('while queries run, asks for an incremental collection, and takes the low point of the next 2 s as what stayed live', async () => {
    vi.useFakeTimers();
    let asked = 0;
    const { totals, metrics, r, ab } = setup({ queryQuietMs: () => 0, incrementalGc: () => { asked++; return true; } });
    r.start();
    try {
      await vi.advanceTimersByTimeAsync(2500);
      totals.pushesInFlight = 1;
      ab.bytes = 125 * MiB;
      await vi.advanceTimersByTimeAsync(500);
      expect(asked).toBe(1);
      expect(metrics.forcedGcs).toBe(1);
      expect(metrics.forcedGcSeconds).toBe(0); // nothing forced: no pause of its own
      // the collection ends during the next looks and frees 20 MiB: 105 MiB stayed live
      ab.bytes = 105 * MiB;
      await vi.advanceTimersByTimeAsync(500);
      ab.bytes = 128 * MiB; // +23 MiB over what stayed live: not yet
      await vi.advanceTimersByTimeAsync(5000);
      expect(asked).toBe(1);
      ab.bytes = 130 * MiB; // +25 MiB (only +5 over the figure when it was asked for)
      await vi.advanceTimersByTimeAsync(2500);
      expect(asked).toBe(2);
    } finally {
      r.stop();
    }
  });

  it('forces the collection at once with no query for 5 s, or where an incremental one cannot be asked for', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] }); // a real clock times the pause
    const quiet = { ms: 5000 };
    let asked = 0;
    let can = true;
    const { totals, metrics, r } = setup({ queryQuietMs: () => quiet.ms, incrementalGc: () => { asked++; return can; } });
    /** flushes another 17 MiB and waits for the collection it asks for */
    const flush17 = async (): Promise<void> => {
      totals.chunkBytesFlushed += 17 * MiB;
      r.afterFlush();
      await vi.advanceTimersByTimeAsync(2010);
    };
    await flush17();
    expect(metrics.forcedGcs).toBe(1);
    expect(metrics.incrementalGcs).toBe(0);
    expect(asked).toBe(0); // the last query ended 5 s ago: forced
    const forcedS = metrics.forcedGcSeconds;
    expect(forcedS).toBeGreaterThan(0); // the pause of a real gc()
    quiet.ms = 4900; // a query ended 4.9 s ago: incremental
    await flush17();
    expect(metrics.forcedGcs).toBe(2);
    expect(metrics.incrementalGcs).toBe(1);
    expect(asked).toBe(1);
    expect(metrics.forcedGcSeconds).toBe(forcedS);
    can = false; // no addon: forced after all
    await flush17();
    expect(metrics.forcedGcs).toBe(3);
    expect(metrics.incrementalGcs).toBe(1); // asked, refused, forced
    expect(asked).toBe(2);
    expect(metrics.forcedGcSeconds).toBeGreaterThan(forcedS);
  });

  it('says whether a trim ran during a span, and starts no trim while one runs', async () => {
    vi.useFakeTimers();
    let trims = 0;
    let finish: (v: boolean) => void = () => {};
    const { r } = setup({
      trim: () => {
        trims++;
        return new Promise<boolean>((res) => (finish = res));
      },
    });
    r.start();
    try {
      const before = performance.now();
      expect(r.trimDuring(0, before)).toBe(false); // none yet
      await vi.advanceTimersByTimeAsync(5100);
      expect(trims).toBe(1);
      const started = performance.now();
      expect(r.trimDuring(started - 1, started)).toBe(true); // running now
      await vi.advanceTimersByTimeAsync(6000); // a second one falls due meanwhile: not started
      expect(trims).toBe(1);
      finish(true);
      await vi.advanceTimersByTimeAsync(0);
      const ended = performance.now();
      expect(r.trimDuring(started - 1000, ended)).toBe(true);
      expect(r.trimDuring(before - 100, before)).toBe(false); // the span before it started
      expect(r.trimDuring(ended + 1, ended + 100)).toBe(false); // after it ended
    } finally {
      r.stop();
    }
  });

  it('trims every 5 s, but waits while queries run until 1 s without one, at most 30 s', async () => {
    vi.useFakeTimers();
    const q = { quiet: Infinity };
    let trims = 0;
    const { r } = setup({
      queryQuietMs: () => q.quiet,
      trim: async () => {
        trims++;
        return true;
      },
    });
    r.start();
    try {
      await vi.advanceTimersByTimeAsync(4900);
      expect(trims).toBe(0);
      await vi.advanceTimersByTimeAsync(200);
      expect(trims).toBe(1); // no queries: on time
      q.quiet = 0; // a query runs from here on
      await vi.advanceTimersByTimeAsync(7000);
      expect(trims).toBe(1);
      q.quiet = 900; // the last one ended 0.9 s ago: still waiting
      await vi.advanceTimersByTimeAsync(500);
      expect(trims).toBe(1);
      q.quiet = 1000;
      await vi.advanceTimersByTimeAsync(250);
      expect(trims).toBe(2); // the owed trim, once
      await vi.advanceTimersByTimeAsync(1000);
      expect(trims).toBe(2);
      // a steady query load: the trim due at 15 s waits 30 s, not longer
      q.quiet = 0;
      await vi.advanceTimersByTimeAsync(44_900 - 13_850);
      expect(trims).toBe(2);
      await vi.advanceTimersByTimeAsync(200);
      expect(trims).toBe(3);
    } finally {
      r.stop();
    }
  });

  it('lets pooled memory go 16 MiB at a time, one collection each, 0.5 s apart (no page release)', async () => {
    vi.useFakeTimers();
    const { metrics, r } = setup({ releasesPages: false });
    const gcTimes: number[] = [];
    r.start();
    try {
      await vi.advanceTimersByTimeAsync(2000);
      for (let i = 0; i < 24; i++) slabPool.release(new BlockSlab(SLAB_BYTES)); // the pool's most
      expect(slabPool.size).toBe(24);
      for (let t = 0; t < 3000; t += 50) {
        const before = metrics.forcedGcs;
        await vi.advanceTimersByTimeAsync(50);
        if (metrics.forcedGcs > before) gcTimes.push(t);
        // never more than one step out of the pool ahead of its collection
        expect(24 - slabPool.size).toBeLessThanOrEqual(16 * (metrics.forcedGcs + 1));
      }
      expect(slabPool.size).toBe(0);
      expect(metrics.forcedGcs).toBe(2);
      expect(gcTimes[1]! - gcTimes[0]!).toBeGreaterThanOrEqual(450);
    } finally {
      r.stop();
    }
  });

  it('with page release, lets pooled memory go 16 MiB per look and forces no collection for it', async () => {
    vi.useFakeTimers();
    const { totals, metrics, r } = setup({ releasesPages: true });
    r.start();
    try {
      await vi.advanceTimersByTimeAsync(2000);
      totals.pushesInFlight = 1;
      for (let i = 0; i < 40; i++) slabPool.release(new BlockSlab(SLAB_BYTES));
      const pooled = slabPool.size;
      expect(pooled).toBe(24); // the pool's maximum
      await vi.advanceTimersByTimeAsync(1000);
      expect(slabPool.size).toBe(pooled); // pushes under way: kept
      totals.pushesInFlight = 0;
      const sizes: number[] = [];
      for (let t = 0; t < 4; t++) {
        await vi.advanceTimersByTimeAsync(250);
        sizes.push(slabPool.size);
      }
      expect(sizes).toEqual([8, 0, 0, 0]);
      expect(metrics.forcedGcs).toBe(0);
    } finally {
      r.stop();
    }
  });
});
