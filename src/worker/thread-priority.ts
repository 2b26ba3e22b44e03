// Scan threads run at a lower CPU priority than the event loop. On a small machine the scans of a
// query keep every core busy, and the main thread then waits its turn for the CPU: its short
// tasks (a push, a garbage collection's pause) take 1.5-2x their CPU time in wall time, which is
// what the event loop's lag measures. Niced scan threads yield to it: they still get every cycle
// the event loop leaves, so a query alone runs as fast as before.
// Linux keeps a nice value per thread (setpriority on a thread id); elsewhere this does nothing.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How many nice steps below the server's priority scan threads run (10: weight 110 against 1024). */
export const SCAN_THREAD_NICE = 10;

/** This thread's id on Linux (/proc/thread-self links to "<pid>/task/<tid>"); null elsewhere. */
export function threadId(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/**
 * Lowers the calling thread's priority by `steps` nice steps (at most to 19, the lowest); returns
 * its nice value after, or null where threads have no nice value of their own.
 */
export function lowerThreadPriority(steps: number): number | null {
  const tid = threadId();
  if (tid === null) return null;
  try {
    setPriority(tid, Math.min(19, getPriority(tid) + steps));
    return getPriority(tid);
  } catch {
    return null;
  }
}
