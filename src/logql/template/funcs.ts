// The template function map: Go's text/template builtins (and, or, not, eq..ge, len, index,
// slice, print/printf/println, html, js, urlquery, call) and every function Loki registers for
// line_format/label_format (pkg/logql/log/fmt.go: its own helpers plus the sprig functions it
// picks), each with its Go signature so the executor can apply Go's argument type checks, and
// with the same conversions (spf13/cast for sprig's numeric helpers, shopspring/decimal for
// addf..divf), byte-oriented string slicing and error texts.
import {
  GoInt,
  GoMap,
  GoSlice,
  GoTime,
  LabelsMap,
  type GoValue,
  typeName,
  isTrue,
  byteLen,
  byteSlice,
  compareStrings,
  goBytesToString,
  isAscii,
  wrapInt64,
  isUnsigned,
} from './values.js';
import { sprint, sprintf, sprintln, formatFloat, isPrint } from './gofmt.js';
import {
  formatTime,
  loadLocation,
  Local,
  UTC,
  now,
  parseInLocation,
  parseDuration,
  durationSeconds,
  unixNanos,
  unixTime,
  withLocation,
  zeroTime,
  unixNanosOf,
} from './gotime.js';
import { parseGoFloat } from './parse.js';
import { compileRegex, type Regex } from '../../util/regex.js';

/** Go parameter types the executor distinguishes when converting arguments. */
export type ParamType = 'string' | 'int' | 'float64' | 'bool' | 'any' | 'time.Time' | 'reflect.Value';

/** A function returned a non-nil error (or panicked): the executor reports `error calling NAME: MSG`. */
export class CallError extends Error {}

/** Per-execution data the line/timestamp functions read. */
export interface CallContext {
  line: string;
  tsNs: bigint;
}

export interface FuncDef {
  params: ParamType[];
  /** element type of a trailing variadic parameter */
  variadic?: ParamType;
  builtin?: boolean;
  fn: (args: GoValue[], ctx: CallContext) => GoValue;
}

const int = (n: number | bigint): GoInt => new GoInt(typeof n === 'bigint' ? n : BigInt(n), 'int');
const int64 = (n: bigint): GoInt => new GoInt(wrapInt64(n), 'int64');

// ---------------------------------------------------------------- comparisons

type Kind = 'bool' | 'int' | 'uint' | 'float' | 'string' | 'invalid' | 'other';

function basicKind(v: GoValue): Kind {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt) return isUnsigned(v.t) ? 'uint' : 'int';
  if (v === undefined) return 'invalid';
  return 'other';
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';
const errNoComparison = 'missing argument for comparison';

function eqValues(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return (a as GoInt).v >= 0n && (a as GoInt).v === (b as GoInt).v;
    if (k1 === 'uint' && k2 === 'int') return (b as GoInt).v >= 0n && (a as GoInt).v === (b as GoInt).v;
    if (a !== undefined && b !== undefined) throw new CallError(errBadComparison);
    return false;
  }
  switch (k1) {
    case 'bool':
    case 'float':
    case 'string':
      return a === b;
    case 'int':
    case 'uint':
      return (a as GoInt).v === (b as GoInt).v;
    case 'invalid':
      return true;
  }
  // non-basic kinds: nil compares with nil; times compare by value; maps/slices are not comparable
  if (a === null || b === null) return a === b;
  if (a instanceof GoTime && b instanceof GoTime)
    return a.sec === b.sec && a.nsec === b.nsec && a.loc === b.loc && a.mono === b.mono;
  if (typeName(a) !== typeName(b)) throw new CallError(errBadComparison);
  throw new CallError(`non-comparable type ${goSprintValue(a)}: ${typeName(a)}`);
}

function goSprintValue(v: GoValue): string {
  return sprint([v]);
}

function ltValues(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  if (k1 === 'invalid' || k1 === 'other') throw new CallError(errBadComparisonType);
  const k2 = basicKind(b);
  if (k2 === 'invalid' || k2 === 'other') throw new CallError(errBadComparisonType);
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return (a as GoInt).v < 0n || (a as GoInt).v < (b as GoInt).v;
    if (k1 === 'uint' && k2 === 'int') return (b as GoInt).v >= 0n && (a as GoInt).v < (b as GoInt).v;
    throw new CallError(errBadComparison);
  }
  switch (k1) {
    case 'bool':
      throw new CallError(errBadComparisonType);
    case 'float':
      return (a as number) < (b as number);
    case 'string':
      return compareStrings(a as string, b as string) < 0;
    default:
      return (a as GoInt).v < (b as GoInt).v;
  }
}

// ---------------------------------------------------------------- escaping

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) =>
    c === '\0' ? '\ufffd' : c === '"' ? '&#34;' : c === "'" ? '&#39;' : c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;',
  );
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) {
      switch (ch) {
        case '\\':
          out += '\\\\';
          continue;
        case "'":
          out += "\\'";
          continue;
        case '"':
          out += '\\"';
          continue;
        case '<':
          out += '\\u003C';
          continue;
        case '>':
          out += '\\u003E';
          continue;
        case '&':
          out += '\\u0026';
          continue;
        case '=':
          out += '\\u003D';
          continue;
      }
      if (c < 0x20) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
      else out += ch;
      continue;
    }
    if (isPrint(c)) out += ch;
    else out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

