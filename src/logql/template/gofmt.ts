// Go's fmt and strconv formatting for template values: Sprintf/Sprint/Sprintln with verbs,
// flags, width and precision, Go's bad-verb / missing / extra argument texts, float formatting
// (shortest round-trip digits for %v, exact half-even rounding for explicit precision, %g
// exponent thresholds) and strconv.Quote. Used by printf/print/println and by the executor to
// print action results (fmt.Fprint), so output matches Loki byte for byte.
import {
  GoInt,
  GoMap,
  GoSlice,
  GoTime,
  LabelsMap,
  isUnsigned,
  type GoValue,
  typeName,
  byteLen,
} from './values.js';
import { timeString } from './gotime.js';

// ---------------------------------------------------------------- float digits

interface Digits {
  d: string; // significant digits, no leading/trailing zeros ('' for zero)
  dp: number; // decimal point position
}

const pow5Cache: bigint[] = [1n];
function pow5(n: number): bigint {
  while (pow5Cache.length <= n) pow5Cache.push(pow5Cache[pow5Cache.length - 1]! * 5n);
  return pow5Cache[n]!;
}

const f64 = new DataView(new ArrayBuffer(8));

/** The exact decimal expansion of a finite, non-negative double. */
function exactDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const lo = f64.getUint32(4);
  const be = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (be === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = be - 1075;
  }
  let s: string;
  let dp: number;
  if (e >= 0) {
    s = (mant << BigInt(e)).toString();
    dp = s.length;
  } else {
    s = (mant * pow5(-e)).toString();
    dp = s.length + e;
  }
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 48) end--;
  return { d: s.slice(0, end), dp };
}

/** Shortest digits that round-trip (what Go's FormatFloat(x, fmt, -1, 64) uses). */
function shortestDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const s = x.toExponential();
  const ei = s.indexOf('e');
  const mant = s.slice(0, ei).replace('.', '');
  const exp = parseInt(s.slice(ei + 1), 10);
  let end = mant.length;
  while (end > 1 && mant.charCodeAt(end - 1) === 48) end--;
  return { d: mant.slice(0, end), dp: exp + 1 };
}

/** Go's decimal.Round(nd): half-even on exact ties. */
function roundDigits(a: Digits, nd: number): Digits {
  if (nd < 0 || nd >= a.d.length) return a;
  const c = a.d.charCodeAt(nd);
  let up: boolean;
  if (c === 53 && nd + 1 === a.d.length) {
    up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else up = c >= 53;
  if (!up) {
    let end = nd;
    while (end > 0 && a.d.charCodeAt(end - 1) === 48) end--;
    return { d: a.d.slice(0, end), dp: a.dp };
  }
  for (let i = nd - 1; i >= 0; i--) {
    const ch = a.d.charCodeAt(i);
    if (ch < 57) return { d: a.d.slice(0, i) + String.fromCharCode(ch + 1), dp: a.dp };
  }
  return { d: '1', dp: a.dp + 1 };
}

function fmtE(neg: boolean, d: Digits, prec: number, ech: string): string {
  let out = neg ? '-' : '';
  out += d.d.length ? d.d[0] : '0';
  if (prec > 0) {
    out += '.';
    const m = Math.min(d.d.length, prec + 1);
    let i = 1;
    if (i < m) {
      out += d.d.slice(1, m);
      i = m;
    }
    for (; i <= prec; i++) out += '0';
  }
  out += ech;
  let exp = d.d.length === 0 ? 0 : d.dp - 1;
  if (exp < 0) {
    out += '-';
    exp = -exp;
  } else out += '+';
  out += exp < 10 ? '0' + exp : String(exp);
  return out;
}

function fmtF(neg: boolean, d: Digits, prec: number): string {
  let out = neg ? '-' : '';
  if (d.dp > 0) {
    const m = Math.min(d.d.length, d.dp);
    out += d.d.slice(0, m);
    for (let k = m; k < d.dp; k++) out += '0';
  } else out += '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      out += j >= 0 && j < d.d.length ? d.d[j] : '0';
    }
  }
  return out;
}

