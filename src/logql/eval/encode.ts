// JSON encoding of metric query results exactly as Loki's HTTP API writes them
// (pkg/util/marshal, pkg/querier/queryrange): `{resultType, result}` where sample timestamps
// are JSON numbers of seconds (ms precision) and values are strings from Go's
// strconv.FormatFloat(v, 'f', -1, 64). Also reproduces Loki's scalar timestamp quirk: an
// instant scalar passes the query frontend's codec twice and its ms timestamp is scaled by
// 1e9 with int64 wrap-around, so `1+1` at T answers with a nonsense timestamp.
import type { Labels } from '../../util/labels.js';
import type { QueryValue } from './types.js';

/** Go strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent. */
export function formatFloat(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  let mant = s.slice(0, e);
  const exp = Number(s.slice(e + 1));
  let neg = false;
  if (mant[0] === '-') { neg = true; mant = mant.slice(1); }
  const dot = mant.indexOf('.');
  const digits = dot < 0 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const intLen = (dot < 0 ? mant.length : dot) + exp; // digits before the decimal point
  let out: string;
  if (intLen <= 0) out = '0.' + '0'.repeat(-intLen) + digits;
  else if (intLen >= digits.length) out = digits + '0'.repeat(intLen - digits.length);
  else out = digits.slice(0, intLen) + '.' + digits.slice(intLen);
  return neg ? '-' + out : out;
}

/** Prometheus model.Time JSON: milliseconds rendered as seconds (FormatFloat of ms/1000). */
function msToSeconds(ms: bigint): number {
  return Number(ms) / 1000;
}

function nsToMs(ns: bigint): bigint {
  return ns / 1_000_000n; // Go integer division truncates toward zero, as BigInt does
}

function metric(labels: Labels): Record<string, string> {
  const m: Record<string, string> = {};
  for (const l of labels) m[l.name] = l.value;
  return m;
}

/** The scalar timestamp Loki's frontend ends up writing for an instant scalar at `tsNs`. */
export function lokiScalarTimestamp(tsNs: bigint): number {
  const ms = nsToMs(tsNs);
  const wrapped = BigInt.asIntN(64, ms * 1000n * 1_000_000n);
  const ms2 = wrapped / 1_000_000n;
  return Number(ms2); // written as seconds: TimeFromUnix(ms2).String() == ms2
}

/** `{resultType, result}` of Loki's query / query_range `data` (without `stats`). */
export function encodeQueryValue(v: QueryValue): unknown {
  switch (v.type) {
    case 'matrix':
      return {
        resultType: 'matrix',
        result: v.series.map((s) => ({
          metric: metric(s.labels),
          values: s.points.map((p) => [msToSeconds(nsToMs(p.tsNs)), formatFloat(p.value)]),
        })),
      };
    case 'vector':
      return {
        resultType: 'vector',
        result: v.samples.map((s) => ({ metric: metric(s.labels), value: [msToSeconds(nsToMs(s.tsNs)), formatFloat(s.value)] })),
      };
    case 'scalar':
      return { resultType: 'scalar', result: [lokiScalarTimestamp(v.tsNs), formatFloat(v.value)] };
  }
}
