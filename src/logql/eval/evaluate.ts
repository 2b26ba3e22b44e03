// Half 2 of metric evaluation, run on the main thread: everything above the range
// aggregations (vector aggregations, binary operations with Prometheus vector matching,
// literals, vector(), label_replace), the pipeline-error check and the series limit, and the
// final result shaping (matrix/vector/scalar) as grafana/loki pkg/logql/engine.go and
// evaluator.go do. Evaluation is step by step like Loki's StepEvaluators, so the first error
// in step order wins. Sub-expressions that Loki's query frontend would ship to queriers as
// separate "downstream" queries (shardmapper.go) are evaluated first and get their own series
// limit check, which is how e.g. `stddev by (app) (count_over_time(...))` fails in Loki.
import type {
  BinOpExpr,
  BinaryOp,
  Grouping,
  LabelReplaceExpr,
  RangeAggregationExpr,
  SampleExpr,
  VectorAggregationExpr,
  VectorMatching,
} from '../ast.js';
import type { Labels } from '../../util/labels.js';
import { labelsKey, sortLabels } from '../../util/labels.js';
import { compileAnchoredRegex, RegexError } from '../../util/regex.js';
import type { Regex } from '../../util/regex.js';
import type { EvalLimits, QueryValue, StepGrid, StepSeries } from './types.js';
import {
  ApproxTopkError,
  compareLabels,
  ERROR_LABEL,
  EvalError,
  PipelineError,
  PRESERVE_ERROR_LABEL,
  SeriesLimitError,
  stepCount,
} from './types.js';

interface Meta {
  labels: Labels;
  key: string;
}
interface Sample {
  m: Meta;
  v: number;
}
interface StepEv {
  next(k: number): Sample[];
}

const EMPTY_META: Meta = { labels: [], key: '' };

function meta(labels: Labels): Meta {
  return { labels, key: labelsKey(labels) };
}

