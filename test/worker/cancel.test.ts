// Cancellation frees a scan worker quickly: a long scan aborted through its AbortSignal (what a
// query timeout or a client disconnect triggers) stops at the next block boundary, so the next
// task on the same single worker starts right away instead of after the whole scan. The task's
// onEnd (what closes a query's read lease) comes once the worker has stopped reading, not when
// the promise rejects; for a task cancelled in the queue, at once.
import { afterAll, describe, expect, it } from 'vitest';
import { OpenBlock } from '../../src/chunk/open-block.js';
import { CancelledError, WorkerPool } from '../../src/worker/pool.js';
import { parseExpr } from '../../src/logql/syntax/index.js';
import type { LogSelectorExpr } from '../../src/logql/ast.js';
import type { LogScanTask } from '../../src/worker/protocol.js';
import { gather } from '../helpers/pool.js';

const pool = new WorkerPool(1);
afterAll(() => pool.close());

const T0 = 1795132800000000000n;

function task(repeat: number): LogScanTask {
  const b = new OpenBlock(1 << 18);
  for (let i = 0; i < 2000; i++) b.append(T0 + BigInt(i) * 1000n, `ts=${i} level=info msg="request ${i} handled" path=/api/v${i % 7} took=${i % 97}ms`, []);
  const block = b.cut();
  return {
    type: 'logScan',
    streams: [{ labels: [{ name: 'job', value: 'x' }], files: [], mem: Array.from({ length: repeat }, () => block) }],
    selector: parseExpr('{job="x"} | logfmt | took > 1000') as LogSelectorExpr,
    fromNs: T0, toNs: T0 + 10n ** 12n, direction: 'forward', limit: 10, categorize: false,
  };
}

describe('scan cancellation', () => {
  it('stops a long scan between blocks and frees the worker', async () => {
    // calibrate: time per block on this machine
    await gather(pool, task(5)); // warm-up (worker start, JIT)
    let t = Date.now();
    await gather(pool, task(40));
    const perBlock = Math.max(0.2, (Date.now() - t) / 40);
    const blocks = Math.ceil(20_000 / perBlock); // a ~20 s scan when not cancelled
    const ac = new AbortController();
    const long = gather(pool, task(blocks), ac.signal);
    await new Promise((r) => setTimeout(r, 300));
    t = Date.now();
    ac.abort('query timed out');
    await expect(long).rejects.toBeInstanceOf(CancelledError);
    const small = await gather(pool, task(1));
    expect(small.stats.blocks).toBe(1);
    expect(Date.now() - t).toBeLessThan(2_000);
  }, 30_000);

  it('ends a task once no worker reads it: after its scan stopped, or at once when it never started', async () => {
    const ended: string[] = [];
    const ac = new AbortController();
    const noop = (): void => {};
    const running = pool.run(task(20000), noop, ac.signal, () => ended.push('running'));
    const queued = pool.run(task(1), noop, ac.signal, () => ended.push('queued'));
    const done = pool.run(task(1), noop, undefined, () => ended.push('done'));
    await new Promise((r) => setTimeout(r, 100));
    expect(ended).toEqual([]);
    ac.abort('client closed');
    // the queued task never reached the worker; the running one is still stopping
    expect(ended).toEqual(['queued']);
    await expect(running).rejects.toBeInstanceOf(CancelledError);
    await expect(queued).rejects.toBeInstanceOf(CancelledError);
    await done;
    expect(ended).toEqual(['queued', 'running', 'done']);
    const pre = new AbortController();
    pre.abort('gone');
    await expect(pool.run(task(1), noop, pre.signal, () => ended.push('aborted before'))).rejects.toBeInstanceOf(CancelledError);
    expect(ended.at(-1)).toBe('aborted before');
  }, 30_000);
});
