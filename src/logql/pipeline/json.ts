// JSON stages: `| json` (all fields, nested objects flattened with `_`, arrays and nulls
// skipped, numbers kept as raw text), `| json a="x.y", b="z[0]"` (path expressions) and
// `| unpack` (Promtail packed entries, `_entry` replaces the line). A hand-written scanner that
// reproduces grafana/jsonparser's tolerance and error messages (Loki's JSONParserErr details)
// on JS strings, without JSON.parse.
import type { LabelExtractionExpr } from '../ast.js';
import { Cat, DUPLICATE_SUFFIX, ERROR_LABEL, PRESERVE_ERROR_LABEL, type LabelsBuilder } from './labels-builder.js';
import type { Stage } from './hints.js';
import { sanitizeLabelKey, appendSanitized, InternCache, isValidLabelName } from './util.js';

export const ERR_JSON = 'JSONParserErr';

const E_MALFORMED_JSON = 'Malformed JSON error';
const E_MALFORMED_STRING = 'Value is string, but can\'t find closing \'"\' symbol';
const E_MALFORMED_ARRAY = "Value is array, but can't find closing ']' symbol";
const E_MALFORMED_OBJECT = "Value looks like object, but can't find closing '}' symbol";
const E_UNKNOWN_VALUE = 'Unknown value type';
const E_STRING_ESCAPE = 'Encountered an invalid escape sequence in a string';
const STOP_FOUND_ALL = '\x00found all';
const STOP_NO_MATCH = '\x00no match';

export const enum VT {
  NotExist = 0,
  String = 1,
  Number = 2,
  Object = 3,
  Array = 4,
  Boolean = 5,
  Null = 6,
  Unknown = 7,
}

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** index of next non-whitespace char in [i, end), -1 if none */
function nextToken(d: string, i: number, end: number): number {
  for (; i < end; i++) if (!isWs(d.charCodeAt(i))) return i;
  return -1;
}

/** end-scan of a string body starting at i (after the opening quote): index after the closing quote or -1 */
let strEscaped = false;
function stringEnd(d: string, i: number, end: number): number {
  const start = i;
  let escaped = false;
  for (; i < end; i++) {
    const c = d.charCodeAt(i);
    if (c === 34) {
      if (!escaped) { strEscaped = false; return i + 1; }
      let j = i - 1;
      for (;;) {
        if (j < start || d.charCodeAt(j) !== 92) { strEscaped = true; return i + 1; }
        j--;
        if (j < start || d.charCodeAt(j) !== 92) break;
        j--;
      }
    } else if (c === 92) {
      escaped = true;
    }
  }
  strEscaped = escaped;
  return -1;
}

