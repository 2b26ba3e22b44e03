// LogQL lexer. Mirrors Loki's lexer (pkg/logql/syntax/lex.go) on top of a port of the Go
// text/scanner mechanics it uses, because Loki's error positions depend on them: a token's
// column is its first character (1-based, counted in characters), the end-of-input column is one
// past the last character, and tokens whose lexing looked ahead (two-character operators,
// durations, byte sizes, `[range]`, `--flags`) report line 0, exactly as Loki prints them.
// Token kinds are the names goyacc prints in "unexpected X" messages: keyword and punctuation
// tokens are their own text (`}`, `|=`, `offset`), the rest upper case (IDENTIFIER, STRING,
// NUMBER, DURATION, RANGE, BYTES, FUNCTION_FLAG, COUNT_OVER_TIME, ...), and `$end` for the end.
import { parseHumanBytes } from './bytes.js';
import { parseLexDuration, parsePromDuration } from './duration.js';
import { ParseError } from './errors.js';

export interface Token {
  /** goyacc display name of the token kind */
  type: string;
  /** IDENTIFIER/NUMBER/FUNCTION_FLAG: source text; STRING: the unquoted value */
  text: string;
  /** DURATION and RANGE: nanoseconds */
  dur?: bigint;
  /** BYTES: byte count */
  bytes?: number;
  /** position Loki reports for this token (line 0 when its lexing consumed look-ahead) */
  line: number;
  col: number;
  /** first scanner error raised while scanning this token (Loki keeps lexing, but fails the parse) */
  softError?: ParseError;
  /** set on a token that ends lexing with an error (Loki's lexer returns end-of-input) */
  hardError?: ParseError;
}

/** Keyword and punctuation tokens: Loki's `tokens` table; goyacc names them by their text. */
const TOKENS = new Set([
  ',', '.', '{', '}', '=', '!=', '=~', '!~', '!>', '|=', '|~', '|>', '|', 'unwrap', '(', ')', 'by', 'without',
  'bool', '[', ']', 'label_replace', 'offset', 'on', 'ignoring', 'group_left', 'group_right', 'or', 'and',
  'unless', '+', '-', '*', '/', '%', '^', '==', '>', '>=', '<', '<=', 'json', 'regexp', 'logfmt', 'unpack',
  'pattern', 'label_format', 'line_format', 'ip', 'decolorize', 'drop', 'keep',
]);

/** Words that are only tokens when followed by `(` (or `by`/`without` then `(`). */
const FUNCTION_TOKENS: Record<string, string> = {
  rate: 'RATE',
  rate_counter: 'RATE_COUNTER',
  count_over_time: 'COUNT_OVER_TIME',
  bytes_rate: 'BYTES_RATE',
  bytes_over_time: 'BYTES_OVER_TIME',
  avg_over_time: 'AVG_OVER_TIME',
  sum_over_time: 'SUM_OVER_TIME',
  min_over_time: 'MIN_OVER_TIME',
  max_over_time: 'MAX_OVER_TIME',
  stdvar_over_time: 'STDVAR_OVER_TIME',
  stddev_over_time: 'STDDEV_OVER_TIME',
  quantile_over_time: 'QUANTILE_OVER_TIME',
  first_over_time: 'FIRST_OVER_TIME',
  last_over_time: 'LAST_OVER_TIME',
  absent_over_time: 'ABSENT_OVER_TIME',
  vector: 'VECTOR',
  sum: 'SUM',
  avg: 'AVG',
  max: 'MAX',
  min: 'MIN',
  count: 'COUNT',
  stddev: 'STDDEV',
  stdvar: 'STDVAR',
  bottomk: 'BOTTOMK',
  topk: 'TOPK',
  sort: 'SORT',
  sort_desc: 'SORT_DESC',
  label_replace: 'label_replace',
  approx_topk: 'APPROX_TOPK',
  bytes: 'BYTES_CONV',
  duration: 'DURATION_CONV',
  duration_seconds: 'DURATION_SECONDS_CONV',
  ip: 'ip',
};

const PARSER_FLAGS = new Set(['--strict', '--keep-empty']);

const EOF = -1;
const CH_INT = -3;
const CH_FLOAT = -4;
const CH_CHAR = -5;
const CH_STRING = -6;
const CH_RAWSTRING = -7;
const CH_IDENT = -2;

