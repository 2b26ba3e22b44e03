// Half 1 of metric evaluation, run inside a scan worker: turns the extracted samples of each
// series into one value per query step for a range aggregation (count_over_time, rate, ...),
// following grafana/loki pkg/logql/range_vector.go. The window of step t is
// (t - range - offset, t - offset] (lower bound exclusive). Two monotone pointers walk each
// series once; count/rate are O(1) per step, sums use exact prefix sums when every partial sum
// is an exactly representable integer (else a sequential sum, bit-identical to Go), min/max use
// a monotone deque. absent_over_time is returned as per-series presence (value 1); the main
// thread turns it into the absent series after checking pipeline errors.
import type { RangeAggregationExpr } from '../ast.js';
import type { SeriesSamples, StepGrid, StepSeries } from './types.js';
import { stepCount } from './types.js';

/** Go time.Duration.Seconds() for a nanosecond count. */
export function durationSeconds(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

function sortedOrder(ts: bigint[]): Int32Array | null {
  for (let i = 1; i < ts.length; i++) {
    if (ts[i]! < ts[i - 1]!) {
      const idx = Array.from({ length: ts.length }, (_, j) => j);
      idx.sort((a, b) => (ts[a]! < ts[b]! ? -1 : ts[a]! > ts[b]! ? 1 : a - b));
      return Int32Array.from(idx);
    }
  }
  return null;
}

/** Prometheus/Loki extrapolated counter rate over samples [lo, hi) (timestamps relative ns). */
function extrapolatedRate(t: Float64Array, v: Float64Array, lo: number, hi: number, rangeNs: number, rangeEnd: number, seconds: number): number {
  const n = hi - lo;
  if (n < 2) return 0;
  const rangeStart = rangeEnd - rangeNs;
  let result = v[hi - 1]! - v[lo]!;
  let lastValue = 0;
  for (let i = lo; i < hi; i++) {
    const f = v[i]!;
    if (f < lastValue) result += lastValue;
    lastValue = f;
  }
  let durationToStart = (t[lo]! - rangeStart) / 1e9;
  let durationToEnd = (rangeEnd - t[hi - 1]!) / 1e9;
  const sampledInterval = (t[hi - 1]! - t[lo]!) / 1e9;
  const avgBetween = sampledInterval / (n - 1);
  const threshold = avgBetween * 1.1;
  if (durationToStart >= threshold) durationToStart = avgBetween / 2;
  let durationToZero = durationToStart;
  if (result > 0 && v[lo]! >= 0) durationToZero = sampledInterval * (v[lo]! / result);
  if (durationToZero < durationToStart) durationToStart = durationToZero;
  if (durationToEnd >= threshold) durationToEnd = avgBetween / 2;
  const extrapolateTo = sampledInterval + durationToStart + durationToEnd;
  result = result * (extrapolateTo / sampledInterval);
  return result / seconds;
}

/** Go math.Sqrt equivalent. */
const sqrt = Math.sqrt;

/** Loki's Quantile over values [lo, hi): sort ascending with NaN first, linear interpolation. */
export function quantileOf(q: number, vals: ArrayLike<number>, lo: number, hi: number): number {
  const n = hi - lo;
  if (n === 0) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  let nan = 0;
  const buf = new Float64Array(n);
  let m = 0;
  for (let i = lo; i < hi; i++) {
    const x = vals[i]!;
    if (x !== x) nan++;
    else buf[m++] = x;
  }
  const sorted = buf.subarray(0, m).sort();
  const at = (i: number): number => (i < nan ? NaN : sorted[i - nan]!);
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return at(lower) * (1 - weight) + at(upper) * weight;
}

type Kind = 'count' | 'rateCount' | 'sum' | 'sumRate' | 'avg' | 'min' | 'max' | 'stdvar' | 'stddev' | 'quantile' | 'first' | 'last' | 'rateCounter' | 'one';

function kindOf(expr: RangeAggregationExpr): Kind {
  const unwrap = expr.range.unwrap !== undefined;
  switch (expr.op) {
    case 'count_over_time': return 'count';
    case 'rate': return unwrap ? 'sumRate' : 'rateCount';
    case 'bytes_over_time': case 'sum_over_time': return 'sum';
    case 'bytes_rate': return 'sumRate';
    case 'avg_over_time': return 'avg';
    case 'min_over_time': return 'min';
    case 'max_over_time': return 'max';
    case 'stdvar_over_time': return 'stdvar';
    case 'stddev_over_time': return 'stddev';
    case 'quantile_over_time': return 'quantile';
    case 'first_over_time': return 'first';
    case 'last_over_time': return 'last';
    case 'rate_counter': return 'rateCounter';
    case 'absent_over_time': return 'one';
  }
}

/**
 * Evaluates a range aggregation over the samples of each series. Returns one StepSeries per
 * input series that has a value at one step at least (labels/key passed through). For
 * absent_over_time the result is the per-series presence with value 1 (see module comment).
 * Every sample of a given key must be in one SeriesSamples (non-additive ops cannot be merged).
 */
export function evalRangeAggregation(expr: RangeAggregationExpr, series: SeriesSamples[], grid: StepGrid): StepSeries[] {
  const nSteps = stepCount(grid);
  const rangeNs = expr.range.rangeNs;
  const offsetNs = expr.range.offsetNs;
  const base = grid.startNs - rangeNs - offsetNs;
  const rangeF = Number(rangeNs);
  const stepF = Number(grid.stepNs);
  const seconds = durationSeconds(rangeNs);
  const kind = kindOf(expr);
  const q = expr.param ?? 0;
  const out: StepSeries[] = [];

  for (const s of series) {
    const len = s.ts.length;
    if (len === 0) continue;
    const order = sortedOrder(s.ts);
    const t = new Float64Array(len);
    const v = new Float64Array(len);
    for (let i = 0; i < len; i++) {
      const j = order ? order[i]! : i;
      t[i] = Number(s.ts[j]! - base);
      v[i] = s.values[j]!;
    }
    const values = new Float64Array(nSteps);
    const present = new Uint8Array(nSteps);
    let any = false;

    // Exact prefix sums: usable when all values are dyadic (x * 2^m integral) and every partial
    // sum stays exactly representable, so the result equals Go's sequential float sum.
    let prefix: Float64Array | null = null;
    let scale = 1;
    if (kind === 'sum' || kind === 'sumRate') {
      let m = 0;
      let absSum = 0;
      for (let i = 0; i < len && m >= 0; i++) {
        const x = v[i]!;
        if (!Number.isFinite(x)) { m = -1; break; }
        absSum += Math.abs(x);
        while (m <= 40 && !Number.isInteger(x * 2 ** m)) m++;
        if (m > 40) m = -1;
      }
      if (m >= 0 && absSum * 2 ** m <= 4503599627370496) {
        scale = 2 ** m;
        prefix = new Float64Array(len + 1);
        let acc = 0;
        for (let i = 0; i < len; i++) { acc += v[i]! * scale; prefix[i + 1] = acc; }
      }
    }
    // Monotone deque for min/max when there is no NaN (Go's NaN rules need the sequential scan).
    let deque: Int32Array | null = null;
    let dqHead = 0;
    let dqTail = 0;
    let dqNext = 0;
    if (kind === 'min' || kind === 'max') {
      let hasNaN = false;
      for (let i = 0; i < len; i++) if (v[i] !== v[i]) { hasNaN = true; break; }
      if (!hasNaN) deque = new Int32Array(len);
    }

    let lo = 0;
    let hi = 0;
    for (let k = 0; k < nSteps; k++) {
      const end = rangeF + k * stepF;
      const start = end - rangeF;
      while (hi < len && t[hi]! <= end) hi++;
      while (lo < hi && t[lo]! <= start) lo++;
      if (deque) {
        // push new indices [dqNext, hi), pop expired (< lo)
        for (; dqNext < hi; dqNext++) {
          if (dqNext < lo) continue;
          const x = v[dqNext]!;
          if (kind === 'max') while (dqTail > dqHead && v[deque[dqTail - 1]!]! < x) dqTail--;
          else while (dqTail > dqHead && v[deque[dqTail - 1]!]! > x) dqTail--;
          deque[dqTail++] = dqNext;
        }
        while (dqTail > dqHead && deque[dqHead]! < lo) dqHead++;
      }
      if (lo >= hi) continue;
      let r: number;
      switch (kind) {
        case 'count': r = hi - lo; break;
        case 'rateCount': r = (hi - lo) / seconds; break;
        case 'one': r = 1; break;
        case 'sum':
        case 'sumRate': {
          if (prefix) r = (prefix[hi]! - prefix[lo]!) / scale;
          else { r = 0; for (let i = lo; i < hi; i++) r += v[i]!; }
          if (kind === 'sumRate') r = r / seconds;
          break;
        }
        case 'avg': {
          let mean = 0;
          let count = 0;
          for (let i = lo; i < hi; i++) {
            const x = v[i]!;
            count++;
            if (mean === Infinity || mean === -Infinity) {
              if ((x === Infinity || x === -Infinity) && mean > 0 === x > 0) continue;
              if (x !== Infinity && x !== -Infinity && x === x) continue;
            }
            mean += x / count - mean / count;
          }
          r = mean;
          break;
        }
        case 'max':
        case 'min': {
          if (deque) { r = v[deque[dqHead]!]!; break; }
          r = v[lo]!;
          for (let i = lo; i < hi; i++) {
            const x = v[i]!;
            if ((kind === 'max' ? x > r : x < r) || r !== r) r = x;
          }
          break;
        }
        case 'stdvar':
        case 'stddev': {
          let aux = 0;
          let count = 0;
          let mean = 0;
          for (let i = lo; i < hi; i++) {
            const x = v[i]!;
            count++;
            const delta = x - mean;
            mean += delta / count;
            aux += delta * (x - mean);
          }
          r = kind === 'stdvar' ? aux / count : sqrt(aux / count);
          break;
        }
        case 'quantile': r = quantileOf(q, v, lo, hi); break;
        case 'first': r = v[lo]!; break;
        case 'last': r = v[hi - 1]!; break;
        case 'rateCounter': r = extrapolatedRate(t, v, lo, hi, rangeF, end, seconds); break;
      }
      values[k] = r;
      present[k] = 1;
      any = true;
    }
    if (any) out.push({ labels: s.labels, key: s.key, values, present });
  }
  return out;
}
