// Runs a scan task on a worker pool and gathers its streamed batches, as the query engine does;
// builds a small log scan task over one in-memory block.
import { OpenBlock } from '../../src/chunk/open-block.js';
import type { LogSelectorExpr } from '../../src/logql/ast.js';
import { parseExpr } from '../../src/logql/syntax/index.js';
import type { WorkerPool } from '../../src/worker/pool.js';
import { unpackEntries, type LogScanTask, type ResultBatch, type ScanStats, type ScannedEntry, type Task } from '../../src/worker/protocol.js';
import type { StepSeries } from '../../src/logql/eval/types.js';

export const T0 = 1795132800000000000n;

/** A forward log scan of `query` over one open block of stream {job="x"}: `lines` 1 µs apart from T0. */
export function blockScanTask(lines: string[], query: string, limit = 1000): LogScanTask {
  const b = new OpenBlock(1 << 16);
  lines.forEach((line, i) => b.append(T0 + BigInt(i) * 1000n, line, []));
  return {
    type: 'logScan',
    streams: [{ labels: [{ name: 'job', value: 'x' }], files: [], mem: [b.cut()] }],
    selector: parseExpr(query) as LogSelectorExpr,
    fromNs: T0, toNs: T0 + 10n ** 9n, direction: 'forward', limit, categorize: false,
  };
}

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
