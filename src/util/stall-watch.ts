// Event-loop stall log, for diagnosis: with BRAMBLE_STALL_LOG_MS=N set, a 10 ms timer notes
// every time it ran N ms or more late (the main thread was busy that long) and logs a warning
// with the stall's length, when it ended on the monotonic clock (`monoUs`, the clock V8's CPU
// profiles use, so `bench/stalls.ts --log` can find it in a `--cpu-prof` profile), the garbage
// collection pauses within it (`gcMs`, `gcMaxMs`), and what the server had under way (the
// caller's `context`). /metrics' bramble_event_loop_lag_max_seconds says how long the worst stall
// was; this says when, and what else ran. On Linux it also says how the main thread spent the
// stall (from /proc/thread-self/schedstat): `runMs` on a CPU, `waitMs` runnable but waiting for
// one (other threads or processes had the cores), the rest blocked in the kernel (disk, locks);
// and `majorFaults`, its page faults that had to read from disk (/proc/thread-self/stat).
import { closeSync, openSync, readSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';

export interface StallLogger {
  warn(obj: object, msg: string): void;
}

const TICK_MS = 10;
/** GC pauses remembered to match against stalls (a stall is logged a tick after it ends) */
const GC_RING = 64;

/** Parses BRAMBLE_STALL_LOG_MS: a positive number of milliseconds, or null (off). */
export function stallThresholdFromEnv(env: NodeJS.ProcessEnv): number | null {
  const v = env.BRAMBLE_STALL_LOG_MS;
  if (v === undefined || v === '') return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BRAMBLE_STALL_LOG_MS must be a positive number of milliseconds, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * Starts the watch; returns a function that stops it. The timer does not keep the process
 * alive. `context`, read when a stall ends (performance.now() times of its start and end), adds
 * fields to the log line.
 */
export function startStallWatch(thresholdMs: number, log: StallLogger, context?: (fromMs: number, toMs: number) => object): () => void {
  // GC pauses as (start, duration) in performance.now() ms; V8 reports them to observers a
  // moment after they happen, so a stall is logged one tick after it ends.
  const gcStart = new Float64Array(GC_RING);
  const gcDur = new Float64Array(GC_RING);
  let gcN = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcStart[gcN % GC_RING] = e.startTime;
      gcDur[gcN % GC_RING] = e.duration;
      gcN++;
    }
  });
  gcs.observe({ entryTypes: ['gc'] });
  const sched = openSchedstat();
  let runNs = 0;
  let waitNs = 0;
  let majFlt = 0;
  if (sched !== null) [runNs, waitNs, majFlt] = sched.read();
  let pending: { stalledMs: number; monoUs: number; fromMs: number; toMs: number; sched: object; ctx: object } | null = null;
  let last = process.hrtime.bigint();
  const timer = setInterval(() => {
    if (pending !== null) {
      const p = pending;
      pending = null;
      let gcMs = 0;
      let gcMaxMs = 0;
      for (let i = Math.max(0, gcN - GC_RING); i < gcN; i++) {
        const s = gcStart[i % GC_RING]!;
        const d = gcDur[i % GC_RING]!;
        const overlap = Math.min(s + d, p.toMs) - Math.max(s, p.fromMs);
        if (overlap <= 0) continue;
        gcMs += overlap;
        if (d > gcMaxMs) gcMaxMs = d;
      }
      log.warn({ component: 'event-loop', stalledMs: p.stalledMs, monoUs: p.monoUs, gcMs: round(gcMs), gcMaxMs: round(gcMaxMs), ...p.sched, ...p.ctx }, 'event loop stalled');
    }
    const now = process.hrtime.bigint();
    const lateMs = Number(now - last) / 1e6 - TICK_MS;
    last = now;
    // the thread's run and wait times over this tick (its span includes the stall)
    let schedFields: object = {};
    if (sched !== null) {
      const [r, w, f] = sched.read();
      schedFields = { runMs: round((r - runNs) / 1e6), waitMs: round((w - waitNs) / 1e6), majorFaults: f - majFlt };
      runNs = r;
      waitNs = w;
      majFlt = f;
    }
    if (lateMs >= thresholdMs) {
      const toMs = performance.now();
      const fromMs = toMs - lateMs - TICK_MS;
      pending = { stalledMs: round(lateMs), monoUs: Number(now / 1000n), fromMs, toMs, sched: schedFields, ctx: context ? context(fromMs, toMs) : {} };
    }
  }, TICK_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    gcs.disconnect();
    sched?.close();
  };
}

/**
 * The calling thread's scheduler statistics (Linux): nanoseconds on a CPU and waiting on a run
 * queue (/proc/thread-self/schedstat), and major page faults (/proc/thread-self/stat), read from
 * files kept open. Null where they do not exist.
 */
function openSchedstat(): { read(): [number, number, number]; close(): void } | null {
  let fd: number;
  let statFd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return null;
  }
  try {
    statFd = openSync('/proc/thread-self/stat', 'r');
  } catch {
    closeSync(fd);
    return null;
  }
  const buf = Buffer.alloc(1024);
  return {
    read(): [number, number, number] {
      let n = readSync(fd, buf, 0, buf.length, 0);
      const parts = buf.toString('latin1', 0, n).split(' ');
      n = readSync(statFd, buf, 0, buf.length, 0);
      const stat = buf.toString('latin1', 0, n);
      // fields after the command name's closing parenthesis: state is the 3rd, majflt the 12th
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [Number(parts[0]), Number(parts[1]), Number(after[9])];
    },
    close(): void {
      closeSync(fd);
      closeSync(statFd);
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
