// evaluateSampleExpr over hand-made range aggregation results: vector aggregations, binary
// operations with vector matching (and Loki's error texts), literals, label_replace, result
// shapes and ordering, pipeline errors and the series limit (incl. downstream sub-queries).
import { describe, expect, it } from 'vitest';
import type { BinaryOp, RangeAggregationExpr, SampleExpr, VectorMatching, VectorOp } from '../../../src/logql/ast.js';
import { EvalError, PipelineError, SeriesLimitError, evaluateSampleExpr } from '../../../src/logql/eval/index.js';
import type { QueryValue, StepGrid, StepSeries } from '../../../src/logql/eval/index.js';
import { expandTemplate, mergeBinOp, splitStartSteps } from '../../../src/logql/eval/evaluate.js';
import { labelsFromObject, labelsKey, labelsToObject } from '../../../src/util/labels.js';

const S = 1_000_000_000n;
const G3: StepGrid = { startNs: 100n * S, endNs: 120n * S, stepNs: 10n * S };
const INSTANT: StepGrid = { startNs: 100n * S, endNs: 100n * S, stepNs: 0n };

function range(name: string, op: RangeAggregationExpr['op'] = 'count_over_time', matchers = [{ type: '=' as const, name: 'job', value: name }]): RangeAggregationExpr {
  return { kind: 'rangeAggregation', op, range: { kind: 'logRange', selector: { kind: 'logSelector', matchers, pipeline: [] }, rangeNs: 60n * S, offsetNs: 0n } };
}

function ss(labels: Record<string, string>, values: (number | null)[]): StepSeries {
  const l = labelsFromObject(labels);
  return { labels: l, key: labelsKey(l), values: Float64Array.from(values, (v) => v ?? 0), present: Uint8Array.from(values, (v) => (v === null ? 0 : 1)) };
}

type Data = Record<string, StepSeries[]>;
function fetcher(data: Data) {
  return async (r: RangeAggregationExpr) => data[r.range.selector.matchers[0]!.value] ?? [];
}
const agg = (op: VectorOp, inner: SampleExpr, by?: string[], param?: number, without = false): SampleExpr => ({
  kind: 'vectorAggregation', op, inner, param, grouping: by ? { without, labels: by } : undefined,
});
const bin = (op: BinaryOp, lhs: SampleExpr, rhs: SampleExpr, matching?: VectorMatching, returnBool = false): SampleExpr => ({ kind: 'binOp', op, lhs, rhs, matching, returnBool });
const lit = (value: number): SampleExpr => ({ kind: 'literal', value });

async function ev(expr: SampleExpr, data: Data, grid = G3, max = 500): Promise<QueryValue> {
  return evaluateSampleExpr(expr, grid, grid.stepNs === 0n, fetcher(data), { maxQuerySeries: max });
}
function simple(v: QueryValue): unknown {
  if (v.type === 'matrix') return v.series.map((s) => [labelsToObject(s.labels), s.points.map((p) => [Number(p.tsNs / S), p.value])]);
  if (v.type === 'vector') return v.samples.map((s) => [labelsToObject(s.labels), s.value]);
  return [Number(v.tsNs / S), v.value];
}

const data: Data = {
  a: [ss({ job: 'a', host: 'h1' }, [1, 2, 3]), ss({ job: 'a', host: 'h2' }, [10, null, 30])],
  b: [ss({ job: 'b', host: 'h1' }, [5, 5, 5])],
};

