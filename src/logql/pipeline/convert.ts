// Value conversions with Go semantics and Go's exact error texts, used by label filters and
// unwrap: strconv.ParseFloat, time.ParseDuration (in seconds) and go-humanize's ParseBytes.
// Each returns a number and reports failure through the shared `convError` slot (set to the
// error text, '' on success) so that the per-line hot path allocates no result objects.
import { goQuote } from '../../util/labels.js';

/** Error text of the last conversion ('' when it succeeded). */
export let convError = '';

const DEC_FLOAT = /^[+-]?(?:[0-9](?:_?[0-9])*\.?(?:[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?$/;
const HEX_FLOAT = /^[+-]?0[xX](?:_?[0-9a-fA-F])*\.?(?:[0-9a-fA-F](?:_?[0-9a-fA-F])*)?[pP][+-]?[0-9](?:_?[0-9])*$/;
const SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

function parseHexFloat(s: string): number {
  let neg = false;
  let i = 0;
  if (s[0] === '+' || s[0] === '-') { neg = s[0] === '-'; i = 1; }
  i += 2;
  s = s.replace(/_/g, '');
  let mant = 0;
  let exp = 0;
  let seenDot = false;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '.') { seenDot = true; continue; }
    if (c === 'p' || c === 'P') break;
    mant = mant * 16 + parseInt(c, 16);
    if (seenDot) exp -= 4;
  }
  const e = parseInt(s.slice(i + 1), 10);
  const v = mant * Math.pow(2, exp + e);
  return neg ? -v : v;
}

/** Go's strconv.ParseFloat(s, 64). */
export function parseGoFloat(s: string): number {
  convError = '';
  if (DEC_FLOAT.test(s)) {
    // Go permits underscores only with a base prefix.
    if (s.indexOf('_') >= 0) {
      convError = 'strconv.ParseFloat: parsing ' + goQuote(s) + ': invalid syntax';
      return 0;
    }
    const v = Number(s);
    if (!Number.isFinite(v)) {
      convError = 'strconv.ParseFloat: parsing ' + goQuote(s) + ': value out of range';
    }
    return v;
  }
  if (SPECIAL.test(s)) {
    const neg = s[0] === '-';
    const body = s.replace(/^[+-]/, '').toLowerCase();
    if (body === 'nan') return NaN;
    return neg ? -Infinity : Infinity;
  }
  if (HEX_FLOAT.test(s)) {
    const v = parseHexFloat(s);
    if (!Number.isFinite(v)) convError = 'strconv.ParseFloat: parsing ' + goQuote(s) + ': value out of range';
    return v;
  }
  convError = 'strconv.ParseFloat: parsing ' + goQuote(s) + ': invalid syntax';
  return 0;
}

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5
  'μs': 1e3, // U+03BC
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
const MAX_DURATION = 9223372036854775807; // 1<<63 - 1, as a float (rounds to 2^63)

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Go's time.ParseDuration, returning the duration in (float) seconds like Duration.Seconds(). */
export function parseGoDurationSeconds(orig: string): number {
  const ns = parseGoDurationNs(orig);
  if (convError !== '') return 0;
  const sec = Math.trunc(ns / 1e9);
  const nsec = ns - sec * 1e9;
  return sec + nsec / 1e9;
}

/** Go's time.ParseDuration in nanoseconds (float; exact below 2^53). */
export function parseGoDurationNs(orig: string): number {
  convError = '';
  let s = orig;
  let neg = false;
  let i = 0;
  if (s.length > 0 && (s[0] === '-' || s[0] === '+')) { neg = s[0] === '-'; i = 1; }
  if (s.length - i === 1 && s[i] === '0') return 0;
  const invalid = (): number => { convError = 'time: invalid duration ' + goQuote(orig); return 0; };
  if (i >= s.length) return invalid();
  let d = 0;
  while (i < s.length) {
    const c0 = s.charCodeAt(i);
    if (!(c0 === 46 || isDigit(c0))) return invalid();
    // leading int
    const pl = i;
    let v = 0;
    while (i < s.length && isDigit(s.charCodeAt(i))) {
      v = v * 10 + (s.charCodeAt(i) - 48);
      if (v > 9223372036854775808) return invalid();
      i++;
    }
    const pre = i !== pl;
    let post = false;
    let f = 0;
    let scale = 1;
    if (i < s.length && s.charCodeAt(i) === 46) {
      i++;
      const fl = i;
      let overflow = false;
      while (i < s.length && isDigit(s.charCodeAt(i))) {
        if (!overflow) {
          if (f > (9223372036854775807 - 9) / 10) overflow = true;
          else { f = f * 10 + (s.charCodeAt(i) - 48); scale *= 10; }
        }
        i++;
      }
      post = i !== fl;
    }
    if (!pre && !post) return invalid();
    const us = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 46 || isDigit(c)) break;
      i++;
    }
    if (i === us) { convError = 'time: missing unit in duration ' + goQuote(orig); return 0; }
    const u = s.slice(us, i);
    const unit = UNIT_NS[u];
    if (unit === undefined) {
      convError = 'time: unknown unit ' + goQuote(u) + ' in duration ' + goQuote(orig);
      return 0;
    }
    if (v > 9223372036854775808 / unit) return invalid();
    v *= unit;
    if (f > 0) {
      v += Math.trunc(f * (unit / scale));
      if (v > 9223372036854775808) return invalid();
    }
    d += v;
    if (d > 9223372036854775808) return invalid();
  }
  if (neg) return -d;
  if (d > MAX_DURATION) return invalid();
  return d;
}

const BYTES_TABLE: Record<string, number> = {
  b: 1,
  kib: 1024, kb: 1000,
  mib: 1024 ** 2, mb: 1e6,
  gib: 1024 ** 3, gb: 1e9,
  tib: 1024 ** 4, tb: 1e12,
  pib: 1024 ** 5, pb: 1e15,
  eib: 1024 ** 6, eb: 1e18,
  '': 1,
  ki: 1024, k: 1000,
  mi: 1024 ** 2, m: 1e6,
  gi: 1024 ** 3, g: 1e9,
  ti: 1024 ** 4, t: 1e12,
  pi: 1024 ** 5, p: 1e15,
  ei: 1024 ** 6, e: 1e18,
};

/** go-humanize ParseBytes (uint64 result as a float). */
export function parseHumanBytes(s: string): number {
  let last = 0;
  let hasComma = false;
  while (last < s.length) {
    const c = s.charCodeAt(last);
    if (!(isDigit(c) || c === 46 || c === 44)) break;
    if (c === 44) hasComma = true;
    last++;
  }
  let num = s.slice(0, last);
  if (hasComma) num = num.replace(/,/g, '');
  const f = parseGoFloat(num);
  if (convError !== '') return 0;
  const extra = s.slice(last).trim().toLowerCase();
  const m = BYTES_TABLE[extra];
  if (m !== undefined) {
    const v = f * m;
    if (v >= 18446744073709551615) {
      convError = 'too large: ' + s;
      return 0;
    }
    return Math.trunc(v);
  }
  convError = 'unhandled size name: ' + extra;
  return 0;
}