function getLabel(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

// ------------------------------------------------------------------ binary op arithmetic

/** Go math.Pow special cases that differ from JS `**`. */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if ((x === -1) && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}

const COMPARISON = new Set<BinaryOp>(['==', '!=', '>', '>=', '<', '<=']);

/**
 * Loki syntax.MergeBinOp on values: returns the merged value or null when a filtering
 * comparison drops the sample. With a filtering comparison the value of the vector side
 * (left, or right when swap) is returned.
 */
export function mergeBinOp(op: BinaryOp, left: number, right: number, swap: boolean, filter: boolean, isVectorComparison: boolean): number | null {
  let res: number | null;
  switch (op) {
    case '+': res = left + right; break;
    case '-': res = left - right; break;
    case '*': res = left * right; break;
    case '/': res = right === 0 ? NaN : left / right; break;
    case '%': res = right === 0 ? NaN : left % right; break;
    case '^': res = goPow(left, right); break;
    default: {
      let ok: boolean;
      switch (op) {
        case '==': ok = left === right; break;
        case '!=': ok = left !== right; break;
        case '>': ok = left > right; break;
        case '>=': ok = left >= right; break;
        case '<': ok = left < right; break;
        case '<=': ok = left <= right; break;
        default: throw new EvalError(`should never happen: unexpected operation: (${op})`, 500);
      }
      res = ok ? 1 : filter ? null : 0;
    }
  }
  if (!isVectorComparison) return res;
  if (filter && res !== null) return swap ? right : left;
  return res;
}

function goFloatF(v: number): string {
  // Go's %f: 6 decimals
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return v.toFixed(6);
}

/** Folds binary operations whose legs are both literals, as Loki's parser does. */
export function foldLiterals(expr: SampleExpr): SampleExpr {
  switch (expr.kind) {
    case 'binOp': {
      const lhs = foldLiterals(expr.lhs);
      const rhs = foldLiterals(expr.rhs);
      const isSet = expr.op === 'and' || expr.op === 'or' || expr.op === 'unless';
      if (isSet && lhs.kind === 'literal') {
        throw new EvalError(`parse error : unexpected literal for left leg of logical/set binary operation (${expr.op}): ${goFloatF(lhs.value)}`, 400);
      }
      if (isSet && rhs.kind === 'literal') {
        throw new EvalError(`parse error : unexpected literal for right leg of logical/set binary operation (${expr.op}): ${goFloatF(rhs.value)}`, 400);
      }
      if (lhs.kind === 'literal' && rhs.kind === 'literal') {
        return { kind: 'literal', value: mergeBinOp(expr.op, lhs.value, rhs.value, false, false, false)! };
      }
      if (lhs === expr.lhs && rhs === expr.rhs) return expr;
      return { ...expr, lhs, rhs };
    }
    case 'vectorAggregation': {
      const inner = foldLiterals(expr.inner);
      return inner === expr.inner ? expr : { ...expr, inner };
    }
    case 'labelReplace': {
      const inner = foldLiterals(expr.inner);
      return inner === expr.inner ? expr : { ...expr, inner };
    }
    default:
      return expr;
  }
}

// ------------------------------------------------------------------ step evaluators

class RangeEv implements StepEv {
  private readonly metas: Meta[];
  constructor(private readonly series: StepSeries[], private readonly absent: Meta | null) {
    this.metas = series.map((s) => ({ labels: s.labels, key: s.key }));
  }
  next(k: number): Sample[] {
    const out: Sample[] = [];
    const series = this.series;
    for (let i = 0; i < series.length; i++) {
      const s = series[i]!;
      if (s.present[k] !== 1) continue;
      checkPipelineError(s.labels);
      out.push({ m: this.metas[i]!, v: s.values[k]! });
    }
    if (this.absent) return out.length > 0 ? [] : [{ m: this.absent, v: 1 }];
    return out;
  }
}

function checkPipelineError(labels: Labels): void {
  let hasErr = false;
  let preserve = '';
  for (const l of labels) {
    if (l.name === ERROR_LABEL) hasErr = true;
    else if (l.name === PRESERVE_ERROR_LABEL) preserve = l.value;
  }
  if (hasErr && preserve !== 'true') throw new PipelineError(labels);
}

class CachedEv implements StepEv {
  constructor(private readonly vecs: Sample[][]) {}
  next(k: number): Sample[] {
    return this.vecs[k] ?? [];
  }
}

class VectorEv implements StepEv {
  constructor(private readonly value: number) {}
  next(): Sample[] {
    return [{ m: EMPTY_META, v: this.value }];
  }
}

class LiteralEv implements StepEv {
  constructor(
    private readonly inner: StepEv,
    private readonly op: BinaryOp,
    private readonly lit: number,
    private readonly inverted: boolean,
    private readonly returnBool: boolean,
  ) {}
  next(k: number): Sample[] {
    const vec = this.inner.next(k);
    const out: Sample[] = [];
    const isCmp = COMPARISON.has(this.op);
    for (const s of vec) {
      const left = this.inverted ? s.v : this.lit;
      const right = this.inverted ? this.lit : s.v;
      const r = mergeBinOp(this.op, left, right, !this.inverted, !this.returnBool, isCmp);
      if (r !== null) out.push({ m: s.m, v: r });
    }
    return out;
  }
}

interface Group {
  m: Meta;
  value: number;
  mean: number;
  count: number;
  list: Sample[] | null;
}

/** Orders for topk/sort_desc (desc) and bottomk/sort (asc); NaN always last, as Loki's heaps. */
function byValue(desc: boolean): (a: Sample, b: Sample) => number {
  return (a, b) => {
    const an = a.v !== a.v;
    const bn = b.v !== b.v;
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    if (a.v === b.v) return 0;
    return desc ? (a.v > b.v ? -1 : 1) : a.v < b.v ? -1 : 1;
  };
}

class VectorAggEv implements StepEv {
  private readonly groupMetas = new Map<string, Meta>();
  private readonly names: string[];
  constructor(
    private readonly inner: StepEv,
    private readonly op: VectorAggregationExpr['op'],
    private readonly grouping: Grouping,
    private readonly param: number,
  ) {
    this.names = [...grouping.labels].sort();
  }
  private groupOf(m: Meta): Meta {
    let g = this.groupMetas.get(m.key);
    if (g) return g;
    let labels: Labels;
    if (this.grouping.without) {
      labels = m.labels.filter((l) => l.name !== '__name__' && !this.names.includes(l.name));
    } else {
      labels = m.labels.filter((l) => this.names.includes(l.name));
    }
    g = meta(labels);
    this.groupMetas.set(m.key, g);
    return g;
  }
  next(k: number): Sample[] {
    const vec = this.inner.next(k);
    const op = this.op;
    if ((op === 'topk' || op === 'bottomk') && this.param < 1) return [];
    const groups = new Map<string, Group>();
    for (const s of vec) {
      const gm = this.groupOf(s.m);
      const g = groups.get(gm.key);
      if (!g) {
        const ng: Group = { m: gm, value: s.v, mean: s.v, count: 1, list: null };
        if (op === 'stddev' || op === 'stdvar') ng.value = 0;
        if (op === 'topk' || op === 'bottomk' || op === 'sort' || op === 'sort_desc') ng.list = [s];
        groups.set(gm.key, ng);
        continue;
      }
      switch (op) {
        case 'sum': g.value += s.v; break;
        case 'avg': {
          g.count++;
          if (g.mean === Infinity || g.mean === -Infinity) {
            if ((s.v === Infinity || s.v === -Infinity) && g.mean > 0 === s.v > 0) break;
            if (s.v !== Infinity && s.v !== -Infinity && s.v === s.v) break;
          }
          g.mean += (s.v - g.mean) / g.count;
          break;
        }
        case 'max': if (g.value < s.v || g.value !== g.value) g.value = s.v; break;
        case 'min': if (g.value > s.v || g.value !== g.value) g.value = s.v; break;
        case 'count': g.count++; break;
        case 'stddev':
        case 'stdvar': {
          g.count++;
          const delta = s.v - g.mean;
          g.mean += delta / g.count;
          g.value += delta * (s.v - g.mean);
          break;
        }
        default: g.list!.push(s);
      }
    }
    const out: Sample[] = [];
    for (const g of groups.values()) {
      switch (op) {
        case 'avg': out.push({ m: g.m, v: g.mean }); break;
        case 'count': out.push({ m: g.m, v: g.count }); break;
        case 'stddev': out.push({ m: g.m, v: Math.sqrt(g.value / g.count) }); break;
        case 'stdvar': out.push({ m: g.m, v: g.value / g.count }); break;
        case 'topk':
        case 'sort_desc':
        case 'bottomk':
        case 'sort': {
          const list = g.list!;
          list.sort(byValue(op === 'topk' || op === 'sort_desc'));
          const n = op === 'topk' || op === 'bottomk' ? Math.min(this.param, list.length) : list.length;
          for (let i = 0; i < n; i++) out.push(list[i]!);
          break;
        }
        default: out.push({ m: g.m, v: g.value });
      }
    }
    return out;
  }
}

function matchingOf(e: BinOpExpr): VectorMatching {
  return e.matching ?? { on: false, labels: [], card: 'one-to-one', include: [] };
}

class BinOpEv implements StepEv {
  private readonly sigs = new Map<Meta, string>();
  private readonly results = new Map<string, Meta>();
  private readonly matching: VectorMatching;
  constructor(
    private readonly lhs: StepEv,
    private readonly rhs: StepEv,
    private readonly op: BinaryOp,
    private readonly returnBool: boolean,
    matching: VectorMatching,
  ) {
    this.matching = matching;
  }
  private sig(m: Meta): string {
    let s = this.sigs.get(m);
    if (s !== undefined) return s;
    const names = this.matching.labels;
    const kept = this.matching.on ? m.labels.filter((l) => names.includes(l.name)) : m.labels.filter((l) => !names.includes(l.name));
    s = labelsKey(kept);
    this.sigs.set(m, s);
    return s;
  }
  private resultMetric(l: Meta, r: Meta): Meta {
    const key = l.key + '\u0002' + r.key;
    let res = this.results.get(key);
    if (res) return res;
    const mt = this.matching;
    let labels: Labels = l.labels.slice();
    if (mt.card === 'one-to-one') {
      labels = mt.on ? labels.filter((x) => mt.labels.includes(x.name)) : labels.filter((x) => !mt.labels.includes(x.name));
    }
    for (const name of mt.include) {
      const v = getLabel(r.labels, name);
      labels = labels.filter((x) => x.name !== name);
      if (v !== '') labels.push({ name, value: v });
    }
    res = meta(sortLabels(labels));
    this.results.set(key, res);
    return res;
  }
  next(k: number): Sample[] {
    const rhs = this.rhs.next(k);
    const lhs = this.lhs.next(k);
    switch (this.op) {
      case 'and': {
        if (lhs.length === 0 || rhs.length === 0) return [];
        const rs = new Set<string>();
        for (const s of rhs) rs.add(this.sig(s.m));
        return lhs.filter((s) => rs.has(this.sig(s.m)));
      }
      case 'or': {
        if (lhs.length === 0) return rhs;
        if (rhs.length === 0) return lhs;
        const ls = new Set<string>();
        const out: Sample[] = [];
        for (const s of lhs) { ls.add(this.sig(s.m)); out.push(s); }
        for (const s of rhs) if (!ls.has(this.sig(s.m))) out.push(s);
        return out;
      }
      case 'unless': {
        if (lhs.length === 0 || rhs.length === 0) return lhs;
        const rs = new Set<string>();
        for (const s of rhs) rs.add(this.sig(s.m));
        return lhs.filter((s) => !rs.has(this.sig(s.m)));
      }
      default:
        return this.vectorBinop(lhs, rhs);
    }
  }
  private vectorBinop(lhsIn: Sample[], rhsIn: Sample[]): Sample[] {
    const card = this.matching.card;
    const swapped = card === 'one-to-many';
    const L = swapped ? rhsIn : lhsIn;
    const R = swapped ? lhsIn : rhsIn;
    const right = new Map<string, Sample>();
    for (const s of R) {
      const sig = this.sig(s.m);
      if (right.has(sig)) {
        throw new EvalError(
          `found duplicate series on the ${swapped ? 'left' : 'right'} hand-side;many-to-many matching not allowed: matching labels must be unique on one side`,
          500,
        );
      }
      right.set(sig, s);
    }
    const matched = new Map<string, Set<string> | null>();
    const out: Sample[] = [];
    const isCmp = COMPARISON.has(this.op);
    for (const ls of L) {
      const sig = this.sig(ls.m);
      const rs = right.get(sig);
      if (!rs) continue;
      const metric = this.resultMetric(ls.m, rs.m);
      if (card === 'one-to-one') {
        if (matched.has(sig)) throw new EvalError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)', 500);
        matched.set(sig, null);
      } else {
        let set = matched.get(sig);
        if (!set) { set = new Set(); matched.set(sig, set); }
        else if (set.has(metric.key)) throw new EvalError('multiple matches for labels: grouping labels must ensure unique matches', 500);
        set.add(metric.key);
      }
      const a = swapped ? rs : ls;
      const b = swapped ? ls : rs;
      const v = mergeBinOp(this.op, a.v, b.v, false, !this.returnBool, isCmp);
      if (v !== null) out.push({ m: metric, v });
    }
    return out;
  }
}

