// Stream label text parser for the push path: reads the Prometheus/LogQL text form of a label
// set (`{a="b", c='d', "utf8.name"="e"}`, optionally prefixed by a metric name) the way Loki's
// syntax.ParseLabels does (Prometheus ParseMetric): Go string escapes, empty-valued labels
// dropped, result sorted by name (stable, so duplicate names are kept for the validator to
// report). Errors reproduce the Prometheus parser's text: `1:7: parse error: <reason>`.

import type { Label, Labels } from '../util/labels.js';

export class LabelParseError extends Error {}

const enum Tok {
  Ident,
  String,
  Eql,
  Comma,
  RBrace,
  LBrace,
  Op,
  EOF,
  Error,
}

interface Token {
  t: Tok;
  pos: number; // UTF-16 index of the token start
  val: string; // raw text (strings include their quotes); error message for Tok.Error
}

function isAlpha(c: number): boolean {
  return c === 95 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Go's %q for a single rune. */
function quoteRune(cp: number): string {
  switch (cp) {
    case 0x27: return "'\\''";
    case 0x5c: return "'\\\\'";
    case 0x07: return "'\\a'";
    case 0x08: return "'\\b'";
    case 0x0c: return "'\\f'";
    case 0x0a: return "'\\n'";
    case 0x0d: return "'\\r'";
    case 0x09: return "'\\t'";
    case 0x0b: return "'\\v'";
  }
  if (cp < 0x20 || cp === 0x7f) return "'\\x" + cp.toString(16).padStart(2, '0') + "'";
  return "'" + String.fromCodePoint(cp) + "'";
}

/** Go's %#U: `U+0041 'A'`. */
function hashU(cp: number): string {
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) return hex;
  return hex + " '" + String.fromCodePoint(cp) + "'";
}

/** Go's %q for a string (used in token descriptions). */
function goQ(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
}

class Lexer {
  pos = 0;
  braceOpen = false;
  done = false;
  constructor(readonly s: string) {}

  private err(pos: number, msg: string): Token {
    this.done = true;
    return { t: Tok.Error, pos, val: msg };
  }

  next(): Token {
    const s = this.s;
    for (;;) {
      if (this.done) return { t: Tok.EOF, pos: s.length, val: '' };
      if (this.pos >= s.length) {
        if (this.braceOpen) return this.err(this.pos, 'unexpected end of input inside braces');
        this.done = true;
        return { t: Tok.EOF, pos: s.length, val: '' };
      }
      const start = this.pos;
      const c = s.charCodeAt(this.pos);
      if (isSpace(c)) { this.pos++; continue; }
      if (c === 35 /* # comment */) {
        while (this.pos < s.length && s.charCodeAt(this.pos) !== 10) this.pos++;
        continue;
      }
      if (this.braceOpen) {
        if (isAlpha(c)) {
          let p = this.pos + 1;
          while (p < s.length && (isAlpha(s.charCodeAt(p)) || isDigit(s.charCodeAt(p)))) p++;
          this.pos = p;
          return { t: Tok.Ident, pos: start, val: s.slice(start, p) };
        }
        switch (c) {
          case 44: this.pos++; return { t: Tok.Comma, pos: start, val: ',' };
          case 34: case 39: case 96: return this.lexString(c);
          case 61:
            if (s.charCodeAt(this.pos + 1) === 126) { this.pos += 2; return { t: Tok.Op, pos: start, val: '<op:=~>' }; }
            this.pos++;
            return { t: Tok.Eql, pos: start, val: '=' };
          case 33: {
            const n = s.charCodeAt(this.pos + 1);
            if (n === 126 || n === 61) { this.pos += 2; return { t: Tok.Op, pos: start, val: n === 126 ? '<op:!~>' : '<op:!=>' }; }
            const cp = this.pos + 1 < s.length ? s.codePointAt(this.pos + 1)! : -1;
            return this.err(start, "unexpected character after '!' inside braces: " + (cp < 0 ? "'\\x00'" : quoteRune(cp)));
          }
          case 123: return this.err(start, "unexpected left brace '{'");
          case 125: this.pos++; this.braceOpen = false; return { t: Tok.RBrace, pos: start, val: '}' };
        }
        return this.err(start, 'unexpected character inside braces: ' + quoteRune(s.codePointAt(this.pos)!));
      }
      // Outside braces: only a metric name and the opening brace are meaningful here.
      if (c === 123) { this.pos++; this.braceOpen = true; return { t: Tok.LBrace, pos: start, val: '{' }; }
      if (isAlpha(c) || c === 58) {
        let p = this.pos + 1;
        while (p < s.length) {
          const d = s.charCodeAt(p);
          if (isAlpha(d) || isDigit(d) || d === 58) p++;
          else break;
        }
        this.pos = p;
        return { t: Tok.Ident, pos: start, val: s.slice(start, p) };
      }
      if (c === 34 || c === 39 || c === 96) return this.lexString(c);
      if (c === 125) { this.pos++; return { t: Tok.RBrace, pos: start, val: '}' }; }
      if (c === 44) { this.pos++; return { t: Tok.Comma, pos: start, val: ',' }; }
      if (c === 61) { this.pos++; return { t: Tok.Eql, pos: start, val: '=' }; }
      return this.err(start, 'unexpected character: ' + quoteRune(s.codePointAt(this.pos)!));
    }
  }

