// Checks the evaluator + encoder against real Loki answers from the golden corpus: literal-only
// queries exactly, and a few count queries over the loghub HDFS/HPC timestamps (which are known
// from the data generator: line i of file k at T0 + i s + k ms).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RangeAggregationExpr, SampleExpr } from '../../../src/logql/ast.js';
import { alignRangeGrid, encodeQueryValue, evalRangeAggregation, evaluateSampleExpr } from '../../../src/logql/eval/index.js';
import type { SeriesSamples, StepGrid, StepSeries } from '../../../src/logql/eval/index.js';
import { labelsKey } from '../../../src/util/labels.js';

interface Case { id: string; kind: string; params: Record<string, string>; status: number; body: any }
const cases = new Map<string, Case>();
for (const line of readFileSync('/work/shared/golden/cases.jsonl', 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const c = JSON.parse(line) as Case;
  cases.set(c.id, c);
}

const T0 = 1795132800000000000n;
const SEC = 1_000_000_000n;
const MIN = 60n * SEC;

function gridOf(c: Case): { grid: StepGrid; instant: boolean } {
  if (c.kind === 'query') {
    const t = BigInt(c.params.time!);
    return { grid: { startNs: t, endNs: t, stepNs: 0n }, instant: true };
  }
  const step = c.params.step!.endsWith('s') ? BigInt(c.params.step!.slice(0, -1)) * SEC : BigInt(c.params.step!) * SEC;
  return { grid: alignRangeGrid({ startNs: BigInt(c.params.start!), endNs: BigInt(c.params.end!), stepNs: step }), instant: false };
}

const noFetch = async (): Promise<StepSeries[]> => {
  throw new Error('no fetch expected');
};

const lit = (value: number): SampleExpr => ({ kind: 'literal', value });
const vec = (value: number): SampleExpr => ({ kind: 'vector', value });
const bin = (op: any, lhs: SampleExpr, rhs: SampleExpr, returnBool = false): SampleExpr => ({ kind: 'binOp', op, lhs, rhs, returnBool });

async function check(id: string, expr: SampleExpr, fetch = noFetch): Promise<void> {
  const c = cases.get(id)!;
  const { grid, instant } = gridOf(c);
  const v = await evaluateSampleExpr(expr, grid, instant, fetch, { maxQuerySeries: 500 });
  expect(encodeQueryValue(v)).toEqual({ resultType: c.body.data.resultType, result: c.body.data.result });
}

function loghubSeries(k: number, job: string): SeriesSamples {
  const ts: bigint[] = [];
  const values: number[] = [];
  for (let i = 0; i < 2000; i++) {
    ts.push(T0 + BigInt(i) * SEC + BigInt(k) * 1_000_000n);
    values.push(1);
  }
  const labels = [{ name: 'job', value: job }];
  return { labels, key: labelsKey(labels), ts, values };
}

function countRange(job: string, rangeNs: bigint): RangeAggregationExpr {
  return {
    kind: 'rangeAggregation',
    op: 'count_over_time',
    range: { kind: 'logRange', selector: { kind: 'logSelector', matchers: [{ type: '=', name: 'job', value: job }], pipeline: [] }, rangeNs, offsetNs: 0n },
  };
}

describe('golden literal queries', () => {
  it('g0249 vector(1) range', () => check('g0249', vec(1)));
  it('g0250 vector(1) + vector(2)', () => check('g0250', bin('+', vec(1), vec(2))));
  it('g0472 sum(vector(1))', () => check('g0472', { kind: 'vectorAggregation', op: 'sum', inner: vec(1) }));
  it('g0321 1 + 1 instant scalar (with Loki timestamp quirk)', () => check('g0321', bin('+', lit(1), lit(1))));
  it('g0322 2 > bool 1', () => check('g0322', bin('>', lit(2), lit(1), true)));
  it('g0336 label_replace(vector(1), "dst", "x", "", "")', () =>
    check('g0336', { kind: 'labelReplace', inner: vec(1), dst: 'dst', replacement: 'x', src: '', regex: '' }));
});

describe('golden count queries over loghub timestamps', () => {
  const fetchFor = (series: SeriesSamples[], expectNoLabels: boolean) => async (r: RangeAggregationExpr, grid: StepGrid) => {
    if (expectNoLabels) expect(r.grouping).toEqual({ without: false, labels: [] });
    return evalRangeAggregation(r, series, grid);
  };
  it('g0297 sum(count_over_time({job="hdfs"}[90s])) unaligned start', async () => {
    const c = cases.get('g0297')!;
    const { grid } = gridOf(c);
    const all = loghubSeries(3, 'hdfs');
    const one: SeriesSamples = { labels: [], key: '', ts: all.ts, values: all.values };
    const f = fetchFor([one], true);
    await check('g0297', { kind: 'vectorAggregation', op: 'sum', inner: countRange('hdfs', 90n * SEC) }, (r) => f(r, grid));
  });
  it('g0210 sum by (job) over hdfs|hpc [30s]', async () => {
    const c = cases.get('g0210')!;
    const { grid } = gridOf(c);
    const f = fetchFor([loghubSeries(3, 'hdfs'), loghubSeries(4, 'hpc')], false);
    const inner = countRange('hdfs', 30n * SEC);
    await check('g0210', { kind: 'vectorAggregation', op: 'sum', inner, grouping: { without: false, labels: ['job'] } }, (r) => f(r, grid));
  });
  it('g0171/g0172 absent_over_time({job="hdfs"}[1m])', async () => {
    for (const id of ['g0171', 'g0172']) {
      const c = cases.get(id)!;
      const { grid } = gridOf(c);
      const r: RangeAggregationExpr = { ...countRange('hdfs', MIN), op: 'absent_over_time' };
      await check(id, r, async (rr) => evalRangeAggregation(rr, [loghubSeries(3, 'hdfs')], grid));
    }
  });
  it('g0331 absent_over_time of a missing stream (instant)', async () => {
    const r: RangeAggregationExpr = { ...countRange('nonexistent', 10n * MIN), op: 'absent_over_time' };
    await check('g0331', r, async () => []);
  });
  it('g0481 count_over_time of a missing stream is an empty vector', async () => {
    await check('g0481', countRange('nonexistent', 5n * MIN), async () => []);
  });
});