/** end of block starting at i (d[i] === open): index after the closing symbol, or -1 */
function blockEnd(d: string, i: number, end: number, open: number, close: number): number {
  let level = 0;
  while (i < end) {
    const c = d.charCodeAt(i);
    if (c === 34) {
      const se = stringEnd(d, i + 1, end);
      if (se < 0) return -1;
      i = se - 1;
    } else if (c === open) {
      level++;
    } else if (c === close) {
      level--;
      if (level === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

function tokenEnd(d: string, i: number, end: number): number {
  for (; i < end; i++) {
    const c = d.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9 || c === 44 || c === 125 || c === 93) return i;
  }
  return end;
}

// Result slots of getValue (avoid allocating per value).
let gType: VT = VT.NotExist;
let gStart = 0; // value start (inside quotes for strings)
let gEnd = 0; // value end (exclusive, before closing quote for strings)
let gNext = 0; // offset after the value
let gErr = '';

/** jsonparser.Get(data[i:end]) without keys. */
function getValue(d: string, i: number, end: number): boolean {
  gErr = '';
  const o = nextToken(d, i, end);
  if (o < 0) { gErr = E_MALFORMED_JSON; return false; }
  const c = d.charCodeAt(o);
  if (c === 34) {
    gType = VT.String;
    const se = stringEnd(d, o + 1, end);
    if (se < 0) { gErr = E_MALFORMED_STRING; return false; }
    gStart = o + 1;
    gEnd = se - 1;
    gNext = se;
    return true;
  }
  if (c === 91 || c === 123) {
    gType = c === 91 ? VT.Array : VT.Object;
    const be = blockEnd(d, o, end, c, c === 91 ? 93 : 125);
    if (be < 0) { gErr = c === 91 ? E_MALFORMED_ARRAY : E_MALFORMED_OBJECT; return false; }
    gStart = o;
    gEnd = be;
    gNext = be;
    return true;
  }
  const te = tokenEnd(d, o, end);
  gStart = o;
  gEnd = te;
  gNext = te;
  if (c === 116 || c === 102) {
    const v = d.slice(o, te);
    if (v === 'true' || v === 'false') { gType = VT.Boolean; return true; }
    gErr = E_UNKNOWN_VALUE;
    return false;
  }
  if (c === 117 || c === 110) {
    if (te - o === 4 && d.startsWith('null', o)) { gType = VT.Null; return true; }
    gErr = E_UNKNOWN_VALUE;
    return false;
  }
  if ((c >= 48 && c <= 57) || c === 45) { gType = VT.Number; return true; }
  gErr = E_UNKNOWN_VALUE;
  return false;
}

function hex4(d: string, i: number): number {
  if (i + 4 > d.length) return -1;
  let r = 0;
  for (let k = 0; k < 4; k++) {
    const c = d.charCodeAt(i + k);
    let v: number;
    if (c >= 48 && c <= 57) v = c - 48;
    else if (c >= 65 && c <= 70) v = c - 55;
    else if (c >= 97 && c <= 102) v = c - 87;
    else return -1;
    r = r * 16 + v;
  }
  return r;
}

/** jsonparser.Unescape on s; null on an invalid escape. */
export function jsonUnescape(s: string): string | null {
  let bs = s.indexOf('\\');
  if (bs < 0) return s;
  let out = s.slice(0, bs);
  let i = bs;
  while (i < s.length) {
    // s[i] === '\\'
    if (i + 1 >= s.length) return null;
    const e = s[i + 1]!;
    switch (e) {
      case '"': out += '"'; i += 2; break;
      case '\\': out += '\\'; i += 2; break;
      case '/': out += '/'; i += 2; break;
      case 'b': out += '\b'; i += 2; break;
      case 'f': out += '\f'; i += 2; break;
      case 'n': out += '\n'; i += 2; break;
      case 'r': out += '\r'; i += 2; break;
      case 't': out += '\t'; i += 2; break;
      case 'u': {
        const r = hex4(s, i + 2);
        if (r < 0) return null;
        if (r < 0xd800 || r > 0xdfff) {
          out += String.fromCharCode(r);
          i += 6;
        } else {
          if (s[i + 6] !== '\\' || s[i + 7] !== 'u') return null;
          const r2 = hex4(s, i + 8);
          if (r2 < 0 || r2 < 0xdc00) return null;
          const cp = 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00);
          out += cp > 0x10ffff || r > 0xdbff || r2 > 0xdfff ? '\ufffd' : String.fromCodePoint(cp);
          i += 12;
        }
        break;
      }
      default:
        return null;
    }
    bs = s.indexOf('\\', i);
    if (bs < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, bs);
    i = bs;
  }
  return out;
}

/** Loki's unescapeJSONString: "" on bad escapes, U+FFFD replaced by a space. */
export function unescapeJSONString(raw: string): string {
  const u = jsonUnescape(raw);
  if (u === null) return '';
  if (u.indexOf('\ufffd') >= 0) return u.replace(/\ufffd/g, ' ');
  return u;
}

type EachCb = (d: string, keyStart: number, keyEnd: number, keyEsc: boolean) => string;

/**
 * jsonparser.ObjectEach over d[i:end]; cb is called with the value in the g* slots and returns
 * '' to continue or an error/stop text. Returns '' on success.
 */
function objectEach(d: string, i: number, end: number, cb: EachCb): string {
  let off = nextToken(d, i, end);
  if (off < 0 || d.charCodeAt(off) !== 123) return E_MALFORMED_OBJECT;
  off++;
  const o2 = nextToken(d, off, end);
  if (o2 < 0) return E_MALFORMED_JSON;
  off = o2;
  if (d.charCodeAt(off) === 125) return '';
  while (off < end) {
    const c = d.charCodeAt(off);
    if (c === 34) off++;
    else if (c === 125) return '';
    else return E_MALFORMED_OBJECT;
    const se = stringEnd(d, off, end);
    if (se < 0) return E_MALFORMED_JSON;
    const keyStart = off;
    const keyEnd = se - 1;
    const keyEsc = strEscaped;
    off = se;
    if (keyEsc && jsonUnescape(d.slice(keyStart, keyEnd)) === null) return E_STRING_ESCAPE;
    const o3 = nextToken(d, off, end);
    if (o3 < 0 || d.charCodeAt(o3) !== 58) return E_MALFORMED_JSON;
    off = o3 + 1;
    if (!getValue(d, off, end)) return gErr;
    const next = gNext;
    const r = cb(d, keyStart, keyEnd, keyEsc);
    if (r !== '') return r;
    off = next;
    const o4 = nextToken(d, off, end);
    if (o4 < 0) return E_MALFORMED_ARRAY;
    off = o4;
    const c4 = d.charCodeAt(off);
    if (c4 === 125) return '';
    if (c4 !== 44) return E_MALFORMED_OBJECT;
    off++;
    const o5 = nextToken(d, off, end);
    if (o5 < 0) return E_MALFORMED_ARRAY;
    off = o5;
  }
  return E_MALFORMED_OBJECT;
}

function keyText(d: string, ks: number, ke: number, esc: boolean): string {
  const raw = d.slice(ks, ke);
  if (!esc) return raw;
  return jsonUnescape(raw) ?? raw;
}

export function addErrLabel(lbs: LabelsBuilder, err: string, details: string | null): void {
  lbs.err = err;
  if (details !== null) lbs.errDetails = details;
  if (lbs.hints.preserveError) lbs.set(Cat.Parsed, PRESERVE_ERROR_LABEL, 'true');
}

function readValue(d: string, t: VT): string {
  switch (t) {
    case VT.String:
      return unescapeJSONString(d.slice(gStart, gEnd));
    case VT.Number:
      return d.slice(gStart, gEnd);
    case VT.Boolean:
      return d.charCodeAt(gStart) === 116 ? 'true' : 'false';
    default:
      return '';
  }
}

/** `| json` */
export class JSONParserStage implements Stage {
  private lbs!: LabelsBuilder;
  private readonly prefix: string[] = [];
  private readonly topKeys = new InternCache();
  private readonly cb: EachCb;

  constructor() {
    this.cb = (d, ks, ke, esc) => this.onValue(d, ks, ke, esc);
  }

  requiredLabelNames(): string[] {
    return [];
  }

  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    if (lbs.hints.noLabels()) return line;
    this.prefix.length = 0;
    this.lbs = lbs;
    const err = objectEach(line, 0, line.length, this.cb);
    if (err === '' || err === STOP_FOUND_ALL) return line;
    if (err === STOP_NO_MATCH) return null;
    addErrLabel(lbs, ERR_JSON, err);
    return line;
  }

  private sanitizedPrefix(): string {
    let out = '';
    const p = this.prefix;
    for (let i = 0; i < p.length; i++) {
      const part = p[i]!;
      if (part.trim().length === 0) continue;
      if (i > 0 && out.length > 0) out += '_';
      out = appendSanitized(out, part);
    }
    return out;
  }

  private onValue(d: string, ks: number, ke: number, esc: boolean): string {
    const t = gType;
    const lbs = this.lbs;
    const hints = lbs.hints;
    if (t === VT.Object) {
      const start = gStart;
      const end = gEnd;
      const plen = this.prefix.length;
      this.prefix.push(keyText(d, ks, ke, esc));
      let err = '';
      if (hints.shouldExtractPrefix(this.sanitizedPrefix())) {
        err = objectEach(d, start, end, this.cb);
      }
      this.prefix.length = plen;
      return err;
    }
    if (t === VT.String || t === VT.Number || t === VT.Boolean) {
      const r = this.leaf(d, ks, ke, esc, t);
      if (r !== '') return r;
    }
    if (hints.allRequiredExtracted()) return STOP_FOUND_ALL;
    return '';
  }

  private leaf(d: string, ks: number, ke: number, esc: boolean, t: VT): string {
    const lbs = this.lbs;
    const hints = lbs.hints;
    if (this.prefix.length === 0) {
      const rawKey = keyText(d, ks, ke, esc);
      let key = this.topKeys.get(rawKey);
      if (key === undefined) {
        key = sanitizeLabelKey(rawKey, true);
        this.topKeys.set(rawKey, key);
      }
      if (key.length === 0) return '';
      if (lbs.baseHas(key) || lbs.hasInCategory(key, Cat.StructuredMetadata)) key = key + DUPLICATE_SUFFIX;
      if (!hints.shouldExtract(key) || hints.extractedHas(key)) return '';
      lbs.set(Cat.Parsed, key, readValue(d, t));
      if (!hints.shouldContinueParsingLine(key, lbs)) return STOP_NO_MATCH;
      return '';
    }
    const plen = this.prefix.length;
    const rawKey = keyText(d, ks, ke, esc);
    this.prefix.push(rawKey);
    let key = this.sanitizedPrefix();
    if (lbs.baseHas(key) || lbs.hasInCategory(key, Cat.StructuredMetadata)) {
      this.prefix[plen] = rawKey + DUPLICATE_SUFFIX;
      key = this.sanitizedPrefix();
    }
    this.prefix.length = plen;
    if (!hints.shouldExtract(key) || hints.extractedHas(key)) return '';
    lbs.set(Cat.Parsed, key, readValue(d, t));
    if (!hints.shouldContinueParsingLine(key, lbs)) return STOP_NO_MATCH;
    return '';
  }
}

// ---------------------------------------------------------------- json expressions

export class JSONExprError extends Error {}

/** Parses `a.b[0]["c.d"]` into path parts (`[n]` for indexes), as Loki's jsonexpr does. */
export function parseJSONPath(expr: string): string[] {
  const parts: string[] = [];
  let i = 0;
  const n = expr.length;
  const isStart = (c: string): boolean => /[A-Za-z_]/.test(c);
  const isIdent = (c: string): boolean => /[A-Za-z0-9_]/.test(c);
  let expectField = true;
  while (i < n) {
    const c = expr[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '.') {
      if (parts.length === 0) throw new JSONExprError('syntax error: unexpected DOT');
      expectField = true;
      i++;
      continue;
    }
    if (c === '[') {
      i++;
      while (expr[i] === ' ') i++;
      if (expr[i] === '"') {
        i++;
        let s = '';
        while (i < n && expr[i] !== '"' && expr[i] !== ']') s += expr[i++];
        if (expr[i] === '"') i++;
        while (expr[i] === ' ') i++;
        if (expr[i] !== ']') throw new JSONExprError('syntax error: unexpected end of input, expecting RSB');
        i++;
        parts.push(s);
      } else if (/[0-9]/.test(expr[i] ?? '')) {
        let num = '';
        while (i < n && /[0-9]/.test(expr[i]!)) num += expr[i++];
        while (expr[i] === ' ') i++;
        if (expr[i] !== ']') throw new JSONExprError('syntax error: unexpected end of input, expecting RSB');
        i++;
        parts.push('[' + String(parseInt(num, 10)) + ']');
      } else {
        throw new JSONExprError('syntax error: unexpected char ' + (expr[i] ?? ''));
      }
      expectField = false;
      continue;
    }
    if (isStart(c)) {
      if (!expectField) throw new JSONExprError('syntax error: unexpected FIELD');
      let f = '';
      while (i < n && isIdent(expr[i]!)) f += expr[i++];
      parts.push(f);
      expectField = false;
      continue;
    }
    if (/[0-9]/.test(c)) throw new JSONExprError('syntax error: unexpected INDEX');
    throw new JSONExprError('unexpected char ' + c);
  }
  if (parts.length === 0) throw new JSONExprError('syntax error: unexpected end of input');
  return parts;
}

/** Navigates one path; on success the g* slots describe the value. Returns false when absent or invalid. */
function findPath(d: string, path: string[]): boolean {
  let start = 0;
  let end = d.length;
  for (let level = 0; level < path.length; level++) {
    const part = path[level]!;
    const o = nextToken(d, start, end);
    if (o < 0) return false;
    const c = d.charCodeAt(o);
    if (c === 123) {
      if (part.startsWith('[') && part.endsWith(']') && /^\[\d+\]$/.test(part)) return false;
      let found = false;
      const err = objectEach(d, o, end, (dd, ks, ke, esc) => {
        if (keyText(dd, ks, ke, esc) === part) {
          found = true;
          return STOP_FOUND_ALL;
        }
        return '';
      });
      if (!found) {
        void err;
        return false;
      }
      start = gStart - (gType === VT.String ? 1 : 0);
      end = gType === VT.String ? gEnd + 1 : gEnd;
    } else if (c === 91) {
      if (!/^\[\d+\]$/.test(part)) return false;
      const want = parseInt(part.slice(1, -1), 10);
      let i = o + 1;
      let idx = 0;
      let ok = false;
      for (;;) {
        const t = nextToken(d, i, end);
        if (t < 0 || d.charCodeAt(t) === 93) break;
        if (!getValue(d, t, end)) return false;
        if (idx === want) {
          ok = true;
          break;
        }
        idx++;
        const t2 = nextToken(d, gNext, end);
        if (t2 < 0) return false;
        if (d.charCodeAt(t2) === 44) i = t2 + 1;
        else break;
      }
      if (!ok) return false;
      start = gStart - (gType === VT.String ? 1 : 0);
      end = gType === VT.String ? gEnd + 1 : gEnd;
    } else {
      return false;
    }
  }
  // final value
  return getValue(d, start, end) || gErr !== '';
}

/** `| json a="x.y", b` */
export class JSONExpressionStage implements Stage {
  private readonly ids: string[];
  private readonly paths: string[][];

  constructor(exprs: LabelExtractionExpr[]) {
    this.ids = [];
    this.paths = [];
    for (const e of exprs) {
      let p: string[];
      try {
        p = parseJSONPath(e.expression);
      } catch (err) {
        throw new JSONExprError(`cannot parse expression [${e.expression}]: ${(err as Error).message}`);
      }
      if (!isValidLabelName(e.identifier)) throw new JSONExprError(`invalid extracted label name '${e.identifier}'`);
      this.ids.push(e.identifier);
      this.paths.push(p);
    }
  }

  requiredLabelNames(): string[] {
    return [];
  }

  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    if (line.length === 0 || lbs.hints.noLabels()) return line;
    const c = line.charCodeAt(0);
    if (c !== 34 && c !== 123 && c !== 91) {
      addErrLabel(lbs, ERR_JSON, null);
      return line;
    }
    let matches = 0;
    for (let k = 0; k < this.ids.length; k++) {
      if (!findPath(line, this.paths[k]!)) continue;
      if (gErr !== '') {
        addErrLabel(lbs, ERR_JSON, gErr);
        continue;
      }
      let key = this.ids[k]!;
      if (lbs.baseHas(key) || lbs.hasInCategory(key, Cat.StructuredMetadata)) key = key + DUPLICATE_SUFFIX;
      switch (gType) {
        case VT.Null:
          lbs.set(Cat.Parsed, key, '');
          break;
        case VT.Object:
          lbs.set(Cat.Parsed, key, line.slice(gStart, gEnd));
          break;
        default:
          lbs.set(Cat.Parsed, key, unescapeJSONString(line.slice(gStart, gEnd)));
      }
      matches++;
    }
    if (matches < this.ids.length) {
      for (const id of this.ids) if (lbs.get(id) === undefined) lbs.set(Cat.Parsed, id, '');
    }
    return line;
  }
}

