// Loki 3 ingest-time enrichment that clients can see: `service_name` discovery for stream labels
// (pkg/loghttp/push/push.go), `detected_level` guessing per entry (pkg/distributor/
// field_detection.go: existing SM value, level-like stream label, level-like SM, OTLP
// severity_number, then JSON / logfmt field lookup and a keyword scan of the line) and the
// Prometheus-style sanitising of structured-metadata names (otlptranslator LabelNamer).
// Everything here runs per line on the ingest hot path: plain loops, no regexes, no closures.

import type { Labels } from '../util/labels.js';
import { C_EQ, C_HIGH, C_LB, C_WORD, levelScan, logfmtLevels } from '../native/index.js';

export const SERVICE_NAME_LABEL = 'service_name';
export const UNKNOWN_SERVICE = 'unknown_service';
export const DETECTED_LEVEL = 'detected_level';

/** Shared, frozen `[detected_level=value]` lists for entries whose only metadata is their level. */
const levelOnlySM = new Map<string, Labels>();
// consecutive entries mostly get the same level: the last answer, before the map
let lastLevel = '';
let lastLevelSM: Labels | null = null;
export function levelOnly(value: string): Labels {
  if (value === lastLevel && lastLevelSM !== null) return lastLevelSM;
  let l = levelOnlySM.get(value);
  if (l === undefined) {
    l = Object.freeze([Object.freeze({ name: DETECTED_LEVEL, value })]) as unknown as Labels;
    if (levelOnlySM.size < 256) levelOnlySM.set(value, l);
    else return l; // not shared: not remembered either
  }
  lastLevel = value;
  lastLevelSM = l;
  return l;
}

export const DEFAULT_DISCOVER_SERVICE_NAME: readonly string[] = [
  'service', 'app', 'application', 'app_name', 'name', 'app_kubernetes_io_name', 'container',
  'container_name', 'k8s_container_name', 'component', 'workload', 'job', 'k8s_job_name',
];

export const DEFAULT_LOG_LEVEL_FIELDS: readonly string[] = [
  'level', 'LEVEL', 'Level', 'log.level', 'severity', 'SEVERITY', 'Severity', 'SeverityText',
  'lvl', 'LVL', 'Lvl', 'severity_text', 'Severity_Text', 'SEVERITY_TEXT',
];

/** Streams Loki creates internally; exempt from service_name discovery and label validation. */
export function isInternalStream(labels: Labels): boolean {
  for (const l of labels) if (l.name === '__aggregated_metric__' || l.name === '__pattern__') return true;
  return false;
}

/**
 * Adds `service_name` (in place, keeping the list sorted) when the stream lacks it and discovery
 * is enabled: the first non-empty label from `discover`, else `unknown_service`.
 */
export function addServiceName(labels: Labels, discover: readonly string[]): Labels {
  if (discover.length === 0) return labels;
  for (const l of labels) if (l.name === SERVICE_NAME_LABEL) return labels;
  if (isInternalStream(labels)) return labels;
  let value = UNKNOWN_SERVICE;
  outer: for (const name of discover) {
    for (const l of labels) {
      if (l.name === name) {
        if (l.value !== '') { value = l.value; break outer; }
        break;
      }
    }
  }
  let i = 0;
  while (i < labels.length && labels[i]!.name < SERVICE_NAME_LABEL) i++;
  labels.splice(i, 0, { name: SERVICE_NAME_LABEL, value });
  return labels;
}

// ---------------------------------------------------------------------------------------------
// Structured metadata name sanitising

function isCompliant(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

function isPlainName(name: string): boolean {
  // Fast check: [a-zA-Z][a-zA-Z0-9]*(_[a-zA-Z0-9]+)* is left unchanged by the namer.
  const n = name.length;
  if (n === 0) return false;
  const c0 = name.charCodeAt(0);
  if (!((c0 >= 97 && c0 <= 122) || (c0 >= 65 && c0 <= 90))) return false;
  let prevUnderscore = false;
  for (let i = 1; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 95) {
      if (prevUnderscore) return false;
      prevUnderscore = true;
    } else if (isCompliant(c)) prevUnderscore = false;
    else return false;
  }
  return true;
}

export class LabelNameError extends Error {}

/**
 * otlptranslator LabelNamer.Build (UTF8Allowed=false): invalid characters (anything but
 * [a-zA-Z0-9]) become `_`, runs collapse to one `_`, `__x__` keeps its reserved underscores,
 * a leading digit gets `key_`. Throws for empty names or names that end up all underscores.
 */
