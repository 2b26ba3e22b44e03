// Hand-written recursive-descent parser for LogQL (Grafana Loki 3.x grammar, pkg/logql/syntax/syntax.y),
// producing the plain-data AST of ../ast.ts. It reproduces Loki's acceptance rules and error texts:
// goyacc-style `syntax error: unexpected X, expecting A or B` messages (at most four expected tokens,
// listed in token-declaration order, positioned at the offending token), errors Loki raises while
// building nodes (invalid matcher regex, regexp/pattern parser checks, float literals), and the
// validation pass Loki runs after parsing (grouping/unwrap rules per range aggregation, topk
// parameters, binary-operation leg types, the "at least one non-empty matcher" rule), in Loki's order.
import type {
  BinaryOp,
  BinOpExpr,
  ComparisonOp,
  DropKeepItem,
  Expr,
  Grouping,
  LabelExtractionExpr,
  LabelFilterExpr,
  LabelFormatItem,
  LabelMatcher,
  LineFilterOp,
  LineFilterTerm,
  LiteralExpr,
  LogRangeExpr,
  LogSelectorExpr,
  MatchType,
  PipelineStage,
  RangeAggregationExpr,
  RangeOp,
  SampleExpr,
  UnwrapConversion,
  UnwrapExpr,
  VectorAggregationExpr,
  VectorMatching,
  VectorOp,
} from '../ast.js';
import { ParseError } from './errors.js';
import { Lexer, type Token } from './lexer.js';
import { compileGoRegex } from './regexcheck.js';
import { goParseFloat } from './numbers.js';

/** goyacc token numbering (declaration order in syntax.y), by display name. */
const TOKEN_ORDER: string[] = [
  'BYTES', 'IDENTIFIER', 'STRING', 'NUMBER', 'FUNCTION_FLAG', 'DURATION', 'RANGE', 'MATCHERS', 'LABELS', '=', '=~',
  '!~', '!>', '{', '}', '[', ']', ',', '.', '|~', '|=', '|>', '(', ')', 'by', 'without', 'COUNT_OVER_TIME', 'RATE',
  'RATE_COUNTER', 'SUM', 'SORT', 'SORT_DESC', 'AVG', 'MAX', 'MIN', 'COUNT', 'STDDEV', 'STDVAR', 'BOTTOMK', 'TOPK',
  'APPROX_TOPK', 'BYTES_OVER_TIME', 'BYTES_RATE', 'bool', 'json', 'regexp', 'logfmt', '|', 'line_format',
  'label_format', 'unwrap', 'AVG_OVER_TIME', 'SUM_OVER_TIME', 'MIN_OVER_TIME', 'MAX_OVER_TIME', 'STDVAR_OVER_TIME',
  'STDDEV_OVER_TIME', 'QUANTILE_OVER_TIME', 'BYTES_CONV', 'DURATION_CONV', 'DURATION_SECONDS_CONV',
  'FIRST_OVER_TIME', 'LAST_OVER_TIME', 'ABSENT_OVER_TIME', 'VECTOR', 'label_replace', 'unpack', 'offset', 'pattern',
  'ip', 'on', 'ignoring', 'group_left', 'group_right', 'decolorize', 'drop', 'keep', 'or', 'and', 'unless', '==',
  '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '^',
];
const TOKEN_RANK = new Map(TOKEN_ORDER.map((t, i) => [t, i]));

const RANGE_OPS: Record<string, RangeOp> = {
  COUNT_OVER_TIME: 'count_over_time',
  RATE: 'rate',
  RATE_COUNTER: 'rate_counter',
  BYTES_OVER_TIME: 'bytes_over_time',
  BYTES_RATE: 'bytes_rate',
  AVG_OVER_TIME: 'avg_over_time',
  SUM_OVER_TIME: 'sum_over_time',
  MIN_OVER_TIME: 'min_over_time',
  MAX_OVER_TIME: 'max_over_time',
  STDVAR_OVER_TIME: 'stdvar_over_time',
  STDDEV_OVER_TIME: 'stddev_over_time',
  QUANTILE_OVER_TIME: 'quantile_over_time',
  FIRST_OVER_TIME: 'first_over_time',
  LAST_OVER_TIME: 'last_over_time',
  ABSENT_OVER_TIME: 'absent_over_time',
};

const VECTOR_OPS: Record<string, VectorOp> = {
  SUM: 'sum',
  AVG: 'avg',
  COUNT: 'count',
  MAX: 'max',
  MIN: 'min',
  STDDEV: 'stddev',
  STDVAR: 'stdvar',
  BOTTOMK: 'bottomk',
  TOPK: 'topk',
  SORT: 'sort',
  SORT_DESC: 'sort_desc',
  APPROX_TOPK: 'approx_topk',
};

/** Binary operators: precedence (higher binds tighter) and associativity. */
const BIN_PREC: Record<string, number> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  '^': 6,
};

