// Line tokenizers of Loki's pattern ingester (pkg/pattern/drain/line_tokenizer.go): the
// punctuation tokenizer (default), the logfmt tokenizer (streams whose first line looks like
// logfmt) and the JSON tokenizer (streams whose first line is `{...}`: tokenizes the first string
// field among log/message/msg/...); plus the per-stream format guess and the placeholder
// de-duplication applied when a cluster is rendered. Tokenizers reuse their output arrays, so a
// caller must copy (clone) tokens it wants to keep.
import RE2 from 're2';
import { LogfmtDecoder, encodeLogfmtPairs } from '../logfmt.js';

export const PARAM = '<_>';
export const FORMAT_JSON = 'json';
export const FORMAT_LOGFMT = 'logfmt';
export const FORMAT_UNKNOWN = 'unknown';

export interface LineTokenizer {
  /** Tokenizes a line into `tokens`/`state`; false when the line must be skipped. */
  tokenize(line: string): boolean;
  tokens: string[];
  /** Per-token state (spaces-after indices) or null for tokenizers without state. */
  state: number[] | null;
  join(tokens: readonly string[], state: readonly number[] | null): string;
}

const LOGFMT_RE = new RE2('^(\\w+?=([^"]\\S*?|".+?") )*?(\\w+?=([^"]\\S*?|".+?"))+$', 'u');

/** drain.DetectLogFormat: guesses a stream's format from its first line. */
export function detectLogFormat(line: string): string {
  if (line.length < 2) {
    // Go checks the byte length; a single non-ASCII character is >= 2 bytes.
    if (line.length === 0 || line.charCodeAt(0) < 0x80) return FORMAT_UNKNOWN;
  }
  if (line.charCodeAt(0) === 123 && line.charCodeAt(line.length - 1) === 125) return FORMAT_JSON;
  if (LOGFMT_RE.test(line)) return FORMAT_LOGFMT;
  return FORMAT_UNKNOWN;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** True when the line's UTF-8 length exceeds max (cheap for ASCII-sized lines). */
export function tooLong(line: string, max: number): boolean {
  if (line.length > max) return true;
  if (line.length * 3 <= max) return false;
  return utf8Length(line) > max;
}

// Character classes for ASCII, as Go's unicode.IsLetter/IsNumber/IsPunct see them.
const CLASS_WORD = 1; // letter or number
const CLASS_EXCLUDED = 2; // _ - . : /  (kept inside tokens)
const CLASS_SPLIT = 3; // punctuation or '=' (own token)
const CLASS_SPACE = 4;
const CLASS_OTHER = 0; // symbols, control chars: kept inside tokens
const ASCII_CLASS = new Uint8Array(128);
(() => {
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    if (/[A-Za-z0-9]/.test(ch)) ASCII_CLASS[c] = CLASS_WORD;
    else if ('_-.:/'.includes(ch)) ASCII_CLASS[c] = CLASS_EXCLUDED;
    else if (ch === '=' || /\p{P}/u.test(ch)) ASCII_CLASS[c] = CLASS_SPLIT;
    else if (c === 32) ASCII_CLASS[c] = CLASS_SPACE;
    else ASCII_CLASS[c] = CLASS_OTHER;
  }
})();
const LETTER_OR_NUMBER = /^[\p{L}\p{N}]$/u;
const PUNCT = /^\p{P}$/u;
const NUMBER = /\p{N}/u;

/** unicode.IsNumber over the runes of s. */
export function hasNumbers(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
    if (c >= 0x80 && NUMBER.test(s.slice(i))) return true;
  }
  return false;
}

export class PunctuationTokenizer implements LineTokenizer {
  tokens: string[] = [];
  state: number[] | null = [];
  constructor(private readonly maxLineLength: number) {}

  tokenize(line: string): boolean {
    if (tooLong(line, this.maxLineLength)) return false;
    this.tokenizeUnchecked(line);
    return true;
  }

  tokenizeUnchecked(line: string): void {
    const tokens = this.tokens;
    const spaces = this.state!;
    tokens.length = 0;
    spaces.length = 0;
    let start = 0;
    const n = line.length;
    for (let i = 0; i < n; i++) {
      if (tokens.length >= 127) break;
      const c = line.charCodeAt(i);
      let cls: number;
      let width = 1;
      if (c < 128) {
        cls = ASCII_CLASS[c]!;
      } else {
        let ch: string;
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
          ch = line.slice(i, i + 2);
          width = 2;
        } else ch = line[i]!;
        cls = LETTER_OR_NUMBER.test(ch) ? CLASS_WORD : PUNCT.test(ch) ? CLASS_SPLIT : CLASS_OTHER;
      }
      if (cls === CLASS_SPACE) {
        if (i > start) tokens.push(line.slice(start, i));
        spaces.push(tokens.length - 1);
        start = i + 1;
      } else if (cls === CLASS_SPLIT) {
        if (i > start) tokens.push(line.slice(start, i));
        tokens.push(line.slice(i, i + width));
        start = i + width;
      }
      if (width === 2) i++;
    }
    if (start < n) tokens.push(line.slice(start));
  }

  join(tokens: readonly string[], state: readonly number[] | null): string {
    return joinWithSpaces(tokens, state!);
  }
}