  private lexString(q: number): Token {
    const s = this.s;
    const start = this.pos;
    let p = this.pos + 1;
    if (q === 96) {
      while (p < s.length && s.charCodeAt(p) !== 96) p++;
      if (p >= s.length) return this.err(start, 'unterminated raw string');
      this.pos = p + 1;
      return { t: Tok.String, pos: start, val: s.slice(start, p + 1) };
    }
    for (;;) {
      if (p >= s.length) return this.err(start, 'unterminated quoted string');
      const c = s.charCodeAt(p);
      if (c === q) break;
      if (c === 10) return this.err(start, 'unterminated quoted string');
      if (c === 0xfffd) return this.err(start, 'invalid UTF-8 rune');
      if (c === 92) {
        p++;
        if (p >= s.length) return this.err(start, 'escape sequence not terminated');
        const e = s.charCodeAt(p);
        let n = 0, base = 0, max = 0;
        if (e === 97 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116 || e === 118 || e === 92 || e === q) {
          p++;
          continue;
        } else if (e >= 48 && e <= 55) { n = 3; base = 8; max = 255; }
        else if (e === 120) { n = 2; base = 16; max = 255; p++; }
        else if (e === 117) { n = 4; base = 16; max = 0x10ffff; p++; }
        else if (e === 85) { n = 8; base = 16; max = 0x10ffff; p++; }
        else return this.err(start, 'unknown escape sequence ' + hashU(s.codePointAt(p)!));
        let x = 0;
        while (n > 0) {
          if (p >= s.length) return this.err(start, 'escape sequence not terminated');
          const d = parseInt(s[p]!, 16);
          if (Number.isNaN(d) || d >= base) return this.err(start, 'illegal character ' + hashU(s.codePointAt(p)!) + ' in escape sequence');
          x = x * base + d;
          n--;
          p++;
        }
        if (x > max || (x >= 0xd800 && x < 0xe000)) return this.err(start, 'escape sequence is an invalid Unicode code point');
        continue;
      }
      p++;
    }
    this.pos = p + 1;
    return { t: Tok.String, pos: start, val: s.slice(start, p + 1) };
  }
}

function unquote(raw: string): string {
  const q = raw.charCodeAt(0);
  const body = raw.slice(1, -1);
  if (q === 96 || body.indexOf('\\') < 0) return body;
  let out = '';
  let pendingBytes: number[] = [];
  const flush = () => {
    if (pendingBytes.length) { out += Buffer.from(pendingBytes).toString('utf8'); pendingBytes = []; }
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') { flush(); out += c; continue; }
    const e = body[++i]!;
    switch (e) {
      case 'a': flush(); out += '\x07'; break;
      case 'b': flush(); out += '\b'; break;
      case 'f': flush(); out += '\f'; break;
      case 'n': flush(); out += '\n'; break;
      case 'r': flush(); out += '\r'; break;
      case 't': flush(); out += '\t'; break;
      case 'v': flush(); out += '\v'; break;
      case 'x': pendingBytes.push(parseInt(body.slice(i + 1, i + 3), 16)); i += 2; break;
      case 'u': flush(); out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16)); i += 4; break;
      case 'U': flush(); out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16)); i += 8; break;
      default:
        if (e >= '0' && e <= '7') { pendingBytes.push(parseInt(body.slice(i, i + 3), 8)); i += 2; }
        else { flush(); out += e; }
    }
  }
  flush();
  return out;
}

