// A full V8 garbage collection on demand, for the moments the server knows a lot of memory just
// died: flushed heads leave their blocks' SharedArrayBuffers (tens of MiB, in glibc's heap) to the
// next major GC, which V8 may not run for minutes while the heap itself is small. Node only
// exposes gc() under --expose-gc; the flag is set at run time and the function taken from a new
// context, so no launcher needs it. Returns the pause in ms, or null where it is unavailable.
// GcCounter counts the collections that happen (for /metrics).
import { constants as perf, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | null | undefined;

export function majorGc(): number | null {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const f = runInNewContext('typeof gc === "function" ? gc : null') as (() => void) | null;
      gcFn = f;
    } catch {
      gcFn = null;
    }
  }
  if (gcFn === null) return null;
  const t0 = performance.now();
  gcFn();
  return performance.now() - t0;
}

export const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;
export type GcKind = (typeof GC_KINDS)[number];
const KIND_OF = new Map<number, GcKind>([
  [perf.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [perf.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [perf.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [perf.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/** Collections of this thread's heap since construction, by kind: counts, pause seconds and the longest pause. */
export class GcCounter {
  readonly count: Record<GcKind, number> = { minor: 0, major: 0, incremental: 0, weakcb: 0 };
  readonly pauseS: Record<GcKind, number> = { minor: 0, major: 0, incremental: 0, weakcb: 0 };
  /** the longest single pause of each kind */
  readonly maxPauseS: Record<GcKind, number> = { minor: 0, major: 0, incremental: 0, weakcb: 0 };
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = KIND_OF.get((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1);
      if (kind === undefined) continue;
      const s = e.duration / 1000;
      this.count[kind]++;
      this.pauseS[kind] += s;
      if (s > this.maxPauseS[kind]) this.maxPauseS[kind] = s;
    }
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.observer.disconnect();
  }
}
