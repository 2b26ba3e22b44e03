// The scan worker pool starts workers only when tasks need them (an idle server holds no worker
// heaps), never more than its size, and stops a worker that has been idle for idleMs; the next
// task starts a fresh one and still gets the right answer.
import { afterEach, describe, expect, it } from 'vitest';
import { OpenBlock } from '../../src/chunk/open-block.js';
import { WorkerPool } from '../../src/worker/pool.js';
import { labelsKey } from '../../src/util/labels.js';
import { parseExpr } from '../../src/logql/syntax/index.js';
import { Worker } from 'node:worker_threads';
import { CREDITS, packEntries, takeCredit, unpackEntries, type LogScanTask, type SampleScanTask, type ScannedEntry } from '../../src/worker/protocol.js';
import type { RangeAggregationExpr } from '../../src/logql/ast.js';
import { CancelledError } from '../../src/worker/pool.js';
import { T0, blockScanTask, gather } from '../helpers/pool.js';

function task(): LogScanTask {
  return blockScanTask(Array.from({ length: 100 }, (_, i) => `line ${i} ${i % 3 === 0 ? 'needle' : 'hay'}`), '{job="x"} |= "needle"');
}

let pool: WorkerPool | null = null;
afterEach(async () => { await pool?.close(); pool = null; });

const waitFor = async (cond: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
};