const LINE_FILTER_OPS = new Set(['|=', '!=', '|~', '!~', '|>', '!>']);
const MATCH_OPS = new Set(['=', '!=', '=~', '!~']);
const CONV_OPS: Record<string, UnwrapConversion> = {
  BYTES_CONV: 'bytes',
  DURATION_CONV: 'duration',
  DURATION_SECONDS_CONV: 'duration_seconds',
};

const EMPTY_MATCHER_ERR =
  'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will';

const MAX_INPUT_SIZE = 131072;

/** Loki's non-parse errors for the typed entry points (these have no `parse error` prefix). */
export class QueryTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryTypeError';
  }
}

function syntaxMessage(tok: Token, expected: string[]): string {
  let msg = `syntax error: unexpected ${tok.type}`;
  if (expected.length > 0 && expected.length <= 4) {
    const sorted = [...new Set(expected)].sort((a, b) => (TOKEN_RANK.get(a) ?? 0) - (TOKEN_RANK.get(b) ?? 0));
    msg += ', expecting ' + sorted.join(' or ');
  }
  return msg;
}

/** The Go type name Loki prints for a log-selector leg of a binary operation. */
function goTypeName(e: LogSelectorExpr): string {
  return e.pipeline.length > 0 ? '*syntax.PipelineExpr' : '*syntax.MatchersExpr';
}

class Parser {
  private lexer: Lexer;
  private toks: Token[] = [];
  private pos = 0;
  private softErrors: ParseError[] = [];
  /** errors Loki stores on nodes and reports during validation */
  readonly deferred = new WeakMap<object, ParseError>();

  constructor(input: string) {
    this.lexer = new Lexer(input);
  }

  // ------------------------------------------------------------------ token access

  peek(k = 0): Token {
    while (this.toks.length <= this.pos + k) {
      const last = this.toks[this.toks.length - 1];
      if (last && last.type === '$end') return last;
      const t = this.lexer.lex();
      if (t.softError) this.softErrors.push(t.softError);
      if (t.hardError) throw this.softErrors[0] ?? t.hardError;
      this.toks.push(t);
    }
    return this.toks[this.pos + k]!;
  }

  next(): Token {
    const t = this.peek();
    if (t.type !== '$end') this.pos++;
    return t;
  }

  is(type: string, k = 0): boolean {
    return this.peek(k).type === type;
  }

  fail(expected: string[] = [], tok: Token = this.peek()): never {
    throw this.softErrors[0] ?? new ParseError(syntaxMessage(tok, expected), tok.line, tok.col);
  }

  expect(type: string, expected: string[] = [type]): Token {
    if (!this.is(type)) this.fail(expected);
    return this.next();
  }

  finish(): void {
    if (!this.is('$end')) this.fail();
    if (this.softErrors.length > 0) throw this.softErrors[0];
  }

  // ------------------------------------------------------------------ expressions

  /** Precedence climbing over Loki's binary operators (all left-associative except `^`). */
  parseExpr(minPrec: number): Expr {
    let left = this.parseOperand();
    for (;;) {
      const op = this.peek().type;
      const prec = BIN_PREC[op];
      if (prec === undefined || prec < minPrec) return left;
      this.next();
      const { returnBool, matching } = this.parseBinOpModifier();
      const right = this.parseExpr(op === '^' ? prec : prec + 1);
      left = this.makeBinOp(op as BinaryOp, returnBool, matching, left, right);
    }
  }

  private parseBinOpModifier(): { returnBool: boolean; matching?: VectorMatching } {
    let returnBool = false;
    if (this.is('bool')) {
      this.next();
      returnBool = true;
    }
    if (!this.is('on') && !this.is('ignoring')) return { returnBool };
    const on = this.next().type === 'on';
    this.expect('(');
    const labels = this.is(')') ? [] : this.parseLabels();
    this.expect(')', [')', ',']);
    const matching: VectorMatching = { on, labels, card: 'one-to-one', include: [] };
    if (this.is('group_left') || this.is('group_right')) {
      matching.card = this.next().type === 'group_left' ? 'many-to-one' : 'one-to-many';
      if (this.is('(')) {
        this.next();
        if (!this.is(')')) matching.include = this.parseLabels();
        this.expect(')', [')', ',']);
      }
    }
    return { returnBool, matching };
  }