describe('vector aggregations', () => {
  it('sum/avg/min/max/count/stddev/stdvar by and without', async () => {
    expect(simple(await ev(agg('sum', range('a')), data))).toEqual([[{}, [[100, 11], [110, 2], [120, 33]]]]);
    expect(simple(await ev(agg('avg', range('a'), ['job']), data))).toEqual([[{ job: 'a' }, [[100, 5.5], [110, 2], [120, 16.5]]]]);
    expect(simple(await ev(agg('max', range('a'), ['host'], undefined, true), data))).toEqual([[{ job: 'a' }, [[100, 10], [110, 2], [120, 30]]]]);
    expect(simple(await ev(agg('min', range('a'), ['host']), data))).toEqual([
      [{ host: 'h1' }, [[100, 1], [110, 2], [120, 3]]],
      [{ host: 'h2' }, [[100, 10], [120, 30]]],
    ]);
    expect(simple(await ev(agg('count', range('a')), data))).toEqual([[{}, [[100, 2], [110, 1], [120, 2]]]]);
    expect(simple(await ev(agg('stdvar', range('a')), data))).toEqual([[{}, [[100, 20.25], [110, 0], [120, 182.25]]]]);
    expect(simple(await ev(agg('stddev', range('a')), data))).toEqual([[{}, [[100, 4.5], [110, 0], [120, 13.5]]]]);
  });
  it('topk/bottomk keep the input labels; instant results sort by labels, sort() by value', async () => {
    const d: Data = { a: [ss({ job: 'a', x: '1' }, [3]), ss({ job: 'a', x: '2' }, [1]), ss({ job: 'a', x: '3' }, [2])] };
    expect(simple(await ev(agg('topk', range('a'), undefined, 2), d, INSTANT))).toEqual([[{ job: 'a', x: '1' }, 3], [{ job: 'a', x: '3' }, 2]]);
    expect(simple(await ev(agg('bottomk', range('a'), undefined, 1), d, INSTANT))).toEqual([[{ job: 'a', x: '2' }, 1]]);
    expect(simple(await ev(agg('sort', range('a')), d, INSTANT)).map((x: any) => x[1])).toEqual([1, 2, 3]);
    expect(simple(await ev(agg('sort_desc', range('a')), d, INSTANT)).map((x: any) => x[1])).toEqual([3, 2, 1]);
    expect(simple(await ev(agg('topk', range('a'), undefined, 5), d, INSTANT)).map((x: any) => x[1])).toEqual([3, 1, 2]);
  });
  it('approx_topk answers 500', async () => {
    await expect(ev(agg('approx_topk', range('a'), undefined, 2), data)).rejects.toMatchObject({ status: 500, message: 'approx_topk is not enabled. See -limits.shard_aggregations' });
  });
  it('a parent sum injects its grouping into the fetched range aggregation', async () => {
    const seen: RangeAggregationExpr[] = [];
    await evaluateSampleExpr(agg('sum', range('a'), ['job']), G3, false, async (r) => { seen.push(r); return []; }, { maxQuerySeries: 500 });
    await evaluateSampleExpr(agg('sum', range('a', 'max_over_time')), G3, false, async (r) => { seen.push(r); return []; }, { maxQuerySeries: 500 });
    expect(seen[0]!.grouping).toEqual({ without: false, labels: ['job'] });
    expect(seen[1]!.grouping).toBeUndefined();
  });
});