/** strconv.FormatFloat(x, fmt, prec, 64) for fmt in e, E, f, g, G. */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  const shortest = prec < 0;
  let d: Digits;
  if (shortest) {
    d = shortestDigits(ax);
    switch (fmt) {
      case 'e':
      case 'E':
        prec = Math.max(d.d.length - 1, 0);
        break;
      case 'f':
        prec = Math.max(d.d.length - d.dp, 0);
        break;
      default:
        prec = d.d.length;
    }
  } else {
    d = exactDigits(ax);
    if (fmt === 'e' || fmt === 'E') d = roundDigits(d, prec + 1);
    else if (fmt === 'f') d = roundDigits(d, d.dp + prec);
    else {
      if (prec === 0) prec = 1;
      d = roundDigits(d, prec);
    }
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return fmtE(neg, d, prec, fmt);
    case 'f':
      return fmtF(neg, d, prec);
    default: {
      let eprec = prec;
      if (eprec > d.d.length && d.d.length >= d.dp) eprec = d.d.length;
      if (shortest) eprec = 6;
      const exp = d.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > d.d.length) prec = d.d.length;
        return fmtE(neg, d, prec - 1, fmt === 'G' ? 'E' : 'e');
      }
      if (prec > d.dp) prec = d.d.length;
      return fmtF(neg, d, Math.max(prec - d.dp, 0));
    }
  }
}

// ---------------------------------------------------------------- quoting

const printableRe = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

/** unicode.IsPrint (letters, marks, numbers, punctuation, symbols, ASCII space). */
export function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return printableRe.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function quoteWith(s: string, q: string, asciiOnly: boolean): string {
  let out = q;
  for (const ch of s) {
    let cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    out += escapeRune(cp, q, asciiOnly);
  }
  return out + q;
}

function escapeRune(cp: number, q: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (ch === q || ch === '\\') return '\\' + ch;
  if (asciiOnly) {
    if (cp < 0x80 && isPrint(cp)) return ch;
  } else if (isPrint(cp)) return ch;
  switch (cp) {
    case 7:
      return '\\a';
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
    case 11:
      return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + hex(cp, 2);
  if (cp < 0x10000) return '\\u' + hex(cp, 4);
  return '\\U' + hex(cp, 8);
}

/** strconv.Quote. */
export function quote(s: string): string {
  return quoteWith(s, '"', false);
}

export function quoteToASCII(s: string): string {
  return quoteWith(s, '"', true);
}

function quoteRune(cp: number, asciiOnly: boolean): string {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  return "'" + escapeRune(cp, "'", asciiOnly) + "'";
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0xfeff) return false;
    if (cp < 0x20 && cp !== 9) return false;
    if (cp === 0x60 || cp === 0x7f || cp === 0xfffd) return false;
  }
  return true;
}

// ---------------------------------------------------------------- printer

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = s.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) continue;
    }
    n++;
  }
  return n;
}

const LDIGITS = '0123456789abcdefx';
const UDIGITS = '0123456789ABCDEFX';

class Printer {
  buf = '';
  wid = 0;
  prec = 0;
  widPresent = false;
  precPresent = false;
  minus = false;
  plus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  erroring = false;

  clearflags(): void {
    this.wid = 0;
    this.prec = 0;
    this.widPresent = this.precPresent = this.minus = this.plus = false;
    this.sharp = this.space = this.zero = this.plusV = this.sharpV = false;
  }

  writePadding(n: number): void {
    if (n <= 0) return;
    this.buf += (this.zero && !this.minus ? '0' : ' ').repeat(n);
  }