export function sanitizeLabelName(label: string): string {
  if (isPlainName(label)) return label;
  if (label.length === 0) throw new LabelNameError('label name is empty');
  let name = label;
  let reserved = false;
  if (Buffer.byteLength(name) >= 4 && name.startsWith('__') && name.endsWith('__')) {
    reserved = true;
    name = name.slice(2, -2);
  }
  let out = '';
  let prevUnderscore = false;
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && isCompliant(c)) {
      out += ch;
      prevUnderscore = false;
    } else if (!prevUnderscore) {
      out += '_';
      prevUnderscore = true;
    }
  }
  if (reserved) out = '__' + out + '__';
  if (out.length > 0 && out.charCodeAt(0) >= 48 && out.charCodeAt(0) <= 57) out = 'key_' + out;
  let onlyUnderscores = true;
  for (let i = 0; i < out.length; i++) if (out.charCodeAt(i) !== 95) { onlyUnderscores = false; break; }
  if (onlyUnderscores) {
    throw new LabelNameError(`normalization for label name ${JSON.stringify(label)} resulted in invalid name ${JSON.stringify(out)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// detected_level

/** Case-insensitive ASCII comparison of s with a lowercase ASCII word. */
function eqFold(s: string, lower: string): boolean {
  if (s.length !== lower.length) return false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    else if (c === 0x212a) c = 107; // Kelvin sign folds to k
    else if (c === 0x17f) c = 115; // long s folds to s
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Maps known spellings to Loki's level names; undefined when unknown. */
function knownLevel(v: string): string | undefined {
  switch (v.length) {
    case 3:
      if (eqFold(v, 'trc')) return 'trace';
      if (eqFold(v, 'dbg')) return 'debug';
      if (eqFold(v, 'inf')) return 'info';
      if (eqFold(v, 'wrn')) return 'warn';
      if (eqFold(v, 'err')) return 'error';
      return undefined;
    case 4:
      if (eqFold(v, 'info')) return 'info';
      if (eqFold(v, 'warn')) return 'warn';
      return undefined;
    case 5:
      if (eqFold(v, 'trace')) return 'trace';
      if (eqFold(v, 'debug')) return 'debug';
      if (eqFold(v, 'error')) return 'error';
      if (eqFold(v, 'fatal')) return 'fatal';
      return undefined;
    case 7:
      return eqFold(v, 'warning') ? 'warn' : undefined;
    case 8:
      return eqFold(v, 'critical') ? 'critical' : undefined;
    case 11:
      return eqFold(v, 'information') ? 'info' : undefined;
  }
  return undefined;
}

/** normalizeLogLevel: known spellings map to the canonical name, anything else is kept verbatim. */
export function normalizeLogLevel(v: string): string {
  return knownLevel(v) ?? v;
}

function isLeftBoundary(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 91 || c === 40 || c === 123 || c === 34 || c === 39 || c === 61 || c === 124;
}
function isRightBoundary(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 91 || c === 93 || c === 40 || c === 41 || c === 123 || c === 125 ||
    c === 58 || c === 44 || c === 33 || c === 34 || c === 39 || c === 61 || c === 124;
}

function indexOfBounded(s: string, word: string, limit: number): number {
  let offset = 0;
  for (;;) {
    const pos = s.indexOf(word, offset);
    if (pos < 0 || pos >= limit) return -1;
    const end = pos + word.length;
    if ((pos === 0 || isLeftBoundary(s.charCodeAt(pos - 1))) && (end >= s.length || isRightBoundary(s.charCodeAt(end)))) return pos;
    offset = pos + 1;
  }
}

const LEVEL_WORDS = ['trace', 'debug', 'fatal', 'critical', 'error', 'err', 'warning', 'warn', 'info'];
const LEVEL_WORD_VALUES = ['trace', 'debug', 'fatal', 'critical', 'error', 'error', 'warn', 'warn', 'info'];

function hasUpperOrNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c >= 128) return true;
  }
  return false;
}

/** Keyword scan of a (plain-text) line: earliest bounded level word wins; `unknown` if none. */
export function detectLevelFromLine(line: string): string {
  let lower = line;
  if (hasUpperOrNonAscii(line)) {
    // Go's unicode.ToLower maps U+0130 to a plain 'i' (JS would add a combining dot).
    lower = line.indexOf('\u0130') >= 0 ? line.replace(/\u0130/g, 'i').toLowerCase() : line.toLowerCase();
  }
  let idx = lower.length;
  let best = 'unknown';
  for (let i = 0; i < LEVEL_WORDS.length; i++) {
    const pos = indexOfBounded(lower, LEVEL_WORDS[i]!, idx);
    if (pos < 0) continue;
    idx = pos;
    best = LEVEL_WORD_VALUES[i]!;
    if (idx === 0) break;
  }
  return best;
}

/** unicode.IsSpace */
function isUnicodeSpace(c: number): boolean {
  if (c <= 0xff) return c === 32 || (c >= 9 && c <= 13) || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** Byte-wise space test used by Loki for the last character (it casts single bytes to runes). */
function lastCharIsCloseBrace(line: string): boolean {
  for (let i = line.length - 1; i >= 0; i--) {
    const c = line.charCodeAt(i);
    if (c < 0x80) {
      if (c === 32 || (c >= 9 && c <= 13)) continue;
      return c === 125;
    }
    // Non-ASCII: Go looks at the last UTF-8 byte; bytes 0x85 / 0xA0 count as space.
    const cp = line.codePointAt(i >= 1 && c >= 0xdc00 && c <= 0xdfff ? i - 1 : i)!;
    const lastByte = cp < 0x800 ? 0x80 | (cp & 0x3f) : 0x80 | (cp & 0x3f);
    if (lastByte === 0x85 || lastByte === 0xa0) {
      if (c >= 0xdc00 && c <= 0xdfff) i--;
      continue;
    }
    return false;
  }
  return false;
}

export function isJSONLine(line: string): boolean {
  let first = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (!isUnicodeSpace(c)) { first = c; break; }
  }
  return first === 123 && lastCharIsCloseBrace(line);
}

// Minimal jsonparser-compatible object walker: finds the first string value whose key is one
// of the level fields, searching nested objects depth-first up to maxDepth levels.

const enum JT { String, Object, Other, Error }

let jPos = 0; // scratch cursor shared by the walker (single-threaded, not re-entrant)
let jValStart = 0;
let jValEnd = 0;

function skipWs(s: string, p: number): number {
  while (p < s.length) {
    const c = s.charCodeAt(p);
    if (c === 32 || c === 9 || c === 10 || c === 13) p++;
    else break;
  }
  return p;
}

/** Index just past the closing quote of the string whose opening quote is at p-1; -1 if none. */
function stringEnd(s: string, p: number): number {
  for (;;) {
    const q = s.indexOf('"', p);
    if (q < 0) return -1;
    let bs = 0;
    for (let k = q - 1; k >= p && s.charCodeAt(k) === 92; k--) bs++;
    if ((bs & 1) === 0) return q + 1;
    p = q + 1;
  }
}

function blockEnd(s: string, p: number, open: number, close: number): number {
  let level = 0;
  for (let i = p; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) {
      const e = stringEnd(s, i + 1);
      if (e < 0) return -1;
      i = e - 1;
    } else if (c === open) level++;
    else if (c === close) {
      level--;
      if (level === 0) return i + 1;
    }
  }
  return -1;
}

/** Reads one value at s[p..]: sets jValStart/jValEnd/jPos, returns its type. */
function readValue(s: string, p: number): JT {
  p = skipWs(s, p);
  if (p >= s.length) return JT.Error;
  const c = s.charCodeAt(p);
  if (c === 34) {
    const e = stringEnd(s, p + 1);
    if (e < 0) return JT.Error;
    jValStart = p + 1;
    jValEnd = e - 1;
    jPos = e;
    return JT.String;
  }
  if (c === 123 || c === 91) {
    const e = blockEnd(s, p, c, c === 123 ? 125 : 93);
    if (e < 0) return JT.Error;
    jValStart = p;
    jValEnd = e;
    jPos = e;
    return c === 123 ? JT.Object : JT.Other;
  }
  let e = p;
  while (e < s.length) {
    const d = s.charCodeAt(e);
    if (d === 32 || d === 10 || d === 13 || d === 9 || d === 44 || d === 125 || d === 93) break;
    e++;
  }
  if (e === p) return JT.Error;
  jValStart = p;
  jValEnd = e;
  jPos = e;
  return JT.Other;
}

function unescapeKey(raw: string): string {
  if (raw.indexOf('\\') < 0) return raw;
  try {
    return JSON.parse('"' + raw + '"') as string;
  } catch {
    return '\u0000invalid';
  }
}

/** Returns the raw (still escaped) level value, '' when not found; stops at malformed input. */
function jsonLevel(s: string, start: number, end: number, depth: number, fields: ReadonlySet<string>, maxDepth: number): string | undefined {
  if (maxDepth > 0 && depth >= maxDepth) return undefined;
  let p = skipWs(s, start);
  if (p >= end || s.charCodeAt(p) !== 123) return undefined;
  p = skipWs(s, p + 1);
  if (p >= end) return undefined;
  if (s.charCodeAt(p) === 125) return undefined;
  while (p < end) {
    if (s.charCodeAt(p) !== 34) return undefined;
    const ke = stringEnd(s, p + 1);
    if (ke < 0 || ke > end) return undefined;
    const key = unescapeKey(s.slice(p + 1, ke - 1));
    p = skipWs(s, ke);
    if (p >= end || s.charCodeAt(p) !== 58) return undefined;
    const t = readValue(s, p + 1);
    if (t === JT.Error || jPos > end) return undefined;
    const vs = jValStart, ve = jValEnd, after = jPos;
    if (t === JT.String) {
      if (fields.has(key)) return s.slice(vs, ve);
    } else if (t === JT.Object) {
      const r = jsonLevel(s, vs, ve, depth + 1, fields, maxDepth);
      if (r !== undefined) return r;
    }
    p = skipWs(s, after);
    if (p >= end) return undefined;
    const c = s.charCodeAt(p);
    if (c === 125) return undefined;
    if (c !== 44) return undefined;
    p = skipWs(s, p + 1);
  }
  return undefined;
}

// logfmt: Loki's decoder (go-logfmt variant), scanning keys case-insensitively against hints.

function logfmtUnquote(raw: string): string | undefined {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return undefined;
  }
}

/** The logfmt step on a string (exported for the kernel tests: logfmtLevels must agree with it). */
export function logfmtLevel(line: string, hints: readonly string[], hintsLower: readonly string[]): string | undefined {
  const n = line.length;
  let pos = 0;
  let best = hints.length;
  let res: string | undefined;
  while (pos < n) {
    // garbage
    while (pos < n && line.charCodeAt(pos) <= 32) pos++;
    if (pos >= n) break;
    // key
    const ks = pos;
    let key: string | undefined;
    let value: string | undefined;
    let hasEqual = false;
    let stop = false;
    while (pos < n) {
      const c = line.charCodeAt(pos);
      if (c === 61) {
        if (pos > ks) key = line.slice(ks, pos);
        if (key === undefined || key.indexOf('\ufffd') >= 0) stop = true;
        hasEqual = true;
        break;
      }
      if (c === 34) { stop = true; break; }
      if (c <= 32) {
        key = line.slice(ks, pos);
        if (key.indexOf('\ufffd') >= 0) stop = true;
        break;
      }
      pos++;
    }
    if (pos >= n && !stop && !hasEqual) key = line.slice(ks, pos);
    if (stop) break;
    if (hasEqual) {
      pos++; // '='
      if (pos < n) {
        const c = line.charCodeAt(pos);
        if (c === 34) {
          // quoted value
          let esc = false;
          let hasEsc = false;
          let q = pos + 1;
          let closed = -1;
          for (; q < n; q++) {
            const d = line.charCodeAt(q);
            if (esc) esc = false;
            else if (d === 92) { esc = true; hasEsc = true; }
            else if (d === 34) { closed = q; break; }
          }
          if (closed < 0) break; // unterminated quoted value
          if (hasEsc) {
            value = logfmtUnquote(line.slice(pos, closed + 1));
            if (value === undefined) break;
          } else if (closed > pos + 1) value = line.slice(pos + 1, closed);
          pos = closed + 1;
        } else if (c > 32) {
          const vs = pos;
          let bad = false;
          while (pos < n) {
            const d = line.charCodeAt(pos);
            if (d === 61 || d === 34) { bad = true; break; }
            if (d <= 32) break;
            pos++;
          }
          if (bad) break;
          value = line.slice(vs, pos);
        }
      }
    }
    if (key !== undefined) {
      const kl = key.length;
      for (let x = 0; x < best; x++) {
        const h = hintsLower[x]!;
        if (h.length === kl && eqFold(key, h)) {
          res = value ?? '';
          best = x;
          if (x === 0) return res;
          break;
        }
      }
    }
  }
  return res;
}

export interface LevelDetector {
  fields: readonly string[];
  fieldsLower: readonly string[];
  fieldSet: ReadonlySet<string>;
  jsonMaxDepth: number;
}

export function newLevelDetector(fields: readonly string[] = DEFAULT_LOG_LEVEL_FIELDS, jsonMaxDepth = 2): LevelDetector {
  return { fields, fieldsLower: fields.map((f) => f.toLowerCase()), fieldSet: new Set(fields), jsonMaxDepth };
}

/** extractLogLevelFromLogLine: JSON field, else logfmt field, else keyword scan. */
export function detectLevelFromLogLine(d: LevelDetector, line: string): string {
  let v: string | undefined;
  if (isJSONLine(line)) {
    v = jsonLevel(line, 0, line.length, 0, d.fieldSet, d.jsonMaxDepth);
  } else if (line.indexOf('=') >= 0) {
    v = logfmtLevel(line, d.fields, d.fieldsLower);
  } else {
    return detectLevelFromLine(line);
  }
  if (v !== undefined) {
    const k = knownLevel(v);
    if (k !== undefined) return k;
  }
  return detectLevelFromLine(line);
}

function severityLevel(txt: string): string {
  // strconv.Atoi: optional sign, decimal digits only.
  if (!/^[+-]?[0-9]+$/.test(txt)) return 'info';
  const n = Number(txt);
  if (!Number.isSafeInteger(n)) return 'info';
  if (n === 0) return 'unknown';
  if (n <= 4) return 'trace';
  if (n <= 8) return 'debug';
  if (n <= 12) return 'info';
  if (n <= 16) return 'warn';
  if (n <= 20) return 'error';
  if (n <= 24) return 'fatal';
  return 'unknown';
}

function getFirst(labels: Labels, names: readonly string[]): string | undefined {
  if (labels.length === 0) return undefined;
  for (const name of names) {
    for (const l of labels) if (l.name === name) return l.value;
  }
  return undefined;
}

/**
 * The detected_level for one entry, or undefined when the entry's structured metadata already
 * carries `detected_level` (the caller then normalises that value in place).
 * `streamLabels` are the stream's labels, `sm` the entry's (sanitised) structured metadata.
 */
export function detectLevel(d: LevelDetector, streamLabels: Labels, sm: Labels, line: string): string {
  const fromLabel = getFirst(streamLabels, d.fields);
  if (fromLabel !== undefined) return normalizeLogLevel(fromLabel);
  if (sm.length > 0) {
    const fromSM = getFirst(sm, d.fields);
    if (fromSM !== undefined) return normalizeLogLevel(fromSM);
    for (const l of sm) {
      if (l.name === 'severity_number' && l.value !== '') return severityLevel(l.value);
    }
  }
  return detectLevelFromLogLine(d, line);
}

// ---------------------------------------------------------------------------------------------
// The same detection over a line's UTF-8 bytes, for ASCII lines that are not JSON: one pass finds
// the earliest bounded level word, whether the line has '=' (logfmt first) and whether it is
// ASCII at all. It answers undefined when the string algorithm must decide (non-ASCII bytes or a
// line starting with '{'), so results are identical by construction for every other line. The
// pass itself is a scan kernel (src/native: C addon or the same loop in TypeScript), called once
// for all the lines of a push; the tables below are its input.

const BYTE_CLASS = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    if (c >= 0x80) t[c] = C_HIGH;
    if (isLeftBoundary(c)) t[c]! |= C_LB;
    if (c === 61) t[c]! |= C_EQ;
    if (((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) && LEVEL_WORDS.some((w) => w.charCodeAt(0) === (c | 0x20))) t[c]! |= C_WORD;
  }
  return t;
})();

/**
 * detectLevelFromLogLine over the bytes b[start, end); undefined when the line is not pure ASCII
 * or may be JSON (the caller then decodes the line and uses the string version).
 */
export function detectLevelFromBytes(d: LevelDetector, b: Buffer, start: number, end: number): string | undefined {
  ONE_RANGE[0] = start;
  ONE_RANGE[1] = end;
  levelScan(b, ONE_RANGE, 1, BYTE_CLASS, RIGHT_BOUNDARY, WORDS_BLOB, WORD_OFF, ONE_OUT);
  const k = keysOf(d);
  logfmtLevels(b, ONE_RANGE, 1, ONE_OUT, k.keys, k.off, ONE_VALUE);
  return finishLevel(d, b, start, end, ONE_OUT[0]!, ONE_VALUE, 0);
}

/**
 * detectLevelFromBytes for many lines of one buffer in one kernel call (the ingest path: every
 * entry of a protobuf push): lines are b[ranges[2i], ranges[2i+1]), results go to out[i].
 */
export function detectLevelsFromBytes(d: LevelDetector, b: Buffer, ranges: Int32Array, n: number, out: (string | undefined)[]): void {
  const codes = n <= SCAN_OUT.length ? SCAN_OUT : new Int32Array(n);
  levelScan(b, ranges, n, BYTE_CLASS, RIGHT_BOUNDARY, WORDS_BLOB, WORD_OFF, codes);
  const values = 2 * n <= VALUE_OUT.length ? VALUE_OUT : new Int32Array(2 * n);
  const k = keysOf(d);
  logfmtLevels(b, ranges, n, codes, k.keys, k.off, values);
  for (let i = 0; i < n; i++) out[i] = finishLevel(d, b, ranges[2 * i]!, ranges[2 * i + 1]!, codes[i]!, values, 2 * i);
}

/**
 * A detector's level field names as the logfmtLevels kernel takes them: lowercased bytes in
 * priority order. The kernel only sees ASCII lines, so a name with a non-ASCII character can
 * never match: such characters become 0xff, a byte those lines do not hold.
 */
const keyBlobs = new WeakMap<LevelDetector, { keys: Uint8Array; off: Int32Array }>();
function keysOf(d: LevelDetector): { keys: Uint8Array; off: Int32Array } {
  let k = keyBlobs.get(d);
  if (k === undefined) {
    const off = new Int32Array(d.fieldsLower.length + 1);
    for (let i = 0; i < d.fieldsLower.length; i++) off[i + 1] = off[i]! + d.fieldsLower[i]!.length;
    const keys = new Uint8Array(off[d.fieldsLower.length]!);
    d.fieldsLower.forEach((f, i) => {
      for (let j = 0; j < f.length; j++) keys[off[i]! + j] = f.charCodeAt(j) < 0x80 ? f.charCodeAt(j) : 0xff;
    });
    k = { keys, off };
    keyBlobs.set(d, k);
  }
  return k;
}

/** The level from the keyword pass's code (see ScanKernels.levelScan): logfmt first when the line has '='. */
function finishLevel(d: LevelDetector, b: Buffer, start: number, end: number, code: number, values: Int32Array, at: number): string | undefined {
  if (code < 0) return undefined;
  if ((code & 256) !== 0) {
    // the logfmt kernel's answer: the value's range, none (-1), or an escaped value (-2: the
    // string path unquotes it; the kernel saw an ASCII line, so latin1 decodes it exactly)
    const vs = values[at]!;
    const v = vs >= 0 ? b.toString('latin1', vs, values[at + 1]!) : vs === -2 ? logfmtLevel(b.toString('latin1', start, end), d.fields, d.fieldsLower) : undefined;
    if (v !== undefined) {
      const k = knownLevel(v);
      if (k !== undefined) return k;
    }
  }
  const found = (code & 255) - 1;
  return found >= 0 ? LEVEL_WORD_VALUES[found]! : 'unknown';
}

const RIGHT_BOUNDARY = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) if (isRightBoundary(c)) t[c] = 1;
  return t;
})();
const WORDS_BLOB = Buffer.from(LEVEL_WORDS.join(''), 'latin1');
const WORD_OFF = (() => {
  const t = new Int32Array(LEVEL_WORDS.length + 1);
  for (let i = 0; i < LEVEL_WORDS.length; i++) t[i + 1] = t[i]! + LEVEL_WORDS[i]!.length;
  return t;
})();
const ONE_RANGE = new Int32Array(2);
const ONE_OUT = new Int32Array(1);
const ONE_VALUE = new Int32Array(2);
const VALUE_OUT = new Int32Array(32768);
const SCAN_OUT = new Int32Array(16384);

/** The level a stream's labels impose on all its entries (first level field label), or undefined. */
export function levelFromStreamLabels(d: LevelDetector, streamLabels: Labels): string | undefined {
  const v = getFirst(streamLabels, d.fields);
  return v === undefined ? undefined : normalizeLogLevel(v);
}

/** The level an entry's structured metadata imposes (level field, then severity_number), or undefined. */
export function levelFromStructuredMetadata(d: LevelDetector, sm: Labels): string | undefined {
  if (sm.length === 0) return undefined;
  const fromSM = getFirst(sm, d.fields);
  if (fromSM !== undefined) return normalizeLogLevel(fromSM);
  for (const l of sm) {
    if (l.name === 'severity_number' && l.value !== '') return severityLevel(l.value);
  }
  return undefined;
}