/** Go regexp.Expand for `$1`, `${1}`, `$name`, `${name}`, `$$`. */
export function expandTemplate(template: string, groups: (string | undefined)[], named: Record<string, string | undefined> | undefined): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const d = template.indexOf('$', i);
    if (d < 0) { out += template.slice(i); break; }
    out += template.slice(i, d);
    i = d + 1;
    if (i < template.length && template[i] === '$') { out += '$'; i++; continue; }
    let j = i;
    let brace = false;
    if (j < template.length && template[j] === '{') { brace = true; j++; }
    const nameStart = j;
    while (j < template.length) {
      const cp = template.codePointAt(j)!;
      const ch = String.fromCodePoint(cp);
      if (ch === '_' || /\p{L}|\p{Nd}/u.test(ch)) j += ch.length;
      else break;
    }
    const name = template.slice(nameStart, j);
    if (name === '' || (brace && template[j] !== '}')) { out += '$'; continue; }
    if (brace) j++;
    i = j;
    let num = -1;
    if (/^[0-9]+$/.test(name)) {
      num = 0;
      for (const c of name) { num = num * 10 + (c.charCodeAt(0) - 48); if (num >= 1e8) { num = -1; break; } }
    }
    if (num >= 0) {
      const g = groups[num];
      if (g !== undefined) out += g;
    } else if (named) {
      const g = named[name];
      if (g !== undefined) out += g;
    }
  }
  return out;
}

