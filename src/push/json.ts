// JSON push bodies: Loki's v1 format (`{"streams":[{"stream":{..},"values":[["<ns>","line",{sm}]]}]}`,
// decoded by jsoniter + jsonparser in pkg/loghttp/query.go) and the legacy v0 format of
// /api/prom/push. The fast path is JSON.parse plus type checks; only when something is wrong do
// we rescan the text to rebuild jsoniter's error text with its byte-offset context.

import type { Labels } from '../util/labels.js';
import { goQuote } from '../util/labels.js';
import type { RawEntry } from './protobuf.js';
import { LogEntry } from './entry.js';

export class JsonPushError extends Error {}

export const MALFORMED_STRING = "Value is string, but can't find closing '\"' symbol";
export const MALFORMED_ARRAY = "Value is array, but can't find closing ']' symbol";
export const MALFORMED_OBJECT = "Value looks like object, but can't find closing '}' symbol";
export const MALFORMED_VALUE = "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol";
export const OVERFLOW_INTEGER = 'Value is number, but overflowed while parsing';
export const MALFORMED_JSON = 'Malformed JSON error';

/** A stream object of a JSON body: either parsed labels (fast path) or label text to parse. */
export interface JsonStream {
  labels: Labels | undefined; // set when all names are plain identifiers
  labelsText: string; // Go LabelSet.String() form (what Loki parses)
  entries: RawEntry[];
}

class StreamFault {
  constructor(readonly index: number, readonly msg: string) {}
}

const IDENT = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MAX_INT64 = 9223372036854775807n;

/** jsonparser.ParseInt on the timestamp string. */
function parseTs(s: string, k: number): bigint {
  const n = s.length;
  let i = 0;
  if (n > 0 && s.charCodeAt(0) === 45) i = 1;
  if (i >= n) throw new StreamFault(k, MALFORMED_VALUE);
  if (s.charCodeAt(i) === 48 && n - i > 1) throw new StreamFault(k, MALFORMED_VALUE);
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) throw new StreamFault(k, MALFORMED_VALUE);
  }
  if (n - i <= 18) return BigInt(s);
  const v = BigInt(s);
  if (v > MAX_INT64 || v < -MAX_INT64 - 1n) throw new StreamFault(k, OVERFLOW_INTEGER);
  return v;
}

function labelValueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function decodeStreamObject(o: unknown, k: number, out: JsonStream[]): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new StreamFault(k, MALFORMED_OBJECT);
  const so = o as Record<string, unknown>;
  const st = so.stream;
  let labels: Labels | undefined = [];
  let labelsText = '';
  if (st !== undefined || Object.prototype.hasOwnProperty.call(so, 'stream')) {
    if (st === null || typeof st !== 'object' || Array.isArray(st)) throw new StreamFault(k, MALFORMED_OBJECT);
    const keys = Object.keys(st as object).sort();
    const rec = st as Record<string, unknown>;
    labelsText = '{';
    for (let i = 0; i < keys.length; i++) {
      const name = keys[i]!;
      const value = labelValueText(rec[name]);
      if (i > 0) labelsText += ', ';
      labelsText += name + '=' + goQuote(value);
      if (labels !== undefined) {
        if (!IDENT.test(name) || value.indexOf('\ufffd') >= 0) labels = undefined;
        else if (value !== '') labels.push({ name, value });
      }
    }
    labelsText += '}';
  }
  const entries: RawEntry[] = [];
  const vals = so.values;
  if (vals !== undefined && vals !== null) {
    if (!Array.isArray(vals)) throw new StreamFault(k, MALFORMED_ARRAY);
    for (let i = 0; i < vals.length; i++) {
      const e = vals[i];
      if (e === null) continue;
      if (!Array.isArray(e)) throw new StreamFault(k, MALFORMED_ARRAY);
      let tsNs = 0n;
      let line = '';
      let sm: Labels = [];
      if (e.length > 0) {
        const ts = e[0];
        if (typeof ts !== 'string') throw new StreamFault(k, MALFORMED_STRING);
        tsNs = parseTs(ts, k);
      }
      if (e.length > 1) {
        const l = e[1];
        if (typeof l !== 'string') throw new StreamFault(k, MALFORMED_STRING);
        line = l;
      }
      if (e.length > 2) {
        const m = e[2];
        if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new StreamFault(k, MALFORMED_OBJECT);
        const mr = m as Record<string, unknown>;
        for (const name in mr) {
          const v = mr[name];
          if (typeof v !== 'string') throw new StreamFault(k, MALFORMED_STRING);
          sm.push({ name, value: v });
        }
        if (sm.length === 0) sm = [];
      }
      entries.push(LogEntry.fromString(tsNs, line, sm));
    }
  }
  out.push({ labels, labelsText, entries });
}

// --- raw scanning, used only to build error texts ------------------------------------------

function skipWs(s: string, p: number): number {
  while (p < s.length) {
    const c = s.charCodeAt(p);
    if (c === 32 || c === 9 || c === 10 || c === 13) p++;
    else break;
  }
  return p;
}