/** url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  const b = isAscii(s) ? null : Buffer.from(s, 'utf8');
  const n = b ? b.length : s.length;
  for (let i = 0; i < n; i++) {
    const c = b ? b[i]! : s.charCodeAt(i);
    if (
      (c >= 97 && c <= 122) ||
      (c >= 65 && c <= 90) ||
      (c >= 48 && c <= 57) ||
      c === 45 ||
      c === 95 ||
      c === 46 ||
      c === 126
    )
      out += String.fromCharCode(c);
    else if (c === 32) out += '+';
    else out += '%' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
  }
  return out;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** url.QueryUnescape. */
export function queryUnescape(s: string): string {
  const src = Buffer.from(s, 'utf8');
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 37) {
      if (i + 2 >= src.length || !isHex(src[i + 1]!) || !isHex(src[i + 2]!)) {
        let rest = src.subarray(i);
        if (rest.length > 3) rest = rest.subarray(0, 3);
        throw new CallError('invalid URL escape ' + JSON.stringify(goBytesToString(rest)));
      }
      i += 2;
    }
  }
  const out: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 37) {
      out.push(parseInt(String.fromCharCode(src[i + 1]!, src[i + 2]!), 16));
      i += 2;
    } else if (c === 43) out.push(32);
    else out.push(c);
  }
  return goBytesToString(Uint8Array.from(out));
}

function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === undefined || a === null ? '<no value>' : a)));
}

// ---------------------------------------------------------------- strings

const goSpace = new Set([9, 10, 11, 12, 13, 32, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);
function isGoSpace(c: number): boolean {
  return goSpace.has(c) || (c >= 0x2000 && c <= 0x200a);
}

function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpace(s.charCodeAt(a))) a++;
  while (b > a && isGoSpace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

function trimLeftSet(s: string, cutset: string): string {
  if (s === '' || cutset === '') return s;
  const set = new Set(Array.from(cutset));
  let i = 0;
  for (const ch of s) {
    if (!set.has(ch)) break;
    i += ch.length;
  }
  return s.slice(i);
}

function trimRightSet(s: string, cutset: string): string {
  if (s === '' || cutset === '') return s;
  const set = new Set(Array.from(cutset));
  const chars = Array.from(s);
  let end = chars.length;
  while (end > 0 && set.has(chars[end - 1]!)) end--;
  return chars.slice(0, end).join('');
}

function mapRunes(s: string, upper: boolean): string {
  if (isAscii(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    out += Array.from(m).length === 1 ? m : ch;
  }
  return out;
}

function isSeparator(c: number): boolean {
  if (c <= 0x7f) {
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) return false;
    return true;
  }
  const ch = String.fromCodePoint(c);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return isGoSpace(c);
}

/** strings.Title. */
function title(s: string): string {
  let prev = 32;
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (isSeparator(prev)) {
      const u = ch.toUpperCase();
      out += Array.from(u).length === 1 ? u : ch;
    } else out += ch;
    prev = c;
  }
  return out;
}

/** strings.Replace(s, old, new, n). */
function replaceN(s: string, old: string, rep: string, n: number): string {
  if (old === rep || n === 0) return s;
  if (old === '') {
    const chars = Array.from(s);
    const m = chars.length + 1;
    const limit = n < 0 || n > m ? m : n;
    let out = '';
    for (let i = 0; i < chars.length; i++) {
      if (i < limit) out += rep;
      out += chars[i];
    }
    if (chars.length < limit) out += rep;
    return out;
  }
  if (n < 0) return s.split(old).join(rep);
  let out = '';
  let start = 0;
  for (let i = 0; i < n; i++) {
    const j = s.indexOf(old, start);
    if (j < 0) break;
    out += s.slice(start, j) + rep;
    start = j + old.length;
  }
  return out + s.slice(start);
}

function sliceBoundsPanic(msg: string): never {
  throw new CallError('runtime error: slice bounds out of range ' + msg);
}

/** sprig substr (byte offsets, panics like Go's slicing). */
function substr(start: number, end: number, s: string): string {
  const len = byteLen(s);
  if (start < 0) {
    if (end < 0) sliceBoundsPanic(`[:${end}]`);
    if (end > len) sliceBoundsPanic(`[:${end}] with length ${len}`);
    return byteSlice(s, 0, end);
  }
  if (end < 0 || end > len) {
    if (start > len) sliceBoundsPanic(`[${start}:${len}]`);
    return byteSlice(s, start, len);
  }
  if (start > end) sliceBoundsPanic(`[${start}:${end}]`);
  return byteSlice(s, start, end);
}

/** sprig trunc (byte offsets). */
function trunc(c: number, s: string): string {
  const len = byteLen(s);
  if (c < 0 && len + c > 0) return byteSlice(s, len + c, len);
  if (c >= 0 && len > c) return byteSlice(s, 0, c);
  return s;
}

function alignLeft(count: number, src: string): string {
  const runes = Array.from(src);
  const l = runes.length;
  if (count < 0 || count === l) return src;
  const pad = count - l;
  if (pad > 0) return src + ' '.repeat(pad);
  return runes.slice(0, count).join('');
}

function alignRight(count: number, src: string): string {
  const runes = Array.from(src);
  const l = runes.length;
  if (count < 0 || count === l) return src;
  const pad = count - l;
  if (pad > 0) return ' '.repeat(pad) + src;
  return runes.slice(l - count).join('');
}