class LabelReplaceEv implements StepEv {
  private readonly cache = new Map<string, Meta>();
  private readonly re: Regex;
  constructor(private readonly inner: StepEv, private readonly e: LabelReplaceExpr) {
    try {
      this.re = compileAnchoredRegex(e.regex);
    } catch (err) {
      if (err instanceof RegexError) throw new EvalError(`parse error : invalid regex in label_replace: ${err.message}`, 400);
      throw err;
    }
  }
  private replace(m: Meta): Meta {
    let r = this.cache.get(m.key);
    if (r) return r;
    const src = getLabel(m.labels, this.e.src);
    this.re.lastIndex = 0;
    const match = this.re.exec(src);
    if (!match) {
      r = m;
    } else {
      const res = expandTemplate(this.e.replacement, Array.from(match), match.groups);
      const labels = m.labels.filter((l) => l.name !== this.e.dst);
      if (res.length > 0) labels.push({ name: this.e.dst, value: res });
      r = meta(sortLabels(labels));
    }
    this.cache.set(m.key, r);
    return r;
  }
  next(k: number): Sample[] {
    const vec = this.inner.next(k);
    return vec.map((s) => ({ m: this.replace(s.m), v: s.v }));
  }
}

// ------------------------------------------------------------------ query planning helpers

