// Shared types of the LogQL metric evaluator: the step grid, the per-series samples a scan
// worker delivers, the per-step series a range aggregation produces, the query result value,
// and the evaluator's error classes (each carrying the HTTP status Loki answers with).
// Also holds Go-compatible label-set ordering used for result sorting.
import type { Labels } from '../../util/labels.js';
import { labelsToString } from '../../util/labels.js';

/** Steps t = start + k*step while t <= end. Instant query: start=end, step=0 (one step). */
export interface StepGrid {
  startNs: bigint;
  endNs: bigint;
  stepNs: bigint;
}

/** All samples of one (already label-reduced) series; ts ascending (sorted stably if not). */
export interface SeriesSamples {
  labels: Labels;
  key: string;
  ts: bigint[];
  values: number[];
}

/** One value slot per grid step; present[k] = 1 when the series has a value at step k. */
export interface StepSeries {
  labels: Labels;
  key: string;
  values: Float64Array;
  present: Uint8Array;
}

export type QueryValue =
  | { type: 'matrix'; series: { labels: Labels; points: { tsNs: bigint; value: number }[] }[] }
  | { type: 'vector'; samples: { labels: Labels; tsNs: bigint; value: number }[] }
  | { type: 'scalar'; tsNs: bigint; value: number };

export interface EvalLimits {
  maxQuerySeries: number;
  /**
   * Loki's `split_queries_by_interval` (default 1h; 0n disables). Range metric queries are
   * split at these boundaries by the query frontend and the series limit applies per split.
   */
  querySplitNs?: bigint;
}

/**
 * Loki's query frontend step-aligns every range metric query (splitters.go alignStartEnd):
 * start rounded down, end rounded up to a multiple of step (absolute epoch). Apply this to the
 * grid of every query_range metric query before evaluating (not to instant queries).
 */
export function alignRangeGrid(grid: StepGrid): StepGrid {
  const step = grid.stepNs;
  if (step <= 0n) return grid;
  let end = grid.endNs;
  const mod = end % step;
  if (mod !== 0n) end += step - mod;
  return { startNs: grid.startNs - (grid.startNs % step), endNs: end, stepNs: step };
}

/** Base class of evaluation errors; `status` is the HTTP status Loki answers with. */
export class EvalError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
    this.name = 'EvalError';
  }
}

export const ERROR_LABEL = '__error__';
export const PRESERVE_ERROR_LABEL = '__preserve_error__';

/** A sample with an `__error__` label reached a metric evaluation (Loki logqlmodel.PipelineError). */
export class PipelineError extends EvalError {
  readonly errorType: string;
  readonly labels: Labels;
  constructor(labels: Labels) {
    let t = '';
    for (const l of labels) if (l.name === ERROR_LABEL) t = l.value;
    super(
      `pipeline error: '${t}' for series: '${labelsToString(labels)}'.\n` +
        `Use a label filter to intentionally skip this error. (e.g | __error__!="${t}").\n` +
        `To skip all potential errors you can match empty errors.(e.g __error__="")\n` +
        `The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n`,
      400,
    );
    this.errorType = t;
    this.labels = labels;
    this.name = 'PipelineError';
  }
}

export class SeriesLimitError extends EvalError {
  constructor(limit: number) {
    super(
      `maximum number of series (${limit}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()`,
      400,
    );
    this.name = 'SeriesLimitError';
  }
}

/** `approx_topk` without `-limits.shard_aggregations=approx_topk`: Loki answers 500. */
export class ApproxTopkError extends EvalError {
  constructor() {
    super('approx_topk is not enabled. See -limits.shard_aggregations', 500);
    this.name = 'ApproxTopkError';
  }
}

/** Number of steps of a grid (at least one). */
export function stepCount(grid: StepGrid): number {
  if (grid.stepNs <= 0n) return 1;
  if (grid.endNs < grid.startNs) return 0;
  return Number((grid.endNs - grid.startNs) / grid.stepNs) + 1;
}

/** Go string comparison (UTF-8 byte order == code point order). */
export function goStringCompare(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if ((ca >= 0xd800 && ca <= 0xdfff) || (cb >= 0xd800 && cb <= 0xdfff)) {
      return a.codePointAt(i)! - b.codePointAt(i)!;
    }
    return ca - cb;
  }
  return a.length - b.length;
}

/** Prometheus labels.Compare: label by label (name, then value), then length. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return goStringCompare(x.name, y.name);
    if (x.value !== y.value) return goStringCompare(x.value, y.value);
  }
  return a.length - b.length;
}
