// A scan worker's task loop (loaded by scan-worker.ts once the thread's priority is lowered):
// receives scan tasks from the pool, runs them synchronously (this thread exists so that scans
// never block the server's event loop) and streams results back in batches:
// log entries as the scan accepts them, metric series when the scan ends, and the last batch with
// the task's reply. Posting a batch takes a credit; with none left the worker waits until the
// coordinator has taken earlier batches (back-pressure), or the task is cancelled.
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { packEntries, readResultBound, takeCredit, type ReplyMessage, type ResultBatch, type ScannedEntry, type TaskMessage, type WorkerMemory } from './protocol.js';
import { ScanCancelled, scanLogs, scanSamples } from './scan.js';

if (!parentPort) throw new Error('scan-loop must run in a worker thread');
const port = parentPort;

/** Series per batch of a metric scan's result. */
const SERIES_PER_BATCH = 1024;

function memory(): WorkerMemory {
  const h = getHeapStatistics();
  return { heapUsed: h.used_heap_size, heapTotal: h.total_heap_size, external: h.external_memory };
}

function post(msg: TaskMessage, batch: ResultBatch): void {
  if (!takeCredit(msg.credits, msg.cancel)) throw new ScanCancelled();
  const reply: ReplyMessage = { id: msg.id, type: 'batch', batch };
  port.postMessage(reply);
}

port.on('message', (msg: TaskMessage) => {
  let reply: ReplyMessage;
  try {
    const t = msg.task;
    let stats;
    // The last batch goes with the reply. Each message costs the event loop a wake-up and the
    // port's lock, which this thread also takes to post; a niced scan thread preempted while it
    // holds the lock keeps the event loop waiting (in perf over a soak, the loop's most frequent
    // lock wait; the stall log showed 10-40 ms stalls spent blocked).
    let last: ResultBatch | undefined;
    if (t.type === 'logScan') {
      const bound = t.bound;
      const r = scanLogs(t, msg.cancel, {
        sink: {
          emit(entries: ScannedEntry[]): void {
            post(msg, { kind: 'entries', entries: packEntries(entries, t.categorize) });
          },
          bound: () => (bound ? readResultBound(bound) : null),
        },
      });
      if (r.entries.length > 0) last = { kind: 'entries', entries: packEntries(r.entries, t.categorize) };
      stats = r.stats;
    } else {
      const r = scanSamples(t, msg.cancel);
      for (let i = 0; i < r.series.length; i += SERIES_PER_BATCH) {
        const batch: ResultBatch = { kind: 'series', series: r.series.slice(i, i + SERIES_PER_BATCH) };
        if (i + SERIES_PER_BATCH >= r.series.length) last = batch;
        else post(msg, batch);
      }
      stats = r.stats;
    }
    reply = { id: msg.id, type: 'done', stats, mem: memory(), batch: last };
  } catch (e) {
    const err = e as Error & { status?: number };
    reply = { id: msg.id, type: 'error', error: { message: err.message, status: typeof err.status === 'number' ? err.status : 500, name: err.name }, mem: memory() };
  }
  port.postMessage(reply);
});