const b64map = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++)
  b64map['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

/** base64.StdEncoding.DecodeString: bytes, or the CorruptInputError offset. */
function base64DecodeStd(src: Uint8Array): { out: number[]; err: number } {
  const out: number[] = [];
  let si = 0;
  for (;;) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let err = -1;
    let j = 0;
    let done = false;
    for (; j < 4; j++) {
      if (src.length === si) {
        if (j === 0) return { out, err: -1 };
        return { out, err: si - j };
      }
      const c = src[si]!;
      si++;
      const v = b64map[c]!;
      if (v >= 0) {
        dbuf[j] = v;
        continue;
      }
      if (c === 10 || c === 13) {
        j--;
        continue;
      }
      if (c !== 61) return { out, err: si - 1 };
      // padding
      if (j === 0 || j === 1) return { out, err: si - 1 };
      if (j === 2) {
        while (si < src.length && (src[si] === 10 || src[si] === 13)) si++;
        if (si === src.length) return { out, err: src.length };
        if (src[si] !== 61) return { out, err: si - 1 };
        si++;
      }
      while (si < src.length && (src[si] === 10 || src[si] === 13)) si++;
      if (si < src.length) err = si;
      dlen = j;
      done = true;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const b0 = (val >> 16) & 0xff;
    const b1 = (val >> 8) & 0xff;
    const b2 = val & 0xff;
    if (dlen >= 2) out.push(b0);
    if (dlen >= 3) out.push(b1);
    if (dlen >= 4) out.push(b2);
    if (err >= 0) return { out, err };
    if (done) {
      if (si === src.length) return { out, err: -1 };
    }
  }
}

function base64Decode(v: string): string {
  const rem = byteLen(v) % 4;
  if (rem !== 0 && rem !== 1) v += '='.repeat(4 - rem);
  const r = base64DecodeStd(Buffer.from(v, 'utf8'));
  if (r.err >= 0) return `illegal base64 data at input byte ${r.err}`;
  return goBytesToString(Uint8Array.from(r.out));
}

// ---------------------------------------------------------------- regexps

const regexCache = new Map<string, { re: Regex; names: string[] }>();

/** Capture group names by group index (index 0 = whole match), '' for unnamed groups. */
function captureNames(pattern: string): string[] {
  const names = [''];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (pattern[i + 1] === 'Q') {
        const e = pattern.indexOf('\\E', i + 2);
        i = e < 0 ? pattern.length : e + 1;
      } else i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
      continue;
    }
    if (c !== '(') continue;
    if (pattern[i + 1] !== '?') {
      names.push('');
      continue;
    }
    const m = /^\(\?P?<([^>]+)>/.exec(pattern.slice(i));
    if (m) names.push(m[1]!);
  }
  return names;
}

function getRegex(pattern: string): { re: Regex; names: string[] } {
  let r = regexCache.get(pattern);
  if (r) return r;
  let re: Regex;
  try {
    re = compileRegex(pattern);
  } catch (e) {
    throw new CallError(goRegexError(pattern, (e as Error).message));
  }
  // a global copy for iterated matching
  re = new (re.constructor as new (p: Regex, f: string) => Regex)(re, 'gu');
  r = { re, names: captureNames(pattern) };
  if (regexCache.size > 256) regexCache.clear();
  regexCache.set(pattern, r);
  return r;
}

function goRegexError(pattern: string, msg: string): string {
  // Go: "error parsing regexp: <code>: `<expr>`". RE2's messages differ in wording; keep the
  // Go prefix and the expression so users still see where it failed.
  const m = /invalid (?:escape sequence|character class range|repetition operator|nested repetition operator|perl operator|UTF-8|named capture group|character class)|missing \)|missing \]|unexpected \)|missing argument to repetition operator|trailing \\/i.exec(
    msg,
  );
  let code = m ? m[0].toLowerCase() : msg;
  if (code === 'missing )') code = 'missing closing )';
  if (code === 'missing ]') code = 'missing closing ]';
  return `error parsing regexp: ${code}: \`${pattern}\``;
}

/** Iterates Go-style (non-overlapping, no empty match right after a match) matches. */
function forEachMatch(re: Regex, s: string, cb: (m: RegExpExecArray) => void): number {
  let count = 0;
  let pos = 0;
  let prevEnd = -1;
  while (pos <= s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    let accept = true;
    if (end === start) {
      if (start === prevEnd) accept = false;
      // advance one code point past the empty match
      const c = s.charCodeAt(end);
      pos = end + (c >= 0xd800 && c <= 0xdbff ? 2 : 1);
    } else pos = end;
    prevEnd = end;
    if (accept) {
      cb(m);
      count++;
    }
  }
  return count;
}

/** Go's Regexp.ReplaceAllString / ReplaceAllLiteralString. */
function regexReplaceAll(pattern: string, s: string, repl: string, literal: boolean): string {
  const { re, names } = getRegex(pattern);
  let out = '';
  let last = 0;
  let searchPos = 0;
  while (searchPos <= s.length) {
    re.lastIndex = searchPos;
    const m = re.exec(s);
    if (!m) break;
    const a0 = m.index;
    const a1 = a0 + m[0].length;
    out += s.slice(last, a0);
    if (a1 > last || a0 === 0) out += literal ? repl : expand(repl, m, names);
    last = a1;
    const c = s.charCodeAt(searchPos);
    const width = searchPos < s.length ? (c >= 0xd800 && c <= 0xdbff ? 2 : 1) : 0;
    if (searchPos + width > a1) searchPos += width;
    else if (searchPos + 1 > a1) searchPos++;
    else searchPos = a1;
  }
  return out + s.slice(last);
}