function walk(e: SampleExpr, f: (e: SampleExpr) => void): void {
  f(e);
  if (e.kind === 'binOp') { walk(e.lhs, f); walk(e.rhs, f); }
  else if (e.kind === 'vectorAggregation' || e.kind === 'labelReplace') walk(e.inner, f);
}

const ADDITIVE_RANGE = new Set(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'sum_over_time']);

/** The range aggregation as the sample extractor must run it: a parent `sum` injects its grouping. */
function injectedRange(parent: VectorAggregationExpr | null, r: RangeAggregationExpr): RangeAggregationExpr {
  if (parent && parent.op === 'sum' && ADDITIVE_RANGE.has(r.op) && r.grouping === undefined) {
    return { ...r, grouping: parent.grouping ?? { without: false, labels: [] } };
  }
  return r;
}

function reducesLabels(e: SampleExpr): boolean {
  let conflict = false;
  walk(e, (x) => {
    if ((x.kind === 'rangeAggregation' || x.kind === 'vectorAggregation') && x.grouping && x.grouping.labels.length > 0) conflict = true;
    if (x.kind === 'rangeAggregation') {
      for (const st of x.range.selector.pipeline) {
        if (st.kind === 'keep' || st.kind === 'drop') conflict = true;
        if (st.kind === 'labelFormat' && st.items.some((i) => i.rename)) conflict = true;
      }
    }
  });
  return conflict;
}

function hasNonAdditive(e: SampleExpr): boolean {
  let found = false;
  walk(e, (x) => {
    if (x.kind === 'rangeAggregation' && !ADDITIVE_RANGE.has(x.op)) found = true;
    if (x.kind === 'vectorAggregation' && x.op === 'avg') found = true;
  });
  return found;
}