describe('binary operations', () => {
  it('literal arithmetic and filtering comparisons keep the vector value', async () => {
    expect(simple(await ev(bin('*', agg('sum', range('b')), lit(2)), data))).toEqual([[{}, [[100, 10], [110, 10], [120, 10]]]]);
    expect(simple(await ev(bin('-', lit(1), agg('sum', range('b'))), data))).toEqual([[{}, [[100, -4], [110, -4], [120, -4]]]]);
    expect(simple(await ev(bin('>', range('a'), lit(2)), data))).toEqual([
      [{ host: 'h1', job: 'a' }, [[120, 3]]],
      [{ host: 'h2', job: 'a' }, [[100, 10], [120, 30]]],
    ]);
    expect(simple(await ev(bin('<', lit(2), range('a')), data))).toEqual([
      [{ host: 'h1', job: 'a' }, [[120, 3]]],
      [{ host: 'h2', job: 'a' }, [[100, 10], [120, 30]]],
    ]);
    expect(simple(await ev(bin('>', range('a'), lit(2), undefined, true), data))[0]).toEqual([{ host: 'h1', job: 'a' }, [[100, 0], [110, 0], [120, 1]]]);
    expect(simple(await ev(bin('/', agg('sum', range('b')), lit(0)), data))).toEqual([[{}, [[100, NaN], [110, NaN], [120, NaN]]]]);
  });
  it('literal-only expressions fold; scalar on instant, matrix on range', async () => {
    expect(await ev(bin('+', lit(1), bin('*', lit(2), lit(3))), {}, INSTANT)).toEqual({ type: 'scalar', tsNs: 100n * S, value: 7 });
    expect(simple(await ev(bin('>', lit(1), lit(2)), {}, G3))).toEqual([[{}, [[100, 0], [110, 0], [120, 0]]]]);
    expect(simple(await ev({ kind: 'vector', value: 3 }, {}, INSTANT))).toEqual([[{}, 3]]);
  });
  it('one-to-one matching with on/ignoring reduces labels', async () => {
    const m: VectorMatching = { on: true, labels: ['host'], card: 'one-to-one', include: [] };
    expect(simple(await ev(bin('+', range('a'), range('b'), m), data))).toEqual([[{ host: 'h1' }, [[100, 6], [110, 7], [120, 8]]]]);
    const ig: VectorMatching = { on: false, labels: ['job'], card: 'one-to-one', include: [] };
    expect(simple(await ev(bin('-', range('a'), range('b'), ig), data))).toEqual([[{ host: 'h1' }, [[100, -4], [110, -3], [120, -2]]]]);
  });
  it('group_left takes include labels from the one side', async () => {
    const d: Data = { a: data.a!, c: [ss({ job: 'c', team: 't1' }, [2, 2, 2])] };
    const m: VectorMatching = { on: true, labels: [], card: 'many-to-one', include: ['team'] };
    expect(simple(await ev(bin('*', range('a'), range('c'), m), d))).toEqual([
      [{ host: 'h1', job: 'a', team: 't1' }, [[100, 2], [110, 4], [120, 6]]],
      [{ host: 'h2', job: 'a', team: 't1' }, [[100, 20], [120, 60]]],
    ]);
    const r: VectorMatching = { on: true, labels: [], card: 'one-to-many', include: [] };
    expect(simple(await ev(bin('/', range('c'), range('a'), r), d))).toEqual([
      [{ host: 'h1', job: 'a' }, [[100, 2], [110, 1], [120, 2 / 3]]],
      [{ host: 'h2', job: 'a' }, [[100, 0.2], [120, 2 / 30]]],
    ]);
  });
  it('matching errors use Loki texts', async () => {
    const on: VectorMatching = { on: true, labels: [], card: 'one-to-one', include: [] };
    await expect(ev(bin('+', range('b'), range('a'), on), data)).rejects.toMatchObject({
      status: 500,
      message: 'found duplicate series on the right hand-side;many-to-many matching not allowed: matching labels must be unique on one side',
    });
    await expect(ev(bin('+', range('a'), range('b'), on), data)).rejects.toThrow('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
    const left: VectorMatching = { on: true, labels: [], card: 'one-to-many', include: [] };
    await expect(ev(bin('+', range('a'), range('b'), left), data)).rejects.toThrow('found duplicate series on the left hand-side;');
    const d: Data = { a: [ss({ job: 'a', x: '1' }, [1]), ss({ job: 'a', x: '2' }, [1])], b: [ss({ job: 'b' }, [1])] };
    const gl: VectorMatching = { on: true, labels: [], card: 'many-to-one', include: ['job'] };
    await expect(ev(bin('+', range('a'), range('b'), gl), d, INSTANT)).resolves.toBeDefined();
    const d2: Data = { a: [ss({ job: 'a', x: '1' }, [1]), ss({ job: 'z', x: '1' }, [1])], b: [ss({ job: 'b' }, [1])] };
    await expect(ev(bin('+', range('a'), range('b'), gl), d2, INSTANT)).rejects.toThrow('multiple matches for labels: grouping labels must ensure unique matches');
  });
  it('set operations', async () => {
    const ig: VectorMatching = { on: true, labels: ['host'], card: 'many-to-many', include: [] };
    expect(simple(await ev(bin('and', range('a'), range('b'), ig), data))).toEqual([[{ host: 'h1', job: 'a' }, [[100, 1], [110, 2], [120, 3]]]]);
    expect(simple(await ev(bin('unless', range('a'), range('b'), ig), data))).toEqual([[{ host: 'h2', job: 'a' }, [[100, 10], [120, 30]]]]);
    expect((simple(await ev(bin('or', range('a'), range('b')), data)) as unknown[]).length).toBe(3);
  });
  it('mergeBinOp matches Go arithmetic corner cases', () => {
    expect(mergeBinOp('%', 7, 0, false, false, false)).toBeNaN();
    expect(mergeBinOp('%', -7, 3, false, false, false)).toBe(-1);
    expect(mergeBinOp('^', 1, NaN, false, false, false)).toBe(1);
    expect(mergeBinOp('^', NaN, 0, false, false, false)).toBe(1);
    expect(mergeBinOp('==', 1, 2, false, true, true)).toBeNull();
    expect(mergeBinOp('==', 1, 2, false, false, true)).toBe(0);
  });
});

describe('label_replace', () => {
  it('expands like Go regexp.Expand', () => {
    expect(expandTemplate('$1-${2}x$$ $name ${name}', ['ab', 'a', 'b'], { name: 'N' })).toBe('a-bx$ N N');
    expect(expandTemplate('$1x', ['ab', 'a'], undefined)).toBe('');
    expect(expandTemplate('${1', ['ab', 'a'], undefined)).toBe('${1');
    expect(expandTemplate('$', ['ab', 'a'], undefined)).toBe('$');
  });
  it('replaces on full-match only and removes dst on empty result', async () => {
    const e = (repl: string, src: string, re: string): SampleExpr => ({ kind: 'labelReplace', inner: range('a'), dst: 'host', replacement: repl, src, regex: re });
    expect(simple(await ev(e('$1', 'host', 'h(.)'), data, INSTANT))).toEqual([[{ host: '1', job: 'a' }, 1], [{ host: '2', job: 'a' }, 10]]);
    expect(simple(await ev(e('$1', 'host', '1'), data, INSTANT))).toEqual([[{ host: 'h1', job: 'a' }, 1], [{ host: 'h2', job: 'a' }, 10]]);
    expect(simple(await ev(e('', 'host', 'h1'), data, INSTANT))).toEqual([[{ host: 'h2', job: 'a' }, 10], [{ job: 'a' }, 1]]);
  });
});

describe('errors and limits', () => {
  it('pipeline errors name the series', async () => {
    const d: Data = { a: [ss({ job: 'a' }, [1, null, null]), ss({ __error__: 'JSONParserErr', job: 'a' }, [null, null, 1])] };
    const p = ev(agg('sum', range('a'), ['job']), d);
    await expect(p).rejects.toBeInstanceOf(PipelineError);
    await expect(p).rejects.toMatchObject({
      status: 400,
      message:
        `pipeline error: 'JSONParserErr' for series: '{__error__="JSONParserErr", job="a"}'.\n` +
        `Use a label filter to intentionally skip this error. (e.g | __error__!="JSONParserErr").\n` +
        `To skip all potential errors you can match empty errors.(e.g __error__="")\n` +
        `The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n`,
    });
    const ok: Data = { a: [ss({ __error__: 'X', __preserve_error__: 'true', job: 'a' }, [1, 1, 1])] };
    await expect(ev(range('a'), ok)).resolves.toBeDefined();
  });
  it('series limit on the final result', async () => {
    await expect(ev(range('a'), data, G3, 1)).rejects.toBeInstanceOf(SeriesLimitError);
    await expect(ev(range('a'), data, G3, 1)).rejects.toMatchObject({ status: 400, message: expect.stringContaining('maximum number of series (1) reached for a single query;') });
    await expect(ev(agg('sum', range('a')), data, G3, 1)).resolves.toBeDefined();
  });
  it('series limit on downstream sub-queries (stddev over an unaggregated range)', async () => {
    await expect(ev(agg('stddev', range('a'), ['job']), data, G3, 1)).rejects.toBeInstanceOf(SeriesLimitError);
    await expect(ev(agg('stddev', agg('sum', range('a'), ['job']), ['job']), data, G3, 1)).resolves.toBeDefined();
  });
  it('absent_over_time labels come from equality matchers only', async () => {
    const r = range('x', 'absent_over_time', [
      { type: '=', name: 'job', value: 'x' },
      { type: '=~', name: 'host', value: 'h.*' },
      { type: '=', name: 'ns', value: 'a' },
      { type: '=', name: 'ns', value: 'b' },
    ]);
    expect(simple(await ev(r, { x: [ss({ job: 'x' }, [1, null, null])] }))).toEqual([[{ job: 'x' }, [[110, 1], [120, 1]]]]);
  });
  it('splits reset the distinct-series count at 1h boundaries', () => {
    const H = 3600n * S;
    const g: StepGrid = { startNs: 0n, endNs: 3n * H, stepNs: 1800n * S };
    expect([...splitStartSteps(g, H, 0n)].sort()).toEqual([0, 2, 4]);
    expect([...splitStartSteps(g, H, 2n * H)].sort()).toEqual([0, 4]);
    expect(EvalError).toBeDefined();
  });
});