function isNameChar(ch: string): boolean {
  return ch === '_' || /[\p{L}\p{Nd}]/u.test(ch);
}

/** Go's Regexp.Expand template syntax: $1, $name, ${name}, $$. */
function expand(template: string, m: RegExpExecArray, names: string[]): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const d = template.indexOf('$', i);
    if (d < 0) break;
    out += template.slice(i, d);
    i = d;
    if (template[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    // extract
    let j = i + 1;
    let brace = false;
    if (template[j] === '{') {
      brace = true;
      j++;
    }
    const nameStart = j;
    while (j < template.length) {
      const cp = template.codePointAt(j)!;
      const ch = String.fromCodePoint(cp);
      if (!isNameChar(ch)) break;
      j += ch.length;
    }
    let name = template.slice(nameStart, j);
    let ok = name.length > 0;
    if (ok && brace) {
      if (template[j] !== '}') ok = false;
      else j++;
    }
    if (!ok) {
      out += '$';
      i++;
      continue;
    }
    i = j;
    let num = -1;
    if (/^[0-9]+$/.test(name) && !(name[0] === '0' && name.length > 1) && name.length <= 9) num = parseInt(name, 10);
    if (num >= 0) {
      if (num < m.length && m[num] !== undefined) out += m[num];
    } else {
      for (let g = 0; g < names.length; g++) {
        if (names[g] === name && g < m.length) {
          if (m[g] !== undefined) out += m[g];
          break;
        }
      }
    }
    name = '';
  }
  return out + template.slice(i);
}

// ---------------------------------------------------------------- numeric conversions (spf13/cast)

const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;

function floatToInt64(f: number): bigint {
  if (!Number.isFinite(f) || f >= 9223372036854775808 || f < -9223372036854775808) return MIN_I64;
  return BigInt(Math.trunc(f));
}

function trimDecimal(s: string): string {
  if (!s.includes('.')) return s;
  const m = /^([-+]?\d*)(\.\d*)?$/.exec(s);
  if (!m) return s;
  const ip = m[1]!;
  if (ip === '-' || ip === '+') return ip + '0';
  if (ip === '') return '0';
  return ip;
}

/** strconv.ParseInt(s, 0, 64). */
function parseIntBase0(s: string): bigint | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (!m) return null;
  let body = m[2]!;
  if (body.includes('_')) {
    if (/__|_$/.test(body) || /^[1-9]/.test(body) === false && /^0[xXoObB]?_?$/.test(body)) return null;
    body = body.replace(/_/g, '');
  }
  let v: bigint;
  if (/^0[xXoObB]/.test(body)) v = BigInt(body.toLowerCase());
  else if (body.length > 1 && body[0] === '0') v = BigInt('0o' + body.slice(1));
  else v = BigInt(body);
  if (m[1] === '-') v = -v;
  if (v < MIN_I64 || v > MAX_I64) return null;
  return v;
}

/** cast.ToInt64 (errors give 0). */
export function toInt64(v: GoValue): bigint {
  if (v instanceof GoInt) return wrapInt64(v.v);
  if (typeof v === 'number') return floatToInt64(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'string') {
    if (v === '') return 0n;
    return parseIntBase0(trimDecimal(v)) ?? 0n;
  }
  return 0n;
}

/** cast.ToFloat64 (errors give 0). */
export function toFloat64(v: GoValue): number {
  if (v instanceof GoInt) return Number(v.v);
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') {
    if (v === '') return 0;
    const f = parseGoFloat(v);
    return f === null ? 0 : f;
  }
  return 0;
}

// ---------------------------------------------------------------- decimal arithmetic (shopspring)

interface Dec {
  c: bigint;
  e: number;
}

function decFromFloat(f: number): Dec {
  if (Number.isNaN(f)) throw new CallError('Cannot create a Decimal from NaN');
  if (!Number.isFinite(f)) throw new CallError(`Cannot create a Decimal from ${f > 0 ? '+Inf' : '-Inf'}`);
  if (f === 0) return { c: 0n, e: 0 };
  const s = Math.abs(f).toExponential();
  const ei = s.indexOf('e');
  const digits = s.slice(0, ei).replace('.', '');
  const exp = parseInt(s.slice(ei + 1), 10);
  const c = BigInt(digits);
  return { c: f < 0 ? -c : c, e: exp - (digits.length - 1) };
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  if (a.e === b.e) return [a.c, b.c, a.e];
  if (a.e < b.e) return [a.c, b.c * 10n ** BigInt(b.e - a.e), a.e];
  return [a.c * 10n ** BigInt(a.e - b.e), b.c, b.e];
}

function decAdd(a: Dec, b: Dec): Dec {
  const [x, y, e] = align(a, b);
  return { c: x + y, e };
}
function decSub(a: Dec, b: Dec): Dec {
  const [x, y, e] = align(a, b);
  return { c: x - y, e };
}
function decMul(a: Dec, b: Dec): Dec {
  return { c: a.c * b.c, e: a.e + b.e };
}
function decDiv(a: Dec, b: Dec): Dec {
  if (b.c === 0n) throw new CallError('decimal division by 0');
  const prec = 16;
  // q = trunc(a / b * 10^prec)
  let num = a.c;
  let den = b.c;
  const shift = a.e - b.e + prec;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  let q = num / den;
  const r = num - q * den;
  const ar = r < 0n ? -r : r;
  const ad = den < 0n ? -den : den;
  if (2n * ar >= ad) {
    if (a.c < 0n !== b.c < 0n) q -= 1n;
    else q += 1n;
  }
  return { c: q, e: -prec };
}
function decToFloat(d: Dec): number {
  return parseFloat(d.c.toString() + 'e' + d.e);
}