const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;
const NUMBER_CH = /\p{N}/u;
const SPACE = /\s/u;

function isLetter(c: number): boolean {
  return c >= 0 && (c < 0x80 ? (c >= 97 && c <= 122) || (c >= 65 && c <= 90) : LETTER.test(String.fromCodePoint(c)));
}
function isUnicodeDigit(c: number): boolean {
  return c >= 0 && (c < 0x80 ? c >= 48 && c <= 57 : DIGIT.test(String.fromCodePoint(c)));
}
function isUnicodeNumber(c: number): boolean {
  return c >= 0 && (c < 0x80 ? c >= 48 && c <= 57 : NUMBER_CH.test(String.fromCodePoint(c)));
}
/** Go unicode.IsSpace */
function isSpace(c: number): boolean {
  if (c < 0) return false;
  if (c < 0x80) return c === 32 || (c >= 9 && c <= 13);
  return c === 0x85 || c === 0xa0 || (c !== 0x200b && SPACE.test(String.fromCodePoint(c)));
}
function isDecimal(c: number): boolean {
  return c >= 48 && c <= 57;
}
function lower(c: number): number {
  return c | 0x20;
}
function isHex(c: number): boolean {
  return isDecimal(c) || (lower(c) >= 97 && lower(c) <= 102);
}
function isGoWhitespace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Port of the Go text/scanner state machine (positions, look-ahead character, token text). */
class Scanner {
  src: string;
  pos = 0;
  line = 1;
  column = 0;
  lastLineLen = 0;
  lastCharLen = 0;
  ch = -2;
  tokPos = -1;
  tokEnd = 0;
  /** Position of the last scanned token; Line 0 means "invalidated" */
  Line = 0;
  Column = 0;
  onError: (msg: string) => void = () => {};

  constructor(src: string) {
    this.src = src;
  }

  clone(): Scanner {
    const s = new Scanner(this.src);
    s.pos = this.pos;
    s.line = this.line;
    s.column = this.column;
    s.lastLineLen = this.lastLineLen;
    s.lastCharLen = this.lastCharLen;
    s.ch = this.ch;
    s.tokPos = this.tokPos;
    s.tokEnd = this.tokEnd;
    s.Line = this.Line;
    s.Column = this.Column;
    s.onError = () => {};
    return s;
  }

  private next(): number {
    if (this.pos >= this.src.length) {
      if (this.lastCharLen > 0) this.column++;
      this.lastCharLen = 0;
      return EOF;
    }
    const c = this.src.codePointAt(this.pos)!;
    const w = c > 0xffff ? 2 : 1;
    this.pos += w;
    this.lastCharLen = w;
    this.column++;
    if (c === 0) this.error('invalid character NUL');
    else if (c === 10) {
      this.line++;
      this.lastLineLen = this.column;
      this.column = 0;
    }
    return c;
  }

  Next(): number {
    this.tokPos = -1;
    this.Line = 0;
    const c = this.Peek();
    if (c !== EOF) this.ch = this.next();
    return c;
  }

  Peek(): number {
    if (this.ch === -2) {
      this.ch = this.next();
      if (this.ch === 0xfeff) this.ch = this.next();
    }
    return this.ch;
  }

  private error(msg: string): void {
    this.tokEnd = this.pos - this.lastCharLen;
    this.onError(msg);
  }

  private digits(ch0: number, base: number, invalid: { c: number }): { ch: number; digsep: number } {
    let ch = ch0;
    let digsep = 0;
    if (base <= 10) {
      const max = 48 + base;
      while (isDecimal(ch) || ch === 95) {
        let ds = 1;
        if (ch === 95) ds = 2;
        else if (ch >= max && invalid.c === 0) invalid.c = ch;
        digsep |= ds;
        ch = this.next();
      }
    } else {
      while (isHex(ch) || ch === 95) {
        digsep |= ch === 95 ? 2 : 1;
        ch = this.next();
      }
    }
    return { ch, digsep };
  }