const SHARDABLE_RANGE = new Set(['avg_over_time', 'count_over_time', 'first_over_time', 'last_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'sum_over_time', 'max_over_time', 'min_over_time', 'quantile_over_time']);
const SHARDABLE_VEC = new Set(['sum', 'avg', 'count', 'max', 'min', 'approx_topk']);

function shardable(e: SampleExpr, top: boolean): boolean {
  switch (e.kind) {
    case 'literal': return true;
    case 'vector': return false;
    case 'labelReplace': return false;
    case 'rangeAggregation':
      if (e.op === 'quantile_over_time' && !top) return false;
      return SHARDABLE_RANGE.has(e.op);
    case 'binOp': {
      if (e.matching && (e.matching.on || e.matching.labels.length > 0)) return false;
      return (e.op === '+' || e.op === '*') && shardable(e.lhs, top) && shardable(e.rhs, top);
    }
    case 'vectorAggregation': {
      if (!SHARDABLE_VEC.has(e.op) || !shardable(e.inner, top)) return false;
      switch (e.op) {
        case 'count': case 'avg': return !reducesLabels(e.inner);
        case 'max': case 'min': return e.inner.kind === 'rangeAggregation' && shardable(e.inner, false);
        case 'sum': return !(e.inner.kind === 'vectorAggregation' && (e.inner.op === 'min' || e.inner.op === 'max'));
        default: return true;
      }
    }
  }
}

/**
 * Mirrors Loki's ShardMapper: collects the sub-expressions the frontend sends to queriers as
 * separate queries (each is series-limited on its own). Returns whether the mapping changed.
 */
function mapDownstream(e: SampleExpr, top: boolean, units: SampleExpr[]): boolean {
  switch (e.kind) {
    case 'literal':
    case 'vector':
      return false;
    case 'labelReplace':
      return mapDownstream(e.inner, top, units);
    case 'rangeAggregation': {
      if (!shardable(e, top)) return false;
      if (e.op === 'quantile_over_time' || e.op === 'first_over_time' || e.op === 'last_over_time') return false; // shard_aggregations empty
      if (e.op === 'avg_over_time' && (reducesLabels(e) || (e.grouping && e.grouping.labels.length > 0) || (e.grouping && !e.grouping.without))) {
        const pf = e.range.unwrap?.postFilters ?? [];
        if (pf.some((f) => JSON.stringify(f).includes('"__error__"'))) return false;
      }
      units.push(e);
      return true;
    }
    case 'vectorAggregation': {
      if (shardable(e, top)) {
        switch (e.op) {
          case 'sum':
            if (reducesLabels(e.inner) && hasNonAdditive(e.inner)) break;
            units.push(e);
            return true;
          case 'min':
          case 'max':
          case 'count':
            if (reducesLabels(e.inner)) break;
            units.push(e);
            return true;
          case 'avg':
            units.push(e);
            return true;
          default:
            break;
        }
      }
      return mapDownstream(e.inner, false, units);
    }
    case 'binOp': {
      for (const side of [e.lhs, e.rhs]) {
        const changed = mapDownstream(side, top, units);
        if (!changed && side.kind !== 'literal' && side.kind !== 'vector') units.push(side);
      }
      return true;
    }
  }
}

function absentMeta(r: RangeAggregationExpr): Meta {
  const labels: Labels = [];
  const empty: string[] = [];
  for (const m of r.range.selector.matchers) {
    if (m.name === '__name__') continue;
    if (m.type === '=' && !labels.some((l) => l.name === m.name)) labels.push({ name: m.name, value: m.value });
    else empty.push(m.name);
  }
  return meta(sortLabels(labels.filter((l) => !empty.includes(l.name))));
}

/**
 * Step indices at which the query frontend starts a new split sub-query
 * (splitters.go buildMetricSplits / nextIntervalBoundary), for a step-aligned grid.
 */
export function splitStartSteps(grid: StepGrid, intervalNs: bigint, maxRangeNs: bigint): Set<number> {
  const starts = new Set<number>([0]);
  const step = grid.stepNs;
  if (intervalNs <= 0n || step <= 0n) return starts;
  const interval = maxRangeNs > intervalNs ? maxRangeNs : intervalNs;
  const n = stepCount(grid);
  if (step >= interval) {
    for (let k = 0; k < n; k++) starts.add(k);
    return starts;
  }
  const next = (t: bigint): bigint => {
    const startOfNext = (t / interval + 1n) * interval;
    let target = startOfNext - ((startOfNext - t) % step);
    if (target === startOfNext) target -= step;
    return target;
  };
  for (let s = grid.startNs; s < grid.endNs; ) {
    let e = next(s);
    if (e + step >= grid.endNs) e = grid.endNs;
    const idx = (s - grid.startNs) / step;
    if (idx < BigInt(n)) starts.add(Number(idx));
    s = e + step;
  }
  return starts;
}

/** Loki's JoinSampleVector step loop: evaluates all steps, enforcing the series limit. */
function runSteps(ev: StepEv, nSteps: number, instant: boolean, maxSeries: number, splits: Set<number>): Sample[][] {
  const limited = maxSeries > 0;
  const v0 = ev.next(0);
  if (limited && v0.length > maxSeries) throw new SeriesLimitError(maxSeries);
  if (instant) return [v0];
  let seen = new Set<string>();
  const out: Sample[][] = [];
  for (let k = 0; k < nSteps; k++) {
    const vec = k === 0 ? v0 : ev.next(k);
    if (k > 0 && splits.has(k)) {
      seen = new Set<string>();
      if (limited && vec.length > maxSeries) throw new SeriesLimitError(maxSeries);
    }
    for (const s of vec) {
      if (!seen.has(s.m.key)) {
        if (limited && seen.size >= maxSeries) throw new SeriesLimitError(maxSeries);
        seen.add(s.m.key);
      }
    }
    out.push(vec);
  }
  return out;
}

function stepTsNs(grid: StepGrid, k: number): bigint {
  const t = grid.startNs + BigInt(k) * grid.stepNs;
  return (t / 1_000_000n) * 1_000_000n;
}

function scalarMatrix(value: number, grid: StepGrid, n: number): QueryValue {
  const points: { tsNs: bigint; value: number }[] = [];
  for (let k = 0; k < n; k++) points.push({ tsNs: stepTsNs(grid, k), value });
  return { type: 'matrix', series: [{ labels: [], points }] };
}

/**
 * Evaluates a metric query. `fetchRange` is called once per range aggregation (all in
 * parallel) with the expression as the sample extractor must run it: when a `sum` directly
 * wraps an additive range aggregation (count/rate/bytes/bytes_rate/sum_over_time) without its
 * own grouping, the sum's grouping is put on the range aggregation (`by ()` = no labels), as
 * Loki pushes it into the extractor. Timestamps of results are the step times truncated to
 * milliseconds (Loki computes in ms). Throws EvalError subclasses (with `status`).
 */
export async function evaluateSampleExpr(
  exprIn: SampleExpr,
  grid: StepGrid,
  instant: boolean,
  fetchRange: (r: RangeAggregationExpr) => Promise<StepSeries[]>,
  limits: EvalLimits,
): Promise<QueryValue> {
  const expr = foldLiterals(exprIn);
  const nSteps = instant ? 1 : stepCount(grid);

  if (expr.kind === 'literal') {
    if (instant) return { type: 'scalar', tsNs: grid.startNs, value: expr.value };
    return scalarMatrix(expr.value, grid, nSteps);
  }
  if (expr.kind === 'vector') {
    if (instant) return { type: 'vector', samples: [{ labels: [], tsNs: stepTsNs(grid, 0), value: expr.value }] };
    return scalarMatrix(expr.value, grid, nSteps);
  }
  let hasApprox = false;
  let sortable = false;
  walk(expr, (x) => {
    if (x.kind === 'vectorAggregation') {
      if (x.op === 'approx_topk') hasApprox = true;
      if (x.op === 'sort' || x.op === 'sort_desc') sortable = true;
    }
  });
  if (hasApprox) throw new ApproxTopkError();

  // Fetch every range aggregation in parallel.
  const fetched = new Map<RangeAggregationExpr, Promise<StepSeries[]>>();
  const collect = (e: SampleExpr, parent: VectorAggregationExpr | null): void => {
    if (e.kind === 'rangeAggregation') fetched.set(e, fetchRange(injectedRange(parent, e)));
    else if (e.kind === 'vectorAggregation') collect(e.inner, e);
    else if (e.kind === 'labelReplace') collect(e.inner, null);
    else if (e.kind === 'binOp') { collect(e.lhs, null); collect(e.rhs, null); }
  };
  collect(expr, null);
  const results = new Map<RangeAggregationExpr, StepSeries[]>();
  await Promise.all(
    [...fetched.entries()].map(async ([r, p]) => {
      results.set(r, await p);
    }),
  );

  const built = new Map<SampleExpr, StepEv>();
  const build = (e: SampleExpr): StepEv => {
    const b = built.get(e);
    if (b) return b;
    let ev: StepEv;
    switch (e.kind) {
      case 'rangeAggregation':
        ev = new RangeEv(results.get(e) ?? [], e.op === 'absent_over_time' ? absentMeta(e) : null);
        break;
      case 'vector':
        ev = new VectorEv(e.value);
        break;
      case 'literal':
        throw new EvalError('parse error : unexpected literal in vector context', 400);
      case 'labelReplace':
        ev = new LabelReplaceEv(build(e.inner), e);
        break;
      case 'vectorAggregation': {
        if (e.inner.kind === 'literal') throw new EvalError('parse error : unexpected literal in vector aggregation', 400);
        ev = new VectorAggEv(build(e.inner), e.op, e.grouping ?? { without: false, labels: [] }, e.param ?? 0);
        break;
      }
      case 'binOp': {
        if (e.lhs.kind === 'literal') ev = new LiteralEv(build(e.rhs), e.op, e.lhs.value, false, e.returnBool);
        else if (e.rhs.kind === 'literal') ev = new LiteralEv(build(e.lhs), e.op, e.rhs.value, true, e.returnBool);
        else ev = new BinOpEv(build(e.lhs), build(e.rhs), e.op, e.returnBool, matchingOf(e));
        break;
      }
    }
    built.set(e, ev);
    return ev;
  };

  // Downstream sub-queries first (each with its own series limit), then the whole query.
  const units: SampleExpr[] = [];
  mapDownstream(expr, true, units);
  let maxRange = 0n;
  walk(expr, (x) => {
    if (x.kind === 'rangeAggregation' && x.range.rangeNs > maxRange) maxRange = x.range.rangeNs;
  });
  const splits = instant ? new Set<number>([0]) : splitStartSteps(grid, limits.querySplitNs ?? 3_600_000_000_000n, maxRange);
  for (const u of units) {
    if (u === expr) continue;
    const vecs = runSteps(build(u), nSteps, instant, limits.maxQuerySeries, splits);
    built.set(u, new CachedEv(vecs));
  }
  const vecs = runSteps(build(expr), nSteps, instant, limits.maxQuerySeries, splits);

  if (instant) {
    const ts = stepTsNs(grid, 0);
    const samples = vecs[0]!.map((s) => ({ labels: s.m.labels, tsNs: ts, value: s.v }));
    if (!sortable) samples.sort((a, b) => compareLabels(a.labels, b.labels));
    return { type: 'vector', samples };
  }
  const series = new Map<string, { labels: Labels; points: { tsNs: bigint; value: number }[] }>();
  for (let k = 0; k < vecs.length; k++) {
    const ts = stepTsNs(grid, k);
    for (const s of vecs[k]!) {
      let ser = series.get(s.m.key);
      if (!ser) { ser = { labels: s.m.labels, points: [] }; series.set(s.m.key, ser); }
      ser.points.push({ tsNs: ts, value: s.v });
    }
  }
  const out = [...series.values()];
  out.sort((a, b) => compareLabels(a.labels, b.labels));
  return { type: 'matrix', series: out };
}
