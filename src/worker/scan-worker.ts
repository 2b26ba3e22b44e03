// Worker thread entry: receives scan tasks from the pool, runs them synchronously (this thread
// exists so that scans never block the server's event loop) and posts back results or errors.
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { packLabels, type LogScanResult, type SampleScanResult, type ReplyMessage, type TaskMessage, type WorkerMemory } from './protocol.js';
import { scanLogs, scanSamples } from './scan.js';

if (!parentPort) throw new Error('scan-worker must run as a worker thread');
const port = parentPort;

function memory(): WorkerMemory {
  const h = getHeapStatistics();
  return { heapUsed: h.used_heap_size, heapTotal: h.total_heap_size, external: h.external_memory };
}

port.on('message', (msg: TaskMessage) => {
  let reply: ReplyMessage;
  try {
    const t = msg.task;
    let result: LogScanResult | SampleScanResult;
    if (t.type === 'logScan') {
      const r: LogScanResult = scanLogs(t, msg.cancel);
      packLabels(r);
      result = r;
    } else result = scanSamples(t, msg.cancel);
    reply = { id: msg.id, ok: true, result, mem: memory() };
  } catch (e) {
    const err = e as Error & { status?: number };
    reply = { id: msg.id, ok: false, error: { message: err.message, status: typeof err.status === 'number' ? err.status : 500, name: err.name }, mem: memory() };
  }
  port.postMessage(reply);
});
