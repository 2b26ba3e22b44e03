// Range aggregation over hand-made samples: window bounds (left-open, right-closed), offsets,
// instant steps, each operation's value (incl. Loki's rate_counter extrapolation and quantile),
// unsorted input, and the sliding-window paths against a naive re-scan.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RangeAggregationExpr, RangeOp } from '../../../src/logql/ast.js';
import { evalRangeAggregation } from '../../../src/logql/eval/index.js';
import type { SeriesSamples, StepGrid } from '../../../src/logql/eval/index.js';

const S = 1_000_000_000n;

function expr(op: RangeOp, rangeS: number, opts: { offsetS?: number; unwrap?: boolean; param?: number } = {}): RangeAggregationExpr {
  return {
    kind: 'rangeAggregation',
    op,
    param: opts.param,
    range: {
      kind: 'logRange',
      selector: { kind: 'logSelector', matchers: [{ type: '=', name: 'a', value: 'b' }], pipeline: [] },
      rangeNs: BigInt(rangeS) * S,
      offsetNs: BigInt(opts.offsetS ?? 0) * S,
      unwrap: opts.unwrap ? { identifier: 'x', conversion: '', postFilters: [] } : undefined,
    },
  };
}

function series(points: [number, number][]): SeriesSamples {
  return { labels: [{ name: 'a', value: 'b' }], key: 'k', ts: points.map(([t]) => BigInt(t) * S), values: points.map(([, v]) => v) };
}

const grid = (start: number, end: number, step: number): StepGrid => ({ startNs: BigInt(start) * S, endNs: BigInt(end) * S, stepNs: BigInt(step) * S });

function run(e: RangeAggregationExpr, pts: [number, number][], g: StepGrid): (number | null)[] {
  const out = evalRangeAggregation(e, [series(pts)], g);
  if (out.length === 0) return [];
  const s = out[0]!;
  return Array.from(s.values, (v, i) => (s.present[i] ? v : null));
}

describe('evalRangeAggregation windows', () => {
  const pts: [number, number][] = [[10, 1], [20, 2], [30, 3], [40, 4]];
  it('count_over_time uses (t-range, t]', () => {
    expect(run(expr('count_over_time', 10), pts, grid(10, 40, 10))).toEqual([1, 1, 1, 1]);
    expect(run(expr('count_over_time', 20), pts, grid(10, 50, 10))).toEqual([1, 2, 2, 2, 1]);
    expect(run(expr('count_over_time', 5), pts, grid(5, 45, 10))).toEqual([]);
    expect(run(expr('count_over_time', 5), pts, grid(5, 45, 5))).toEqual([null, 1, null, 1, null, 1, null, 1, null]);
  });
  it('offset shifts the window back but keeps the step timestamp', () => {
    expect(run(expr('count_over_time', 10, { offsetS: 10 }), pts, grid(20, 50, 10))).toEqual([1, 1, 1, 1]);
  });
  it('instant query: one step', () => {
    expect(run(expr('count_over_time', 25), pts, grid(40, 40, 0))).toEqual([3]);
    expect(run(expr('count_over_time', 20), pts, grid(40, 40, 0))).toEqual([2]);
  });
  it('series without any point in the grid are dropped', () => {
    expect(evalRangeAggregation(expr('count_over_time', 5), [series([[100, 1]])], grid(10, 40, 10))).toEqual([]);
  });
  it('range 0 yields nothing', () => {
    expect(run(expr('rate', 0), pts, grid(10, 40, 10))).toEqual([]);
  });
  it('unsorted input is sorted stably', () => {
    expect(run(expr('first_over_time', 100, { unwrap: true }), [[30, 3], [10, 1], [10, 7], [20, 2]], grid(40, 40, 0))).toEqual([1]);
    expect(run(expr('last_over_time', 100, { unwrap: true }), [[30, 3], [10, 1], [40, 7], [40, 9]], grid(40, 40, 0))).toEqual([9]);
  });
});