  private scanNumber(ch: number, seenDot: boolean): { tok: number; ch: number } {
    let base = 10;
    let prefix = 0;
    let digsep = 0;
    const invalid = { c: 0 };
    let tok = CH_INT;
    if (!seenDot) {
      if (ch === 48) {
        ch = this.next();
        switch (lower(ch)) {
          case 120: // x
            ch = this.next();
            base = 16;
            prefix = 120;
            break;
          case 111: // o
            ch = this.next();
            base = 8;
            prefix = 111;
            break;
          case 98: {
            // b
            const peek = this.Peek();
            if (peek === 48 || peek === 49) {
              ch = this.next();
              base = 2;
              prefix = 98;
            } else {
              base = 8;
              prefix = 48;
              digsep = 1;
            }
            break;
          }
          default:
            base = 8;
            prefix = 48;
            digsep = 1;
        }
      }
      const r = this.digits(ch, base, invalid);
      ch = r.ch;
      digsep |= r.digsep;
      if (ch === 46) {
        ch = this.next();
        seenDot = true;
      }
    }
    if (seenDot) {
      tok = CH_FLOAT;
      if (prefix === 111 || prefix === 98) this.error('invalid radix point in ' + litname(prefix));
      const r = this.digits(ch, base, invalid);
      ch = r.ch;
      digsep |= r.digsep;
    }
    if ((digsep & 1) === 0) this.error(litname(prefix) + ' has no digits');
    const e = lower(ch);
    if (e === 101 || (e === 112 && prefix === 120)) {
      if (e === 101 && prefix !== 0 && prefix !== 48) this.error(`${goRuneQuote(ch)} exponent requires decimal mantissa`);
      ch = this.next();
      tok = CH_FLOAT;
      if (ch === 43 || ch === 45) ch = this.next();
      const r = this.digits(ch, 10, { c: 0 });
      ch = r.ch;
      digsep |= r.digsep;
      if ((r.digsep & 1) === 0) this.error('exponent has no digits');
    } else if (prefix === 120 && tok === CH_FLOAT) {
      this.error("hexadecimal mantissa requires a 'p' exponent");
    }
    if (tok === CH_INT && invalid.c !== 0) this.error(`invalid digit ${goRuneQuote(invalid.c)} in ${litname(prefix)}`);
    if (digsep & 2) {
      this.tokEnd = this.pos - this.lastCharLen;
      if (invalidSep(this.TokenText()) >= 0) this.error("'_' must separate successive digits");
    }
    return { tok, ch };
  }

  private scanDigits(ch: number, base: number, n: number): number {
    while (n > 0 && digitVal(ch) < base) {
      ch = this.next();
      n--;
    }
    if (n > 0) this.error('invalid char escape');
    return ch;
  }

  private scanEscape(quote: number): number {
    let ch = this.next();
    switch (ch) {
      case 97: case 98: case 102: case 110: case 114: case 116: case 118: case 92: case quote:
        ch = this.next();
        break;
      case 48: case 49: case 50: case 51: case 52: case 53: case 54: case 55:
        ch = this.scanDigits(ch, 8, 3);
        break;
      case 120:
        ch = this.scanDigits(this.next(), 16, 2);
        break;
      case 117:
        ch = this.scanDigits(this.next(), 16, 4);
        break;
      case 85:
        ch = this.scanDigits(this.next(), 16, 8);
        break;
      default:
        this.error('invalid char escape');
    }
    return ch;
  }

  private scanString(quote: number): number {
    let ch = this.next();
    let n = 0;
    while (ch !== quote) {
      if (ch === 10 || ch < 0) {
        this.error('literal not terminated');
        return n;
      }
      if (ch === 92) ch = this.scanEscape(quote);
      else ch = this.next();
      n++;
    }
    return n;
  }

  private scanRawString(): void {
    let ch = this.next();
    while (ch !== 96) {
      if (ch < 0) {
        this.error('literal not terminated');
        return;
      }
      ch = this.next();
    }
  }

  private scanComment(ch: number): number {
    if (ch === 47) {
      ch = this.next();
      while (ch !== 10 && ch >= 0) ch = this.next();
      return ch;
    }
    ch = this.next();
    for (;;) {
      if (ch < 0) {
        this.error('comment not terminated');
        break;
      }
      const ch0 = ch;
      ch = this.next();
      if (ch0 === 42 && ch === 47) {
        ch = this.next();
        break;
      }
    }
    return ch;
  }

