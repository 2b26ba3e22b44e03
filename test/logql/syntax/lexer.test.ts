// Lexer and literal helpers: token kinds and Loki's reported positions, Prometheus and Go
// durations, humanized bytes, Go float parsing/formatting.
import { describe, expect, it } from 'vitest';
import {
  formatGoDuration,
  formatGoFloat,
  formatGoFloatF,
  formatHumanBytes,
  formatPromDuration,
  goParseFloat,
  parseGoDuration,
  parseHumanBytes,
  parsePromDuration,
  tokenize,
} from '../../../src/logql/syntax/index.js';

const kinds = (q: string): string[] => tokenize(q).map((t) => t.type);

describe('tokenize', () => {
  it('classifies tokens the way Loki names them', () => {
    expect(kinds('sum by (a) (rate({x=~"y"} |= `z` | json | d > 5s | b < 1KB [5m] offset -1h))')).toEqual([
      'SUM', 'by', '(', 'IDENTIFIER', ')', '(', 'RATE', '(', '{', 'IDENTIFIER', '=~', 'STRING', '}', '|=', 'STRING', '|', 'json',
      '|', 'IDENTIFIER', '>', 'DURATION', '|', 'IDENTIFIER', '<', 'BYTES', 'RANGE', 'offset', 'DURATION', ')', ')', '$end',
    ]);
    expect(kinds('sum x')).toEqual(['IDENTIFIER', 'IDENTIFIER', '$end']);
    expect(kinds('logfmt --strict --keep-empty --other')).toEqual(['logfmt', 'FUNCTION_FLAG', 'FUNCTION_FLAG', '-', '-', 'IDENTIFIER', '$end']);
    expect(kinds('1 - 1 -1 1e3 .5 0x1F')).toEqual(['NUMBER', '-', 'NUMBER', '-', 'NUMBER', 'NUMBER', 'NUMBER', 'NUMBER', '$end']);
    expect(kinds('a # comment\n b /* c */ // d')).toEqual(['IDENTIFIER', 'IDENTIFIER', '$end']);
    expect(kinds('ip("x") ip x == != !')).toEqual(['ip', '(', 'STRING', ')', 'IDENTIFIER', 'IDENTIFIER', '==', '!=', 'IDENTIFIER', '$end']);
  });

  it('reports positions like Go text/scanner (line 0 after look-ahead)', () => {
    const t = tokenize('{a="é"}\n  |= "x" [5m]');
    expect(t.map((x) => [x.type, x.line, x.col])).toEqual([
      ['{', 1, 1], ['IDENTIFIER', 1, 2], ['=', 1, 3], ['STRING', 1, 4], ['}', 1, 7],
      ['|=', 0, 3], ['STRING', 2, 6], ['RANGE', 0, 10], ['$end', 2, 14],
    ]);
    expect(tokenize('')[0]).toMatchObject({ type: '$end', line: 0, col: 0 });
  });

  it('carries values', () => {
    const [s, d, b, r] = tokenize('"a\\tb" 1h30m 1.5KiB [2d]');
    expect(s!.text).toBe('a\tb');
    expect(d!.dur).toBe(5_400_000_000_000n);
    expect(b!.bytes).toBe(1536);
    expect(r!.dur).toBe(172_800_000_000_000n);
  });
});

describe('durations', () => {
  it('Prometheus syntax', () => {
    expect(parsePromDuration('1y2w3d4h5m6s7ms')).toBe(
      31_536_000_000_000_000n + 2n * 604_800_000_000_000n + 3n * 86_400_000_000_000n + 4n * 3_600_000_000_000n + 5n * 60_000_000_000n + 6_007_000_000n,
    );
    expect(parsePromDuration('0')).toBe(0n);
    expect(() => parsePromDuration('')).toThrow('empty duration string');
    expect(() => parsePromDuration('5m1h')).toThrow('not a valid duration string: "5m1h"');
    expect(() => parsePromDuration('1.5h')).toThrow('unknown unit "." in duration "1.5h"');
    expect(() => parsePromDuration('5x')).toThrow('unknown unit "x" in duration "5x"');
  });
  it('Go syntax', () => {
    expect(parseGoDuration('1.5h')).toBe(5_400_000_000_000n);
    expect(parseGoDuration('-5m')).toBe(-300_000_000_000n);
    expect(parseGoDuration('250us')).toBe(250_000n);
    expect(parseGoDuration('1µs')).toBe(1_000n);
    expect(() => parseGoDuration('5')).toThrow('missing unit');
    expect(() => parseGoDuration('5d')).toThrow('unknown unit');
  });
  it('formats', () => {
    expect(formatPromDuration(5_400_000_000_000n)).toBe('1h30m');
    expect(formatPromDuration(604_800_000_000_000n)).toBe('1w');
    expect(formatPromDuration(0n)).toBe('0s');
    expect(formatPromDuration(500_000_000n)).toBe('500ms');
    expect(formatGoDuration(5_400_000_000_000n)).toBe('1h30m0s');
    expect(formatGoDuration(1_500_000_000n)).toBe('1.5s');
    expect(formatGoDuration(250_000_000n)).toBe('250ms');
    expect(formatGoDuration(1_000n)).toBe('1µs');
    expect(formatGoDuration(-60_000_000_000n)).toBe('-1m0s');
    expect(formatGoDuration(0n)).toBe('0s');
  });
});

describe('bytes', () => {
  it('parses humanized sizes', () => {
    expect(parseHumanBytes('20MB')).toBe(20_000_000);
    expect(parseHumanBytes('1.5KiB')).toBe(1536);
    expect(parseHumanBytes('5k')).toBe(5000);
    expect(parseHumanBytes('7B')).toBe(7);
    expect(() => parseHumanBytes('5XB')).toThrow('unhandled size name: xb');
  });
  it('formats like humanize.Bytes without spaces', () => {
    expect(formatHumanBytes(5)).toBe('5B');
    expect(formatHumanBytes(1000)).toBe('1.0kB');
    expect(formatHumanBytes(20_000_000)).toBe('20MB');
    expect(formatHumanBytes(1536)).toBe('1.5kB');
  });
});

describe('Go floats', () => {
  it('parses', () => {
    expect(goParseFloat('1e3')).toBe(1000);
    expect(goParseFloat('.5')).toBe(0.5);
    expect(goParseFloat('017')).toBe(17);
    expect(goParseFloat('1_000')).toBe(1000);
    expect(goParseFloat('0x1p-2')).toBe(0.25);
    expect(() => goParseFloat('0b101')).toThrow('strconv.ParseFloat: parsing "0b101": invalid syntax');
  });
  it('formats %v and f/-1', () => {
    expect(formatGoFloat(1e6)).toBe('1e+06');
    expect(formatGoFloat(123456)).toBe('123456');
    expect(formatGoFloat(0.5)).toBe('0.5');
    expect(formatGoFloat(1e-5)).toBe('1e-05');
    expect(formatGoFloat(-2.5e21)).toBe('-2.5e+21');
    expect(formatGoFloatF(1e21)).toBe('1000000000000000000000');
    expect(formatGoFloatF(1e-7)).toBe('0.0000001');
    expect(formatGoFloatF(-1.25)).toBe('-1.25');
  });
});
