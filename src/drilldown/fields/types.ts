// Go parsing predicates used by detected_fields type inference (strconv.ParseInt/ParseFloat/
// ParseBool, time.ParseDuration, go-humanize ParseBytes) and go-humanize's Bytes formatting,
// reimplemented exactly enough to classify values the way Loki does.

export type FieldType = 'string' | 'int' | 'float' | 'boolean' | 'duration' | 'bytes';

const INT_RE = /^[+-]?[0-9]+$/;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

export function isGoInt(s: string): boolean {
  if (!INT_RE.test(s)) return false;
  if (s.length < 19) return true;
  const v = BigInt(s);
  return v <= INT64_MAX && v >= INT64_MIN;
}

const DEC_FLOAT_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEX_FLOAT_RE = /^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+$/;
const SPECIAL_FLOAT_RE = /^(?:[+-]?(?:inf|infinity)|nan)$/i;

/** strconv.ParseFloat(s, 64) succeeds (overflow is an error; underflow is not). */
export function isGoFloat(s: string): boolean {
  if (SPECIAL_FLOAT_RE.test(s)) return true;
  if (DEC_FLOAT_RE.test(s)) return Number.isFinite(Number(s));
  if (HEX_FLOAT_RE.test(s)) return true; // hex floats: overflow ignored
  return false;
}

const BOOLS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);
export function isGoBool(s: string): boolean {
  return BOOLS.has(s);
}

const UNIT_NS: Record<string, number> = {
  ns: 1, us: 1e3, '\u00b5s': 1e3, '\u03bcs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/** time.ParseDuration succeeds. */
export function isGoDuration(orig: string): boolean {
  let s = orig;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  if (s === '0') return true;
  if (s === '') return false;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    const numStart = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    const intPart = s.slice(numStart, i);
    let frac = '';
    let hasDot = false;
    if (i < s.length && s[i] === '.') {
      hasDot = true;
      i++;
      const fs = i;
      while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
      frac = s.slice(fs, i);
    }
    if (intPart === '' && frac === '') return false;
    void hasDot;
    const us = i;
    while (i < s.length && s[i] !== '.' && !(s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57)) i++;
    const unit = s.slice(us, i);
    if (unit === '') return false;
    const mult = UNIT_NS[unit];
    if (mult === undefined) return false;
    total += Number((intPart || '0') + '.' + (frac || '0')) * mult;
    if (total > 9.223372036854775807e18) return false;
  }
  return true;
}

const BYTES_TABLE: Record<string, number> = {
  b: 1, kib: 1024, kb: 1e3, mib: 1024 ** 2, mb: 1e6, gib: 1024 ** 3, gb: 1e9, tib: 1024 ** 4, tb: 1e12,
  pib: 1024 ** 5, pb: 1e15, eib: 1024 ** 6, eb: 1e18, '': 1,
  ki: 1024, k: 1e3, mi: 1024 ** 2, m: 1e6, gi: 1024 ** 3, g: 1e9, ti: 1024 ** 4, t: 1e12,
  pi: 1024 ** 5, p: 1e15, ei: 1024 ** 6, e: 1e18,
};

/** go-humanize ParseBytes: the byte count, or null on error. */
export function parseHumanizeBytes(s: string): number | null {
  let last = 0;
  let hasComma = false;
  while (last < s.length) {
    const c = s.charCodeAt(last);
    if (!((c >= 48 && c <= 57) || c === 46 || c === 44)) break;
    if (c === 44) hasComma = true;
    last++;
  }
  let num = s.slice(0, last);
  if (hasComma) num = num.replace(/,/g, '');
  if (!isGoFloat(num)) return null;
  const f = Number(num);
  const extra = s.slice(last).trim().toLowerCase();
  const m = BYTES_TABLE[extra];
  if (m === undefined) return null;
  const v = f * m;
  if (v >= 18446744073709551615) return null;
  return Math.trunc(v);
}

/** go-humanize Bytes (SI units), e.g. 82854982 -> "83 MB". */
export function humanizeBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const sizes = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / Math.pow(1000, e)) * 10 + 0.5) / 10;
  const suffix = sizes[e]!;
  if (val < 10) return `${goFixed(val, 1)} ${suffix}`;
  return `${goFixed(val, 0)} ${suffix}`;
}

/** fmt %.Nf: round half to even on the exact binary value (JS toFixed rounds half up). */
function goFixed(v: number, digits: number): string {
  const scaled = v * 10 ** digits;
  const fl = Math.floor(scaled);
  if (scaled - fl === 0.5 && Number.isInteger(fl) && fl % 2 === 0 && (fl / 10 ** digits) * 10 ** digits === fl) {
    // exact tie: keep the even neighbour
    return (fl / 10 ** digits).toFixed(digits);
  }
  return v.toFixed(digits);
}

/** Loki determineType: int, float, boolean, duration, bytes, else string. */
export function determineType(v: string): FieldType {
  if (isGoInt(v)) return 'int';
  if (isGoFloat(v)) return 'float';
  if (isGoBool(v)) return 'boolean';
  if (isGoDuration(v)) return 'duration';
  if (parseHumanizeBytes(v) !== null) return 'bytes';
  return 'string';
}
