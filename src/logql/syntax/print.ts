// Loki's textual forms of a LogQL AST: exprToString reproduces the Go String() methods
// (pkg/logql/syntax/ast.go and the log package's filters), which appear inside Loki error texts
// (e.g. `stage '| label_format a=b,a=c' : ...`) and in query echo; prettyPrint reproduces
// pkg/logql/syntax/prettier.go (used by /loki/api/v1/format_query), including its 100-character
// split rule and its quirks (a split line-filter chain drops `or` alternatives; decolorize is not
// indented; byte filters print humanized values).
import type {
  Expr,
  Grouping,
  LabelFilterExpr,
  LabelMatcher,
  LineFilterStage,
  LogRangeExpr,
  LogSelectorExpr,
  PipelineStage,
  SampleExpr,
  UnwrapExpr,
  VectorMatching,
} from '../ast.js';
import { goQuote } from '../../util/labels.js';
import { formatHumanBytes } from './bytes.js';
import { formatGoDuration, formatPromDuration } from './duration.js';
import { formatGoFloat, formatGoFloatF, formatGoFloatFixed6 } from './numbers.js';

function quoteName(name: string): string {
  let plain = name !== '';
  for (let i = 0; i < name.length && plain; i++) {
    const c = name.charCodeAt(i);
    plain = c === 95 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (i > 0 && c >= 48 && c <= 57);
  }
  return plain ? name : goQuote(name);
}

/** Prometheus labels.Matcher.String(): `name="value"`. */
export function matcherToString(m: LabelMatcher): string {
  return quoteName(m.name) + m.type + goQuote(m.value);
}

/** `{a="b", c=~"d"}` */
export function matchersToString(ms: LabelMatcher[]): string {
  return '{' + ms.map(matcherToString).join(', ') + '}';
}

/** log.LabelFilterer String() forms. */
export function labelFilterToString(f: LabelFilterExpr): string {
  switch (f.kind) {
    case 'and':
      return `( ${labelFilterToString(f.left)} , ${labelFilterToString(f.right)} )`;
    case 'or':
      return `( ${labelFilterToString(f.left)} or ${labelFilterToString(f.right)} )`;
    case 'string':
      return matcherToString(f.matcher);
    case 'number':
      return f.name + f.op + formatGoFloatF(f.value);
    case 'duration':
      return f.name + f.op + formatGoDuration(BigInt(Math.round(f.value * 1e9)));
    case 'bytes':
      return f.name + f.op + formatHumanBytes(f.value);
    case 'ip':
      return `${f.name}${f.op}ip(${goQuote(f.pattern)})`;
  }
}

function lineFilterToString(s: LineFilterStage): string {
  const terms = s.terms.map((t) => (t.kind === 'ip' ? `ip(${goQuote(t.value)})` : goQuote(t.value)));
  return `${s.op} ${terms.join(' or ')}`;
}

function extractionsToString(list: { identifier: string; expression: string }[]): string {
  return list.map((e) => `${e.identifier}=${goQuote(e.expression)}`).join(',');
}

/** String() of one pipeline stage, as Loki prints it in `stage '...'` errors. */
export function stageToString(s: PipelineStage): string {
  switch (s.kind) {
    case 'lineFilter':
      return lineFilterToString(s);
    case 'parser': {
      if (s.parser === 'logfmt') return '| logfmt' + (s.strict ? ' --strict' : '') + (s.keepEmpty ? ' --keep-empty' : '');
      let out = `| ${s.parser}`;
      if (s.param) out += ' ' + goQuote(s.param);
      else if (s.parser === 'regexp' || s.parser === 'pattern') out += ' ""';
      return out;
    }
    case 'jsonExpressions':
      return `| json ${extractionsToString(s.expressions)}`;
    case 'logfmtExpressions':
      return `| logfmt ${s.strict ? '--strict ' : ''}${s.keepEmpty ? '--keep-empty ' : ''}${extractionsToString(s.expressions)}`;
    case 'labelFilter':
      return `| ${labelFilterToString(s.filter)}`;
    case 'lineFormat':
      return `| line_format ${goQuote(s.template)}`;
    case 'labelFormat':
      return '| label_format ' + s.items.map((i) => `${i.name}=${i.rename ? i.value : goQuote(i.value)}`).join(',');
    case 'decolorize':
      return '| decolorize';
    case 'drop':
    case 'keep':
      return `| ${s.kind} ` + s.items.map((i) => (i.matcher ? matcherToString(i.matcher) : i.name)).join(',');
  }
}

