// The scan worker pool starts workers only when tasks need them (an idle server holds no worker
// heaps), never more than its size, and stops a worker that has been idle for idleMs; the next
// task starts a fresh one and still gets the right answer.
import { afterEach, describe, expect, it } from 'vitest';
import { OpenBlock } from '../../src/chunk/open-block.js';
import { WorkerPool } from '../../src/worker/pool.js';
import { labelsKey } from '../../src/util/labels.js';
import { parseExpr } from '../../src/logql/syntax/index.js';
import type { LogSelectorExpr } from '../../src/logql/ast.js';
import { unpackLabels, type LogScanResult, type LogScanTask } from '../../src/worker/protocol.js';

const T0 = 1795132800000000000n;

function task(): LogScanTask {
  const b = new OpenBlock(1 << 16);
  for (let i = 0; i < 100; i++) b.append(T0 + BigInt(i) * 1000n, `line ${i} ${i % 3 === 0 ? 'needle' : 'hay'}`, []);
  return {
    type: 'logScan',
    streams: [{ labels: [{ name: 'job', value: 'x' }], files: [], mem: [b.cut()] }],
    selector: parseExpr('{job="x"} |= "needle"') as LogSelectorExpr,
    fromNs: T0, toNs: T0 + 10n ** 9n, direction: 'forward', limit: 1000, categorize: false,
  };
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
    const rs = await Promise.all(Array.from({ length: 6 }, () => pool!.run<LogScanResult>(task())));
    for (const r of rs) expect(r.entries.length).toBe(34);
    expect(pool.started).toBe(2);
  });

  it('one task at a time uses one worker', async () => {
    pool = new WorkerPool(4, 0);
    for (let i = 0; i < 3; i++) await pool.run<LogScanResult>(task());
    expect(pool.started).toBe(1);
  });

  it('stops idle workers after idleMs and starts one again for the next task', async () => {
    pool = new WorkerPool(2, 200);
    await Promise.all([pool.run<LogScanResult>(task()), pool.run<LogScanResult>(task())]);
    expect(pool.started).toBeGreaterThan(0);
    expect(await waitFor(() => pool!.started === 0, 5000)).toBe(true);
    const r = await pool.run<LogScanResult>(task());
    expect(r.entries.map((e) => e.line).slice(0, 2)).toEqual(['line 0 needle', 'line 3 needle']);
    expect(pool.started).toBe(1);
  });

  it('sends each label set once per reply, and unpackLabels gives every entry its own', async () => {
    pool = new WorkerPool(1, 0);
    const t = task();
    const other = task().streams[0]!;
    t.streams.push({ ...other, labels: [{ name: 'job', value: 'y' }] });
    const r = await pool.run<LogScanResult>(t);
    expect(r.labelSets?.size).toBe(2);
    expect(r.entries.every((e) => e.labels === undefined)).toBe(true);
    unpackLabels(r);
    expect(r.entries.length).toBe(68);
    for (const e of r.entries) expect(labelsKey(e.labels)).toBe(e.key);
    expect(new Set(r.entries.map((e) => e.labels[0]!.value))).toEqual(new Set(['x', 'y']));
  });

  it('keeps a busy worker past idleMs', async () => {
    pool = new WorkerPool(1, 100);
    for (let i = 0; i < 5; i++) {
      await pool.run<LogScanResult>(task());
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(pool.started).toBe(1);
  });
});