  private makeBinOp(
    op: BinaryOp,
    returnBool: boolean,
    matching: VectorMatching | undefined,
    lhs: Expr,
    rhs: Expr,
  ): SampleExpr {
    const node: BinOpExpr = { kind: 'binOp', op, lhs: lhs as SampleExpr, rhs: rhs as SampleExpr, returnBool };
    if (matching) node.matching = matching;
    if (lhs.kind === 'logSelector') {
      this.deferred.set(node, new ParseError(`unexpected type for left leg of binary operation (${op}): ${goTypeName(lhs)}`));
      return node;
    }
    if (rhs.kind === 'logSelector') {
      this.deferred.set(node, new ParseError(`unexpected type for right leg of binary operation (${op}): ${goTypeName(rhs)}`));
      return node;
    }
    const lLit = lhs.kind === 'literal';
    const rLit = rhs.kind === 'literal';
    if (lLit) {
      const err = this.deferred.get(lhs);
      if (err) {
        this.deferred.set(node, err);
        return node;
      }
    }
    if (rLit) {
      const err = this.deferred.get(rhs);
      if (err) {
        this.deferred.set(node, err);
        return node;
      }
    }
    if (op === 'and' || op === 'or' || op === 'unless') {
      if (lLit) {
        this.deferred.set(
          node,
          new ParseError(`unexpected literal for left leg of logical/set binary operation (${op}): ${(lhs as LiteralExpr).value.toFixed(6)}`),
        );
        return node;
      }
      if (rLit) {
        this.deferred.set(
          node,
          new ParseError(`unexpected literal for right leg of logical/set binary operation (${op}): ${(rhs as LiteralExpr).value.toFixed(6)}`),
        );
        return node;
      }
    }
    if (lLit && rLit) return { kind: 'literal', value: foldBinOp(op, (lhs as LiteralExpr).value, (rhs as LiteralExpr).value) };
    return node;
  }

  private parseOperand(): Expr {
    const t = this.peek();
    switch (t.type) {
      case '{':
        return this.parseLogExprFromSelector();
      case '(': {
        this.next();
        const inner = this.parseExpr(0);
        // `( logExpr )` and `( metricExpr )`; after a bare log expression Loki's state still accepts
        // binary operators, so anything else is reported without an expecting-list.
        this.expect(')', []);
        return inner;
      }
      case 'NUMBER':
        this.next();
        return this.makeLiteral(t.text, false);
      case '+':
      case '-': {
        this.next();
        const n = this.expect('NUMBER');
        return this.makeLiteral(n.text, t.type === '-');
      }
      case 'VECTOR': {
        this.next();
        this.expect('(');
        const n = this.expect('NUMBER');
        this.expect(')');
        const node = { kind: 'vector' as const, value: 0 };
        try {
          node.value = goParseFloat(n.text);
        } catch (e) {
          this.deferred.set(node, new ParseError(`unable to parse vectorExpr as a float: ${(e as Error).message}`));
        }
        return node;
      }
      case 'label_replace':
        return this.parseLabelReplace();
    }
    if (RANGE_OPS[t.type]) return this.parseRangeAggregation();
    if (VECTOR_OPS[t.type]) return this.parseVectorAggregation();
    return this.fail();
  }

  private makeLiteral(text: string, negate: boolean): LiteralExpr {
    const node: LiteralExpr = { kind: 'literal', value: 0 };
    try {
      node.value = goParseFloat(text);
    } catch (e) {
      this.deferred.set(node, new ParseError(`unable to parse literal as a float: ${(e as Error).message}`));
    }
    if (negate) node.value = -node.value;
    return node;
  }

  /** A metric expression argument: a log expression here is reported at the following token. */
  private parseMetricArg(): SampleExpr {
    const e = this.parseExpr(0);
    if (e.kind === 'logSelector') this.fail();
    return e;
  }

  private parseLabelReplace(): SampleExpr {
    this.next();
    this.expect('(');
    const inner = this.parseMetricArg();
    this.expect(',', []);
    const dst = this.expect('STRING').text;
    this.expect(',');
    const replacement = this.expect('STRING').text;
    this.expect(',');
    const src = this.expect('STRING').text;
    this.expect(',');
    const regex = this.expect('STRING').text;
    this.expect(')');
    const node: SampleExpr = { kind: 'labelReplace', inner, dst, replacement, src, regex };
    try {
      compileGoRegex('^(?:' + regex + ')$');
    } catch (e) {
      this.deferred.set(node, new ParseError(`invalid regex in label_replace: ${(e as Error).message}`));
    }
    return node;
  }

  private parseGrouping(): Grouping {
    const without = this.next().type === 'without';
    this.expect('(');
    const labels = this.is(')') ? [] : this.parseLabels();
    this.expect(')', [')', ',']);
    return { without, labels };
  }

  private parseLabels(): string[] {
    const labels = [this.expect('IDENTIFIER', ['IDENTIFIER', ')']).text];
    while (this.is(',')) {
      this.next();
      labels.push(this.expect('IDENTIFIER').text);
    }
    return labels;
  }

