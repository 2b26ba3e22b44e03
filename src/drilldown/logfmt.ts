// Loki's logfmt decoder (pkg/logql/log/logfmt, adapted from go-logfmt) and go-logfmt's
// encoder, as used by the Drilldown analytics: the pattern miner's logfmt tokenizer decodes
// and re-encodes key/value pairs, and detected-fields falls back to logfmt parsing for non-JSON
// lines. Works on JS strings; byte-level checks (`<= ' '`, `=`, `"`) behave identically for the
// ASCII delimiters, and any character >= 0x80 is an ordinary key/value character as in Go.

export class LogfmtDecoder {
  private line = '';
  private pos = 0;
  /** Key of the last scanned pair; null when none. */
  key: string | null = null;
  /** Value of the last scanned pair; null when the pair had no value (`k` or `k=`). */
  value: string | null = null;
  /** Last syntax error message, or null. */
  err: string | null = null;

  reset(line: string): void {
    this.line = line;
    this.pos = 0;
    this.err = null;
  }

  eol(): boolean {
    return this.pos >= this.line.length;
  }

  /** Advances to the next key/value pair; false at end of line or on a syntax error. */
  scanKeyval(): boolean {
    this.key = null;
    this.value = null;
    const line = this.line;
    const n = line.length;
    let p = this.pos;
    // skip garbage
    while (p < n && line.charCodeAt(p) <= 32) p++;
    if (p >= n) {
      this.pos = n;
      return false;
    }
    // key
    const start = p;
    for (; p < n; p++) {
      const c = line.charCodeAt(p);
      if (c === 61 /* = */) {
        if (p > start) {
          const k = line.slice(start, p);
          if (k.includes('\ufffd')) {
            this.pos = p;
            this.syntaxError('invalid key');
            return this.skipValue();
          }
          this.key = k;
        }
        if (this.key === null) {
          this.pos = p;
          this.unexpectedByte(c);
          return this.skipValue();
        }
        return this.afterEqual(p + 1);
      }
      if (c === 34 /* " */) {
        this.pos = p;
        this.unexpectedByte(c);
        return this.skipValue();
      }
      if (c <= 32) {
        this.pos = p;
        if (p > start) {
          const k = line.slice(start, p);
          if (k.includes('\ufffd')) {
            this.syntaxError('invalid key');
            return false;
          }
          this.key = k;
        }
        return true;
      }
    }
    this.pos = n;
    if (n > start) {
      const k = line.slice(start, n);
      if (k.includes('\ufffd')) {
        this.syntaxError('invalid key');
        return false;
      }
      this.key = k;
    }
    return true;
  }

  private afterEqual(p: number): boolean {
    const line = this.line;
    const n = line.length;
    this.pos = p;
    if (p >= n) return true;
    const c0 = line.charCodeAt(p);
    if (c0 <= 32) return true;
    if (c0 === 34) return this.quotedValue(p);
    const start = p;
    for (; p < n; p++) {
      const c = line.charCodeAt(p);
      if (c === 61 || c === 34) {
        this.pos = p;
        this.unexpectedByte(c);
        return this.skipValue();
      }
      if (c <= 32) {
        this.pos = p;
        if (p > start) this.value = line.slice(start, p);
        return true;
      }
    }
    this.pos = n;
    if (n > start) this.value = line.slice(start, n);
    return true;
  }

  private skipValue(): boolean {
    const line = this.line;
    const n = line.length;
    for (let p = this.pos; p < n; p++) {
      if (line.charCodeAt(p) <= 32) {
        this.pos = p;
        return false;
      }
    }
    this.pos = n;
    return false;
  }

