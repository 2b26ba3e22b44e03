// Minimal, self-contained line parsers for field detection, mirroring what Loki's
// detected_fields handler runs on every sampled line (pkg/querier/queryrange/detected_fields.go
// parseEntry): the `json` parser with JSON-path capture (nested objects flattened with `_`, keys
// sanitised, arrays and nulls skipped, first occurrence of a name wins, names clashing with stream
// labels get `_extracted`), and, when JSON fails, the non-strict `logfmt` parser (empty values
// skipped). Kept local to src/drilldown so field detection does not depend on the LogQL pipeline
// package; it only needs names, values and JSON paths.
import { LogfmtDecoder } from '../logfmt.js';

export interface ParsedField {
  name: string;
  value: string;
  /** JSON path components (json parser only). */
  jsonPath: string[] | null;
}

const DUPLICATE_SUFFIX = '_extracted';

function isAlnumUnderscore(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** Go strings.TrimSpace for the common whitespace characters. */
function trimSpace(s: string): string {
  return s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '');
}

/** Loki sanitizeLabelKey(key, true) / appendSanitized: one `_` per invalid rune, `_` before a leading digit. */
function sanitizeInto(prefix: string, key: string): string {
  const k = trimSpace(key);
  if (k === '') return prefix;
  let out = prefix;
  const c0 = k.charCodeAt(0);
  if (out === '' && c0 >= 48 && c0 <= 57) out = '_';
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (isAlnumUnderscore(c)) out += k[i];
    else {
      out += '_';
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < k.length) i++;
    }
  }
  return out;
}

export function sanitizeLabelKey(key: string): string {
  return sanitizeInto('', key);
}

// ---------------------------------------------------------------------------------------------
// JSON (jsonparser.ObjectEach-like scanning; values are not validated beyond what it checks)

class JSONError extends Error {}

function ws(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) i++;
    else return i;
  }
}

function strEnd(s: string, i: number): number {
  // s[i] is the opening quote
  for (let p = i + 1; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c === 92) p++;
    else if (c === 34) return p;
  }
  throw new JSONError('unterminated string');
}

function blockEnd(s: string, i: number, open: number, close: number): number {
  let depth = 0;
  for (let p = i; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c === 34) p = strEnd(s, p);
    else if (c === open) depth++;
    else if (c === close) {
      depth--;
      if (depth === 0) return p + 1;
    }
  }
  throw new JSONError('unterminated block');
}

function unescapeJSON(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse('"' + raw + '"') as string;
  } catch {
    return '';
  }
}

type Visit = (key: string, kind: 'string' | 'number' | 'boolean' | 'object' | 'skip', raw: string, s: string, start: number, end: number) => void;

/** Iterates the members of the object starting at s[i] ('{' expected); returns the index after '}'. */
function objectEach(s: string, i: number, visit: Visit): number {
  i = ws(s, i);
  if (s.charCodeAt(i) !== 123) throw new JSONError('not an object');
  i = ws(s, i + 1);
  if (s.charCodeAt(i) === 125) return i + 1;
  for (;;) {
    if (s.charCodeAt(i) !== 34) throw new JSONError('key expected');
    const ke = strEnd(s, i);
    const key = unescapeJSON(s.slice(i + 1, ke));
    i = ws(s, ke + 1);
    if (s.charCodeAt(i) !== 58) throw new JSONError('colon expected');
    i = ws(s, i + 1);
    const c = s.charCodeAt(i);
    let end: number;
    if (c === 34) {
      end = strEnd(s, i) + 1;
      visit(key, 'string', s.slice(i + 1, end - 1), s, i, end);
    } else if (c === 123) {
      end = blockEnd(s, i, 123, 125);
      visit(key, 'object', '', s, i, end);
    } else if (c === 91) {
      end = blockEnd(s, i, 91, 93);
      visit(key, 'skip', '', s, i, end);
    } else {
      end = i;
      while (end < s.length) {
        const d = s.charCodeAt(end);
        if (d === 44 || d === 125 || d === 93 || d === 32 || d === 9 || d === 10 || d === 13) break;
        end++;
      }
      const tok = s.slice(i, end);
      if (tok === '') throw new JSONError('value expected');
      if (tok === 'true' || tok === 'false') visit(key, 'boolean', tok, s, i, end);
      else if (tok === 'null') visit(key, 'skip', '', s, i, end);
      else if (c === 45 || (c >= 48 && c <= 57)) visit(key, 'number', tok, s, i, end);
      else throw new JSONError('unknown value type');
    }
    i = ws(s, end);
    const d = s.charCodeAt(i);
    if (d === 44) {
      i = ws(s, i + 1);
      continue;
    }
    if (d === 125) return i + 1;
    throw new JSONError('comma or end expected');
  }
}

/**
 * Loki's `json` parser (capturing JSON paths) over a line. Returns null when the line is not a
 * JSON object (the parser's JSONParserErr), else the extracted fields in extraction order.
 * `isStreamLabel` tells whether a name is a stream label (those get the `_extracted` suffix).
 */
export function parseJSONFields(line: string, isStreamLabel: (name: string) => boolean): ParsedField[] | null {
  const out: ParsedField[] = [];
  const seen = new Set<string>();
  const prefix: string[] = [];
  const buildSanitized = (parts: readonly string[]): string => {
    let b = '';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (trimSpace(part) === '') continue;
      if (i > 0 && b !== '') b += '_';
      b = sanitizeInto(b, part);
    }
    return b;
  };
  const visit: Visit = (key, kind, raw, s, start) => {
    if (kind === 'skip') return;
    if (kind === 'object') {
      prefix.push(key);
      objectEach(s, start, visit);
      prefix.pop();
      return;
    }
    const value = kind === 'string' ? unescapeJSON(raw) : raw;
    if (prefix.length === 0) {
      let name = sanitizeLabelKey(key);
      if (name === '') return;
      if (isStreamLabel(name)) name += DUPLICATE_SUFFIX;
      if (seen.has(name)) return;
      seen.add(name);
      out.push({ name, value, jsonPath: [key] });
      return;
    }
    const parts = [...prefix, key];
    let name = buildSanitized(parts);
    if (isStreamLabel(name)) {
      parts[parts.length - 1] = key + DUPLICATE_SUFFIX;
      name = buildSanitized(parts);
    }
    if (seen.has(name)) return;
    seen.add(name);
    const path = parts.map((p) => (p.endsWith(DUPLICATE_SUFFIX) ? p.slice(0, -DUPLICATE_SUFFIX.length) : p));
    out.push({ name, value, jsonPath: path });
  };
  try {
    objectEach(line, 0, visit);
  } catch (e) {
    if (e instanceof JSONError) return null;
    throw e;
  }
  return out;
}

const decoder = new LogfmtDecoder();

/** Loki's non-strict `logfmt` parser: never fails; keys sanitised, empty values skipped, first wins. */
export function parseLogfmtFields(line: string, isStreamLabel: (name: string) => boolean): ParsedField[] {
  const out: ParsedField[] = [];
  const seen = new Set<string>();
  decoder.reset(line);
  while (!decoder.eol()) {
    if (!decoder.scanKeyval()) continue;
    let name = sanitizeLabelKey(decoder.key ?? '');
    if (name === '') continue;
    if (isStreamLabel(name)) name += DUPLICATE_SUFFIX;
    if (seen.has(name)) continue;
    let v = decoder.value ?? '';
    if (v.includes('\ufffd')) v = v.replace(/\ufffd/g, ' ');
    if (v === '') continue;
    seen.add(name);
    out.push({ name, value: v, jsonPath: null });
  }
  return out;
}