  Scan(): number {
    let ch = this.Peek();
    this.tokPos = -1;
    this.Line = 0;
    for (;;) {
      while (isGoWhitespace(ch)) ch = this.next();
      this.tokPos = this.pos - this.lastCharLen;
      if (this.column > 0) {
        this.Line = this.line;
        this.Column = this.column;
      } else {
        this.Line = this.line - 1;
        this.Column = this.lastLineLen;
      }
      let tok = ch;
      if (ch === 95 || isLetter(ch)) {
        tok = CH_IDENT;
        ch = this.next();
        while (ch === 95 || isLetter(ch) || isUnicodeDigit(ch)) ch = this.next();
      } else if (isDecimal(ch)) {
        const r = this.scanNumber(ch, false);
        tok = r.tok;
        ch = r.ch;
      } else {
        switch (ch) {
          case EOF:
            break;
          case 34: // "
            this.scanString(34);
            tok = CH_STRING;
            ch = this.next();
            break;
          case 39: // '
            if (this.scanString(39) !== 1) this.error('invalid char literal');
            tok = CH_CHAR;
            ch = this.next();
            break;
          case 46: // .
            ch = this.next();
            if (isDecimal(ch)) {
              const r = this.scanNumber(ch, true);
              tok = r.tok;
              ch = r.ch;
            }
            break;
          case 47: // /
            ch = this.next();
            if (ch === 47 || ch === 42) {
              this.tokPos = -1;
              ch = this.scanComment(ch);
              continue;
            }
            break;
          case 96: // `
            this.scanRawString();
            tok = CH_RAWSTRING;
            ch = this.next();
            break;
          default:
            ch = this.next();
        }
      }
      this.tokEnd = this.pos - this.lastCharLen;
      this.ch = ch;
      return tok;
    }
  }

  TokenText(): string {
    if (this.tokPos < 0) return '';
    if (this.tokEnd < this.tokPos) this.tokEnd = this.tokPos;
    return this.src.slice(this.tokPos, this.tokEnd);
  }
}

function litname(prefix: number): string {
  switch (prefix) {
    case 120:
      return 'hexadecimal literal';
    case 111:
    case 48:
      return 'octal literal';
    case 98:
      return 'binary literal';
    default:
      return 'decimal literal';
  }
}

function goRuneQuote(c: number): string {
  const s = String.fromCodePoint(c);
  if (s === "'") return "'\\''";
  if (s === '\\') return "'\\\\'";
  return `'${s}'`;
}

function invalidSep(x: string): number {
  let x1 = 32;
  let d = 46;
  let i = 0;
  if (x.length >= 2 && x[0] === '0') {
    x1 = lower(x.charCodeAt(1));
    if (x1 === 120 || x1 === 111 || x1 === 98) {
      d = 48;
      i = 2;
    }
  }
  for (; i < x.length; i++) {
    const p = d;
    d = x.charCodeAt(i);
    if (d === 95) {
      if (p !== 48) return i;
    } else if (isDecimal(d) || (x1 === 120 && isHex(d))) {
      d = 48;
    } else {
      if (p === 95) return i - 1;
      d = 46;
    }
  }
  if (d === 95) return x.length - 1;
  return -1;
}

function digitVal(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  const l = lower(ch);
  if (l >= 97 && l <= 102) return l - 97 + 10;
  return 16;
}

