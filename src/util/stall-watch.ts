// Event-loop stall log, for diagnosis: with BRAMBLE_STALL_LOG_MS=N set, a 10 ms timer notes
// every time it ran N ms or more late (the main thread was busy that long) and logs a warning
// with the stall's length and when it ended on the monotonic clock (`monoUs`, the clock V8's
// CPU profiles use), so `bench/stalls.ts --log` can find each stall in a `--cpu-prof` profile.
// /metrics' bramble_event_loop_lag_max_seconds says how long the worst stall was; this says when.

export interface StallLogger {
  warn(obj: object, msg: string): void;
}

const TICK_MS = 10;

/** Parses BRAMBLE_STALL_LOG_MS: a positive number of milliseconds, or null (off). */
export function stallThresholdFromEnv(env: NodeJS.ProcessEnv): number | null {
  const v = env.BRAMBLE_STALL_LOG_MS;
  if (v === undefined || v === '') return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BRAMBLE_STALL_LOG_MS must be a positive number of milliseconds, got ${JSON.stringify(v)}`);
  return n;
}

/** Starts the watch; returns a function that stops it. The timer does not keep the process alive. */
export function startStallWatch(thresholdMs: number, log: StallLogger): () => void {
  let last = process.hrtime.bigint();
  const timer = setInterval(() => {
    const now = process.hrtime.bigint();
    const lateMs = Number(now - last) / 1e6 - TICK_MS;
    last = now;
    if (lateMs >= thresholdMs) {
      log.warn({ component: 'event-loop', stalledMs: Math.round(lateMs * 10) / 10, monoUs: Number(now / 1000n) }, 'event loop stalled');
    }
  }, TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
