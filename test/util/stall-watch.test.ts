// The diagnostic stall log (BRAMBLE_STALL_LOG_MS): a busy main thread is logged with its length
// and when it ended on the monotonic clock; a quiet one is not.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startStallWatch, stallThresholdFromEnv } from '../../src/util/stall-watch.js';
import { majorGc } from '../../src/util/gc.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('stall watch', () => {
  it('reads its threshold from BRAMBLE_STALL_LOG_MS', () => {
    expect(stallThresholdFromEnv({})).toBeNull();
    expect(stallThresholdFromEnv({ BRAMBLE_STALL_LOG_MS: '' })).toBeNull();
    expect(stallThresholdFromEnv({ BRAMBLE_STALL_LOG_MS: '30' })).toBe(30);
    expect(() => stallThresholdFromEnv({ BRAMBLE_STALL_LOG_MS: 'abc' })).toThrow('BRAMBLE_STALL_LOG_MS must be a positive number of milliseconds, got "abc"');
    expect(() => stallThresholdFromEnv({ BRAMBLE_STALL_LOG_MS: '0' })).toThrow('positive');
  });

  it('logs a stall with its length, end time, collections within it and context, and stops', async () => {
    type Seen = { stalledMs: number; monoUs: number; gcMs: number; gcMaxMs: number; runMs?: number; waitMs?: number; majorFaults?: number; busy: string; span: number };
    const seen: Seen[] = [];
    const spans: [number, number][] = [];
    const stop = startStallWatch(60, { warn: (o) => seen.push(o as Seen) }, (fromMs, toMs) => {
      spans.push([fromMs, toMs]);
      return { busy: 'test', span: toMs - fromMs };
    });
    try {
      await sleep(30);
      const before = Number(process.hrtime.bigint() / 1000n);
      const beforeMs = performance.now();
      const until = Date.now() + 150;
      const gcMs = majorGc();
      while (Date.now() < until) {
        /* hold the event loop */
      }
      await sleep(30);
      expect(gcMs).not.toBeNull();
      expect(seen.find((x) => x.stalledMs >= 120)!.gcMs).toBeGreaterThan(0);
      expect(seen[0]!.busy).toBe('test');
      // the span handed to the context covers the stall
      expect(spans[0]![0]).toBeLessThanOrEqual(beforeMs + 1);
      expect(spans[0]![1]).toBeGreaterThanOrEqual(beforeMs + 140);
      expect(seen.length).toBeGreaterThanOrEqual(1);
      const s = seen.find((x) => x.stalledMs >= 120)!;
      expect(s).toBeDefined();
      expect(s.monoUs).toBeGreaterThan(before + 140_000);
      expect(s.monoUs).toBeLessThanOrEqual(Number(process.hrtime.bigint() / 1000n));
      if (existsSync('/proc/thread-self/schedstat')) {
        // a busy wait is on a CPU or waiting for one for the whole stall, never blocked
        expect(s.runMs! + s.waitMs!).toBeGreaterThanOrEqual(s.stalledMs * 0.9);
        expect(s.runMs!).toBeGreaterThan(0);
        expect(Number.isInteger(s.majorFaults)).toBe(true);
        expect(s.majorFaults).toBeGreaterThanOrEqual(0);
      }
    } finally {
      stop();
    }
    const n = seen.length;
    const until = Date.now() + 100;
    while (Date.now() < until) {
      /* stopped: not logged */
    }
    await sleep(30);
    expect(seen.length).toBe(n);
  });
});