  pad(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.wid - runeCount(s);
    if (!this.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  truncateString(s: string): string {
    if (this.precPresent) {
      let n = this.prec;
      let i = 0;
      for (const ch of s) {
        n--;
        if (n < 0) return s.slice(0, i);
        i += ch.length;
      }
    }
    return s;
  }

  fmtS(s: string): void {
    this.pad(this.truncateString(s));
  }

  fmtQ(s: string): void {
    s = this.truncateString(s);
    if (this.sharp && canBackquote(s)) {
      this.pad('`' + s + '`');
      return;
    }
    this.pad(this.plus ? quoteToASCII(s) : quote(s));
  }

  fmtSx(s: string, digits: string): void {
    const b = Buffer.from(s, 'utf8');
    let length = b.length;
    if (this.precPresent && this.prec < length) length = this.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) width += 2;
    } else {
      if (this.widPresent) this.writePadding(this.wid);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.writePadding(this.wid - width);
    let out = '';
    if (this.sharp) out += '0' + digits[16];
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) {
        out += ' ';
        if (this.sharp) out += '0' + digits[16];
      }
      const c = b[i]!;
      out += digits[c >> 4]! + digits[c & 15]!;
    }
    this.buf += out;
    if (this.widPresent && this.wid > width && this.minus) this.writePadding(this.wid - width);
  }

  fmtBoolean(v: boolean): void {
    this.pad(v ? 'true' : 'false');
  }

  fmtIntegerRaw(v: bigint, base: number, isSigned: boolean, verb: string, digits: string): void {
    const negative = isSigned && v < 0n;
    let u = negative ? -v : v;
    if (!isSigned && u < 0n) u = BigInt.asUintN(64, u);
    let prec = 0;
    if (this.precPresent) {
      prec = this.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = this.zero;
        this.zero = false;
        this.writePadding(this.wid);
        this.zero = oldZero;
        return;
      }
    } else if (this.zero && !this.minus && this.widPresent) {
      prec = this.wid;
      if (negative || this.plus || this.space) prec--;
    }
    let s = u.toString(base);
    if (digits === UDIGITS) s = s.toUpperCase();
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    if (this.sharp) {
      if (base === 2) s = '0b' + s;
      else if (base === 8) {
        if (s[0] !== '0') s = '0' + s;
      } else if (base === 16) s = '0' + digits[16] + s;
    }
    if (verb === 'O') s = '0o' + s;
    if (negative) s = '-' + s;
    else if (this.plus) s = '+' + s;
    else if (this.space) s = ' ' + s;
    const oldZero = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = oldZero;
  }

  fmtC(u: bigint): void {
    let cp = u > 0x10ffffn || u < 0n ? 0xfffd : Number(u);
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    this.pad(String.fromCodePoint(cp));
  }

  fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.precPresent && this.prec > 4) prec = this.prec;
    let s = BigInt.asUintN(64, u).toString(16).toUpperCase();
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    s = 'U+' + s;
    if (this.sharp && u >= 0n && u <= 0x10ffffn && isPrint(Number(u)))
      s += " '" + String.fromCodePoint(Number(u)) + "'";
    const oldZero = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = oldZero;
  }

  fmtInteger(v: GoInt, verb: string): void {
    const signed = !isUnsigned(v.t);
    switch (verb) {
      case 'v':
        if (this.sharpV && !signed) {
          const sh = this.sharp;
          this.sharp = true;
          this.fmtIntegerRaw(v.v, 16, false, 'v', LDIGITS);
          this.sharp = sh;
        } else this.fmtIntegerRaw(v.v, 10, signed, verb, LDIGITS);
        return;
      case 'd':
        return this.fmtIntegerRaw(v.v, 10, signed, verb, LDIGITS);
      case 'b':
        return this.fmtIntegerRaw(v.v, 2, signed, verb, LDIGITS);
      case 'o':
      case 'O':
        return this.fmtIntegerRaw(v.v, 8, signed, verb, LDIGITS);
      case 'x':
        return this.fmtIntegerRaw(v.v, 16, signed, verb, LDIGITS);
      case 'X':
        return this.fmtIntegerRaw(v.v, 16, signed, verb, UDIGITS);
      case 'c':
        return this.fmtC(v.v);
      case 'q':
        return this.pad(quoteRune(v.v > 0x10ffffn || v.v < 0n ? 0xfffd : Number(v.v), this.plus));
      case 'U':
        return this.fmtUnicode(v.v);
      default:
        return this.badVerb(verb, v);
    }
  }

  fmtFloatVerb(x: number, verb: string, prec: number): void {
    if (this.precPresent) prec = this.prec;
    let num = formatFloat(x, verb, prec);
    if (num[0] !== '-' && num[0] !== '+') num = '+' + num;
    if (this.space && num[0] === '+' && !this.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const oldZero = this.zero;
      this.zero = false;
      if (num[1] === 'N' && !this.space && !this.plus) num = num.slice(1);
      this.pad(num);
      this.zero = oldZero;
      return;
    }
    if (this.sharp && verb !== 'b' && !num.slice(1).includes('.')) {
      // %#g / %#e / %#f always print a decimal point.
      const ei = num.search(/[eE]/);
      num = ei < 0 ? num + '.' : num.slice(0, ei) + '.' + num.slice(ei);
    }
    if (this.plus || num[0] !== '+') {
      if (this.zero && !this.minus && this.widPresent && this.wid > num.length) {
        this.buf += num[0];
        this.writePadding(this.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  fmtFloat(x: number, verb: string): void {
    switch (verb) {
      case 'v':
        return this.fmtFloatVerb(x, 'g', -1);
      case 'g':
      case 'G':
        return this.fmtFloatVerb(x, verb, -1);
      case 'f':
      case 'e':
      case 'E':
        return this.fmtFloatVerb(x, verb, 6);
      case 'F':
        return this.fmtFloatVerb(x, 'f', 6);
      default:
        return this.badVerb(verb, x);
    }
  }

  fmtString(s: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.sharpV) this.fmtQ(s);
        else this.fmtS(s);
        return;
      case 's':
        return this.fmtS(s);
      case 'x':
        return this.fmtSx(s, LDIGITS);
      case 'X':
        return this.fmtSx(s, UDIGITS);
      case 'q':
        return this.fmtQ(s);
      default:
        return this.badVerb(verb, s);
    }
  }

  badVerb(verb: string, arg: GoValue): void {
    this.erroring = true;
    this.buf += '%!' + verb + '(';
    if (arg === null || arg === undefined) this.buf += '<nil>';
    else {
      this.buf += typeName(arg) + '=';
      this.printArg(arg, 'v', 0);
    }
    this.buf += ')';
    this.erroring = false;
  }

  printArg(arg: GoValue, verb: string, depth = 0): void {
    if (arg === null || arg === undefined) {
      if (depth > 0) {
        if (verb === 'v') this.buf += '<nil>';
        else this.badVerb(verb, null);
        return;
      }
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb, null);
      return;
    }
    if (verb === 'T') {
      this.fmtS(typeName(arg));
      return;
    }
    if (typeof arg === 'string') return this.fmtString(arg, verb);
    if (typeof arg === 'number') return this.fmtFloat(arg, verb);
    if (typeof arg === 'boolean') {
      if (verb === 't' || verb === 'v') this.fmtBoolean(arg);
      else this.badVerb(verb, arg);
      return;
    }
    if (arg instanceof GoInt) return this.fmtInteger(arg, verb);
    if (arg instanceof GoTime) {
      if (!this.erroring && (verb === 'v' || verb === 's' || verb === 'x' || verb === 'X' || verb === 'q'))
        return this.fmtString(timeString(arg), verb);
      // Go would print the struct fields; we print the String form for other verbs.
      return this.fmtString(timeString(arg), 'v');
    }
    if (arg instanceof LabelsMap || arg instanceof GoMap) {
      const entries: [string, GoValue][] = [];
      if (arg instanceof LabelsMap) {
        for (const k of Object.keys(arg.rec)) entries.push([k, arg.rec[k]!]);
      } else for (const e of arg.m) entries.push(e);
      entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      if (this.sharpV) this.buf += typeName(arg) + '{';
      else this.buf += 'map[';
      for (let i = 0; i < entries.length; i++) {
        if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
        this.printArg(entries[i]![0], verb, depth + 1);
        this.buf += ':';
        this.printArg(entries[i]![1], verb, depth + 1);
      }
      this.buf += this.sharpV ? '}' : ']';
      return;
    }
    if (arg instanceof GoSlice) {
      if (this.sharpV) this.buf += typeName(arg) + '{';
      else this.buf += '[';
      for (let i = 0; i < arg.a.length; i++) {
        if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
        this.printArg(arg.a[i], verb, depth + 1);
      }
      this.buf += this.sharpV ? '}' : ']';
      return;
    }
  }

  doPrintf(format: string, a: GoValue[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    let goodArgNum = true;

    const parsenum = (i: number): [number, boolean, number] => {
      let num = 0;
      let isnum = false;
      let j = i;
      for (; j < end && format.charCodeAt(j) >= 48 && format.charCodeAt(j) <= 57; j++) {
        if (num > 1e6 || num < -1e6) return [0, false, end];
        num = num * 10 + (format.charCodeAt(j) - 48);
        isnum = true;
      }
      return [num, isnum, j];
    };
    const argNumber = (argN: number, i: number): [number, number, boolean] => {
      if (end <= i || format[i] !== '[') return [argN, i, false];
      reordered = true;
      // parseArgNumber
      let index = 0;
      let wid = 1;
      let ok = false;
      if (end - i >= 3) {
        for (let j = i + 1; j < end; j++) {
          if (format[j] === ']') {
            const [w, isn, newi] = parsenum(i + 1);
            if (!isn || newi !== j) {
              wid = j - i + 1;
              ok = false;
            } else {
              index = w - 1;
              wid = j - i + 1;
              ok = true;
            }
            break;
          }
        }
      }
      if (ok && index >= 0 && index < a.length) return [index, i + wid, true];
      goodArgNum = false;
      return [argN, i + wid, ok];
    };
    const intFromArg = (argN: number): [number, boolean, number] => {
      let num = 0;
      let isInt = false;
      let newArgNum = argN;
      if (argN < a.length) {
        const v = a[argN];
        if (v instanceof GoInt && v.v >= -(2n ** 63n) && v.v < 2n ** 63n) {
          num = Number(v.v);
          isInt = true;
        }
        newArgNum = argN + 1;
        if (num > 1e6 || num < -1e6) {
          num = 0;
          isInt = false;
        }
      }
      return [num, isInt, newArgNum];
    };

    let i = 0;
    formatLoop: while (i < end) {
      goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== '%') i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++;
      this.clearflags();
      simple: for (; i < end; i++) {
        const c = format[i]!;
        switch (c) {
          case '#':
            this.sharp = true;
            break;
          case '0':
            this.zero = true;
            break;
          case '+':
            this.plus = true;
            break;
          case '-':
            this.minus = true;
            break;
          case ' ':
            this.space = true;
            break;
          default:
            if (c >= 'a' && c <= 'z' && argNum < a.length) {
              if (c === 'v') {
                this.sharpV = this.sharp;
                this.sharp = false;
                this.plusV = this.plus;
                this.plus = false;
              }
              if (c === 'w') {
                this.badVerb('w', a[argNum]);
              } else this.printArg(a[argNum], c);
              argNum++;
              i++;
              continue formatLoop;
            }
            break simple;
        }
      }
      [argNum, i, afterIndex] = argNumber(argNum, i);
      if (i < end && format[i] === '*') {
        i++;
        [this.wid, this.widPresent, argNum] = intFromArg(argNum);
        if (!this.widPresent) this.buf += '%!(BADWIDTH)';
        if (this.wid < 0) {
          this.wid = -this.wid;
          this.minus = true;
          this.zero = false;
        }
        afterIndex = false;
      } else {
        [this.wid, this.widPresent, i] = parsenum(i);
        if (afterIndex && this.widPresent) goodArgNum = false;
      }
      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) goodArgNum = false;
        [argNum, i, afterIndex] = argNumber(argNum, i);
        if (i < end && format[i] === '*') {
          i++;
          [this.prec, this.precPresent, argNum] = intFromArg(argNum);
          if (this.prec < 0) {
            this.prec = 0;
            this.precPresent = false;
          }
          if (!this.precPresent) this.buf += '%!(BADPREC)';
          afterIndex = false;
        } else {
          [this.prec, this.precPresent, i] = parsenum(i);
          if (!this.precPresent) {
            this.prec = 0;
            this.precPresent = true;
          }
        }
      }
      if (!afterIndex) [argNum, i, afterIndex] = argNumber(argNum, i);
      if (i >= end) {
        this.buf += '%!(NOVERB)';
        break;
      }
      const verb = String.fromCodePoint(format.codePointAt(i)!);
      i += verb.length;
      if (verb === '%') this.buf += '%';
      else if (!goodArgNum) this.buf += '%!' + verb + '(BADINDEX)';
      else if (argNum >= a.length) this.buf += '%!' + verb + '(MISSING)';
      else {
        if (verb === 'v') {
          this.sharpV = this.sharp;
          this.sharp = false;
          this.plusV = this.plus;
          this.plus = false;
        }
        if (verb === 'w') this.badVerb('w', a[argNum]);
        else this.printArg(a[argNum], verb);
        argNum++;
      }
    }
    if (!reordered && argNum < a.length) {
      this.clearflags();
      this.buf += '%!(EXTRA ';
      for (let k = argNum; k < a.length; k++) {
        if (k > argNum) this.buf += ', ';
        const arg = a[k];
        if (arg === null || arg === undefined) this.buf += '<nil>';
        else {
          this.buf += typeName(arg) + '=';
          this.printArg(arg, 'v');
        }
      }
      this.buf += ')';
    }
  }
}

