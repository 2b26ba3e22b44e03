// Worker thread entry: receives scan tasks from the pool, runs them synchronously (this thread
// exists so that scans never block the server's event loop) and posts back results or errors.
import { parentPort } from 'node:worker_threads';
import type { ReplyMessage, TaskMessage } from './protocol.js';
import { scanLogs, scanSamples } from './scan.js';

if (!parentPort) throw new Error('scan-worker must run as a worker thread');
const port = parentPort;

port.on('message', (msg: TaskMessage) => {
  let reply: ReplyMessage;
  try {
    const t = msg.task;
    const result = t.type === 'logScan' ? scanLogs(t, msg.cancel) : scanSamples(t, msg.cancel);
    reply = { id: msg.id, ok: true, result };
  } catch (e) {
    const err = e as Error & { status?: number };
    reply = { id: msg.id, ok: false, error: { message: err.message, status: typeof err.status === 'number' ? err.status : 500, name: err.name } };
  }
  port.postMessage(reply);
});
