// A pool of up to `size` scan worker threads with a FIFO task queue. The coordinator submits a
// task with a batch handler: results arrive in batches while the scan runs, and each batch the
// handler has taken gives the worker a credit to post another (back-pressure); the task's promise
// settles with the scan's stats. A task can be cancelled (client gone, timeout, a handler that
// throws) through a shared flag that the worker checks between blocks, so the scan really stops. Workers start on demand and stop
// after `idleMs` without work, so an idle server does not hold their heaps (~30 MiB each).
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CREDITS, type ReplyMessage, type ResultBatch, type ScanStats, type Task, type TaskMessage, type WorkerMemory } from './protocol.js';

export class TaskError extends Error {
  constructor(message: string, readonly status: number, name: string) {
    super(message);
    this.name = name;
  }
}

export class CancelledError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CancelledError';
  }
}

interface Job {
  msg: TaskMessage;
  onBatch: (b: ResultBatch) => void;
  resolve: (v: ScanStats) => void;
  reject: (e: Error) => void;
  /** the promise settled (cancelled or failed early): later batches are dropped */
  settled: boolean;
  /** called once when no worker runs the job any more (or none ever will) */
  onEnd: (() => void) | undefined;
}

/** Tells a job's owner, once, that no worker reads its task any more. */
function endJob(job: Job): void {
  const f = job.onEnd;
  if (f === undefined) return;
  job.onEnd = undefined;
  f();
}

interface Slot {
  worker: Worker;
  job: Job | null;
  /** memory the worker reported after its last task */
  mem?: WorkerMemory;
  /** stops the worker after idleMs without a task */
  idleTimer: NodeJS.Timeout | null;
}

/**
 * A scan allocates mostly short-lived strings (decoded lines); a small young generation (6 MiB:
 * 2 MiB semi-spaces, as the main thread's) keeps a worker's heap under 20 MiB instead of the
 * ~45 MiB V8 grows it to by default, for a few more (cheap) scavenges.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 6 };

/**
 * Built code runs dist/worker/scan-worker.js directly. When running from TypeScript sources
 * (tests, `npm run dev`), loader flags do not reach worker threads, so a tiny bootstrap loads
 * the worker through tsx's programmatic API instead.
 */
function newScanWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(fileURLToPath(new URL('./scan-worker.js', here)), { resourceLimits: WORKER_LIMITS });
  const api = join(dirname(createRequire(here).resolve('tsx/package.json')), 'dist/esm/api/index.mjs');
  const target = new URL('./scan-worker.ts', here).href;
  const code = `import(${JSON.stringify(pathToFileURL(api).href)}).then((m) => m.tsImport(${JSON.stringify(target)}, ${JSON.stringify(here)}));`;
  return new Worker(code, { eval: true, resourceLimits: WORKER_LIMITS });
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  /**
   * `size`: most workers at once. `idleMs`: a worker without a task for this long is stopped
   * (0: never); the next task starts a new one (~50 ms).
   */
  constructor(readonly size: number, private readonly idleMs = 0) {}

  private spawn(): Slot {
    const slot: Slot = { worker: newScanWorker(), job: null, idleTimer: null };
    slot.worker.on('message', (m: ReplyMessage) => {
      const job = slot.job;
      if (m.type === 'batch') {
        if (job) this.takeBatch(job, m.batch);
        return;
      }
      // a task's last batch comes with its reply
      if (job && m.type === 'done' && m.batch) this.takeBatch(job, m.batch);
      slot.job = null;
      slot.mem = m.mem;
      if (job) endJob(job);
      if (job && !job.settled) {
        job.settled = true;
        if (m.type === 'done') job.resolve(m.stats);
        else if (Atomics.load(job.msg.cancel, 0) === 1) job.reject(new CancelledError('cancelled'));
        else job.reject(new TaskError(m.error.message, m.error.status, m.error.name));
      }
      this.dispatch();
      if (slot.job === null) this.armIdle(slot);
    });
    slot.worker.on('error', (e) => {
      const job = slot.job;
      slot.job = null;
      if (job) endJob(job);
      if (job && !job.settled) {
        job.settled = true;
        job.reject(new TaskError(`scan worker failed: ${e.message}`, 500, 'WorkerError'));
      }
      this.remove(slot);
      if (!this.closed) this.dispatch();
    });
    slot.worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private remove(slot: Slot): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    const idx = this.slots.indexOf(slot);
    if (idx >= 0) this.slots.splice(idx, 1);
  }

  private armIdle(slot: Slot): void {
    if (this.idleMs <= 0 || this.closed) return;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = null;
      if (slot.job !== null || this.closed) return;
      this.remove(slot);
      void slot.worker.terminate();
    }, this.idleMs);
    slot.idleTimer.unref();
  }

  /** Workers running now (started on demand, stopped when idle). */
  get started(): number {
    return this.slots.length;
  }

  /**
   * Runs `task`, handing each result batch to `onBatch` (on this thread, in the worker's order);
   * resolves with the scan's stats once every batch was handed over. A throwing `onBatch` cancels
   * the scan and rejects with its error. `onEnd` is called once when no worker reads the task
   * any more: after the promise settles, and for a cancelled scan possibly later (the worker
   * stops at its next block).
   */
  run(task: Task, onBatch: (b: ResultBatch) => void, signal?: AbortSignal, onEnd?: () => void): Promise<ScanStats> {
    if (this.closed) {
      onEnd?.();
      return Promise.reject(new Error('worker pool is closed'));
    }
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const credits = new Int32Array(new SharedArrayBuffer(4));
    credits[0] = CREDITS;
    return new Promise<ScanStats>((resolve, reject) => {
      const job: Job = { msg: { id: this.nextId++, task, cancel, credits }, onBatch, resolve, reject, settled: false, onEnd };
      if (signal) {
        if (signal.aborted) {
          endJob(job);
          return reject(new CancelledError(String(signal.reason ?? 'cancelled')));
        }
        signal.addEventListener('abort', () => this.fail(job, new CancelledError(String(signal.reason ?? 'cancelled'))), { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  private takeBatch(job: Job, batch: ResultBatch): void {
    if (job.settled) return;
    try {
      job.onBatch(batch);
    } catch (e) {
      this.fail(job, e as Error);
      return;
    }
    Atomics.add(job.msg.credits, 0, 1);
    Atomics.notify(job.msg.credits, 0);
  }

  /** Cancels a job now: its worker stops at the next block (or wakes from waiting for a credit). */
  private fail(job: Job, err: Error): void {
    if (job.settled) return;
    job.settled = true;
    Atomics.store(job.msg.cancel, 0, 1);
    Atomics.notify(job.msg.credits, 0);
    const qi = this.queue.indexOf(job);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      endJob(job); // never reached a worker
    }
    job.reject(err);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.queue.shift();
      if (!job) return;
      this.assign(slot, job);
    }
    while (this.queue.length > 0 && this.slots.length < this.size && !this.closed) {
      this.assign(this.spawn(), this.queue.shift()!);
    }
  }

  private assign(slot: Slot, job: Job): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    slot.job = job;
    slot.worker.postMessage(job.msg);
  }

  /** Sum of the workers' last reported memory (heap in use, heap reserved, external). */
  memory(): WorkerMemory {
    const out: WorkerMemory = { heapUsed: 0, heapTotal: 0, external: 0 };
    for (const sl of this.slots) {
      if (!sl.mem) continue;
      out.heapUsed += sl.mem.heapUsed;
      out.heapTotal += sl.mem.heapTotal;
      out.external += sl.mem.external;
    }
    return out;
  }

  get busy(): number {
    return this.slots.filter((s) => s.job).length + this.queue.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) if (s.idleTimer) clearTimeout(s.idleTimer);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    // terminated workers read nothing more; queued jobs will never run
    for (const s of this.slots) if (s.job) endJob(s.job);
    for (const j of this.queue.splice(0)) endJob(j);
  }
}