  private parseVectorAggregation(): SampleExpr {
    const opTok = this.next();
    const op = VECTOR_OPS[opTok.type]!;
    let grouping: Grouping | undefined;
    let groupingBefore = false;
    if (this.is('by') || this.is('without')) {
      grouping = this.parseGrouping();
      groupingBefore = true;
    }
    this.expect('(', groupingBefore ? ['('] : ['(', 'by', 'without']);
    let param: string | undefined;
    if (this.is('NUMBER') && this.is(',', 1)) {
      param = this.next().text;
      this.next();
    }
    const inner = this.parseMetricArg();
    this.expect(')', []);
    if (!groupingBefore && (this.is('by') || this.is('without'))) grouping = this.parseGrouping();

    const node: VectorAggregationExpr = { kind: 'vectorAggregation', op, inner };
    if (grouping && (grouping.without || grouping.labels.length > 0)) node.grouping = grouping;
    if (op === 'topk' || op === 'bottomk' || op === 'approx_topk') {
      if (param === undefined) {
        this.deferred.set(node, new ParseError(`parameter required for operation ${op}`));
      } else {
        const p = goAtoi(param);
        if (p === undefined) this.deferred.set(node, new ParseError(`invalid parameter ${op}(${param},`));
        else if (p <= 0) this.deferred.set(node, new ParseError(`invalid parameter (must be greater than 0) ${op}(${param}`));
        else if (op === 'approx_topk' && grouping) this.deferred.set(node, new ParseError(`grouping not allowed for ${op} aggregation`));
        else node.param = p;
      }
    } else if (param !== undefined) {
      this.deferred.set(node, new ParseError(`unsupported parameter for operation ${op}(${param},`));
    }
    return node;
  }

  private parseRangeAggregation(): SampleExpr {
    const op = RANGE_OPS[this.next().type]!;
    this.expect('(');
    let param: string | undefined;
    if (this.is('NUMBER')) {
      param = this.next().text;
      this.expect(',');
      if (!this.is('{') && !this.is('(')) this.fail(['{', '(']);
    } else if (!this.is('{') && !this.is('(')) {
      this.fail(['NUMBER', '{', '(']);
    }
    const range = this.parseLogRange();
    this.expect(')');
    let grouping: Grouping | undefined;
    if (this.is('by') || this.is('without')) grouping = this.parseGrouping();

    const node: RangeAggregationExpr = { kind: 'rangeAggregation', op, range };
    if (grouping) node.grouping = grouping;
    const err = validateRangeAggregation(node, param);
    if (err) this.deferred.set(node, new ParseError(err));
    else if (param !== undefined) node.param = goParseFloat(param);
    return node;
  }

  // ------------------------------------------------------------------ log ranges

  private parseLogRange(): LogRangeExpr {
    if (this.is('{')) return this.parseRangeAfterSelector(this.parseSelector());
    if (!this.is('(')) this.fail(['{', '(']);
    this.next();
    if (this.is('(')) {
      const inner = this.parseLogRange();
      this.expect(')');
      return inner;
    }
    if (!this.is('{')) this.fail(['{', '(']);
    const sel = this.parseSelector();
    if (this.is('RANGE')) {
      const inner = this.parseRangeAfterSelector(sel);
      this.expect(')');
      return inner;
    }
    // `( selector [pipeline] [unwrap] ) [range] ...` or an inner unparenthesized range
    const pipeline = this.atPipelineStage(true) ? this.parsePipeline(true) : [];
    let unwrap: UnwrapExpr | undefined;
    if (this.atUnwrap()) unwrap = this.parseUnwrap(true);
    if (this.is(')')) {
      this.next();
      const rangeTok = this.expect('RANGE');
      const r = this.makeRange(sel, pipeline, rangeTok);
      if (this.is('offset')) r.offsetNs = this.parseOffset();
      if (!unwrap && pipeline.length === 0 && this.atUnwrap()) unwrap = this.parseUnwrap(false);
      if (unwrap) r.unwrap = unwrap;
      return r;
    }
    if (!this.is('RANGE')) this.fail(unwrap ? ['RANGE', ')', '|'] : []);
    const r = this.makeRange(sel, pipeline, this.next());
    if (unwrap) r.unwrap = unwrap;
    if (this.is('offset')) r.offsetNs = this.parseOffset();
    this.expect(')');
    return r;
  }

  /** `selector ...` forms of logRangeExpr (no parenthesis around the selector). */
  private parseRangeAfterSelector(sel: LabelMatcher[]): LogRangeExpr {
    if (this.is('RANGE')) {
      const r = this.makeRange(sel, [], this.next());
      if (this.is('offset')) r.offsetNs = this.parseOffset();
      if (this.atPipelineStage(true)) r.selector.pipeline = this.parsePipeline(true);
      if (this.atUnwrap()) r.unwrap = this.parseUnwrap(false);
      return r;
    }
    const pipeline = this.atPipelineStage(true) ? this.parsePipeline(true) : [];
    let unwrap: UnwrapExpr | undefined;
    if (this.atUnwrap()) unwrap = this.parseUnwrap(true);
    if (!this.is('RANGE')) this.fail(unwrap ? ['RANGE', '|'] : []);
    const r = this.makeRange(sel, pipeline, this.next());
    if (unwrap) r.unwrap = unwrap;
    if (this.is('offset')) r.offsetNs = this.parseOffset();
    return r;
  }