function decimalOp(first: GoValue, rest: GoValue[], op: (a: Dec, b: Dec) => Dec): number {
  let acc = decFromFloat(toFloat64(first));
  for (const x of rest) acc = op(acc, decFromFloat(toFloat64(x)));
  return decToFloat(acc);
}

// ---------------------------------------------------------------- misc helpers

/** sprig's empty(): zero values are empty; structs (time.Time) never are. */
function empty(v: GoValue): boolean {
  if (v === undefined || v === null) return true;
  if (v instanceof GoTime) return false;
  return !isTrue(v);
}

function fromJsonValue(x: unknown): GoValue {
  if (x === null) return null;
  if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return x;
  if (Array.isArray(x)) return new GoSlice(x.map(fromJsonValue), 'interface {}');
  const m = new Map<string, GoValue>();
  for (const k of Object.keys(x as object)) m.set(k, fromJsonValue((x as Record<string, unknown>)[k]));
  return new GoMap(m, 'interface {}');
}

/** humanize.ParseBytes. */
function parseBytes(s: string): number {
  let lastDigit = 0;
  let hasComma = false;
  for (const ch of s) {
    if (!(/\p{Nd}/u.test(ch) || ch === '.' || ch === ',')) break;
    if (ch === ',') hasComma = true;
    lastDigit += ch.length;
  }
  let num = s.slice(0, lastDigit);
  if (hasComma) num = num.replace(/,/g, '');
  const f = parseGoFloat(num);
  if (f === null || !/^[0-9.]+$/.test(num) || num === '.')
    throw new CallError(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  const extra = trimSpace(s.slice(lastDigit)).toLowerCase();
  const table: Record<string, number> = {
    b: 1,
    kib: 1024,
    kb: 1000,
    mib: 1024 ** 2,
    mb: 1e6,
    gib: 1024 ** 3,
    gb: 1e9,
    tib: 1024 ** 4,
    tb: 1e12,
    pib: 1024 ** 5,
    pb: 1e15,
    eib: 1024 ** 6,
    eb: 1e18,
    '': 1,
    ki: 1024,
    k: 1000,
    mi: 1024 ** 2,
    m: 1e6,
    gi: 1024 ** 3,
    g: 1e9,
    ti: 1024 ** 4,
    t: 1e12,
    pi: 1024 ** 5,
    p: 1e15,
    ei: 1024 ** 6,
    e: 1e18,
  };
  const mult = Object.prototype.hasOwnProperty.call(table, extra) ? table[extra] : undefined;
  if (mult === undefined) throw new CallError(`unhandled size name: ${extra}`);
  const v = f * mult;
  if (v >= 18446744073709551615) throw new CallError(`too large: ${s}`);
  return Math.trunc(v);
}

function parseIntStrict(s: string): bigint | string {
  // strconv.ParseInt(s, 10, 64)
  if (!/^[+-]?[0-9]+$/.test(s)) return `strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`;
  const v = BigInt(s);
  if (v < MIN_I64 || v > MAX_I64) return `strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`;
  return v;
}

function num(v: GoValue): number {
  return Number((v as GoInt).v);
}

// ---------------------------------------------------------------- the map

const S: ParamType = 'string';
const I: ParamType = 'int';
const A: ParamType = 'any';
const V: ParamType = 'reflect.Value';
const TT: ParamType = 'time.Time';

function indexArg(index: GoValue, cap: number): number {
  if (!(index instanceof GoInt)) {
    if (index === undefined || index === null) throw new CallError('cannot index slice/array with nil');
    throw new CallError(`cannot index slice/array with type ${typeName(index)}`);
  }
  const x = index.v;
  if (x < 0n || x > BigInt(cap)) throw new CallError(`index out of range: ${x}`);
  return Number(x);
}

export const funcs: Record<string, FuncDef> = {
  // --- Go builtins
  and: { params: [V], variadic: V, builtin: true, fn: () => undefined },
  or: { params: [V], variadic: V, builtin: true, fn: () => undefined },
  not: { params: [V], builtin: true, fn: (a) => !isTrue(a[0]) },
  call: {
    params: [V],
    variadic: V,
    builtin: true,
    fn: (a) => {
      if (a[0] === undefined || a[0] === null) throw new CallError('call of nil');
      throw new CallError(`non-function of type ${typeName(a[0])}`);
    },
  },
  eq: {
    params: [V],
    variadic: V,
    builtin: true,
    fn: (a) => {
      if (a.length < 2) throw new CallError(errNoComparison);
      for (let i = 1; i < a.length; i++) if (eqValues(a[0], a[i])) return true;
      return false;
    },
  },
  ne: { params: [V, V], builtin: true, fn: (a) => !eqValues(a[0], a[1]) },
  lt: { params: [V, V], builtin: true, fn: (a) => ltValues(a[0], a[1]) },
  le: { params: [V, V], builtin: true, fn: (a) => ltValues(a[0], a[1]) || eqValues(a[0], a[1]) },
  gt: { params: [V, V], builtin: true, fn: (a) => !(ltValues(a[0], a[1]) || eqValues(a[0], a[1])) },
  ge: { params: [V, V], builtin: true, fn: (a) => !ltValues(a[0], a[1]) },
  len: {
    params: [V],
    builtin: true,
    fn: (a) => {
      const v = a[0];
      if (typeof v === 'string') return int(byteLen(v));
      if (v instanceof GoSlice) return int(v.a.length);
      if (v instanceof GoMap) return int(v.m.size);
      if (v instanceof LabelsMap) {
        let n = 0;
        for (const k in v.rec) if (typeof v.rec[k] === 'string') n++;
        return int(n);
      }
      if (v === null) throw new CallError('len of nil pointer');
      if (v === undefined) throw new CallError('reflect: call of reflect.Value.Type on zero Value');
      throw new CallError(`len of type ${typeName(v)}`);
    },
  },
  index: {
    params: [V],
    variadic: V,
    builtin: true,
    fn: (a) => {
      let item = a[0];
      if (item === undefined || item === null) throw new CallError('index of untyped nil');
      for (let i = 1; i < a.length; i++) {
        const index: GoValue = a[i];
        if (item === null) throw new CallError('index of nil pointer');
        if (typeof item === 'string') {
          const b: Buffer = Buffer.from(item, "utf8");
          const x = indexArg(index, b.length);
          if (x >= b.length) throw new CallError('reflect: string index out of range');
          item = new GoInt(BigInt(b[x]!), 'uint8');
        } else if (item instanceof GoSlice) {
          const x = indexArg(index, item.a.length);
          if (x >= item.a.length) throw new CallError('reflect: slice index out of range');
          item = item.a[x];
        } else if (item instanceof GoMap || item instanceof LabelsMap) {
          if (typeof index !== 'string') {
            if (index === undefined || index === null) throw new CallError('value is nil; should be of type string');
            throw new CallError(`value has type ${typeName(index)}; should be string`);
          }
          if (item instanceof LabelsMap) {
            const v = item.rec[index];
            item = typeof v === 'string' ? v : '';
          } else {
            item = item.m.has(index) ? item.m.get(index) : null;
          }
        } else throw new CallError(`can't index item of type ${typeName(item)}`);
      }
      return item === null ? undefined : item;
    },
  },
  slice: {
    params: [V],
    variadic: V,
    builtin: true,
    fn: (a) => {
      const item = a[0];
      if (item === undefined || item === null) throw new CallError('slice of untyped nil');
      const idx = a.slice(1);
      if (idx.length > 3) throw new CallError(`too many slice indexes: ${idx.length}`);
      let cap: number;
      if (typeof item === 'string') {
        if (idx.length === 3) throw new CallError('cannot 3-index slice a string');
        cap = byteLen(item);
      } else if (item instanceof GoSlice) cap = item.a.length;
      else throw new CallError(`can't slice item of type ${typeName(item)}`);
      const len = cap;
      const ix = [0, len];
      for (let i = 0; i < idx.length; i++) {
        const x = indexArg(idx[i], cap);
        ix[i] = x;
      }
      if (ix[0]! > ix[1]!) throw new CallError(`invalid slice index: ${ix[0]} > ${ix[1]}`);
      if (idx.length === 3) {
        if (ix[1]! > ix[2]!) throw new CallError(`invalid slice index: ${ix[1]} > ${ix[2]}`);
      }
      if (typeof item === 'string') return byteSlice(item, ix[0]!, ix[1]!);
      return new GoSlice((item as GoSlice).a.slice(ix[0], ix[1]), (item as GoSlice).elem);
    },
  },
  print: { params: [], variadic: A, builtin: true, fn: (a) => sprint(a) },
  printf: { params: [S], variadic: A, builtin: true, fn: (a) => sprintf(a[0] as string, a.slice(1)) },
  println: { params: [], variadic: A, builtin: true, fn: (a) => sprintln(a) },
  html: { params: [], variadic: A, builtin: true, fn: (a) => htmlEscape(evalArgs(a)) },
  js: { params: [], variadic: A, builtin: true, fn: (a) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: A, builtin: true, fn: (a) => queryEscape(evalArgs(a)) },

  // --- Loki's own (pkg/logql/log/fmt.go)
  ToLower: { params: [S], fn: (a) => mapRunes(a[0] as string, false) },
  ToUpper: { params: [S], fn: (a) => mapRunes(a[0] as string, true) },
  Replace: { params: [S, S, S, I], fn: (a) => replaceN(a[0] as string, a[1] as string, a[2] as string, num(a[3])) },
  Trim: { params: [S, S], fn: (a) => trimRightSet(trimLeftSet(a[0] as string, a[1] as string), a[1] as string) },
  TrimLeft: { params: [S, S], fn: (a) => trimLeftSet(a[0] as string, a[1] as string) },
  TrimRight: { params: [S, S], fn: (a) => trimRightSet(a[0] as string, a[1] as string) },
  TrimPrefix: {
    params: [S, S],
    fn: (a) => ((a[0] as string).startsWith(a[1] as string) ? (a[0] as string).slice((a[1] as string).length) : a[0]),
  },
  TrimSuffix: {
    params: [S, S],
    fn: (a) =>
      (a[0] as string).endsWith(a[1] as string)
        ? (a[0] as string).slice(0, (a[0] as string).length - (a[1] as string).length)
        : a[0],
  },
  TrimSpace: { params: [S], fn: (a) => trimSpace(a[0] as string) },
  regexReplaceAll: {
    params: [S, S, S],
    fn: (a) => regexReplaceAll(a[0] as string, a[1] as string, a[2] as string, false),
  },
  regexReplaceAllLiteral: {
    params: [S, S, S],
    fn: (a) => regexReplaceAll(a[0] as string, a[1] as string, a[2] as string, true),
  },
  count: {
    params: [S, S],
    fn: (a) => {
      const { re } = getRegex(a[0] as string);
      return int(forEachMatch(re, a[1] as string, () => undefined));
    },
  },
  urldecode: { params: [S], fn: (a) => queryUnescape(a[0] as string) },
  urlencode: { params: [S], fn: (a) => queryEscape(a[0] as string) },
  bytes: { params: [S], fn: (a) => parseBytes(a[0] as string) },
  duration: { params: [S], fn: (a) => convertDuration(a[0] as string) },
  duration_seconds: { params: [S], fn: (a) => convertDuration(a[0] as string) },
  unixEpochMillis: {
    params: [TT],
    fn: (a) => {
      const t = a[0] as GoTime;
      const ms = BigInt(t.sec) * 1000n + BigInt(Math.floor(t.nsec / 1e6));
      return ms.toString();
    },
  },
  unixEpochNanos: { params: [TT], fn: (a) => wrapInt64(unixNanosOf(a[0] as GoTime)).toString() },
  toDateInZone: {
    params: [S, S, S],
    fn: (a) => {
      const loc = loadLocation(a[1] as string) ?? UTC;
      const t = parseInLocation(a[0] as string, a[2] as string, loc);
      return typeof t === 'string' ? zeroTime : t;
    },
  },
  unixToTime: {
    params: [S],
    fn: (a) => {
      const epoch = a[0] as string;
      const l = byteLen(epoch);
      const i = parseIntStrict(epoch);
      if (typeof i === 'string') throw new CallError(`unable to parse time '${epoch}': ${i}`);
      switch (l) {
        case 5:
          return unixTime(i * 86400n, 0n);
        case 10:
          return unixTime(i, 0n);
        case 13:
          return unixNanos(wrapInt64(i * 1_000_000n));
        case 16:
          return unixNanos(wrapInt64(i * 1000n));
        case 19:
          return unixNanos(i);
        default:
          throw new CallError(`unable to parse time '${epoch}': %!w(<nil>)`);
      }
    },
  },
  alignLeft: { params: [I, S], fn: (a) => alignLeft(num(a[0]), a[1] as string) },
  alignRight: { params: [I, S], fn: (a) => alignRight(num(a[0]), a[1] as string) },
  b64dec: { params: [S], fn: (a) => base64Decode(a[0] as string) },

  // --- sprig
  b64enc: { params: [S], fn: (a) => Buffer.from(a[0] as string, 'utf8').toString('base64') },
  lower: { params: [S], fn: (a) => mapRunes(a[0] as string, false) },
  upper: { params: [S], fn: (a) => mapRunes(a[0] as string, true) },
  title: { params: [S], fn: (a) => title(a[0] as string) },
  trunc: { params: [I, S], fn: (a) => trunc(num(a[0]), a[1] as string) },
  substr: { params: [I, I, S], fn: (a) => substr(num(a[0]), num(a[1]), a[2] as string) },
  contains: { params: [S, S], fn: (a) => (a[1] as string).includes(a[0] as string) },
  hasPrefix: { params: [S, S], fn: (a) => (a[1] as string).startsWith(a[0] as string) },
  hasSuffix: { params: [S, S], fn: (a) => (a[1] as string).endsWith(a[0] as string) },
  indent: {
    params: [I, S],
    fn: (a) => {
      const pad = ' '.repeat(Math.max(0, num(a[0])));
      if (num(a[0]) < 0) throw new CallError('strings: negative Repeat count');
      return pad + (a[1] as string).split('\n').join('\n' + pad);
    },
  },
  nindent: {
    params: [I, S],
    fn: (a) => {
      if (num(a[0]) < 0) throw new CallError('strings: negative Repeat count');
      const pad = ' '.repeat(num(a[0]));
      return '\n' + pad + (a[1] as string).split('\n').join('\n' + pad);
    },
  },
  replace: { params: [S, S, S], fn: (a) => replaceN(a[2] as string, a[0] as string, a[1] as string, -1) },
  repeat: {
    params: [I, S],
    fn: (a) => {
      const n = num(a[0]);
      if (n < 0) throw new CallError('strings: negative Repeat count');
      const s = a[1] as string;
      if (s.length * n > 1 << 28) throw new CallError('strings: Repeat output length overflow');
      return s.repeat(n);
    },
  },
  trim: { params: [S], fn: (a) => trimSpace(a[0] as string) },
  trimAll: { params: [S, S], fn: (a) => trimRightSet(trimLeftSet(a[1] as string, a[0] as string), a[0] as string) },
  trimSuffix: {
    params: [S, S],
    fn: (a) =>
      (a[1] as string).endsWith(a[0] as string)
        ? (a[1] as string).slice(0, (a[1] as string).length - (a[0] as string).length)
        : a[1],
  },
  trimPrefix: {
    params: [S, S],
    fn: (a) => ((a[1] as string).startsWith(a[0] as string) ? (a[1] as string).slice((a[0] as string).length) : a[1]),
  },
  int: { params: [A], fn: (a) => int(toInt64(a[0])) },
  float64: { params: [A], fn: (a) => toFloat64(a[0]) },
  add: {
    params: [],
    variadic: A,
    fn: (a) => {
      let s = 0n;
      for (const x of a) s = wrapInt64(s + toInt64(x));
      return int64(s);
    },
  },
  sub: { params: [A, A], fn: (a) => int64(toInt64(a[0]) - toInt64(a[1])) },
  mul: {
    params: [A],
    variadic: A,
    fn: (a) => {
      let v = toInt64(a[0]);
      for (let i = 1; i < a.length; i++) v = wrapInt64(v * toInt64(a[i]));
      return int64(v);
    },
  },
  div: {
    params: [A, A],
    fn: (a) => {
      const x = toInt64(a[0]);
      const y = toInt64(a[1]);
      if (y === 0n) throw new CallError('runtime error: integer divide by zero');
      return int64(x / y);
    },
  },
  mod: {
    params: [A, A],
    fn: (a) => {
      const x = toInt64(a[0]);
      const y = toInt64(a[1]);
      if (y === 0n) throw new CallError('runtime error: integer divide by zero');
      return int64(x % y);
    },
  },
  addf: { params: [], variadic: A, fn: (a) => decimalOp(0, a, decAdd) },
  subf: { params: [A], variadic: A, fn: (a) => decimalOp(a[0], a.slice(1), decSub) },
  mulf: { params: [A], variadic: A, fn: (a) => decimalOp(a[0], a.slice(1), decMul) },
  divf: { params: [A], variadic: A, fn: (a) => decimalOp(a[0], a.slice(1), decDiv) },
  max: {
    params: [A],
    variadic: A,
    fn: (a) => {
      let m = toInt64(a[0]);
      for (let i = 1; i < a.length; i++) {
        const b = toInt64(a[i]);
        if (b > m) m = b;
      }
      return int64(m);
    },
  },
  min: {
    params: [A],
    variadic: A,
    fn: (a) => {
      let m = toInt64(a[0]);
      for (let i = 1; i < a.length; i++) {
        const b = toInt64(a[i]);
        if (b < m) m = b;
      }
      return int64(m);
    },
  },
  maxf: {
    params: [A],
    variadic: A,
    fn: (a) => {
      let m = toFloat64(a[0]);
      for (let i = 1; i < a.length; i++) m = goMax(m, toFloat64(a[i]));
      return m;
    },
  },
  minf: {
    params: [A],
    variadic: A,
    fn: (a) => {
      let m = toFloat64(a[0]);
      for (let i = 1; i < a.length; i++) m = goMin(m, toFloat64(a[i]));
      return m;
    },
  },
  ceil: { params: [A], fn: (a) => Math.ceil(toFloat64(a[0])) },
  floor: { params: [A], fn: (a) => Math.floor(toFloat64(a[0])) },
  round: {
    params: [A, I],
    variadic: 'float64',
    fn: (a) => {
      const roundOn = a.length > 2 ? (a[2] as number) : 0.5;
      const val = toFloat64(a[0]);
      const pow = Math.pow(10, num(a[1]));
      const digit = pow * val;
      const frac = digit - Math.trunc(digit);
      const r = frac >= roundOn ? Math.ceil(digit) : Math.floor(digit);
      return r / pow;
    },
  },
  fromJson: {
    params: [S],
    fn: (a) => {
      try {
        return fromJsonValue(JSON.parse(a[0] as string));
      } catch {
        return null;
      }
    },
  },
  default: {
    params: [A],
    variadic: A,
    fn: (a) => (a.length < 2 || empty(a[1]) ? a[0] : a[1]),
  },
  date: {
    params: [S, A],
    fn: (a) => {
      const d = a[1];
      let t: GoTime;
      if (d instanceof GoTime) t = d;
      else if (d instanceof GoInt && (d.t === 'int' || d.t === 'int64' || d.t === 'int32')) t = unixTime(d.v, 0n);
      else t = now();
      return formatTime(withLocation(t, Local), a[0] as string);
    },
  },
  toDate: {
    params: [S, S],
    fn: (a) => {
      const t = parseInLocation(a[0] as string, a[1] as string, Local);
      return typeof t === 'string' ? zeroTime : t;
    },
  },
  now: { params: [], fn: () => now() },
  unixEpoch: { params: [TT], fn: (a) => String((a[0] as GoTime).sec) },

  // --- per-entry functions
  __line__: { params: [], fn: (_a, ctx) => ctx.line },
  __timestamp__: { params: [], fn: (_a, ctx) => unixNanos(ctx.tsNs) },
};

function goMax(x: number, y: number): number {
  if (x === Infinity || y === Infinity) return Infinity;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0 && y === 0) return Object.is(x, -0) ? y : x;
  return x > y ? x : y;
}

function goMin(x: number, y: number): number {
  if (x === -Infinity || y === -Infinity) return -Infinity;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0 && y === 0) return Object.is(x, -0) ? x : y;
  return x < y ? x : y;
}

function convertDuration(v: string): number {
  const d = parseDuration(v);
  if (typeof d === 'string') throw new CallError(d);
  return durationSeconds(d);
}

export function hasFunction(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(funcs, name);
}

export { formatFloat };