describe('evalRangeAggregation operations', () => {
  const pts: [number, number][] = [[1, 4], [2, 2], [3, 8], [4, 6]];
  const at = (op: RangeOp, opts: { unwrap?: boolean; param?: number } = {}) => run(expr(op, 10, { unwrap: true, ...opts }), pts, grid(10, 10, 0))[0];
  it('values', () => {
    expect(run(expr('rate', 10), pts, grid(10, 10, 0))[0]).toBe(0.4);
    expect(at('rate')).toBe(2);
    expect(run(expr('bytes_rate', 10), pts, grid(10, 10, 0))[0]).toBe(2);
    expect(run(expr('bytes_over_time', 10), pts, grid(10, 10, 0))[0]).toBe(20);
    expect(at('sum_over_time')).toBe(20);
    expect(at('avg_over_time')).toBe(5);
    expect(at('min_over_time')).toBe(2);
    expect(at('max_over_time')).toBe(8);
    expect(at('stdvar_over_time')).toBeCloseTo(5, 12);
    expect(at('stddev_over_time')).toBeCloseTo(Math.sqrt(5), 12);
    expect(at('first_over_time')).toBe(4);
    expect(at('last_over_time')).toBe(6);
    expect(at('quantile_over_time', { param: 0.5 })).toBe(5);
    expect(at('quantile_over_time', { param: 0.25 })).toBe(3.5);
    expect(at('quantile_over_time', { param: 1.5 })).toBe(Infinity);
    expect(at('quantile_over_time', { param: -1 })).toBe(-Infinity);
    expect(run(expr('absent_over_time', 10), pts, grid(10, 10, 0))[0]).toBe(1);
  });
  it('rate_counter handles resets and extrapolates like Loki', () => {
    // window (0, 10]; samples at 2,4,6,8: 10,20,5,15 -> increase 15-10 + 20 (reset) = 25
    const v = run(expr('rate_counter', 10, { unwrap: true }), [[2, 10], [4, 20], [6, 5], [8, 15]], grid(10, 10, 0))[0]!;
    // durationToStart 2 < 2.2 (threshold) stays 2; zero point 6*(10/25)=2.4 > 2; durationToEnd 2 stays
    expect(v).toBeCloseTo((25 * (10 / 6)) / 10, 12);
    expect(run(expr('rate_counter', 10, { unwrap: true }), [[5, 3]], grid(10, 10, 0))[0]).toBe(0);
  });
  it('max/min NaN rules', () => {
    const r = (op: RangeOp, p: [number, number][]) => run(expr(op, 10, { unwrap: true }), p, grid(10, 10, 0))[0];
    expect(r('max_over_time', [[1, NaN], [2, 1], [3, NaN]])).toBe(1);
    expect(r('max_over_time', [[1, NaN]])).toBeNaN();
    expect(r('min_over_time', [[1, NaN], [2, 3], [3, 2]])).toBe(2);
  });
  it('quantile sorts NaN first', () => {
    expect(run(expr('quantile_over_time', 10, { unwrap: true, param: 0 }), [[1, 5], [2, NaN]], grid(10, 10, 0))[0]).toBeNaN();
    expect(run(expr('quantile_over_time', 10, { unwrap: true, param: 1 }), [[1, 5], [2, NaN]], grid(10, 10, 0))[0]).toBe(5);
  });
});

describe('sliding windows equal a naive re-scan', () => {
  const ops: RangeOp[] = ['count_over_time', 'sum_over_time', 'min_over_time', 'max_over_time', 'rate', 'avg_over_time', 'last_over_time'];
  it('random data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.oneof(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -400, max: 400 }).map((x) => x / 8), fc.double({ min: -1e6, max: 1e6, noNaN: true }))), { maxLength: 60 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom(...ops),
        (raw, range, step, op) => {
          const pts = raw.map(([t, v]) => [t, v] as [number, number]).sort((a, b) => a[0] - b[0]);
          const e = expr(op, range, { unwrap: op !== 'count_over_time' });
          const got = run(e, pts, grid(0, 200, step));
          const want: (number | null)[] = [];
          for (let t = 0; t <= 200; t += step) {
            const w = pts.filter(([ts]) => ts > t - range && ts <= t).map(([, v]) => v);
            if (w.length === 0) { want.push(null); continue; }
            let r: number;
            switch (op) {
              case 'count_over_time': r = w.length; break;
              case 'sum_over_time': r = w.reduce((a, b) => a + b, 0); break;
              case 'rate': r = w.reduce((a, b) => a + b, 0) / range; break;
              case 'min_over_time': r = Math.min(...w); break;
              case 'max_over_time': r = Math.max(...w); break;
              case 'last_over_time': r = w[w.length - 1]!; break;
              default: { let m = 0; let c = 0; for (const x of w) { c++; m += x / c - m / c; } r = m; }
            }
            want.push(r);
          }
          if (got.length === 0) expect(want.every((x) => x === null)).toBe(true);
          else expect(got).toEqual(want);
        },
      ),
      { numRuns: 200 },
    );
  });
});
