// Go FormatFloat('f', -1) and the Loki result JSON shapes.
import { describe, expect, it } from 'vitest';
import { encodeQueryValue, formatFloat } from '../../../src/logql/eval/index.js';
import { lokiScalarTimestamp } from '../../../src/logql/eval/encode.js';

describe('formatFloat', () => {
  it('matches Go strconv.FormatFloat(v, f, -1, 64)', () => {
    expect(formatFloat(1)).toBe('1');
    expect(formatFloat(1.5)).toBe('1.5');
    expect(formatFloat(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatFloat(1e21)).toBe('1000000000000000000000');
    expect(formatFloat(1.5e22)).toBe('15000000000000000000000');
    expect(formatFloat(-1.2345e25)).toBe('-12345000000000000000000000');
    expect(formatFloat(1e-7)).toBe('0.0000001');
    expect(formatFloat(-2.5e-10)).toBe('-0.00000000025');
    expect(formatFloat(123456.789e-12)).toBe('0.000000123456789');
    expect(formatFloat(NaN)).toBe('NaN');
    expect(formatFloat(Infinity)).toBe('+Inf');
    expect(formatFloat(-Infinity)).toBe('-Inf');
    expect(formatFloat(-0)).toBe('-0');
    expect(formatFloat(0)).toBe('0');
    expect(formatFloat(1.7976931348623157e308)).toBe('17976931348623157' + '0'.repeat(292));
    expect(formatFloat(5e-324)).toBe('0.' + '0'.repeat(323) + '5');
  });
});

describe('encodeQueryValue', () => {
  it('matrix and vector shapes with ms-precision second timestamps', () => {
    const labels = [{ name: 'a', value: 'x' }];
    expect(encodeQueryValue({ type: 'matrix', series: [{ labels, points: [{ tsNs: 1700000000500000000n, value: 2 }, { tsNs: 1700000001123456789n, value: NaN }] }] })).toEqual({
      resultType: 'matrix',
      result: [{ metric: { a: 'x' }, values: [[1700000000.5, '2'], [1700000001.123, 'NaN']] }],
    });
    expect(encodeQueryValue({ type: 'vector', samples: [{ labels: [], tsNs: 1700000000000000000n, value: 0.25 }] })).toEqual({
      resultType: 'vector',
      result: [{ metric: {}, value: [1700000000, '0.25'] }],
    });
    expect(encodeQueryValue({ type: 'matrix', series: [] })).toEqual({ resultType: 'matrix', result: [] });
  });
  it('scalar timestamps reproduce Loki frontend int64 wrap-around', () => {
    expect(lokiScalarTimestamp(1795134000000000000n)).toBe(5799824850173);
    expect(encodeQueryValue({ type: 'scalar', tsNs: 1795134000000000000n, value: 2 })).toEqual({ resultType: 'scalar', result: [5799824850173, '2'] });
  });
});
