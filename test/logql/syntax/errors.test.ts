// Exact Loki error texts. The syntax-error table was cross-checked against Loki's own goyacc
// tables (syntax.y.go) by simulating its LALR automaton over our token stream; the validation
// errors follow pkg/logql/syntax/ast.go and parser.go.
import { describe, expect, it } from 'vitest';
import { ParseError, parseExpr, parseLogSelector, parseMatchers, QueryTypeError } from '../../../src/logql/syntax/index.js';

function errorOf(q: string): string {
  try {
    parseExpr(q);
    return 'ACCEPT';
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return e.message;
  }
}

const SYNTAX: Array<[string, string]> = [
  ["{", "parse error at line 1, col 2: syntax error: unexpected $end, expecting IDENTIFIER or }"],
  ["{a", "parse error at line 1, col 3: syntax error: unexpected $end, expecting = or =~ or !~ or !="],
  ["{a=", "parse error at line 1, col 4: syntax error: unexpected $end, expecting STRING"],
  ["{a=\"b\",", "parse error at line 1, col 8: syntax error: unexpected $end, expecting IDENTIFIER"],
  ["{a=\"b\" x}", "parse error at line 1, col 8: syntax error: unexpected IDENTIFIER, expecting } or ,"],
  ["{a=~\"b\"} |", "parse error at line 1, col 11: syntax error: unexpected $end"],
  ["{a=\"b\"} |=", "parse error at line 1, col 11: syntax error: unexpected $end, expecting STRING or ip"],
  ["{a=\"b\"} |= \"x\" or", "parse error at line 1, col 18: syntax error: unexpected $end, expecting STRING or ip"],
  ["{a=\"b\"} |= ip(", "parse error at line 1, col 15: syntax error: unexpected $end, expecting STRING"],
  ["{a=\"b\"} |= ip(\"x\"", "parse error at line 1, col 18: syntax error: unexpected $end, expecting )"],
  ["{a=\"b\"} | json a=", "parse error at line 1, col 18: syntax error: unexpected $end, expecting STRING"],
  ["{a=\"b\"} | json a,", "parse error at line 1, col 18: syntax error: unexpected $end, expecting IDENTIFIER"],
  ["{a=\"b\"} | logfmt --strict a=5", "parse error at line 1, col 29: syntax error: unexpected NUMBER, expecting STRING"],
  ["{a=\"b\"} | regexp", "parse error at line 1, col 17: syntax error: unexpected $end, expecting STRING"],
  ["{a=\"b\"} | pattern 5", "parse error at line 1, col 19: syntax error: unexpected NUMBER, expecting STRING"],
  ["{a=\"b\"} | line_format x", "parse error at line 1, col 23: syntax error: unexpected IDENTIFIER, expecting STRING"],
  ["{a=\"b\"} | label_format", "parse error at line 1, col 23: syntax error: unexpected $end, expecting IDENTIFIER"],
  ["{a=\"b\"} | label_format a", "parse error at line 1, col 25: syntax error: unexpected $end, expecting ="],
  ["{a=\"b\"} | label_format a=", "parse error at line 1, col 26: syntax error: unexpected $end, expecting IDENTIFIER or STRING"],
  ["{a=\"b\"} | label_format a=b,", "parse error at line 1, col 28: syntax error: unexpected $end, expecting IDENTIFIER"],
  ["{a=\"b\"} | drop a=", "parse error at line 1, col 18: syntax error: unexpected $end, expecting STRING"],
  ["{a=\"b\"} | keep", "parse error at line 1, col 15: syntax error: unexpected $end, expecting IDENTIFIER"],
  ["{a=\"b\"} | x", "parse error at line 1, col 12: syntax error: unexpected $end"],
  ["{a=\"b\"} | x =~ 5", "parse error at line 1, col 16: syntax error: unexpected NUMBER, expecting STRING"],
  ["{a=\"b\"} | x > \"5\"", "parse error at line 1, col 15: syntax error: unexpected STRING"],
  ["{a=\"b\"} | x = ip(", "parse error at line 1, col 18: syntax error: unexpected $end, expecting STRING"],
  ["{a=\"b\"} | x > 5 and", "parse error at line 1, col 20: syntax error: unexpected $end, expecting IDENTIFIER or ("],
  ["{a=\"b\"} | (x > 5", "parse error at line 1, col 17: syntax error: unexpected $end"],
  ["{a=\"b\"} | x > -", "parse error at line 1, col 16: syntax error: unexpected $end, expecting NUMBER"],
  ["rate(", "parse error at line 1, col 6: syntax error: unexpected $end, expecting NUMBER or { or ("],
  ["rate({a=\"b\"})", "parse error at line 1, col 13: syntax error: unexpected )"],
  ["rate({a=\"b\"}[5m]", "parse error at line 1, col 17: syntax error: unexpected $end, expecting )"],
  ["rate({a=\"b\"}[5m] offset)", "parse error at line 1, col 24: syntax error: unexpected ), expecting DURATION"],
  ["rate({a=\"b\"}[5m] offset 5)", "parse error at line 1, col 25: syntax error: unexpected NUMBER, expecting DURATION"],
  ["rate({a=\"b\"} | unwrap)", "parse error at line 1, col 22: syntax error: unexpected ), expecting IDENTIFIER or BYTES_CONV or DURATION_CONV or DURATION_SECONDS_CONV"],
  ["rate({a=\"b\"} | unwrap bytes(x)", "parse error at line 1, col 31: syntax error: unexpected $end, expecting RANGE or |"],
  ["rate({a=\"b\"} | unwrap x)", "parse error at line 1, col 24: syntax error: unexpected ), expecting RANGE or |"],
  ["rate(({a=\"b\"})", "parse error at line 1, col 15: syntax error: unexpected $end, expecting RANGE"],
  ["rate(({a=\"b\"}) | json [5m])", "parse error at line 1, col 16: syntax error: unexpected |, expecting RANGE"],
  ["rate(({a=\"b\"} | json) [5m] | json)", "parse error at line 1, col 28: syntax error: unexpected |, expecting )"],
  ["quantile_over_time(0.5 {a=\"b\"}[5m])", "parse error at line 1, col 24: syntax error: unexpected {, expecting ,"],
  ["quantile_over_time(0.5,)", "parse error at line 1, col 24: syntax error: unexpected ), expecting { or ("],
  ["rate({a=\"b\"}[5m]) by", "parse error at line 1, col 21: syntax error: unexpected $end, expecting ("],
  ["rate({a=\"b\"}[5m]) by (", "parse error at line 1, col 23: syntax error: unexpected $end, expecting IDENTIFIER or )"],
  ["sum", "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER"],
  ["sum(", "parse error at line 1, col 5: syntax error: unexpected $end"],
  ["sum()", "parse error at line 1, col 5: syntax error: unexpected )"],
  ["sum by", "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER"],
  ["sum by (", "parse error at line 1, col 9: syntax error: unexpected $end, expecting IDENTIFIER or )"],
  ["sum by (a", "parse error at line 1, col 10: syntax error: unexpected $end, expecting , or )"],
  ["sum by (a,", "parse error at line 1, col 11: syntax error: unexpected $end, expecting IDENTIFIER"],
  ["topk(5,)", "parse error at line 1, col 8: syntax error: unexpected )"],
  ["topk(5", "parse error at line 1, col 7: syntax error: unexpected $end"],
  ["sum(rate({a=\"b\"}[5m])) +", "parse error at line 1, col 25: syntax error: unexpected $end"],
  ["sum(rate({a=\"b\"}[5m])) + on", "parse error at line 1, col 28: syntax error: unexpected $end, expecting ("],
  ["sum(rate({a=\"b\"}[5m])) + on(", "parse error at line 1, col 29: syntax error: unexpected $end, expecting IDENTIFIER or )"],
  ["sum(rate({a=\"b\"}[5m])) + on() group_left(", "parse error at line 1, col 42: syntax error: unexpected $end, expecting IDENTIFIER or )"],
  ["sum(rate({a=\"b\"}[5m])) + bool", "parse error at line 1, col 30: syntax error: unexpected $end"],
  ["1 +", "parse error at line 1, col 4: syntax error: unexpected $end"],
  ["- sum(rate({a=\"b\"}[5m]))", "parse error at line 1, col 3: syntax error: unexpected SUM, expecting NUMBER"],
  ["-", "parse error at line 1, col 2: syntax error: unexpected $end, expecting NUMBER"],
  ["vector(", "parse error at line 1, col 8: syntax error: unexpected $end, expecting NUMBER"],
  ["vector(1", "parse error at line 1, col 9: syntax error: unexpected $end, expecting )"],
  ["label_replace(", "parse error at line 1, col 15: syntax error: unexpected $end"],
  ["label_replace(vector(1),", "parse error at line 1, col 25: syntax error: unexpected $end, expecting STRING"],
  ["label_replace(vector(1),\"a\",", "parse error at line 1, col 29: syntax error: unexpected $end, expecting STRING"],
  ["label_replace(vector(1),\"a\",\"b\",\"c\",\"d\"", "parse error at line 1, col 40: syntax error: unexpected $end, expecting )"],
  ["(1", "parse error at line 1, col 3: syntax error: unexpected $end"],
  ["()", "parse error at line 1, col 2: syntax error: unexpected )"],
  ["({a=\"b\"}", "parse error at line 1, col 9: syntax error: unexpected $end"],
  ["count_values(\"x\", rate({a=\"b\"}[5m]))", "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER"],
  ["rate({a=\"b\"}[5m:1m])", "parse error at line 0, col 13: unknown unit \"m:\" in duration \"5m:1m\""],
  ["rate({a=\"b\"}[5m]) offset 5m", "parse error at line 1, col 19: syntax error: unexpected offset"],
  ["{a=\"b\"}[5m]", "parse error at line 0, col 8: syntax error: unexpected RANGE"],
  ["scalar(vector(1))", "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER"],
  ["sum(rate({a=\"b\"}[5m])) by (a) by (b)", "parse error at line 1, col 31: syntax error: unexpected by"],
  ["{a=\"b\"} | json | __error__ = \"\"", "ACCEPT"],
  ["{a=\"b\"} |~ `x` |= \"y\" ||", "parse error at line 1, col 24: syntax error: unexpected |"],
  ["absent_over_time({a=\"b\"}[5m] | unwrap x | y > 1 | json)", "parse error at line 1, col 51: syntax error: unexpected json, expecting IDENTIFIER or ("],
  ["{a=\"b\"} | logfmt --strict --keep-empty x", "ACCEPT"],
  ["{a=\"b\"} | x == 5s or y == 20MB ,", "parse error at line 1, col 33: syntax error: unexpected $end, expecting IDENTIFIER or ("],
  ["sum(count_over_time({a=\"b\"}[1m])) > bool on(x) group_right 1", "ACCEPT"],
  ["sort(", "parse error at line 1, col 6: syntax error: unexpected $end"],
  ["approx_topk(", "parse error at line 1, col 13: syntax error: unexpected $end"],
  ["{a=\"b\"} | decolorize |", "parse error at line 1, col 23: syntax error: unexpected $end"],
  ["rate({a=\"b\"} |= \"x\" [5m] | unwrap", "parse error at line 1, col 26: syntax error: unexpected |, expecting )"],
];

