// majorGc: a full collection on demand without --expose-gc on the command line (the server runs
// one after flushes so dead head blocks give their memory back); GcCounter, the /metrics count of
// collections by kind, with their pauses and the longest one.
import { describe, expect, it } from 'vitest';
import { GcCounter, majorGc } from '../../src/util/gc.js';

describe('majorGc', () => {
  it('collects an unreachable SharedArrayBuffer that survived into the old generation', async () => {
    let collected = false;
    const registry = new FinalizationRegistry(() => { collected = true; });
    (() => {
      const old = { buf: new SharedArrayBuffer(1 << 20) };
      registry.register(old, 'slab');
    })();
    const ms = majorGc();
    expect(ms).not.toBeNull();
    expect(ms!).toBeGreaterThanOrEqual(0);
    // finalizers run as a task after the collection
    for (let i = 0; i < 20 && !collected; i++) await new Promise((r) => setTimeout(r, 5));
    expect(collected).toBe(true);
  });
});

describe('GcCounter', () => {
  it('counts a full collection as major, with its pause, and minor ones from young garbage', async () => {
    const c = new GcCounter();
    expect(majorGc()).not.toBeNull();
    let keep: object[] = [];
    for (let i = 0; i < 2_000_000; i++) { // ~60 MB of young garbage: scavenges
      keep.push({ i });
      if (keep.length === 1000) keep = [];
    }
    // GC entries reach observers as a task after the collection
    for (let i = 0; i < 40 && (c.count.major === 0 || c.count.minor === 0); i++) await new Promise((r) => setTimeout(r, 5));
    c.stop();
    expect(keep.length).toBeLessThan(1000);
    expect(c.count.major).toBeGreaterThanOrEqual(1);
    expect(c.pauseS.major).toBeGreaterThan(0);
    // the longest pause: at least the average, at most the sum
    expect(c.maxPauseS.major).toBeGreaterThanOrEqual(c.pauseS.major / c.count.major);
    expect(c.maxPauseS.major).toBeLessThanOrEqual(c.pauseS.major);
    expect(c.maxPauseS.minor).toBeGreaterThanOrEqual(c.pauseS.minor / c.count.minor);
    expect(c.count.minor).toBeGreaterThanOrEqual(1);
    const after = { ...c.count };
    majorGc();
    await new Promise((r) => setTimeout(r, 20));
    expect(c.count).toEqual(after); // stopped: no longer counts
  });
});
