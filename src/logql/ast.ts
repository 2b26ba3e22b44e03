// LogQL abstract syntax tree: the contract between the parser (syntax), the log pipeline
// (pipeline/) and the metric evaluator (eval/). Shapes follow grafana/loki pkg/logql/syntax/ast.go.
// Plain data only (no classes, no functions) so an AST can be posted to a worker thread.

export type MatchType = '=' | '!=' | '=~' | '!~';

/** A label matcher as in a stream selector `{name="value"}` or a string label filter. */
export interface LabelMatcher {
  type: MatchType;
  name: string;
  value: string;
}

// ---------------------------------------------------------------- log pipeline stages

/** `|=`, `!=`, `|~`, `!~`, `|>` (pattern match), `!>` (pattern not match). */
export type LineFilterOp = '|=' | '!=' | '|~' | '!~' | '|>' | '!>';

/** One term of a line filter: a plain string, or `ip("...")` (only with `|=` and `!=`). */
export interface LineFilterTerm {
  kind: 'string' | 'ip';
  value: string;
}

/**
 * `|= "a" or "b"`: `terms` holds the `or` alternatives (at least one).
 * For positive ops a line passes when any term matches; for negative ops
 * (`!=`, `!~`, `!>`) it passes when no term matches (Loki's semantics).
 */
export interface LineFilterStage {
  kind: 'lineFilter';
  op: LineFilterOp;
  terms: LineFilterTerm[];
}

/** `| json`, `| logfmt [--strict] [--keep-empty]`, `| unpack`, `| regexp "re"`, `| pattern "p"`. */
export interface ParserStage {
  kind: 'parser';
  parser: 'json' | 'logfmt' | 'unpack' | 'regexp' | 'pattern';
  /** regexp/pattern: the expression text. */
  param?: string;
  /** logfmt flags */
  strict?: boolean;
  keepEmpty?: boolean;
}

/** `| json a="x.y", b` and `| logfmt a="k", b`: named extractions (an identifier alone means name=name). */
export interface LabelExtractionExpr {
  identifier: string;
  expression: string;
}

export interface JsonExpressionParserStage {
  kind: 'jsonExpressions';
  expressions: LabelExtractionExpr[];
}

export interface LogfmtExpressionParserStage {
  kind: 'logfmtExpressions';
  expressions: LabelExtractionExpr[];
  strict?: boolean;
  keepEmpty?: boolean;
}

export type ComparisonOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

/** Label filter expressions after `|`: `a="b" and (c>5 or d=~"x")`. */
export type LabelFilterExpr =
  | { kind: 'and' | 'or'; left: LabelFilterExpr; right: LabelFilterExpr }
  /** string matcher: `l = "v"`, `l != "v"`, `l =~ "re"`, `l !~ "re"` */
  | { kind: 'string'; matcher: LabelMatcher }
  /** numeric: value is a float literal */
  | { kind: 'number'; name: string; op: ComparisonOp; value: number }
  /** duration literal (`5s`, `1h30m`, `250ms`): value in seconds (float) */
  | { kind: 'duration'; name: string; op: ComparisonOp; value: number }
  /** bytes literal (`20MB`, `1KiB`): value in bytes */
  | { kind: 'bytes'; name: string; op: ComparisonOp; value: number }
  /** `l = ip("cidr")` / `l != ip("...")` */
  | { kind: 'ip'; name: string; op: '=' | '!='; pattern: string };

export interface LabelFilterStage {
  kind: 'labelFilter';
  filter: LabelFilterExpr;
}

export interface LineFormatStage {
  kind: 'lineFormat';
  template: string;
}

/** `| label_format dst=src` (rename: template false, value = source label name) or `dst="{{tmpl}}"`. */
export interface LabelFormatItem {
  name: string;
  value: string;
  rename: boolean;
}

export interface LabelFormatStage {
  kind: 'labelFormat';
  items: LabelFormatItem[];
}

export interface DecolorizeStage {
  kind: 'decolorize';
}

/** `drop a, b="v", c=~"re"`: item without matcher drops the label; with one, only when it matches. */
export interface DropKeepItem {
  name: string;
  matcher?: LabelMatcher;
}