export function logSelectorToString(e: LogSelectorExpr): string {
  const m = matchersToString(e.matchers);
  if (e.pipeline.length === 0) return m;
  return m + ' ' + e.pipeline.map(stageToString).join(' ');
}

function unwrapToString(u: UnwrapExpr): string {
  let s = u.conversion ? ` | unwrap ${u.conversion}(${u.identifier})` : ` | unwrap ${u.identifier}`;
  for (const f of u.postFilters) s += ` | ${labelFilterToString(f)}`;
  return s;
}

export function logRangeToString(r: LogRangeExpr): string {
  let s = logSelectorToString(r.selector);
  if (r.unwrap) s += unwrapToString(r.unwrap);
  s += `[${formatPromDuration(r.rangeNs)}]`;
  if (r.offsetNs !== 0n) s += ` offset ${formatGoDuration(r.offsetNs)}`;
  return s;
}

function groupingToString(g: Grouping): string {
  return `${g.without ? ' without ' : ' by '}(${g.labels.join(',')})`;
}

function binOpString(op: string, returnBool: boolean, vm: VectorMatching | undefined, sep: string): string {
  let out = op;
  if (returnBool) out += ' bool';
  if (vm) {
    let group = vm.card === 'many-to-one' ? 'group_left' : vm.card === 'one-to-many' ? 'group_right' : '';
    if (vm.include.length > 0) group = `${group} (${vm.include.join(sep)})`;
    if (vm.on || vm.labels.length > 0) out = `${out} ${vm.on ? 'on' : 'ignoring'} (${vm.labels.join(sep)}) ${group}`;
  }
  return out;
}

/** Loki's Expr.String(). */
export function exprToString(e: Expr): string {
  switch (e.kind) {
    case 'logSelector':
      return logSelectorToString(e);
    case 'rangeAggregation': {
      let s = e.op + '(';
      if (e.param !== undefined) s += formatGoFloatF(e.param) + ',';
      s += logRangeToString(e.range) + ')';
      if (e.grouping) s += groupingToString(e.grouping);
      return s;
    }
    case 'vectorAggregation': {
      let s = e.op;
      if (e.grouping && (e.grouping.without || e.grouping.labels.length > 0)) s += groupingToString(e.grouping);
      const withParam = e.op === 'topk' || e.op === 'bottomk' || e.op === 'approx_topk' || (e.param ?? 0) !== 0;
      s += '(' + (withParam ? `${e.param ?? 0},` : '') + exprToString(e.inner) + ')';
      return s;
    }
    case 'binOp':
      return `(${exprToString(e.lhs)} ${binOpString(e.op, e.returnBool, e.matching, ',')} ${exprToString(e.rhs)})`;
    case 'literal':
      return formatGoFloat(e.value);
    case 'vector':
      return `vector(${formatGoFloatFixed6(e.value)})`;
    case 'labelReplace':
      return `label_replace(${exprToString(e.inner)},${goQuote(e.dst)},${goQuote(e.replacement)},${goQuote(e.src)},${goQuote(e.regex)})`;
  }
}

// ---------------------------------------------------------------- prettier

let MAX_CHARS_PER_LINE = 100;

function indent(level: number): string {
  return '  '.repeat(level);
}

function prettyLogSelector(e: LogSelectorExpr, level: number): string {
  const str = logSelectorToString(e);
  if (e.pipeline.length === 0 || str.length <= MAX_CHARS_PER_LINE) return indent(level) + str;
  // Loki merges consecutive line filters into one stage; each stage then prints on its own line.
  const groups: PipelineStage[][] = [];
  for (const st of e.pipeline) {
    const last = groups[groups.length - 1];
    if (st.kind === 'lineFilter' && last && last[0]!.kind === 'lineFilter') last.push(st);
    else groups.push([st]);
  }
  let s = indent(level) + matchersToString(e.matchers) + '\n';
  groups.forEach((g, i) => {
    if (g[0]!.kind === 'lineFilter') s += prettyLineFilterChain(g as LineFilterStage[], level + 1);
    else if (g[0]!.kind === 'decolorize') s += stageToString(g[0]!);
    else s += indent(level + 1) + stageToString(g[0]!);
    if (i < groups.length - 1) s += '\n';
  });
  return s;
}