// ---------------------------------------------------------------- unpack

const PACKED_ENTRY_KEY = '_entry';

export class UnpackStage implements Stage {
  private readonly buf: string[] = [];
  private lbs!: LabelsBuilder;
  private entry = '';
  private packed = false;
  private readonly cb: EachCb;

  constructor() {
    this.cb = (d, ks, ke, esc) => this.onValue(d, ks, ke, esc);
  }

  requiredLabelNames(): string[] {
    return [];
  }

  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    if (line.length === 0 || lbs.hints.noLabels()) return line;
    if (line.charCodeAt(0) !== 123) {
      addErrLabel(lbs, ERR_JSON, 'expecting json object(6), but it is not');
      return line;
    }
    this.buf.length = 0;
    this.lbs = lbs;
    this.entry = line;
    this.packed = false;
    const err = objectEach(line, 0, line.length, this.cb);
    if (err !== '') {
      addErrLabel(lbs, ERR_JSON, err);
      return line;
    }
    if (this.packed) {
      const b = this.buf;
      for (let i = 0; i < b.length; i += 2) {
        lbs.set(Cat.Parsed, b[i]!, b[i + 1]!);
        if (!lbs.hints.shouldContinueParsingLine(b[i]!, lbs)) return null;
      }
    }
    return this.entry;
  }

  private onValue(d: string, ks: number, ke: number, esc: boolean): string {
    if (gType !== VT.String) return '';
    let key = keyText(d, ks, ke, esc);
    if (key === PACKED_ENTRY_KEY) {
      const u = jsonUnescape(d.slice(gStart, gEnd));
      if (u === null) return E_STRING_ESCAPE;
      this.entry = u;
      this.packed = true;
      return '';
    }
    const lbs = this.lbs;
    if (lbs.baseHas(key) || lbs.hasInCategory(key, Cat.StructuredMetadata)) key = key + DUPLICATE_SUFFIX;
    if (!lbs.hints.shouldExtract(key) || lbs.hints.extractedHas(key)) return '';
    this.buf.push(sanitizeLabelKey(key, true), unescapeJSONString(d.slice(gStart, gEnd)));
    return '';
  }
}

export { ERROR_LABEL };
