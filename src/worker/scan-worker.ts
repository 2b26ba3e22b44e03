// Worker thread entry. It lowers the thread's CPU priority first (see thread-priority.ts), and only
// then loads the task loop: loading the scan engine's modules and native code is most of a new
// thread's ~70 ms of start-up CPU, and at the server's normal priority it would compete with the
// event loop for the cores just as the first queries arrive. Keep this file's static imports to
// thread-priority.js alone (test/worker/thread-priority.test.ts checks it).
import { SCAN_THREAD_NICE, lowerThreadPriority } from './thread-priority.js';

lowerThreadPriority(SCAN_THREAD_NICE);
await import('./scan-loop.js');
