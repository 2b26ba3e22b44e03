// The addon's memory calls: page-aligned buffers for O_DIRECT, handing a pooled buffer's pages
// back to the OS, and asking V8 for an incremental full collection. Without the addon
// (BRAMBLE_NATIVE=0) each reports that it did nothing.
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { alignedBuffer, nativeKernels, releasePages, startIncrementalGc } from '../../src/native/index.js';

describe('native memory calls', () => {
  it('alignedBuffer gives zeroed memory of the size asked (null without the addon or for a bad alignment)', () => {
    const a = alignedBuffer(3 * 4096, 4096);
    if (nativeKernels === null) {
      expect(a).toBeNull();
      return;
    }
    expect(a!.length).toBe(3 * 4096);
    expect(a!.every((x) => x === 0)).toBe(true);
    a!.fill(5);
    expect(a![3 * 4096 - 1]).toBe(5);
    expect(alignedBuffer(4096, 3000)).toBeNull();
  });

  it('releasePages zeroes the whole pages inside a view and leaves the partial pages at its ends', () => {
    const sab = new Uint8Array(new SharedArrayBuffer(1 << 20));
    sab.fill(7);
    const view = sab.subarray(100, (1 << 20) - 100);
    const released = releasePages(view);
    if (nativeKernels === null) {
      expect(released).toBe(0);
      expect(sab.every((x) => x === 7)).toBe(true);
      return;
    }
    // the whole pages strictly inside [100, 2^20 - 100) of wherever the buffer starts
    expect(released).toBeGreaterThanOrEqual((1 << 20) - 3 * 4096);
    expect(released % 4096).toBe(0);
    expect(sab[0]).toBe(7); // before the view
    expect(sab[100]).toBe(7); // the view's first, partial page
    expect(sab[(1 << 20) - 1]).toBe(7);
    let zeros = 0;
    for (const x of sab) if (x === 0) zeros++;
    expect(zeros).toBe(released);
    sab.fill(9, 0, 200_000); // still mapped and writable
    expect(sab[150_000]).toBe(9);
  });

  it('startIncrementalGc starts a full collection that frees an unreachable SharedArrayBuffer, with no forced gc()', async () => {
    let collected = false;
    const registry = new FinalizationRegistry(() => { collected = true; });
    (() => {
      registry.register({ buf: new SharedArrayBuffer(1 << 20) }, 'slab');
    })();
    const kinds: number[] = [];
    const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) kinds.push((e as PerformanceEntry & { detail: { kind: number } }).detail.kind); });
    obs.observe({ entryTypes: ['gc'] });
    try {
      const started = startIncrementalGc();
      if (nativeKernels === null) {
        expect(started).toBe(false);
        return;
      }
      expect(started).toBe(true);
      // marking advances in tasks of the event loop (and on helper threads): wait, allocating little
      for (let i = 0; i < 400 && !(collected && kinds.includes(perf.NODE_PERFORMANCE_GC_MAJOR)); i++) await new Promise((r) => setTimeout(r, 5));
      expect(kinds).toContain(perf.NODE_PERFORMANCE_GC_INCREMENTAL); // marked in steps ...
      expect(kinds).toContain(perf.NODE_PERFORMANCE_GC_MAJOR); // ... then finished
      expect(collected).toBe(true);
    } finally {
      obs.disconnect();
    }
  });
});