/** Go strconv.Unquote as Prometheus' strutil.Unquote applies it (", ' and ` quoted strings). */
export function goUnquote(s: string): string {
  const n = s.length;
  if (n < 2) throw new Error('invalid syntax');
  const quote = s[0]!;
  if (quote !== s[n - 1]) throw new Error('invalid syntax');
  const body = s.slice(1, n - 1);
  if (quote === '`') {
    if (body.includes('`')) throw new Error('invalid syntax');
    return body.replaceAll('\r', '');
  }
  if (quote !== '"' && quote !== "'") throw new Error('invalid syntax');
  if (body.includes('\n')) throw new Error('invalid syntax');
  if (!body.includes('\\') && !body.includes(quote)) return body;
  const bytes: number[] = [];
  const pushStr = (str: string): void => {
    for (const b of Buffer.from(str, 'utf8')) bytes.push(b);
  };
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === quote) throw new Error('invalid syntax');
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      pushStr(ch);
      i += ch.length;
      continue;
    }
    i++;
    const e = body[i];
    if (e === undefined) throw new Error('invalid syntax');
    i++;
    switch (e) {
      case 'a': bytes.push(7); break;
      case 'b': bytes.push(8); break;
      case 'f': bytes.push(12); break;
      case 'n': bytes.push(10); break;
      case 'r': bytes.push(13); break;
      case 't': bytes.push(9); break;
      case 'v': bytes.push(11); break;
      case '\\': bytes.push(92); break;
      case "'":
      case '"':
        if (e !== quote) throw new Error('invalid syntax');
        bytes.push(e.charCodeAt(0));
        break;
      case 'x':
      case 'u':
      case 'U': {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = body.slice(i, i + len);
        if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) throw new Error('invalid syntax');
        i += len;
        const v = parseInt(hex, 16);
        if (e === 'x') bytes.push(v);
        else {
          if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new Error('invalid syntax');
          pushStr(String.fromCodePoint(v));
        }
        break;
      }
      default: {
        if (e >= '0' && e <= '7') {
          const oct = body.slice(i - 1, i + 2);
          if (!/^[0-7]{3}$/.test(oct)) throw new Error('invalid syntax');
          const v = parseInt(oct, 8);
          if (v > 255) throw new Error('invalid syntax');
          bytes.push(v);
          i += 2;
          break;
        }
        throw new Error('invalid syntax');
      }
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Lexes a whole query into tokens; stops at the first hard error or at `$end`. */
export function tokenize(input: string): Token[] {
  const out: Token[] = [];
  const lx = new Lexer(input);
  for (;;) {
    const t = lx.lex();
    out.push(t);
    if (t.type === '$end' || t.hardError) return out;
  }
}

export class Lexer {
  private sc: Scanner;
  private softError: ParseError | undefined;

  constructor(input: string) {
    this.sc = new Scanner(input);
    this.sc.onError = (msg) => {
      if (!this.softError) this.softError = new ParseError(msg, this.sc.Line, this.sc.Column);
    };
  }

  private make(type: string, text: string): Token {
    const t: Token = { type, text, line: this.sc.Line, col: this.sc.Column };
    if (this.softError) {
      t.softError = this.softError;
      this.softError = undefined;
    }
    return t;
  }

  private fail(msg: string): Token {
    const t = this.make('$end', '');
    t.hardError = new ParseError(msg, this.sc.Line, this.sc.Column);
    return t;
  }

  lex(): Token {
    const sc = this.sc;
    const r = sc.Scan();
    switch (r) {
      case 35: {
        // '#': comment to end of line
        for (let next = sc.Peek(); next !== 10 && next !== EOF; next = sc.Next()) {
          /* skip */
        }
        return this.lex();
      }
      case EOF:
        return this.make('$end', '');
      case CH_INT:
      case CH_FLOAT: {
        const text = sc.TokenText();
        const dur = tryScanDuration(text, sc);
        if (dur !== undefined) {
          const t = this.make('DURATION', text);
          t.dur = dur;
          return t;
        }
        const b = tryScanBytes(text, sc);
        if (b !== undefined) {
          const t = this.make('BYTES', text);
          t.bytes = b;
          return t;
        }
        return this.make('NUMBER', text);
      }
      case 45: {
        // '-': parser flags and negative durations
        if (sc.Peek() === 45) {
          const flag = tryScanFlag(sc);
          if (flag !== undefined) return this.make('FUNCTION_FLAG', flag);
        }
        const dur = tryScanDuration(sc.TokenText(), sc);
        if (dur !== undefined) {
          const t = this.make('DURATION', '-');
          t.dur = dur;
          return t;
        }
        break;
      }
      case CH_STRING:
      case CH_RAWSTRING: {
        const text = sc.TokenText();
        let value: string;
        try {
          value = goUnquote(text);
        } catch (e) {
          return this.fail((e as Error).message);
        }
        return this.make('STRING', value);
      }
    }

    if (r === 91) {
      // '[' ... ']' is one RANGE token
      let body = '';
      for (let c = sc.Next(); c !== EOF; c = sc.Next()) {
        if (c === 93) {
          let d: bigint;
          try {
            d = parsePromDuration(body);
          } catch (e) {
            return this.fail((e as Error).message);
          }
          const t = this.make('RANGE', body);
          t.dur = d;
          return t;
        }
        body += String.fromCodePoint(c);
      }
      return this.fail("missing closing ']' in duration");
    }

    const text = sc.TokenText();
    const textLower = text.toLowerCase();
    const peek = sc.Peek();
    const nextLower = (text + (peek >= 0 ? String.fromCodePoint(peek) : '\ufffd')).toLowerCase();

    const fnNext = FUNCTION_TOKENS[nextLower];
    if (fnNext !== undefined) {
      const c = sc.clone();
      c.Next();
      if (isFunction(c)) {
        sc.Next();
        return this.make(fnNext, '');
      }
    }
    const fn = FUNCTION_TOKENS[textLower];
    if (fn !== undefined) {
      if (!isFunction(sc)) return this.make('IDENTIFIER', text);
      return this.make(fn, text);
    }
    if (TOKENS.has(nextLower)) {
      sc.Next();
      return this.make(nextLower, nextLower);
    }
    if (TOKENS.has(textLower)) return this.make(textLower, text);
    return this.make('IDENTIFIER', text);
  }
}

