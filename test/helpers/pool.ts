// Runs a scan task on a worker pool and gathers its streamed batches, as the query engine does.
import type { WorkerPool } from '../../src/worker/pool.js';
import { unpackEntries, type ResultBatch, type ScanStats, type ScannedEntry, type Task } from '../../src/worker/protocol.js';
import type { StepSeries } from '../../src/logql/eval/types.js';

export interface Gathered {
  entries: ScannedEntry[];
  series: StepSeries[];
  stats: ScanStats;
  batches: ResultBatch[];
}

/** Entries of all batches in arrival order; `onBatch` sees each batch first. */
export async function gather(pool: WorkerPool, task: Task, signal?: AbortSignal, onBatch?: (b: ResultBatch) => void): Promise<Gathered> {
  const batches: ResultBatch[] = [];
  const entries: ScannedEntry[] = [];
  const series: StepSeries[] = [];
  const stats = await pool.run(task, (b) => {
    onBatch?.(b);
    batches.push(b);
    if (b.kind === 'entries') entries.push(...unpackEntries(b.entries));
    else series.push(...b.series);
  }, signal);
  return { entries, series, stats, batches };
}