/** End index of the JSON value starting at p (after whitespace), or -1. Iterative, no recursion. */
export function skipValue(s: string, p: number): number {
  p = skipWs(s, p);
  if (p >= s.length) return -1;
  let depth = 0;
  for (;;) {
    if (p >= s.length) return -1;
    const c = s.charCodeAt(p);
    if (c === 34) {
      p++;
      for (;;) {
        if (p >= s.length) return -1;
        const d = s.charCodeAt(p);
        if (d === 92) p += 2;
        else if (d === 34) { p++; break; }
        else p++;
      }
    } else if (c === 123 || c === 91) {
      depth++;
      p++;
      continue;
    } else if (c === 125 || c === 93) {
      depth--;
      p++;
    } else if (c === 44 || c === 58 || c === 32 || c === 9 || c === 10 || c === 13) {
      p++;
      continue;
    } else {
      while (p < s.length) {
        const d = s.charCodeAt(p);
        if (d === 44 || d === 125 || d === 93 || d === 32 || d === 9 || d === 10 || d === 13 || d === 58) break;
        p++;
      }
    }
    if (depth <= 0) return depth < 0 ? -1 : p;
  }
}

function byteOffset(s: string, p: number): number {
  return Buffer.byteLength(s.slice(0, p), 'utf8');
}

/** jsoniter ReportError formatting over a 512-byte read buffer window. */
function reportError(s: string, charPos: number, operation: string, msg: string): string {
  const bytes = Buffer.from(s, 'utf8');
  const abs = byteOffset(s, charPos);
  const chunk = abs === 0 ? 0 : Math.floor((abs - 1) / 512);
  const buf = bytes.subarray(chunk * 512, Math.min(bytes.length, chunk * 512 + 512));
  const head = abs - chunk * 512;
  const tail = buf.length;
  const peekStart = Math.max(0, head - 10);
  const peekEnd = Math.min(tail, head + 10);
  const ctxStart = Math.max(0, head - 50);
  const ctxEnd = Math.min(tail, head + 50);
  return `${operation}: ${msg}, error found in #${head - peekStart} byte of ...|${buf.toString('utf8', peekStart, peekEnd)}|..., bigger context ...|${buf.toString('utf8', ctxStart, ctxEnd)}|...`;
}

const PREFIX = 'loghttp.PushRequest.Streams: []loghttp.LogProtoStream: ';

/** Locates the streams array and the end of its k-th element (char index), for error context. */
function streamElementEnd(s: string, k: number): number {
  let p = skipWs(s, 0) + 1;
  for (;;) {
    p = skipWs(s, p);
    if (s.charCodeAt(p) !== 34) return s.length;
    const keyEnd = skipValue(s, p);
    if (keyEnd < 0) return s.length;
    const key = s.slice(p + 1, keyEnd - 1);
    p = skipWs(s, keyEnd);
    if (s.charCodeAt(p) !== 58) return s.length;
    p = skipWs(s, p + 1);
    if (key.toLowerCase() === 'streams' && s.charCodeAt(p) === 91) {
      let q = p + 1;
      for (let i = 0; ; i++) {
        q = skipWs(s, q);
        const e = skipValue(s, q);
        if (e < 0) return s.length;
        if (i === k) return e;
        q = skipWs(s, e);
        if (s.charCodeAt(q) !== 44) return s.length;
        q++;
      }
    }
    const e = skipValue(s, p);
    if (e < 0) return s.length;
    p = skipWs(s, e);
    if (s.charCodeAt(p) !== 44) return s.length;
    p++;
  }
}

function findStreamsKey(obj: Record<string, unknown>): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, 'streams')) return obj.streams;
  let v: unknown;
  for (const key of Object.keys(obj)) if (key.toLowerCase() === 'streams') v = obj[key];
  return v;
}

/** Decodes a v1 JSON push body. Throws JsonPushError with Loki's text. */
export function decodeJsonV1(text: string): JsonStream[] {
  let obj: unknown;
  let p0 = 0;
  try {
    obj = JSON.parse(text);
  } catch {
    // jsoniter reads one value and ignores what follows it.
    p0 = skipWs(text, 0);
    if (p0 >= text.length) throw new JsonPushError('EOF');
    const c = text.charCodeAt(p0);
    if (c !== 123 && c !== 110) {
      throw new JsonPushError('loghttp.PushRequest.' + reportError(text, p0 + 1, 'readObjectStart', 'expect { or n, but found ' + text[p0]));
    }
    const end = skipValue(text, p0);
    let ok = false;
    if (end > 0) {
      try {
        obj = JSON.parse(text.slice(p0, end));
        ok = true;
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      throw new JsonPushError(PREFIX + reportError(text, end > 0 ? end : text.length, 'unmarshalerDecoder', MALFORMED_JSON));
    }
  }
  if (obj === null) return [];
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    const p = skipWs(text, p0);
    throw new JsonPushError('loghttp.PushRequest.' + reportError(text, p + 1, 'readObjectStart', 'expect { or n, but found ' + text[p]));
  }
  const streams = findStreamsKey(obj as Record<string, unknown>);
  if (streams === undefined || streams === null) return [];
  if (!Array.isArray(streams)) {
    const idx = text.search(/"streams"\s*:/i);
    const p = idx >= 0 ? skipWs(text, text.indexOf(':', idx) + 1) : 0;
    throw new JsonPushError(
      'loghttp.PushRequest.Streams: []loghttp.LogProtoStream: ' +
        reportError(text, p + 1, 'decode slice', 'expect [ or n, but found ' + text[p]),
    );
  }
  const out: JsonStream[] = [];
  try {
    for (let k = 0; k < streams.length; k++) decodeStreamObject(streams[k], k, out);
  } catch (e) {
    if (e instanceof StreamFault) {
      const end = streamElementEnd(text, e.index);
      throw new JsonPushError(PREFIX + reportError(text, end, 'unmarshalerDecoder', e.msg));
    }
    throw e;
  }
  return out;
}

