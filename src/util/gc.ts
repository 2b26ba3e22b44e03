// A full V8 garbage collection on demand, for the moments the server knows a lot of memory just
// died: flushed heads leave their blocks' SharedArrayBuffers (tens of MiB, in glibc's heap) to the
// next major GC, which V8 may not run for minutes while the heap itself is small. Node only
// exposes gc() under --expose-gc; the flag is set at run time and the function taken from a new
// context, so no launcher needs it. Returns the pause in ms, or null where it is unavailable.
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
