// Scan threads run 10 nice steps below the server (Linux keeps a nice value per thread), so the
// event loop gets the CPU first when scans keep every core busy; the calling thread is left alone.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/worker/pool.js';
import { SCAN_THREAD_NICE, lowerThreadPriority, threadId } from '../../src/worker/thread-priority.js';
import { blockScanTask, gather } from '../helpers/pool.js';

/** Nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat). */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd on
      out.set(Number(tid), Number(fields[19 - 3]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

let pool: WorkerPool | null = null;
afterEach(async () => { await pool?.close(); pool = null; });

describe('scan thread priority', () => {
  it('each scan worker thread runs 10 nice steps below the thread that started it (Linux; elsewhere nothing changes)', async () => {
    const me = threadId();
    if (process.platform !== 'linux') {
      expect(me).toBeNull();
      expect(lowerThreadPriority(0)).toBeNull();
      return;
    }
    expect(me).not.toBeNull();
    const base = threadNices().get(me!)!;
    const want = Math.min(19, base + SCAN_THREAD_NICE);
    const before = [...threadNices().values()].filter((n) => n === want).length;
    pool = new WorkerPool(2, 0);
    const task = () => blockScanTask(['a', 'b'], '{job="x"}');
    await Promise.all([gather(pool, task()), gather(pool, task())]);
    expect(pool.started).toBe(2);
    const after = [...threadNices().values()].filter((n) => n === want).length;
    expect(after - before).toBe(2);
    expect(threadNices().get(me!)).toBe(base); // the caller's own priority is untouched
  });

  it('the worker entry lowers its priority before it loads the scan engine', () => {
    // Loading the scan code is most of a new thread's start-up CPU; a static import in the entry
    // would run it at the server's priority, before the entry's own code.
    const src = readFileSync(fileURLToPath(new URL('../../src/worker/scan-worker.ts', import.meta.url)), 'utf8');
    const staticImports = [...src.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
    expect(staticImports).toEqual(['./thread-priority.js']);
    const lower = src.indexOf('lowerThreadPriority(SCAN_THREAD_NICE)');
    const load = src.indexOf("await import('./scan-loop.js')");
    expect(lower).toBeGreaterThan(0);
    expect(load).toBeGreaterThan(lower);
  });
});
