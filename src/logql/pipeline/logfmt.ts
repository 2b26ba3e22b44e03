// logfmt stages: Loki's logfmt decoder (pkg/logql/log/logfmt/decode.go, adapted from
// go-logfmt) and the `| logfmt [--strict] [--keep-empty]` and `| logfmt a="k", b` parsers.
// Error positions are UTF-8 byte offsets as in Go. Duplicate keys: the first occurrence wins in
// the plain parser (hints record extracted keys), the last in the expression parser.
import type { LabelExtractionExpr } from '../ast.js';
import { Cat, DUPLICATE_SUFFIX, ERROR_LABEL, type LabelsBuilder } from './labels-builder.js';
import type { Stage } from './hints.js';
import { addErrLabel } from './json.js';
import { sanitizeLabelKey, InternCache, isValidLabelName } from './util.js';

export const ERR_LOGFMT = 'LogfmtParserErr';

function utf8Len(s: string, end: number): number {
  return Buffer.byteLength(s.slice(0, end), 'utf8');
}

/** Go-logfmt quoted value unescaping; null when invalid. `s` includes the quotes. */
function unquote(s: string): string | null {
  if (s.length < 2 || s[0] !== '"' || s[s.length - 1] !== '"') return null;
  s = s.slice(1, -1);
  let out = '';
  for (let r = 0; r < s.length; r++) {
    const c = s[r]!;
    if (c === '\\') {
      r++;
      if (r >= s.length) return null;
      const e = s[r]!;
      switch (e) {
        case '"': case '\\': case '/': case "'": out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const h = s.slice(r + 1, r + 5);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) return null;
          let rr = parseInt(h, 16);
          r += 4;
          if (rr >= 0xd800 && rr < 0xe000) {
            const h2 = s[r + 1] === '\\' && s[r + 2] === 'u' ? s.slice(r + 3, r + 7) : '';
            const rr1 = /^[0-9a-fA-F]{4}$/.test(h2) ? parseInt(h2, 16) : -1;
            if (rr < 0xdc00 && rr1 >= 0xdc00 && rr1 < 0xe000) {
              out += String.fromCharCode(rr, rr1);
              r += 6;
              break;
            }
            rr = 0xfffd;
          }
          out += String.fromCharCode(rr);
          break;
        }
        default:
          return null;
      }
      continue;
    }
    if (c === '"') return null;
    out += c;
  }
  return out;
}

/** Go-logfmt style decoder over a JS string. */
export class LogfmtDecoder {
  line = '';
  pos = 0;
  key: string | null = null;
  value: string | null = null;
  /** last error: message and UTF-16 position (converted to bytes on demand) */
  errMsg = '';
  private errPos = 0;

  reset(line: string): void {
    this.line = line;
    this.pos = 0;
    this.errMsg = '';
  }

  eol(): boolean {
    return this.pos >= this.line.length;
  }

  /** Loki's error text for the last error ('' if none). */
  err(): string {
    if (this.errMsg === '') return '';
    return `logfmt syntax error at pos ${utf8Len(this.line, this.errPos) + 1} : ${this.errMsg}`;
  }

  private syntaxError(msg: string): void {
    this.errMsg = msg;
    this.errPos = this.pos;
  }

  private unexpected(c: string): void {
    this.errMsg = `unexpected '${c === '\\' ? '\\\\' : c === "'" ? "\\'" : c}'`;
    this.errPos = this.pos;
  }

  private skipValue(): boolean {
    const line = this.line;
    for (let p = this.pos; p < line.length; p++) {
      if (line.charCodeAt(p) <= 32) {
        this.pos = p;
        return false;
      }
    }
    this.pos = line.length;
    return false;
  }