  private makeRange(matchers: LabelMatcher[], pipeline: PipelineStage[], rangeTok: Token): LogRangeExpr {
    return { kind: 'logRange', selector: { kind: 'logSelector', matchers, pipeline }, rangeNs: rangeTok.dur!, offsetNs: 0n };
  }

  private parseOffset(): bigint {
    this.next();
    return this.expect('DURATION').dur!;
  }

  private atUnwrap(): boolean {
    return this.is('|') && this.is('unwrap', 1);
  }

  /** `| unwrap [conv(]label[)]` followed by `| labelFilter` post-filters. */
  private parseUnwrap(beforeRange: boolean): UnwrapExpr {
    this.next();
    this.next();
    let identifier: string;
    let conversion: UnwrapConversion = '';
    const t = this.peek();
    if (t.type === 'IDENTIFIER') {
      identifier = this.next().text;
    } else if (CONV_OPS[t.type] !== undefined) {
      conversion = CONV_OPS[t.type]!;
      this.next();
      this.expect('(');
      identifier = this.expect('IDENTIFIER').text;
      this.expect(')');
    } else {
      return this.fail(['IDENTIFIER', 'BYTES_CONV', 'DURATION_CONV', 'DURATION_SECONDS_CONV']);
    }
    const postFilters: LabelFilterExpr[] = [];
    while (this.is('|') && (beforeRange || !this.is('unwrap', 1))) {
      this.next();
      postFilters.push(this.parseLabelFilter());
    }
    return { identifier, conversion, postFilters };
  }

  // ------------------------------------------------------------------ log selectors and pipelines

  private parseLogExprFromSelector(): LogSelectorExpr {
    const matchers = this.parseSelector();
    const pipeline = this.atPipelineStage(false) ? this.parsePipeline(false) : [];
    return { kind: 'logSelector', matchers, pipeline };
  }

  parseSelector(): LabelMatcher[] {
    this.expect('{');
    if (this.is('}')) {
      this.next();
      return [];
    }
    const matchers = [this.parseMatcher(['IDENTIFIER', '}'])];
    while (this.is(',')) {
      this.next();
      matchers.push(this.parseMatcher(['IDENTIFIER']));
    }
    this.expect('}', ['}', ',']);
    return matchers;
  }

  private parseMatcher(expectedName: string[]): LabelMatcher {
    const name = this.expect('IDENTIFIER', expectedName).text;
    const opTok = this.peek();
    if (!MATCH_OPS.has(opTok.type)) this.fail(['=', '=~', '!~', '!=']);
    this.next();
    const value = this.expect('STRING').text;
    return makeMatcher(opTok.type as MatchType, name, value);
  }

  private atPipelineStage(inRange: boolean): boolean {
    const t = this.peek().type;
    if (LINE_FILTER_OPS.has(t)) return true;
    return t === '|' && !(inRange && this.is('unwrap', 1));
  }

  private parsePipeline(inRange: boolean): PipelineStage[] {
    const stages: PipelineStage[] = [];
    while (this.atPipelineStage(inRange)) {
      if (this.is('|')) {
        this.next();
        stages.push(this.parsePipeStage());
      } else {
        stages.push(this.parseLineFilter());
      }
    }
    return stages;
  }

  private parseLineFilter(): PipelineStage {
    const op = this.next().type as LineFilterOp;
    const terms: LineFilterTerm[] = [this.parseLineFilterTerm()];
    while (this.is('or')) {
      this.next();
      terms.push(this.parseLineFilterTerm());
    }
    return { kind: 'lineFilter', op, terms };
  }

  private parseLineFilterTerm(): LineFilterTerm {
    if (this.is('STRING')) return { kind: 'string', value: this.next().text };
    if (this.is('ip')) {
      this.next();
      this.expect('(');
      const value = this.expect('STRING').text;
      this.expect(')');
      return { kind: 'ip', value };
    }
    return this.fail(['STRING', 'ip']);
  }