function joinWithSpaces(tokens: readonly string[], spacesAfter: readonly number[]): string {
  let s = '';
  let si = 0;
  for (let i = 0; i < tokens.length; i++) {
    s += tokens[i];
    while (si < spacesAfter.length && i === spacesAfter[si]) {
      s += ' ';
      si++;
    }
  }
  return s;
}

function isVariableField(key: string): boolean {
  if (key === 't') return true;
  const k = key.toLowerCase();
  return k === 'ts' || k === 'traceid' || k === 'time' || k === 'timestamp';
}

export class LogfmtTokenizer implements LineTokenizer {
  tokens: string[] = [];
  state: number[] | null = null;
  private readonly dec = new LogfmtDecoder();
  constructor(private readonly maxLineLength: number) {}

  tokenize(line: string): boolean {
    if (tooLong(line, this.maxLineLength)) return false;
    const tokens = this.tokens;
    tokens.length = 0;
    const dec = this.dec;
    dec.reset(line);
    while (!dec.eol() && dec.scanKeyval()) {
      const key = dec.key ?? '';
      tokens.push(key, isVariableField(key) ? PARAM : (dec.value ?? ''));
    }
    return dec.err === null;
  }

  join(tokens: readonly string[]): string {
    if (tokens.length === 0) return '';
    return encodeLogfmtPairs(tokens) ?? '';
  }
}

/**
 * jsonparser.Get(line, key) for a top-level key whose value is a string: returns the raw
 * (still escaped) string content, or null.
 */
export function jsonTopLevelString(line: string, key: string): string | null {
  const n = line.length;
  let i = skipWs(line, 0);
  if (line.charCodeAt(i) !== 123) return null;
  i++;
  for (;;) {
    i = skipWs(line, i);
    if (i >= n) return null;
    let c = line.charCodeAt(i);
    if (c === 125) return null;
    if (c === 44) { i++; continue; }
    if (c !== 34) return null;
    const kEnd = stringEnd(line, i);
    if (kEnd < 0) return null;
    const rawKey = line.slice(i + 1, kEnd);
    i = skipWs(line, kEnd + 1);
    if (line.charCodeAt(i) !== 58) return null;
    i = skipWs(line, i + 1);
    c = line.charCodeAt(i);
    const keyMatches = rawKey === key || (rawKey.includes('\\') && safeUnescape(rawKey) === key);
    if (c === 34) {
      const vEnd = stringEnd(line, i);
      if (vEnd < 0) return null;
      if (keyMatches) return line.slice(i + 1, vEnd);
      i = vEnd + 1;
    } else {
      if (keyMatches) return null;
      i = skipValue(line, i);
      if (i < 0) return null;
    }
  }
}

function safeUnescape(raw: string): string | null {
  try {
    return JSON.parse('"' + raw + '"') as string;
  } catch {
    return null;
  }
}

function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

/** Index of the closing quote of the string starting at s[i] === '"', or -1. */
function stringEnd(s: string, i: number): number {
  for (let p = i + 1; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c === 92) p++;
    else if (c === 34) return p;
  }
  return -1;
}

/** Skips a non-string JSON value (number, literal, object, array); returns the next index or -1. */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let p = i; p < s.length; p++) {
      const d = s.charCodeAt(p);
      if (d === 34) {
        p = stringEnd(s, p);
        if (p < 0) return -1;
      } else if (d === 123 || d === 91) depth++;
      else if (d === 125 || d === 93) {
        depth--;
        if (depth === 0) return p + 1;
      }
    }
    return -1;
  }
  let p = i;
  while (p < s.length) {
    const d = s.charCodeAt(p);
    if (d === 44 || d === 125 || d === 93 || d === 32 || d === 9 || d === 10 || d === 13) break;
    p++;
  }
  return p === i ? -1 : p;
}

export class JSONTokenizer implements LineTokenizer {
  private readonly punct: PunctuationTokenizer;
  tokens: string[];
  state: number[] | null;
  constructor(private readonly maxLineLength: number, private readonly fields: readonly string[]) {
    this.punct = new PunctuationTokenizer(maxLineLength);
    this.tokens = this.punct.tokens;
    this.state = this.punct.state;
  }

  tokenize(line: string): boolean {
    let found: string | null = null;
    for (const f of this.fields) {
      found = jsonTopLevelString(line, f);
      if (found !== null) break;
    }
    if (found === null) return false;
    if (tooLong(found, this.maxLineLength)) return false;
    this.punct.tokenizeUnchecked(found);
    return true;
  }

  join(tokens: readonly string[], state: readonly number[] | null): string {
    return PARAM + joinWithSpaces(tokens, state!) + PARAM;
  }
}

/** Collapses runs of consecutive `<_>` placeholders into one (Loki's deduplicatePlaceholders). */
export function deduplicatePlaceholders(line: string): string {
  const first = line.indexOf('<_><_>');
  if (first === -1) return line;
  let out = '';
  let low = 0;
  for (let i = first; i < line.length - 5; i++) {
    if (line.startsWith(PARAM, i)) {
      let high = i + 3;
      for (; high < line.length - 2; high += 3) {
        if (!line.startsWith(PARAM, high)) break;
      }
      out += line.slice(low, i + 3);
      low = high;
      i = high;
    }
  }
  return out + line.slice(low);
}