  scanKeyval(): boolean {
    this.key = null;
    this.value = null;
    const line = this.line;
    const n = line.length;
    let p = this.pos;
    while (p < n && line.charCodeAt(p) <= 32) p++;
    if (p >= n) {
      this.pos = n;
      return false;
    }
    this.pos = p;
    // key
    let start = p;
    let multibyte = false;
    for (; p < n; p++) {
      const c = line.charCodeAt(p);
      if (c === 61) {
        this.pos = p;
        if (p > start) {
          this.key = line.slice(start, p);
          if (multibyte && this.key.indexOf('\ufffd') >= 0) {
            this.syntaxError('invalid key');
            return this.skipValue();
          }
        }
        if (this.key === null) {
          this.unexpected('=');
          return this.skipValue();
        }
        return this.afterEqual();
      }
      if (c === 34) {
        this.pos = p;
        this.unexpected('"');
        return this.skipValue();
      }
      if (c <= 32) {
        this.pos = p;
        if (p > start) {
          this.key = line.slice(start, p);
          if (multibyte && this.key.indexOf('\ufffd') >= 0) {
            this.syntaxError('invalid key');
            return false;
          }
        }
        return true;
      }
      if (c >= 128) multibyte = true;
    }
    this.pos = n;
    if (n > start) {
      this.key = line.slice(start, n);
      if (multibyte && this.key.indexOf('\ufffd') >= 0) {
        this.syntaxError('invalid key');
        return false;
      }
    }
    return true;
  }