/** Go time.Time UnmarshalJSON (RFC3339 with optional fraction) → ns. */
function parseRfc3339(s: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Number.isNaN(ms)) return undefined;
  let ns = BigInt(ms) * 1000000n + BigInt((m[7] ?? '').padEnd(9, '0') || '0');
  if (m[9]) {
    const off = (Number(m[10]) * 60 + Number(m[11])) * 60;
    ns -= BigInt(m[9] === '+' ? off : -off) * 1000000000n;
  }
  return ns;
}

export interface LegacyStream {
  labels: string;
  entries: RawEntry[];
}

/** Decodes a legacy v0 JSON body (`{"streams":[{"labels":"{..}","entries":[{"ts":..,"line":..}]}]}`). */
export function decodeJsonV0(text: string): LegacyStream[] {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    if (text.trim() === '') throw new JsonPushError('EOF');
    throw new JsonPushError('logproto.PushRequest.ReadObject: ' + (e as Error).message);
  }
  if (obj === null) return [];
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new JsonPushError('logproto.PushRequest.readObjectStart: expect { or n');
  const streams = findStreamsKey(obj as Record<string, unknown>);
  if (streams === undefined || streams === null) return [];
  if (!Array.isArray(streams)) throw new JsonPushError('logproto.PushRequest.Streams: []logproto.Stream: decode slice: expect [ or n');
  const out: LegacyStream[] = [];
  for (const s of streams) {
    if (s === null) continue;
    if (typeof s !== 'object' || Array.isArray(s)) throw new JsonPushError('logproto.PushRequest.Streams: []logproto.Stream: readObjectStart: expect { or n');
    const so = s as Record<string, unknown>;
    const labels = so.labels ?? '';
    if (typeof labels !== 'string') throw new JsonPushError('logproto.PushRequest.Streams: []logproto.Stream: Labels: ReadString: expects " or n');
    const entries: RawEntry[] = [];
    const es = so.entries;
    if (es !== undefined && es !== null) {
      if (!Array.isArray(es)) throw new JsonPushError('logproto.PushRequest.Streams: []logproto.Stream: Entries: decode slice: expect [ or n');
      for (const e of es) {
        if (e === null || typeof e !== 'object' || Array.isArray(e)) {
          throw new JsonPushError('logproto.PushRequest.Streams: []logproto.Stream: Entries: []logproto.Entry: readObjectStart: expect { or n');
        }
        const er = e as Record<string, unknown>;
        let tsNs = -62135596800n * 1000000000n;
        if (er.ts !== undefined && er.ts !== null) {
          const t = typeof er.ts === 'string' ? parseRfc3339(er.ts) : undefined;
          if (t === undefined) {
            throw new JsonPushError(
              `logproto.PushRequest.Streams: []logproto.Stream: Entries: []logproto.Entry: Timestamp: unmarshalerDecoder: parsing time ${JSON.stringify(JSON.stringify(er.ts))} as "\\"2006-01-02T15:04:05Z07:00\\"": cannot parse`,
            );
          }
          tsNs = t;
        }
        const line = er.line ?? '';
        if (typeof line !== 'string') throw new JsonPushError('logproto.PushRequest.Streams: []logproto.Stream: Entries: []logproto.Entry: Line: ReadString: expects " or n');
        const sm: Labels = [];
        const smv = er.structuredMetadata;
        if (Array.isArray(smv)) {
          for (const l of smv) {
            if (l && typeof l === 'object' && typeof (l as { name?: unknown }).name === 'string') {
              const v = (l as { value?: unknown }).value;
              sm.push({ name: (l as { name: string }).name, value: typeof v === 'string' ? v : '' });
            }
          }
        } else if (smv && typeof smv === 'object') {
          for (const [name, v] of Object.entries(smv as Record<string, unknown>)) if (typeof v === 'string') sm.push({ name, value: v });
        }
        entries.push(LogEntry.fromString(tsNs, line, sm));
      }
    }
    out.push({ labels, entries });
  }
  return out;
}