function prettyLineFilterChain(chain: LineFilterStage[], level: number): string {
  const whole = chain.map(lineFilterToString).join(' ');
  if (whole.length <= MAX_CHARS_PER_LINE) return indent(level) + whole;
  const last = chain[chain.length - 1]!;
  let s = '';
  if (chain.length > 1) s += prettyLineFilterChain(chain.slice(0, -1), level) + '\n';
  // Loki rebuilds the last filter from its first term only.
  s += indent(level) + lineFilterToString({ kind: 'lineFilter', op: last.op, terms: [last.terms[0]!] });
  return s;
}

function prettyRange(r: LogRangeExpr, level: number): string {
  let s = prettyLogSelector(r.selector, level);
  if (r.unwrap) {
    const u = r.unwrap;
    s += '\n' + indent(level + 1) + (u.conversion ? `| unwrap ${u.conversion}(${u.identifier})` : `| unwrap ${u.identifier}`);
    for (const f of u.postFilters) s += `\n${indent(level + 1)}| ${labelFilterToString(f)}`;
  }
  s += ` [${formatPromDuration(r.rangeNs)}]`;
  if (r.offsetNs !== 0n) s += ` offset ${formatPromDuration(r.offsetNs)}`;
  return s;
}

function prettyGrouping(g: Grouping): string {
  let s = '';
  if (g.without) s += ' without';
  else if (g.labels.length > 0) s += ' by';
  if (g.labels.length > 0) s += ` (${g.labels.join(', ')})`;
  return s;
}

function pretty(e: Expr, level: number): string {
  if (e.kind === 'logSelector') return prettyLogSelector(e, level);
  const str = exprToString(e);
  if (str.length <= MAX_CHARS_PER_LINE || e.kind === 'literal' || e.kind === 'vector') return indent(level) + str;
  return prettySample(e, level);
}

function prettySample(e: SampleExpr, level: number): string {
  switch (e.kind) {
    case 'rangeAggregation': {
      let s = indent(level) + e.op + '(\n';
      if (e.param !== undefined) s += indent(level + 1) + formatGoFloat(e.param) + ',\n';
      s += prettyRange(e.range, level + 1);
      s += '\n' + indent(level) + ')';
      if (e.grouping) s += prettyGrouping(e.grouping);
      return s;
    }
    case 'vectorAggregation': {
      let s = indent(level) + e.op;
      const params: string[] = [];
      if (e.op === 'topk' || e.op === 'bottomk' || (e.param ?? 0) !== 0) params.push(indent(level + 1) + String(e.param ?? 0));
      params.push(pretty(e.inner, level + 1));
      if (e.grouping) s += prettyGrouping(e.grouping);
      s += '(\n' + params.join(',\n') + '\n' + indent(level) + ')';
      return s;
    }
    case 'binOp':
      return (
        pretty(e.lhs, level + 1) +
        '\n' +
        indent(level) +
        binOpString(e.op, e.returnBool, e.matching && e.matching.labels.length > 0 ? e.matching : stripMatching(e.matching), ', ') +
        '\n' +
        pretty(e.rhs, level + 1)
      );
    case 'labelReplace': {
      const params = [
        pretty(e.inner, level + 1),
        indent(level + 1) + goQuote(e.dst),
        indent(level + 1) + goQuote(e.replacement),
        indent(level + 1) + goQuote(e.src),
        indent(level + 1) + goQuote(e.regex),
      ];
      return indent(level) + 'label_replace(\n' + params.join(',\n') + '\n' + indent(level) + ')';
    }
    default:
      return indent(level) + exprToString(e);
  }
}

/** The prettier prints `on`/`ignoring` only when labels are given. */
function stripMatching(vm: VectorMatching | undefined): VectorMatching | undefined {
  if (!vm) return undefined;
  return { ...vm, on: false, labels: [] };
}

/** Loki's syntax.Prettify: the format_query output (Loki splits lines longer than 100 characters). */
export function prettyPrint(e: Expr, maxCharsPerLine = 100): string {
  const saved = MAX_CHARS_PER_LINE;
  MAX_CHARS_PER_LINE = maxCharsPerLine;
  try {
    return pretty(e, 0);
  } finally {
    MAX_CHARS_PER_LINE = saved;
  }
}