describe('syntax errors (goyacc messages and positions)', () => {
  it.each(SYNTAX)('%s', (q, want) => {
    expect(errorOf(q)).toBe(want);
  });
});

const VALIDATION: Array<[string, string]> = [
  ['sum_over_time({a="b"}[5m])', 'parse error : invalid aggregation sum_over_time without unwrap'],
  ['count_over_time({a="b"} | unwrap x [5m])', 'parse error : invalid aggregation count_over_time with unwrap'],
  ['bytes_rate({a="b"} | unwrap x [5m])', 'parse error : invalid aggregation bytes_rate with unwrap'],
  ['sum_over_time({a="b"} | unwrap x [5m]) by (a)', 'parse error : grouping not allowed for sum_over_time aggregation'],
  ['rate({a="b"}[5m]) without (a)', 'parse error : grouping not allowed for rate aggregation'],
  ['rate(0.5, {a="b"}[5m])', 'parse error : parameter 0.5 not supported for operation rate'],
  ['quantile_over_time({a="b"} | unwrap x [5m])', 'parse error : parameter required for operation quantile_over_time'],
  ['topk(0, rate({a="b"}[5m]))', 'parse error : invalid parameter (must be greater than 0) topk(0'],
  ['bottomk(1.5, rate({a="b"}[5m]))', 'parse error : invalid parameter bottomk(1.5,'],
  ['topk(rate({a="b"}[5m]))', 'parse error : parameter required for operation topk'],
  ['sum(5, rate({a="b"}[5m]))', 'parse error : unsupported parameter for operation sum(5,'],
  ['approx_topk(2, rate({a="b"}[1m])) by (x)', 'parse error : grouping not allowed for approx_topk aggregation'],
  ['sort(rate({a="b"}[1m])) by (x)', "parse error : sort and sort_desc doesn't allow grouping by "],
  ['{a="b"} + 1', 'parse error : unexpected type for left leg of binary operation (+): *syntax.MatchersExpr'],
  ['1 + {a="b"} |= "x"', 'parse error : unexpected type for right leg of binary operation (+): *syntax.PipelineExpr'],
  ['1 and rate({a="b"}[1m])', 'parse error : unexpected literal for left leg of logical/set binary operation (and): 1.000000'],
  ['rate({a="b"}[1m]) unless 2.5', 'parse error : unexpected literal for right leg of logical/set binary operation (unless): 2.500000'],
  [
    'label_replace(rate({a="b"}[1m]), "a", "b", "c", "((")',
    'parse error : invalid regex in label_replace: error parsing regexp: missing closing ): `^(?:(()$`',
  ],
  ['{a=~"(("}', 'parse error : error parsing regexp: missing closing ): `((`'],
  ['{a="b"} | x=~"a)"', 'parse error : error parsing regexp: unexpected ): `a)`'],
  ['{a="b"} | regexp "(a)"', 'parse error : invalid regexp parser: at least one named capture must be supplied'],
  ['{a="b"} | pattern "<a><b>"', "parse error : invalid pattern parser: found consecutive capture '<a><b>': invalid expression"],
  ['{a="b"} | pattern "<a> <a>"', 'parse error : invalid pattern parser: duplicate capture name (a): invalid expression'],
  ['{}', 'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will'],
  ['{a!="x"}', 'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will'],
  ['{a!~".+"}', 'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will'],
  ['rate({a=~".*"}[1m])', 'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will'],
  ['{a="b"} |= "\\q"', 'parse error at line 1, col 12: invalid char escape'],
  ['{a="b"} |= "abc', 'parse error at line 1, col 12: literal not terminated'],
  ['rate({a="b"}[5m', "parse error at line 0, col 13: missing closing ']' in duration"],
  ['rate({a="b"}[1.5m])', 'parse error at line 0, col 13: unknown unit "." in duration "1.5m"'],
  ['vector(09)', 'parse error at line 1, col 8: invalid digit \'9\' in octal literal'],
];