  private parsePipeStage(): PipelineStage {
    const t = this.peek();
    switch (t.type) {
      case 'json': {
        this.next();
        if (this.is('IDENTIFIER')) return { kind: 'jsonExpressions', expressions: this.parseExtractions() };
        return { kind: 'parser', parser: 'json' };
      }
      case 'logfmt': {
        this.next();
        let strict = false;
        let keepEmpty = false;
        let hasFlags = false;
        while (this.is('FUNCTION_FLAG')) {
          const f = this.next().text;
          hasFlags = true;
          if (f === '--strict') strict = true;
          else if (f === '--keep-empty') keepEmpty = true;
        }
        if (this.is('IDENTIFIER')) {
          const st: PipelineStage = { kind: 'logfmtExpressions', expressions: this.parseExtractions() };
          if (strict) st.strict = true;
          if (keepEmpty) st.keepEmpty = true;
          return st;
        }
        const st: PipelineStage = { kind: 'parser', parser: 'logfmt' };
        if (hasFlags && strict) st.strict = true;
        if (hasFlags && keepEmpty) st.keepEmpty = true;
        return st;
      }
      case 'unpack':
        this.next();
        return { kind: 'parser', parser: 'unpack' };
      case 'regexp': {
        this.next();
        const param = this.expect('STRING').text;
        validateRegexpParser(param);
        return { kind: 'parser', parser: 'regexp', param };
      }
      case 'pattern': {
        this.next();
        const param = this.expect('STRING').text;
        validatePatternParser(param);
        return { kind: 'parser', parser: 'pattern', param };
      }
      case 'line_format':
        this.next();
        return { kind: 'lineFormat', template: this.expect('STRING').text };
      case 'label_format': {
        this.next();
        const items: LabelFormatItem[] = [this.parseLabelFormatItem()];
        while (this.is(',')) {
          this.next();
          items.push(this.parseLabelFormatItem());
        }
        return { kind: 'labelFormat', items };
      }
      case 'decolorize':
        this.next();
        return { kind: 'decolorize' };
      case 'drop':
      case 'keep': {
        this.next();
        const items: DropKeepItem[] = [this.parseNamedMatcher()];
        while (this.is(',')) {
          this.next();
          items.push(this.parseNamedMatcher());
        }
        return t.type === 'drop' ? { kind: 'drop', items } : { kind: 'keep', items };
      }
      case 'IDENTIFIER':
      case '(':
        return { kind: 'labelFilter', filter: this.parseLabelFilter() };
    }
    return this.fail();
  }

  private parseExtractions(): LabelExtractionExpr[] {
    const list: LabelExtractionExpr[] = [];
    for (;;) {
      const id = this.expect('IDENTIFIER').text;
      if (this.is('=')) {
        this.next();
        list.push({ identifier: id, expression: this.expect('STRING').text });
      } else {
        list.push({ identifier: id, expression: id });
      }
      if (!this.is(',')) return list;
      this.next();
    }
  }

  private parseLabelFormatItem(): LabelFormatItem {
    const name = this.expect('IDENTIFIER').text;
    this.expect('=');
    const v = this.peek();
    if (v.type === 'IDENTIFIER') {
      this.next();
      return { name, value: v.text, rename: true };
    }
    if (v.type === 'STRING') {
      this.next();
      return { name, value: v.text, rename: false };
    }
    return this.fail(['IDENTIFIER', 'STRING']);
  }

  private parseNamedMatcher(): DropKeepItem {
    const name = this.expect('IDENTIFIER').text;
    const opTok = this.peek();
    if (!MATCH_OPS.has(opTok.type)) return { name };
    this.next();
    const value = this.expect('STRING').text;
    return { name, matcher: makeMatcher(opTok.type as MatchType, name, value) };
  }

  // ------------------------------------------------------------------ label filters

  /**
   * Label filter expressions with yacc's conflict resolution: `or` < `and` (left-associative),
   * while `,` and juxtaposition carry no precedence, so they always shift (group to the right).
   */
  parseLabelFilter(): LabelFilterExpr {
    const operands: LabelFilterExpr[] = [this.parseLabelFilterPrimary()];
    const ops: string[] = [];
    const reduce = (): void => {
      const op = ops.pop()!;
      const right = operands.pop()!;
      const left = operands.pop()!;
      operands.push({ kind: op === 'or' ? 'or' : 'and', left, right });
    };
    for (;;) {
      const t = this.peek().type;
      let op: string;
      if (t === 'and' || t === 'or' || t === ',') {
        op = t;
      } else if (t === 'IDENTIFIER' || t === '(') {
        op = ' ';
      } else {
        break;
      }
      if (op === 'and' || op === 'or') {
        const prec = op === 'or' ? 1 : 2;
        while (ops.length > 0) {
          const top = ops[ops.length - 1]!;
          const topPrec = top === 'or' ? 1 : top === 'and' ? 2 : 0;
          if (topPrec === 0 || topPrec < prec) break;
          reduce();
        }
      }
      if (op !== ' ') this.next();
      ops.push(op);
      operands.push(this.parseLabelFilterPrimary());
    }
    while (ops.length > 0) reduce();
    return operands[0]!;
  }

  private parseLabelFilterPrimary(): LabelFilterExpr {
    if (this.is('(')) {
      this.next();
      const inner = this.parseLabelFilter();
      this.expect(')', []);
      return inner;
    }
    const name = this.expect('IDENTIFIER', ['IDENTIFIER', '(']).text;
    const opTok = this.peek();
    const op = opTok.type;
    switch (op) {
      case '=~':
      case '!~': {
        this.next();
        const value = this.expect('STRING').text;
        return { kind: 'string', matcher: makeMatcher(op, name, value) };
      }
      case '=':
      case '!=': {
        this.next();
        const v = this.peek();
        if (v.type === 'STRING') {
          this.next();
          return { kind: 'string', matcher: makeMatcher(op, name, v.text) };
        }
        if (v.type === 'ip') {
          this.next();
          this.expect('(');
          const pattern = this.expect('STRING').text;
          this.expect(')');
          return { kind: 'ip', name, op, pattern };
        }
        return this.parseUnitOrNumberFilter(name, op === '=' ? '==' : '!=');
      }
      case '==':
      case '>':
      case '>=':
      case '<':
      case '<=':
        this.next();
        return this.parseUnitOrNumberFilter(name, op);
    }
    return this.fail(['=', '=~', '!~', '==', '!=', '<', '<=', '>', '>=']);
  }