function desc(t: Token): string {
  switch (t.t) {
    case Tok.EOF: return 'end of input';
    case Tok.Ident: return 'identifier ' + goQ(t.val);
    case Tok.String: {
      // Go: %.10q... for long values (precision counts runes of the unquoted value).
      const chars = Array.from(t.val);
      return 'string ' + (chars.length > 10 ? goQ(chars.slice(0, 10).join('')) + '...' : goQ(t.val));
    }
    case Tok.Op: return t.val;
    default: return goQ(t.val);
  }
}

function position(s: string, pos: number): string {
  if (s === '') return 'unknown position';
  const before = Buffer.from(s.slice(0, pos), 'utf8');
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < before.length; i++) if (before[i] === 10) { lastBreak = i; line++; }
  return `${line}:${before.length - lastBreak}`;
}

function fail(s: string, t: Token, msg: string): never {
  throw new LabelParseError(`${position(s, t.pos)}: parse error: ${msg}`);
}

function unexpected(s: string, t: Token, expected: string): never {
  if (t.t === Tok.Error) fail(s, t, t.val);
  fail(s, t, 'unexpected ' + desc(t) + (expected ? ' in label set, expected ' + expected : ''));
}

const SIMPLE_LABELS = /^\{(?:[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n\uFFFD]*"(?:, ?(?=[a-zA-Z_]))?)*\}$/;

/**
 * Parses a label set text. Throws LabelParseError (message without the `couldn't parse labels: `
 * prefix) on syntax errors. Returns labels sorted by name, empty values removed.
 */
export function parseLabelsText(s: string): Labels {
  let out: Labels;
  if (SIMPLE_LABELS.test(s)) {
    // Fast path: the canonical form every client sends.
    out = [];
    let i = 1;
    while (i < s.length - 1) {
      const eq = s.indexOf('=', i);
      const end = s.indexOf('"', eq + 2);
      out.push({ name: s.slice(i, eq), value: s.slice(eq + 2, end) });
      i = end + 1;
      if (s.charCodeAt(i) === 44) i++;
      if (s.charCodeAt(i) === 32) i++;
    }
  } else {
    out = parseSlow(s);
  }
  let n = 0;
  for (let i = 0; i < out.length; i++) if (out[i]!.value !== '') out[n++] = out[i]!;
  out.length = n;
  // Stable insertion sort for short lists keeps duplicate names in input order.
  for (let i = 1; i < out.length; i++) {
    const cur = out[i]!;
    let j = i - 1;
    while (j >= 0 && out[j]!.name > cur.name) { out[j + 1] = out[j]!; j--; }
    out[j + 1] = cur;
  }
  return out;
}

function parseSlow(s: string): Labels {
  const lx = new Lexer(s);
  const out: Label[] = [];
  let t = lx.next();
  let metricName: string | undefined;
  if (t.t === Tok.EOF) return out;
  if (t.t === Tok.Ident) {
    metricName = t.val;
    t = lx.next();
    if (t.t === Tok.EOF) return [{ name: '__name__', value: metricName }];
  }
  if (t.t !== Tok.LBrace) unexpected(s, t, '');
  t = lx.next();
  if (t.t === Tok.RBrace) {
    t = lx.next();
  } else {
    for (;;) {
      // label_set_item
      if (t.t === Tok.Ident) {
        const name = t.val;
        t = lx.next();
        if (t.t !== Tok.Eql) unexpected(s, t, '"="');
        t = lx.next();
        if (t.t !== Tok.String) unexpected(s, t, 'string');
        out.push({ name, value: unquote(t.val) });
        t = lx.next();
      } else if (t.t === Tok.String) {
        const name = unquote(t.val);
        t = lx.next();
        if (t.t === Tok.Eql) {
          t = lx.next();
          if (t.t !== Tok.String) unexpected(s, t, 'string');
          out.push({ name, value: unquote(t.val) });
          t = lx.next();
        } else {
          out.push({ name: '__name__', value: name });
        }
      } else {
        unexpected(s, t, 'identifier or "}"');
      }
      if (t.t === Tok.Comma) {
        t = lx.next();
        if (t.t === Tok.RBrace) { t = lx.next(); break; }
        continue;
      }
      if (t.t === Tok.RBrace) { t = lx.next(); break; }
      unexpected(s, t, '"," or "}"');
    }
  }
  if (t.t !== Tok.EOF) unexpected(s, t, '');
  if (metricName !== undefined) {
    const idx = out.findIndex((l) => l.name === '__name__');
    if (idx >= 0) out.splice(idx, 1);
    out.push({ name: '__name__', value: metricName });
  }
  return out;
}