  private afterEqual(): boolean {
    const line = this.line;
    const n = line.length;
    this.pos++;
    if (this.pos >= n) return true;
    const c0 = line.charCodeAt(this.pos);
    if (c0 <= 32) return true;
    if (c0 === 34) return this.qvalue();
    const start = this.pos;
    for (let p = start; p < n; p++) {
      const c = line.charCodeAt(p);
      if (c === 61 || c === 34) {
        this.pos = p;
        this.unexpected(c === 61 ? '=' : '"');
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

  private qvalue(): boolean {
    const line = this.line;
    const n = line.length;
    let hasEsc = false;
    let esc = false;
    const start = this.pos;
    for (let p = start + 1; p < n; p++) {
      const c = line.charCodeAt(p);
      if (esc) {
        esc = false;
      } else if (c === 92) {
        hasEsc = true;
        esc = true;
      } else if (c === 34) {
        this.pos = p + 1;
        if (hasEsc) {
          const v = unquote(line.slice(start, this.pos));
          if (v === null) {
            this.syntaxError('invalid quoted value');
            return false;
          }
          this.value = v;
        } else {
          const s = start + 1;
          const e = this.pos - 1;
          if (e > s) this.value = line.slice(s, e);
        }
        return true;
      }
    }
    this.pos = n;
    this.syntaxError('unterminated quoted value');
    return false;
  }
}

/** `| logfmt [--strict] [--keep-empty]` */
export class LogfmtParserStage implements Stage {
  private readonly dec = new LogfmtDecoder();
  private readonly keys = new InternCache();
  constructor(private readonly strict: boolean, private readonly keepEmpty: boolean) {}

  requiredLabelNames(): string[] {
    return [];
  }

  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    const hints = lbs.hints;
    if (hints.noLabels()) return line;
    const dec = this.dec;
    dec.reset(line);
    while (!dec.eol()) {
      if (!dec.scanKeyval()) {
        if (this.strict) break;
        continue;
      }
      const raw = dec.key!;
      let key = this.keys.get(raw);
      if (key === undefined) {
        key = sanitizeLabelKey(raw, true);
        this.keys.set(raw, key);
      }
      if (key.length === 0) continue;
      if (lbs.baseHas(key) || lbs.hasInCategory(key, Cat.StructuredMetadata)) key = key + DUPLICATE_SUFFIX;
      if (!hints.shouldExtract(key) || hints.extractedHas(key)) continue;
      let val = dec.value ?? '';
      if (val.indexOf('\ufffd') >= 0) val = val.replace(/\ufffd/g, ' ');
      if (!this.keepEmpty && val.length === 0) continue;
      lbs.set(Cat.Parsed, key, val);
      if (!hints.shouldContinueParsingLine(key, lbs)) return null;
      if (hints.allRequiredExtracted()) break;
    }
    if (this.strict && dec.errMsg !== '') {
      addErrLabel(lbs, ERR_LOGFMT, dec.err());
      if (!hints.shouldContinueParsingLine(ERROR_LABEL, lbs)) return null;
    }
    return line;
  }
}

export class LogfmtExprError extends Error {}

/** Loki's logfmt expression grammar: a KEY identifier or quoted strings. */
function parseLogfmtExpr(expr: string): string {
  const parts: string[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (/[A-Za-z_]/.test(c)) {
      if (parts.length > 0) throw new LogfmtExprError('syntax error: unexpected KEY');
      let k = '';
      while (i < expr.length && /[A-Za-z0-9_]/.test(expr[i]!)) k += expr[i++];
      parts.push(k);
      continue;
    }
    if (c === '"') {
      i++;
      let s = '';
      while (i < expr.length && expr[i] !== '"' && expr[i] !== ']') s += expr[i++];
      i++;
      parts.push(s);
      continue;
    }
    throw new LogfmtExprError('unexpected char ' + c);
  }
  if (parts.length === 0) throw new LogfmtExprError('syntax error: unexpected $end');
  if (parts.length === 1) return parts[0]!;
  return parts[0] + parts.slice(1).map((p) => '%!(EXTRA string=' + p + ')').join('');
}

/** `| logfmt [flags] a="k", b` */
export class LogfmtExpressionStage implements Stage {
  private readonly dec = new LogfmtDecoder();
  private readonly ids: string[] = [];
  private readonly origs: string[] = [];
  private readonly idSet = new Set<string>();
  private readonly keys = new Map<string, string>();

  constructor(exprs: LabelExtractionExpr[], private readonly strict: boolean) {
    if (exprs.length === 0) throw new LogfmtExprError('no logfmt expression provided');
    for (const e of exprs) {
      let orig: string;
      try {
        orig = parseLogfmtExpr(e.expression);
      } catch (err) {
        throw new LogfmtExprError(`cannot parse expression [${e.expression}]: ${(err as Error).message}`);
      }
      if (!isValidLabelName(e.identifier)) throw new LogfmtExprError(`invalid extracted label name '${e.identifier}'`);
      const at = this.ids.indexOf(e.identifier);
      if (at >= 0) {
        this.origs[at] = orig;
      } else {
        this.ids.push(e.identifier);
        this.origs.push(orig);
        this.idSet.add(e.identifier);
      }
    }
  }

  requiredLabelNames(): string[] {
    return [];
  }

  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    const hints = lbs.hints;
    if (hints.noLabels()) return line;
    const ids = this.ids;
    for (const id of ids) {
      if (!lbs.baseHas(id) && !lbs.hasInCategory(id, Cat.StructuredMetadata)) lbs.set(Cat.Parsed, id, '');
    }
    const dec = this.dec;
    dec.reset(line);
    while (!dec.eol()) {
      if (!dec.scanKeyval()) {
        if (this.strict) break;
        continue;
      }
      const raw = dec.key!;
      let key = this.keys.get(raw);
      if (key === undefined) {
        const s = sanitizeLabelKey(raw, true);
        key = s.length === 0 || (!this.idSet.has(s) && !hints.shouldExtract(s)) ? '' : s;
        if (this.keys.size < 1024) this.keys.set(raw, key);
      }
      if (key === '' || (!this.idSet.has(key) && hints.extractedHas(key))) continue;
      let val = dec.value ?? '';
      if (val.indexOf('\ufffd') >= 0) val = '';
      for (let k = 0; k < ids.length; k++) {
        if (key === this.origs[k]) {
          key = ids[k]!;
          break;
        }
      }
      if (this.idSet.has(key)) {
        if (lbs.baseHas(key) || lbs.hasInCategory(key, Cat.StructuredMetadata)) {
          key = key + DUPLICATE_SUFFIX;
          if (hints.extractedHas(key) || !hints.shouldExtract(key)) break;
        }
        lbs.set(Cat.Parsed, key, val);
        if (hints.allRequiredExtracted()) break;
      }
    }
    if (this.strict && dec.errMsg !== '') addErrLabel(lbs, ERR_LOGFMT, dec.err());
    return line;
  }
}