  private parseUnitOrNumberFilter(name: string, op: ComparisonOp): LabelFilterExpr {
    const v = this.peek();
    if (v.type === 'DURATION') {
      this.next();
      return { kind: 'duration', name, op, value: Number(v.dur!) / 1e9 };
    }
    if (v.type === 'BYTES') {
      this.next();
      return { kind: 'bytes', name, op, value: v.bytes! };
    }
    let negate = false;
    if (v.type === '+' || v.type === '-') {
      this.next();
      negate = v.type === '-';
      const n = this.expect('NUMBER');
      return { kind: 'number', name, op, value: numericFilterValue(n.text, negate) };
    }
    if (v.type === 'NUMBER') {
      this.next();
      return { kind: 'number', name, op, value: numericFilterValue(v.text, negate) };
    }
    return this.fail();
  }
}

function numericFilterValue(text: string, negate: boolean): number {
  let v: number;
  try {
    v = goParseFloat(text);
  } catch (e) {
    throw new ParseError(`unable to parse literal as a float: ${(e as Error).message}`);
  }
  return negate ? -v : v;
}

function makeMatcher(type: MatchType, name: string, value: string): LabelMatcher {
  if (type === '=~' || type === '!~') {
    try {
      compileGoRegex(value);
    } catch (e) {
      throw new ParseError((e as Error).message);
    }
  }
  return { type, name, value };
}

function validateRegexpParser(re: string): void {
  try {
    compileGoRegex(re);
  } catch (e) {
    throw new ParseError(`invalid regexp parser: ${(e as Error).message}`);
  }
  const names = namedGroups(re);
  if (names.length === 0) throw new ParseError('invalid regexp parser: at least one named capture must be supplied');
  const seen = new Set<string>();
  for (const n of names) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n)) throw new ParseError(`invalid regexp parser: invalid extracted label name '${n}'`);
    if (seen.has(n)) throw new ParseError(`invalid regexp parser: duplicate extracted label name '${n}'`);
    seen.add(n);
  }
}

/** Names of `(?P<name>...)` / `(?<name>...)` groups, skipping escaped parentheses and classes. */
function namedGroups(re: string): string[] {
  const names: string[] = [];
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (re[i + 1] === '^') i++;
      if (re[i + 1] === ']') i++;
      continue;
    }
    if (c === '(' && re[i + 1] === '?') {
      const m = /^\(\?P?<([^>]*)>/.exec(re.slice(i));
      if (m) names.push(m[1]!);
    }
  }
  return names;
}

function validatePatternParser(p: string): void {
  // Loki's pattern syntax: literals and `<name>` captures (`<_>` captures without a name).
  const parts: Array<{ capture: boolean; text: string }> = [];
  const re = /<([A-Za-z_][A-Za-z0-9_]*)>/g;
  let last = 0;
  for (let m = re.exec(p); m !== null; m = re.exec(p)) {
    if (m.index > last) parts.push({ capture: false, text: p.slice(last, m.index) });
    parts.push({ capture: true, text: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < p.length) parts.push({ capture: false, text: p.slice(last) });
  const named = parts.filter((x) => x.capture && x.text !== '_').map((x) => x.text);
  if (named.length === 0) throw new ParseError('invalid pattern parser: at least one capture is required');
  for (let i = 0; i + 1 < parts.length; i++) {
    if (parts[i]!.capture && parts[i + 1]!.capture) {
      throw new ParseError(
        `invalid pattern parser: found consecutive capture '<${parts[i]!.text}><${parts[i + 1]!.text}>': invalid expression`,
      );
    }
  }
  const seen = new Set<string>();
  for (const n of named) {
    if (seen.has(n)) throw new ParseError(`invalid pattern parser: duplicate capture name (${n}): invalid expression`);
    seen.add(n);
  }
}

/** Go strconv.Atoi semantics for the topk parameter text. */
function goAtoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = Number(s);
  if (!Number.isSafeInteger(v)) return undefined;
  return v;
}

const GROUPING_OK: ReadonlySet<RangeOp> = new Set<RangeOp>([
  'avg_over_time', 'stddev_over_time', 'stdvar_over_time', 'quantile_over_time', 'max_over_time', 'min_over_time',
  'first_over_time', 'last_over_time',
]);
const UNWRAP_OK: ReadonlySet<RangeOp> = new Set<RangeOp>([
  'avg_over_time', 'sum_over_time', 'max_over_time', 'min_over_time', 'stddev_over_time', 'stdvar_over_time',
  'quantile_over_time', 'rate', 'rate_counter', 'absent_over_time', 'first_over_time', 'last_over_time',
]);
const NO_UNWRAP_OK: ReadonlySet<RangeOp> = new Set<RangeOp>([
  'bytes_over_time', 'bytes_rate', 'count_over_time', 'rate', 'absent_over_time',
]);

function validateRangeAggregation(e: RangeAggregationExpr, param: string | undefined): string | undefined {
  if (param !== undefined) {
    if (e.op !== 'quantile_over_time') return `parameter ${param} not supported for operation ${e.op}`;
    try {
      goParseFloat(param);
    } catch (err) {
      return `invalid parameter for operation ${e.op}: ${(err as Error).message}`;
    }
  } else if (e.op === 'quantile_over_time') {
    return `parameter required for operation ${e.op}`;
  }
  if (e.grouping && !GROUPING_OK.has(e.op)) return `grouping not allowed for ${e.op} aggregation`;
  if (e.range.unwrap) {
    return UNWRAP_OK.has(e.op) ? undefined : `invalid aggregation ${e.op} with unwrap`;
  }
  return NO_UNWRAP_OK.has(e.op) ? undefined : `invalid aggregation ${e.op} without unwrap`;
}

function foldBinOp(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return r === 0 ? NaN : l / r;
    case '%':
      return r === 0 ? NaN : l % r;
    case '^':
      return Math.pow(l, r);
    case '==':
      return l === r ? 1 : 0;
    case '!=':
      return l !== r ? 1 : 0;
    case '>':
      return l > r ? 1 : 0;
    case '>=':
      return l >= r ? 1 : 0;
    case '<':
      return l < r ? 1 : 0;
    case '<=':
      return l <= r ? 1 : 0;
    default:
      return NaN;
  }
}