describe('worker pool', () => {
  it('starts no worker until a task arrives, and at most `size`', async () => {
    pool = new WorkerPool(2, 0);
    expect(pool.started).toBe(0);
    const rs = await Promise.all(Array.from({ length: 6 }, () => gather(pool!, task())));
    for (const r of rs) expect(r.entries.length).toBe(34);
    expect(pool.started).toBe(2);
  });

  it('one task at a time uses one worker', async () => {
    pool = new WorkerPool(4, 0);
    for (let i = 0; i < 3; i++) await gather(pool, task());
    expect(pool.started).toBe(1);
  });

  it('stops idle workers after idleMs and starts one again for the next task', async () => {
    pool = new WorkerPool(2, 200);
    await Promise.all([gather(pool, task()), gather(pool, task())]);
    expect(pool.started).toBeGreaterThan(0);
    expect(await waitFor(() => pool!.started === 0, 5000)).toBe(true);
    const r = await gather(pool, task());
    expect(r.entries.map((e) => e.line).slice(0, 2)).toEqual(['line 0 needle', 'line 3 needle']);
    expect(pool.started).toBe(1);
  });

  it('sends entries as columns with each label set once, and unpacking gives every entry its own', async () => {
    pool = new WorkerPool(1, 0);
    const t = task();
    const other = task().streams[0]!;
    t.streams.push({ ...other, labels: [{ name: 'job', value: 'y' }] });
    const sets: number[] = [];
    const r = await gather(pool, t, undefined, (b) => {
      if (b.kind !== 'entries') return;
      sets.push(b.entries.keys.length);
      expect(b.entries.nums).toBeInstanceOf(Float64Array);
      expect(b.entries.labels).toHaveLength(b.entries.keys.length);
    });
    expect(sets).toEqual([2]);
    expect(r.entries.length).toBe(68);
    for (const e of r.entries) expect(labelsKey(e.labels)).toBe(e.key);
    expect(new Set(r.entries.map((e) => e.labels[0]!.value))).toEqual(new Set(['x', 'y']));
  });

  it('packEntries and unpackEntries round-trip every field', () => {
    const labels = [{ name: 'job', value: 'x' }];
    const cat = { stream: labels, structuredMetadata: [{ name: 'trace_id', value: 't1' }], parsed: [] };
    const es: ScannedEntry[] = [
      { tsMs: 1795132800123, tsRem: 456789, seq: 2 ** 40 + 7, h: 2 ** 51 + 3, line: 'héllo 𝄞', key: '{job="x"}', labels, categorized: cat },
      { tsMs: -5, tsRem: 0, seq: 0, h: 0, line: '', key: '{job="y"}', labels: [{ name: 'job', value: 'y' }], categorized: undefined },
    ];
    expect(unpackEntries(packEntries(es, true))).toEqual(es);
    expect(unpackEntries(packEntries(es, false)).map((e) => e.categorized)).toEqual([undefined, undefined]);
  });

  it('keeps a busy worker past idleMs', async () => {
    pool = new WorkerPool(1, 100);
    for (let i = 0; i < 5; i++) {
      await gather(pool, task());
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(pool.started).toBe(1);
  });
});

describe('result batches and back-pressure', () => {
  it('takeCredit takes one credit, waits while there is none, and gives up once cancelled', async () => {
    const credits = new Int32Array(new SharedArrayBuffer(4));
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    credits[0] = 2;
    expect(takeCredit(credits, cancel)).toBe(true);
    expect(takeCredit(credits, cancel)).toBe(true);
    expect(credits[0]).toBe(0);
    // another thread gives a credit back after 200 ms: this thread waits for it
    const helper = new Worker(
      `const { workerData } = require('node:worker_threads');
       setTimeout(() => { Atomics.add(workerData, 0, 1); Atomics.notify(workerData, 0); }, 200);`,
      { eval: true, workerData: credits },
    );
    const t = Date.now();
    expect(takeCredit(credits, cancel)).toBe(true);
    expect(Date.now() - t).toBeGreaterThanOrEqual(150);
    expect(credits[0]).toBe(0);
    await helper.terminate();
    Atomics.store(cancel, 0, 1);
    expect(takeCredit(credits, cancel)).toBe(false);
    expect(credits[0]).toBe(0);
  });

  // 5000 lines, one series each: more batches (1024 series each) than a worker may post ahead
  function manySeries(): SampleScanTask {
    const blocks = [];
    let b = new OpenBlock(1 << 16);
    for (let i = 0; i < 5000; i++) {
      b.append(T0 + BigInt(i) * 1000n, `id=${i}`, []);
      if (b.lineBytes > 30_000) {
        blocks.push(b.cut());
        b = new OpenBlock(1 << 16);
      }
    }
    blocks.push(b.cut());
    const expr = parseExpr('count_over_time({job="x"} | regexp "id=(?P<id>[0-9]+)" [1h])') as RangeAggregationExpr;
    const at = T0 + 3_600_000_000_000n - 1n; // the window (at - 1h, at] holds every line
    return { type: 'sampleScan', streams: [{ labels: [{ name: 'job', value: 'x' }], files: [], mem: blocks }], expr, grid: { startNs: at, endNs: at, stepNs: 0n }, fromNs: at - expr.range.rangeNs, toNs: at };
  }

  it('a metric result arrives in batches, every series once', async () => {
    pool = new WorkerPool(1, 0);
    const r = await gather(pool, manySeries());
    expect(r.batches.length).toBeGreaterThan(CREDITS);
    expect(r.series).toHaveLength(5000);
    expect(new Set(r.series.map((x) => x.key)).size).toBe(5000);
  });

  it("a task's last batch comes with the worker's reply: one message for a small result", async () => {
    // Each message from a worker costs the event loop a wake-up and the port's lock.
    pool = new WorkerPool(1, 0);
    await gather(pool, task()); // starts the worker
    const worker = (pool as unknown as { slots: { worker: Worker }[] }).slots[0]!.worker;
    let messages = 0;
    const count = (): void => { messages++; };
    worker.on('message', count);
    try {
      const logs = await gather(pool, task());
      expect(logs.entries).toHaveLength(34);
      expect(logs.batches).toHaveLength(1);
      expect(messages).toBe(1);
      messages = 0;
      const metric = await gather(pool, manySeries());
      expect(metric.series).toHaveLength(5000);
      expect(new Set(metric.series.map((x) => x.key)).size).toBe(5000);
      expect(metric.batches).toHaveLength(5); // 1024 series a batch
      expect(messages).toBe(5); // 4 batches, then the reply with the fifth
    } finally {
      worker.off('message', count);
    }
  });

  it('a handler that throws cancels the scan, and a worker waiting for credits is freed at once', async () => {
    pool = new WorkerPool(1, 0);
    await gather(pool, manySeries()); // warm-up
    let seen = 0;
    const failing = gather(pool, manySeries(), undefined, () => {
      seen++;
      // hold the coordinator long enough for the worker to use up its credits and wait
      const until = Date.now() + 300;
      while (Date.now() < until);
      throw new Error('over budget');
    });
    await expect(failing).rejects.toThrow('over budget');
    expect(seen).toBe(1);
    const t = Date.now();
    const next = await gather(pool, task());
    expect(next.entries).toHaveLength(34);
    expect(Date.now() - t).toBeLessThan(5_000); // the safety-net wait is 10 s
  });

  it('an aborted task rejects with CancelledError', async () => {
    pool = new WorkerPool(1, 0);
    const ac = new AbortController();
    ac.abort('client gone');
    await expect(gather(pool, task(), ac.signal)).rejects.toBeInstanceOf(CancelledError);
  });
});