const shared = new Printer();

function withPrinter(fn: (p: Printer) => void): string {
  // Re-entrancy is impossible (printing never calls back into templates), so one printer suffices.
  const p = shared;
  p.buf = '';
  p.clearflags();
  p.erroring = false;
  fn(p);
  const s = p.buf;
  p.buf = '';
  return s;
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: GoValue[]): string {
  return withPrinter((p) => p.doPrintf(format, args));
}

/** fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: GoValue[]): string {
  return withPrinter((p) => {
    let prevString = false;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      const isString = typeof arg === 'string';
      if (i > 0 && !isString && !prevString) p.buf += ' ';
      p.clearflags();
      p.printArg(arg, 'v');
      prevString = isString;
    }
  });
}

/** fmt.Sprintln: spaces always, newline at the end. */
export function sprintln(args: GoValue[]): string {
  return withPrinter((p) => {
    for (let i = 0; i < args.length; i++) {
      if (i > 0) p.buf += ' ';
      p.clearflags();
      p.printArg(args[i], 'v');
    }
    p.buf += '\n';
  });
}

/** fmt.Sprint of a single value (how an action prints its result). */
export function sprintValue(v: GoValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoInt) return v.v.toString();
  if (typeof v === 'number') return formatFloat(v, 'g', -1);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return sprint([v]);
}

export { byteLen };