describe('validation and lexical errors', () => {
  it.each(VALIDATION)('%s', (q, want) => {
    expect(errorOf(q)).toBe(want);
  });

  it('valid queries around the rules are accepted', () => {
    for (const q of [
      '{a!="x", b="y"}',
      '{a=~".+"}',
      'avg_over_time({a="b"} | unwrap x [5m]) by (a)',
      'rate({a="b"} | unwrap x [5m])',
      'absent_over_time({a="b"}[5m])',
      'sort(rate({a="b"}[1m])) by ()',
      'topk(1, rate({a="b"}[5m]))',
      '{a="b"} | regexp "(?P<x>a)"',
      '{a="b"} | pattern "<a> <_>"',
    ]) {
      expect(errorOf(q), q).toBe('ACCEPT');
    }
  });

  it('rejects oversized input like Loki', () => {
    const q = '{a="' + 'x'.repeat(131072) + '"}';
    expect(errorOf(q)).toBe(`parse error : input size too long (${q.length} > 131072)`);
  });
});

describe('typed entry points', () => {
  it('parseMatchers accepts only a bare selector', () => {
    expect(parseMatchers('{a="b", c=~"d.*"}')).toEqual([
      { type: '=', name: 'a', value: 'b' },
      { type: '=~', name: 'c', value: 'd.*' },
    ]);
    expect(() => parseMatchers('{a="b"} |= "x"')).toThrow(QueryTypeError);
    expect(() => parseMatchers('{a="b"} |= "x"')).toThrow('only label matchers are supported');
    expect(() => parseMatchers('{a=""}')).toThrow(ParseError);
  });
  it('parseLogSelector accepts a pipeline but not a metric query', () => {
    expect(parseLogSelector('{a="b"} | json').pipeline).toEqual([{ kind: 'parser', parser: 'json' }]);
    expect(() => parseLogSelector('rate({a="b"}[1m])')).toThrow('only log selector is supported');
    expect(parseLogSelector('{a=""}', false).matchers).toEqual([{ type: '=', name: 'a', value: '' }]);
  });
  it('ParseError exposes line and col', () => {
    try {
      parseExpr('{job="hdfs"');
      expect.unreachable();
    } catch (e) {
      const pe = e as ParseError;
      expect([pe.line, pe.col]).toEqual([1, 12]);
      expect(pe.reason).toBe('syntax error: unexpected $end, expecting } or ,');
    }
  });
});