export interface DropStage {
  kind: 'drop';
  items: DropKeepItem[];
}

export interface KeepStage {
  kind: 'keep';
  items: DropKeepItem[];
}

export type PipelineStage =
  | LineFilterStage
  | ParserStage
  | JsonExpressionParserStage
  | LogfmtExpressionParserStage
  | LabelFilterStage
  | LineFormatStage
  | LabelFormatStage
  | DecolorizeStage
  | DropStage
  | KeepStage;

/** `{matchers} | stage | stage ...` (a bare selector has no stages). */
export interface LogSelectorExpr {
  kind: 'logSelector';
  matchers: LabelMatcher[];
  pipeline: PipelineStage[];
}

// ---------------------------------------------------------------- metric expressions

export type UnwrapConversion = '' | 'bytes' | 'duration' | 'duration_seconds';

/** `| unwrap [conv(]label[)] [| label filters...]` */
export interface UnwrapExpr {
  identifier: string;
  conversion: UnwrapConversion;
  /** label filters that follow the unwrap (applied to the sample's labels) */
  postFilters: LabelFilterExpr[];
}

/** `{sel} | pipeline [| unwrap x] [5m] [offset 1h]` ; also `({sel} | pipeline)[5m]` */
export interface LogRangeExpr {
  kind: 'logRange';
  selector: LogSelectorExpr;
  /** range in nanoseconds */
  rangeNs: bigint;
  /** offset in nanoseconds (>= 0) */
  offsetNs: bigint;
  unwrap?: UnwrapExpr;
}

export type RangeOp =
  | 'count_over_time'
  | 'rate'
  | 'rate_counter'
  | 'bytes_over_time'
  | 'bytes_rate'
  | 'avg_over_time'
  | 'sum_over_time'
  | 'min_over_time'
  | 'max_over_time'
  | 'stdvar_over_time'
  | 'stddev_over_time'
  | 'quantile_over_time'
  | 'first_over_time'
  | 'last_over_time'
  | 'absent_over_time';

export interface Grouping {
  /** true for `without (...)`, false for `by (...)` */
  without: boolean;
  labels: string[];
}

export interface RangeAggregationExpr {
  kind: 'rangeAggregation';
  op: RangeOp;
  range: LogRangeExpr;
  /** only allowed for avg/min/max/stddev/stdvar/quantile/first/last_over_time */
  grouping?: Grouping;
  /** quantile_over_time's φ */
  param?: number;
}

export type VectorOp =
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'count'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'sort'
  | 'sort_desc'
  | 'approx_topk';

export interface VectorAggregationExpr {
  kind: 'vectorAggregation';
  op: VectorOp;
  inner: SampleExpr;
  grouping?: Grouping;
  /** topk/bottomk/approx_topk k */
  param?: number;
}

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '^'
  | '==' | '!=' | '>' | '>=' | '<' | '<='
  | 'and' | 'or' | 'unless';

export interface VectorMatching {
  /** true: `on(...)`, false: `ignoring(...)` (or no clause: ignoring with no labels) */
  on: boolean;
  labels: string[];
  card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** group_left/group_right extra labels */
  include: string[];
}

export interface BinOpExpr {
  kind: 'binOp';
  op: BinaryOp;
  lhs: SampleExpr;
  rhs: SampleExpr;
  /** the `bool` modifier on comparisons */
  returnBool: boolean;
  matching?: VectorMatching;
}

export interface LiteralExpr {
  kind: 'literal';
  value: number;
}

/** `vector(1)` */
export interface VectorExpr {
  kind: 'vector';
  value: number;
}

/** `label_replace(v, "dst", "replacement", "src", "regex")` */
export interface LabelReplaceExpr {
  kind: 'labelReplace';
  inner: SampleExpr;
  dst: string;
  replacement: string;
  src: string;
  regex: string;
}

export type SampleExpr =
  | RangeAggregationExpr
  | VectorAggregationExpr
  | BinOpExpr
  | LiteralExpr
  | VectorExpr
  | LabelReplaceExpr;

export type Expr = LogSelectorExpr | SampleExpr;

export function isLogSelector(e: Expr): e is LogSelectorExpr {
  return e.kind === 'logSelector';
}