// ---------------------------------------------------------------- validation (Loki's validateExpr)

function matchesEmpty(m: LabelMatcher): boolean {
  switch (m.type) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return compileGoRegex('^(?s:' + m.value + ')$').test('');
    case '!~':
      return !compileGoRegex('^(?s:' + m.value + ')$').test('');
  }
}

function validateMatchers(matchers: LabelMatcher[]): void {
  for (const m of matchers) if (!matchesEmpty(m)) return;
  throw new ParseError(EMPTY_MATCHER_ERR);
}

function validateSample(e: SampleExpr, deferred: WeakMap<object, ParseError>): void {
  const err = deferred.get(e);
  if (err) throw err;
  switch (e.kind) {
    case 'binOp':
      validateSample(e.lhs, deferred);
      validateSample(e.rhs, deferred);
      return;
    case 'vectorAggregation':
      if ((e.op === 'sort' || e.op === 'sort_desc') && e.grouping && e.grouping.labels.length > 0) {
        throw new ParseError("sort and sort_desc doesn't allow grouping by ");
      }
      validateSample(e.inner, deferred);
      return;
    case 'labelReplace':
      validateSample(e.inner, deferred);
      return;
    case 'rangeAggregation':
      validateMatchers(e.range.selector.matchers);
      return;
    default:
      return;
  }
}

function checkSize(input: string): void {
  const len = Buffer.byteLength(input, 'utf8');
  if (len >= MAX_INPUT_SIZE) throw new ParseError(`input size too long (${len} > ${MAX_INPUT_SIZE})`);
}

function parseUnvalidated(input: string): { expr: Expr; deferred: WeakMap<object, ParseError> } {
  checkSize(input);
  const p = new Parser(input);
  const expr = p.parseExpr(0);
  p.finish();
  return { expr, deferred: p.deferred };
}

/** Parses and validates a LogQL query (Loki's syntax.ParseExpr). Throws ParseError. */
export function parseExpr(query: string): Expr {
  const { expr, deferred } = parseUnvalidated(query);
  if (expr.kind === 'logSelector') validateMatchers(expr.matchers);
  else validateSample(expr, deferred);
  return expr;
}

/**
 * Parses a log selector, possibly with a pipeline (Loki's ParseLogSelector with validation).
 * Throws ParseError, or QueryTypeError("only log selector is supported") for metric queries.
 */
export function parseLogSelector(query: string, validate = true): LogSelectorExpr {
  const { expr } = parseUnvalidated(query);
  if (expr.kind !== 'logSelector') throw new QueryTypeError('only log selector is supported');
  if (validate) validateMatchers(expr.matchers);
  return expr;
}

/**
 * Parses a bare stream selector (`match[]` of /series; Loki's ParseMatchers with validation).
 * Throws ParseError, or QueryTypeError("only label matchers are supported").
 */
export function parseMatchers(query: string, validate = true): LabelMatcher[] {
  const expr = validate ? parseExpr(query) : parseUnvalidated(query).expr;
  if (expr.kind !== 'logSelector' || expr.pipeline.length > 0) throw new QueryTypeError('only label matchers are supported');
  return expr.matchers;
}