function tryScanFlag(sc: Scanner): string | undefined {
  let flag = sc.TokenText();
  const s = sc.clone();
  let consumed = 0;
  for (let r = s.Peek(); isLetter(r) || r === 45; r = s.Peek()) {
    flag += String.fromCodePoint(r);
    s.Next();
    consumed++;
  }
  if (!PARSER_FLAGS.has(flag)) return undefined;
  for (let i = 0; i < consumed; i++) sc.Next();
  return flag;
}

function isDurationRune(r: number): boolean {
  // n u µ m s h d w y
  return r === 110 || r === 117 || r === 0xb5 || r === 109 || r === 115 || r === 104 || r === 100 || r === 119 || r === 121;
}

function tryScanDuration(number: string, sc: Scanner): bigint | undefined {
  let str = number;
  const s = sc.clone();
  let consumed = 0;
  for (let r = s.Peek(); r !== EOF && !isSpace(r); r = s.Peek()) {
    if (!isUnicodeNumber(r) && !isDurationRune(r) && r !== 46) break;
    str += String.fromCodePoint(r);
    s.Next();
    consumed++;
  }
  if (consumed === 0) return undefined;
  let d: bigint;
  try {
    d = parseLexDuration(str);
  } catch {
    return undefined;
  }
  for (let i = 0; i < consumed; i++) sc.Next();
  return d;
}

function isBytesSizeRune(r: number): boolean {
  // B i k K M G T P
  return r === 66 || r === 105 || r === 107 || r === 75 || r === 77 || r === 71 || r === 84 || r === 80;
}

function tryScanBytes(number: string, sc: Scanner): number | undefined {
  let str = number;
  const s = sc.clone();
  let consumed = 0;
  for (let r = s.Peek(); r !== EOF && !isSpace(r); r = s.Peek()) {
    if (!isUnicodeNumber(r) && !isBytesSizeRune(r) && r !== 46) break;
    str += String.fromCodePoint(r);
    s.Next();
    consumed++;
  }
  if (consumed === 0) return undefined;
  let b: number;
  try {
    b = parseHumanBytes(str);
  } catch {
    return undefined;
  }
  for (let i = 0; i < consumed; i++) sc.Next();
  return b;
}

/** True when the next non-space characters are `(`, or `by`/`without` followed by `(`. */
function isFunction(orig: Scanner): boolean {
  const sc = orig.clone();
  trimSpace(sc);
  const c1 = sc.Next();
  if (c1 === 40) return true;
  if (c1 === EOF) return false;
  const c2 = sc.Next();
  if (c2 === EOF) return false;
  const two = (String.fromCodePoint(c1) + String.fromCodePoint(c2)).toLowerCase();
  if (two === 'by') {
    trimSpace(sc);
    return sc.Next() === 40;
  }
  if (two !== 'wi') return false;
  let word = two;
  for (let i = 0; i < 5; i++) {
    const c = sc.Next();
    if (c === EOF) return false;
    word += String.fromCodePoint(c).toLowerCase();
  }
  if (word !== 'without') return false;
  trimSpace(sc);
  return sc.Next() === 40;
}

function trimSpace(sc: Scanner): void {
  for (let n = sc.Peek(); n !== EOF; n = sc.Peek()) {
    if (isSpace(n)) sc.Next();
    else return;
  }
}