  private quotedValue(startQuote: number): boolean {
    const line = this.line;
    const n = line.length;
    let hasEsc = false;
    let esc = false;
    for (let p = startQuote + 1; p < n; p++) {
      const c = line.charCodeAt(p);
      if (esc) {
        esc = false;
      } else if (c === 92 /* \ */) {
        hasEsc = true;
        esc = true;
      } else if (c === 34) {
        this.pos = p + 1;
        if (hasEsc) {
          const v = unquoteJSONLike(line.slice(startQuote + 1, p));
          if (v === null) {
            this.syntaxError('invalid quoted value');
            return false;
          }
          this.value = v;
        } else if (p > startQuote + 1) {
          this.value = line.slice(startQuote + 1, p);
        }
        return true;
      }
    }
    this.pos = n;
    this.syntaxError('unterminated quoted value');
    return false;
  }

  private syntaxError(msg: string): void {
    this.err = `logfmt syntax error at pos ${this.pos + 1} : ${msg}`;
  }

  private unexpectedByte(c: number): void {
    this.err = `logfmt syntax error at pos ${this.pos + 1} : unexpected '${String.fromCharCode(c)}'`;
  }
}

/** Unescapes the inside of a JSON-style quoted string (logfmt flavour: `\'` allowed); null when invalid. */
export function unquoteJSONLike(s: string): string | null {
  let out = '';
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c !== 92) {
      out += s[i];
      i++;
      continue;
    }
    i++;
    if (i >= n) return null;
    const e = s[i]!;
    switch (e) {
      case '"': case '\\': case '/': case "'": out += e; i++; break;
      case 'b': out += '\b'; i++; break;
      case 'f': out += '\f'; i++; break;
      case 'n': out += '\n'; i++; break;
      case 'r': out += '\r'; i++; break;
      case 't': out += '\t'; i++; break;
      case 'u': {
        const r = hex4(s, i + 1);
        if (r < 0) return null;
        i += 5;
        if (r >= 0xd800 && r < 0xe000) {
          if (r < 0xdc00 && s.charCodeAt(i) === 92 && s[i + 1] === 'u') {
            const r2 = hex4(s, i + 2);
            if (r2 >= 0xdc00 && r2 < 0xe000) {
              out += String.fromCharCode(r, r2);
              i += 6;
              break;
            }
          }
          out += '\ufffd';
          break;
        }
        out += String.fromCharCode(r);
        break;
      }
      default:
        return null;
    }
  }
  return out;
}

function hex4(s: string, at: number): number {
  if (at + 4 > s.length) return -1;
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = s.charCodeAt(at + k);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

function needsQuote(c: number): boolean {
  return c <= 32 || c === 61 || c === 34 || c === 0x7f || c === 0xfffd;
}

/** go-logfmt's quoted form of a value (JSON-like escaping, no HTML escaping). */
function quoteValue(v: string): string {
  let out = '"';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x20 && c !== 34 && c !== 92) {
      out += v[i];
      continue;
    }
    switch (c) {
      case 34: out += '\\"'; break;
      case 92: out += '\\\\'; break;
      case 10: out += '\\n'; break;
      case 13: out += '\\r'; break;
      case 9: out += '\\t'; break;
      default: out += '\\u00' + (c < 16 ? '0' : '') + c.toString(16);
    }
  }
  return out + '"';
}

/**
 * go-logfmt Encoder.EncodeKeyval over (key, []byte value) pairs joined by spaces. Returns null
 * when a key is invalid (empty after dropping space, `=`, `"`, DEL and U+FFFD), like the
 * encoder's ErrInvalidKey.
 */
export function encodeLogfmtPairs(tokens: readonly string[]): string | null {
  let out = '';
  for (let i = 0; i < tokens.length; i += 2) {
    const rawKey = tokens[i]!;
    let key = '';
    for (let k = 0; k < rawKey.length; k++) {
      if (!needsQuote(rawKey.charCodeAt(k))) key += rawKey[k];
    }
    if (key === '') return null;
    const v = i + 1 < tokens.length ? tokens[i + 1]! : '';
    let quote = false;
    for (let k = 0; k < v.length; k++) {
      if (needsQuote(v.charCodeAt(k))) {
        quote = true;
        break;
      }
    }
    if (i > 0) out += ' ';
    out += key + '=' + (quote ? quoteValue(v) : v);
  }
  return out;
}
