// Duration helpers for the LogQL front end: Prometheus' model.ParseDuration (used for `[5m]`
// ranges; units y w d h m s ms, largest first, no fractions, no sign), Go's time.ParseDuration
// (the lexer's fallback for duration literals such as `1.5s`, `-5m`, `250us`), and the two
// String() forms Loki prints (Prometheus `1h30m`, Go `1h30m0s`). All values are nanoseconds
// held in bigint so ranges up to Go's int64 limit stay exact.
import { goQuote } from '../../util/labels.js';

const MAX_INT64 = (1n << 63n) - 1n;

export class DurationError extends Error {}

const PROM_UNITS: Record<string, { pos: number; mult: bigint }> = {
  ms: { pos: 7, mult: 1_000_000n },
  s: { pos: 6, mult: 1_000_000_000n },
  m: { pos: 5, mult: 60_000_000_000n },
  h: { pos: 4, mult: 3_600_000_000_000n },
  d: { pos: 3, mult: 86_400_000_000_000n },
  w: { pos: 2, mult: 604_800_000_000_000n },
  y: { pos: 1, mult: 31_536_000_000_000_000n },
};

function isAsciiDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Prometheus model.ParseDuration; returns nanoseconds or throws DurationError with Prometheus' text. */
export function parsePromDuration(s: string): bigint {
  if (s === '0') return 0n;
  if (s === '') throw new DurationError('empty duration string');
  // Prometheus works on bytes; a JS string of code units is equivalent for the ASCII checks done here.
  const bytes = Buffer.from(s, 'utf8');
  const invalid = (): DurationError => new DurationError(`not a valid duration string: ${goQuote(s)}`);
  let i = 0;
  let dur = 0n;
  let lastPos = 0;
  while (i < bytes.length) {
    if (!isAsciiDigit(bytes[i]!)) throw invalid();
    let j = i;
    while (j < bytes.length && isAsciiDigit(bytes[j]!)) j++;
    const v = BigInt(bytes.subarray(i, j).toString('latin1'));
    if (v > 18446744073709551615n) throw invalid();
    i = j;
    while (j < bytes.length && !isAsciiDigit(bytes[j]!)) j++;
    if (j === i) throw invalid();
    const unitText = bytes.subarray(i, j).toString('utf8');
    i = j;
    const unit = PROM_UNITS[unitText];
    if (!unit) throw new DurationError(`unknown unit ${goQuote(unitText)} in duration ${goQuote(s)}`);
    if (unit.pos <= lastPos) throw invalid();
    lastPos = unit.pos;
    if (v > (1n << 63n) / unit.mult) throw new DurationError('duration out of range');
    dur += v * unit.mult;
    if (dur > MAX_INT64) throw new DurationError('duration out of range');
  }
  return dur;
}

const GO_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5
  'μs': 1_000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go time.ParseDuration; returns nanoseconds or throws DurationError. */
export function parseGoDuration(orig: string): bigint {
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw new DurationError(`time: invalid duration ${goQuote(orig)}`);
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isAsciiDigit(s.charCodeAt(0)))) throw new DurationError(`time: invalid duration ${goQuote(orig)}`);
    let i = 0;
    while (i < s.length && isAsciiDigit(s.charCodeAt(i))) i++;
    const intPart = s.slice(0, i);
    const pre = i > 0;
    s = s.slice(i);
    let frac = '';
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let k = 0;
      while (k < s.length && isAsciiDigit(s.charCodeAt(k))) k++;
      frac = s.slice(0, k);
      post = k > 0;
      s = s.slice(k);
    }
    if (!pre && !post) throw new DurationError(`time: invalid duration ${goQuote(orig)}`);
    let u = 0;
    while (u < s.length && s[u] !== '.' && !isAsciiDigit(s.charCodeAt(u))) u++;
    if (u === 0) throw new DurationError(`time: missing unit in duration ${goQuote(orig)}`);
    const unitText = s.slice(0, u);
    s = s.slice(u);
    const unit = GO_UNITS[unitText];
    if (unit === undefined) throw new DurationError(`time: unknown unit ${goQuote(unitText)} in duration ${goQuote(orig)}`);
    const v = intPart === '' ? 0n : BigInt(intPart);
    if (v > MAX_INT64 / unit) throw new DurationError(`time: invalid duration ${goQuote(orig)}`);
    let d = v * unit;
    if (frac !== '') {
      // Go truncates the fractional contribution toward zero.
      const scale = 10n ** BigInt(frac.length);
      d += (BigInt(frac) * unit) / scale;
    }
    total += d;
    if (total > MAX_INT64 + (neg ? 1n : 0n)) throw new DurationError(`time: invalid duration ${goQuote(orig)}`);
  }
  return neg ? -total : total;
}

/** Loki's lexer duration rule: Prometheus syntax first, then Go syntax. */
export function parseLexDuration(s: string): bigint {
  try {
    return parsePromDuration(s);
  } catch {
    return parseGoDuration(s);
  }
}

/** Prometheus model.Duration.String(): `1h30m`, `1d`, `2w`, `500ms`, `0s` (millisecond precision). */
export function formatPromDuration(ns: bigint): string {
  let ms = ns / 1_000_000n;
  if (ms === 0n) return '0s';
  let sign = '';
  if (ms < 0n) {
    sign = '-';
    ms = -ms;
  }
  let r = '';
  const f = (unit: string, mult: bigint, exact: boolean): void => {
    if (exact && ms % mult !== 0n) return;
    const v = ms / mult;
    if (v > 0n) {
      r += v.toString() + unit;
      ms -= v * mult;
    }
  };
  f('y', 31_536_000_000n, true);
  f('w', 604_800_000n, true);
  f('d', 86_400_000n, false);
  f('h', 3_600_000n, false);
  f('m', 60_000n, false);
  f('s', 1_000n, false);
  f('ms', 1n, false);
  return sign + r;
}

function fmtFrac(v: bigint, prec: number): { text: string; rest: bigint } {
  // Go's fmtFrac: print v/10^prec's fraction, omitting trailing zeros (and the dot if none).
  let digits = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) digits = digit.toString() + digits;
    v /= 10n;
  }
  return { text: print ? '.' + digits : '', rest: v };
}

/** Go time.Duration.String(): `1h0m0s`, `5m0s`, `1.5s`, `250ms`, `1µs`, `0s`. */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    let prec: number;
    let unit: string;
    if (u < 1_000n) return (neg ? '-' : '') + u.toString() + 'ns';
    if (u < 1_000_000n) {
      prec = 3;
      unit = 'µs';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const { text, rest } = fmtFrac(u, prec);
    out = rest.toString() + text + unit;
  } else {
    const { text, rest } = fmtFrac(u, 9);
    u = rest;
    out = (u % 60n).toString() + text + 's';
    u /= 60n;
    if (u > 0n) {
      out = (u % 60n).toString() + 'm' + out;
      u /= 60n;
      if (u > 0n) out = u.toString() + 'h' + out;
    }
  }
  return (neg ? '-' : '') + out;
}
