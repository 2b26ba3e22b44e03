// Query parameter parsing with Loki's exact rules and error texts (pkg/loghttp/params.go,
// query.go): timestamps (float seconds, <=10-digit seconds, nanoseconds, RFC3339Nano), durations
// (float seconds or Prometheus durations), limit, direction, step, interval and default bounds.
import { formatGoDuration, formatPromDuration, parseDurationMs } from '../config/units.js';

export class ParamError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
    this.name = 'ParamError';
  }
}

export type Params = Record<string, string | string[] | undefined>;

export function param(p: Params, name: string): string {
  const v = p[name];
  if (Array.isArray(v)) return v[0] ?? '';
  return v ?? '';
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Go's strconv.ParseInt(s, 10, 64) error text for a string that is not an integer. */
function parseIntError(v: string): string {
  return `strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`;
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Loki's parseTimestamp; returns ns. Throws the Go error text (without the "could not parse" prefix). */
export function parseTimestamp(value: string, def: bigint): bigint {
  if (value === '') return def;
  if (value.includes('.') && FLOAT_RE.test(value)) {
    const t = Number(value);
    const s = Math.trunc(t);
    let frac = t - s;
    frac = Math.round(frac * 1000) / 1000;
    return BigInt(s) * 1_000_000_000n + BigInt(Math.round(frac * 1e9));
  }
  if (INT_RE.test(value)) {
    const n = BigInt(value);
    if (n > 9223372036854775807n || n < -9223372036854775808n) throw new ParamError(`strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
    return value.length <= 10 ? n * 1_000_000_000n : n;
  }
  const m = RFC3339_RE.exec(value);
  if (m) {
    const base = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    let ns = BigInt(base) * 1_000_000n;
    if (m[7]) ns += BigInt((m[7].slice(1) + '000000000').slice(0, 9));
    if (m[8] !== 'Z') {
      const sign = m[8]![0] === '-' ? -1n : 1n;
      const off = BigInt(+m[8]!.slice(1, 3) * 3600 + +m[8]!.slice(4, 6) * 60) * 1_000_000_000n;
      ns -= sign * off;
    }
    return ns;
  }
  throw new ParamError(parseIntError(value));
}

/** Loki's determineBounds: end defaults to now, start to min(end, now) - since (default 1h). */
export function parseBounds(p: Params, nowNs: bigint): { start: bigint; end: bigint } {
  let sinceNs = 3_600_000_000_000n;
  const since = param(p, 'since');
  if (since !== '') {
    try {
      sinceNs = BigInt(Math.round(parsePromDurationMs(since) * 1e6));
    } catch (e) {
      throw new ParamError(`could not parse 'since' parameter: ${(e as Error).message}`);
    }
  }
  let end: bigint;
  try {
    end = parseTimestamp(param(p, 'end'), nowNs);
  } catch (e) {
    throw new ParamError(`could not parse 'end' parameter: ${(e as Error).message}`);
  }
  const endOrNow = end > nowNs ? nowNs : end;
  let start: bigint;
  try {
    start = parseTimestamp(param(p, 'start'), endOrNow - sinceNs);
  } catch (e) {
    throw new ParamError(`could not parse 'start' parameter: ${(e as Error).message}`);
  }
  return { start, end };
}

/** Prometheus model.ParseDuration (no fractions, units ms s m h d w y). */
export function parsePromDurationMs(s: string): number {
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(s)) throw new Error(`not a valid duration string: ${JSON.stringify(s)}`);
  return parseDurationMs(s);
}

/** step / interval: float seconds or a Prometheus duration; result in ns. */
export function parseSecondsOrDuration(value: string): bigint {
  if (FLOAT_RE.test(value)) {
    const f = Number(value);
    return BigInt(Math.round(f * 1e9));
  }
  try {
    return BigInt(Math.round(parsePromDurationMs(value) * 1e6));
  } catch {
    throw new ParamError(`cannot parse ${JSON.stringify(value)} to a valid duration`);
  }
}

export function parseLimit(p: Params, def = 100): number {
  const v = param(p, 'limit');
  if (v === '') return def;
  if (!INT_RE.test(v)) throw new ParamError(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (n <= 0) throw new ParamError('limit must be a positive value');
  return n;
}

export function parseDirection(p: Params): 'forward' | 'backward' {
  const v = param(p, 'direction');
  if (v === '') return 'backward';
  const l = v.toLowerCase();
  if (l === 'forward' || l === 'backward') return l;
  throw new ParamError(`invalid direction '${v}'`);
}

export interface RangeQueryParams {
  query: string;
  start: bigint;
  end: bigint;
  /** start/end as the client sent them (the frontend's limit checks use these) */
  requestStart: bigint;
  requestEnd: bigint;
  limit: number;
  direction: 'forward' | 'backward';
  step: bigint;
  interval: bigint;
}

const MAX_POINTS = 11000n;

/** Loki's ParseRangeQuery: bounds, limit, direction, step (+11,000 point check) and interval. */
export function parseRangeQuery(p: Params, nowNs: bigint): RangeQueryParams {
  const { start, end } = parseBounds(p, nowNs);
  if (end < start) throw new ParamError('end timestamp must not be before or equal to start time');
  const limit = parseLimit(p);
  const direction = parseDirection(p);
  const stepStr = param(p, 'step');
  let step: bigint;
  if (stepStr === '') {
    const secs = Math.max(Math.floor(Number(end - start) / 1e9 / 250), 1);
    step = BigInt(secs) * 1_000_000_000n;
  } else {
    step = parseSecondsOrDuration(stepStr);
  }
  if (step <= 0n) throw new ParamError('zero or negative query resolution step widths are not accepted. Try a positive integer');
  if ((end - start) / step > MAX_POINTS) throw new ParamError('exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter');
  // Loki's query frontend re-sends start/end to its queriers as nanosecond integers, and a
  // querier reads an integer of at most 10 digits as seconds: tiny timestamps (before 1970-01-01
  // 00:00:10) are re-read as seconds. Reproduce that, including the resolution check after it.
  const rs = frontendRoundTrip(start);
  const re = frontendRoundTrip(end);
  if (rs !== start || re !== end) {
    if (re < rs) throw new ParamError('end timestamp must not be before or equal to start time');
    if ((re - rs) / step > MAX_POINTS) throw new ParamError('exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter');
  }
  let interval = 0n;
  const iv = param(p, 'interval');
  if (iv !== '') {
    interval = parseSecondsOrDuration(iv);
    if (interval < 0n) throw new ParamError('interval must be >= 0');
  }
  return { query: param(p, 'query'), start: rs, end: re, requestStart: start, requestEnd: end, limit, direction, step, interval };
}

function frontendRoundTrip(ns: bigint): bigint {
  return ns >= 0n && ns < 10_000_000_000n ? ns * 1_000_000_000n : ns;
}

export interface InstantQueryParams {
  query: string;
  time: bigint;
  limit: number;
  direction: 'forward' | 'backward';
}

export function parseInstantQuery(p: Params, nowNs: bigint): InstantQueryParams {
  const time = parseTimestamp(param(p, 'time'), nowNs);
  const limit = parseLimit(p);
  const direction = parseDirection(p);
  return { query: param(p, 'query'), time, limit, direction };
}

/** max_query_length check (Loki formats the length as a Go duration at ms precision). */
export function checkQueryLength(start: bigint, end: bigint, maxMs: number): void {
  if (maxMs <= 0) return;
  const lenMs = Number(end / 1_000_000n - start / 1_000_000n);
  if (lenMs > maxMs) {
    throw new ParamError(`the query time range exceeds the limit (query length: ${formatGoDuration(lenMs)}, limit: ${formatPromDuration(maxMs)})`);
  }
}
