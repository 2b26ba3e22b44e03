// Push path between the HTTP body of POST /loki/api/v1/push (and legacy /api/prom/push) and the
// list of validated streams the ingester appends: content-encoding handling (gzip/deflate with
// a decompressed-size cap, snappy tolerated), protobuf or JSON decoding, stream label parsing
// with service_name discovery, then Loki's distributor validation (labels, timestamps, line
// and structured-metadata limits, partial acceptance with grouped 400 text), structured
// metadata name sanitising and detected_level. Pure functions: no HTTP framework, no fs.

import zlib from 'node:zlib';
import buffer, { isUtf8 } from 'node:buffer';
import { LogEntry, lineLength, msOf, remOf, type EntryLike } from './entry.js';
import { labelsToString, type Labels } from '../util/labels.js';
import { parseLabelsText, LabelParseError } from './labelparser.js';
import {
  readPushRequest,
  snappyUncompress,
  snappyCompress,
  encodePushRequestRaw,
  ProtoError,
  SnappyTooLargeError,
  type RawEntry,
  type EncodableStream,
} from './protobuf.js';
import { decodeJsonV0, decodeJsonV1, JsonPushError } from './json.js';
import { EntryBatch, levelCode, levelSmSize } from './batch.js';
import {
  addServiceName,
  isInternalStream,
  sanitizeLabelName,
  LabelNameError,
  newLevelDetector,
  detectLevelFromLogLine,
  detectLevelFromBytes,
  detectLevelsFromBytes,
  levelOnly,
  levelFromStreamLabels,
  levelFromStructuredMetadata,
  normalizeLogLevel,
  DETECTED_LEVEL,
  DEFAULT_DISCOVER_SERVICE_NAME,
  DEFAULT_LOG_LEVEL_FIELDS,
  SERVICE_NAME_LABEL,
  type LevelDetector,
} from './detect.js';
import type { ArenaAlloc } from '../util/request-arena.js';

export {
  parseLabelsText,
  LabelParseError,
  snappyCompress,
  snappyUncompress,
  DEFAULT_DISCOVER_SERVICE_NAME,
  DEFAULT_LOG_LEVEL_FIELDS,
  DETECTED_LEVEL,
  SERVICE_NAME_LABEL,
  normalizeLogLevel,
  sanitizeLabelName,
};
export { detectLevelFromLine, detectLevelFromLogLine, newLevelDetector, detectLevel, addServiceName } from './detect.js';

/** An entry: timestamp, line (a byte range of the body for protobuf pushes, see entry.ts), structured metadata sorted by name. */
export type PushEntry = EntryLike;
export { LogEntry, lineLength, writeLine, sameLine, type EntryLike } from './entry.js';

export interface PushStream {
  labels: Labels;
  labelsString: string;
  entries: PushEntry[];
  /**
   * The entries as columns (batch.ts), while nothing has read `entries`: a BatchedStream makes
   * objects of them on the first read of `entries` and drops the columns then.
   */
  readonly batch?: EntryBatch | undefined;
}

/** A stream whose entries are columns until something asks for them as objects. */
export class BatchedStream implements PushStream {
  private list: PushEntry[] | null = null;
  private cols: EntryBatch | undefined;
  constructor(readonly labels: Labels, readonly labelsString: string, batch: EntryBatch) {
    this.cols = batch;
  }
  get batch(): EntryBatch | undefined {
    return this.cols;
  }
  get entries(): PushEntry[] {
    if (this.list === null) {
      this.list = this.cols!.materialize();
      this.cols = undefined;
    }
    return this.list;
  }
  set entries(v: PushEntry[]) {
    this.list = v;
    this.cols = undefined;
  }
}

export class PushError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'PushError';
  }
}

export interface DecodeOptions {
  /** `distributor.max_decompressed_size` in bytes; 0 disables the check. */
  maxDecompressedBytes: number;
  /** `limits_config.discover_service_name`; defaults to Loki's list. Empty disables discovery. */
  discoverServiceName?: readonly string[];
  /**
   * Where the decompressed protobuf body goes (default: a new buffer). Entries refer to it until
   * the push is stored, so a pooled buffer goes back only after ingester.push returns.
   */
  bodyBuffer?: (bytes: number) => Buffer;
  /**
   * Where the entry columns of a protobuf body go (default: new arrays); like bodyBuffer, they are
   * read until ingester.push returns.
   */
  arena?: ArenaAlloc;
  /** Told the snappy and decompressed bytes of a protobuf body (the WAL can log the former). */
  onProtobufBody?: (snappy: Buffer, raw: Buffer) => void;
}

const MAX_STREAM_LABELS_SIZE = 1 << 24;

const BUFFER_MAX = Math.min(buffer.constants.MAX_LENGTH, 4294967296);

function tooLarge(size: number, max: number): PushError {
  return new PushError(413, `request body too large: decompressed message size too large than max (${size} vs ${max})`);
}

/** Applies Content-Encoding; throws PushError 400/413. */
function decodeContentEncoding(body: Buffer, contentEncoding: string | undefined, max: number): { data: Buffer; decompressed: boolean } {
  const enc = contentEncoding ?? '';
  if (enc === '' || enc === 'snappy') return { data: body, decompressed: false };
  if (enc !== 'gzip' && enc !== 'deflate') throw new PushError(400, `Content-Encoding ${goQuoteSimple(enc)} not supported`);
  // zlib caps maxOutputLength at buffer.constants.MAX_LENGTH (4 GiB); Loki's default limit is 5000 MiB.
  const opts: zlib.ZlibOptions = max > 0 ? { maxOutputLength: Math.min(max + 1, BUFFER_MAX) } : {};
  try {
    const data = enc === 'gzip' ? zlib.gunzipSync(body, opts) : zlib.inflateRawSync(body, opts);
    if (max > 0 && data.length > max) throw tooLarge(data.length, max);
    return { data, decompressed: true };
  } catch (e) {
    if (e instanceof PushError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(max + 1, max);
    if (enc === 'gzip') {
      if (body.length < 10) throw new PushError(400, body.length === 0 ? 'EOF' : 'unexpected EOF');
      if (body[0] !== 0x1f || body[1] !== 0x8b || body[2] !== 8) throw new PushError(400, 'gzip: invalid header');
      if (err.code === 'Z_BUF_ERROR') throw new PushError(400, 'unexpected EOF');
      throw new PushError(400, 'gzip: invalid checksum');
    }
    if (err.code === 'Z_BUF_ERROR') throw new PushError(400, 'unexpected EOF');
    throw new PushError(400, 'flate: corrupt input before offset 0');
  }
}

function goQuoteSimple(s: string): string {
  return JSON.stringify(s);
}

/** mime.ParseMediaType, reduced to what selects the decoder: returns the lowercased media type. */
function mediaType(contentType: string | undefined): string {
  const ct = contentType ?? '';
  const semi = ct.indexOf(';');
  const t = (semi >= 0 ? ct.slice(0, semi) : ct).trim().toLowerCase();
  if (t === '') throw new PushError(400, 'mime: no media type');
  const slash = t.indexOf('/');
  if (slash <= 0 || slash === t.length - 1 || !/^[!#$%&'*+\-.^_`|~0-9a-z]+\/[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(t)) {
    if (slash < 0 && /^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(t)) throw new PushError(400, 'mime: expected slash after first token');
    if (slash < 0) throw new PushError(400, 'mime: expected token after slash');
    throw new PushError(400, slash === t.length - 1 ? 'mime: expected token after slash' : 'mime: unexpected content after media subtype');
  }
  return t;
}

interface Pending {
  labelsText: string;
  labels: Labels | undefined;
  entries: RawEntry[];
  batch?: EntryBatch | undefined;
}

function toStreams(pending: Pending[], opts: DecodeOptions): PushStream[] {
  const discover = opts.discoverServiceName ?? DEFAULT_DISCOVER_SERVICE_NAME;
  const byKey = new Map<string, PushStream>();
  // streams whose entries array is still the decoder's (copied before a second one is merged in)
  const borrowed = new Set<PushStream>();
  const parsedCache = new Map<string, Labels>();
  const out: PushStream[] = [];
  for (const p of pending) {
    if (p.labelsText.length > MAX_STREAM_LABELS_SIZE) {
      throw new PushError(413, `request body too large: stream labels size ${humanBytes(p.labelsText.length)} exceeds limit of 17 MB`);
    }
    let labels = p.labels;
    if (labels === undefined) {
      const cached = parsedCache.get(p.labelsText);
      if (cached) labels = cached.slice();
      else {
        try {
          labels = parseLabelsText(p.labelsText);
        } catch (e) {
          if (e instanceof LabelParseError) throw new PushError(400, `couldn't parse labels: ${e.message}`);
          throw e;
        }
        parsedCache.set(p.labelsText, labels.slice());
      }
    }
    addServiceName(labels, discover);
    const labelsString = labelsToString(labels);
    let st = byKey.get(labelsString);
    if (!st) {
      // the first (usually only) part of a stream keeps the decoder's array or columns: no copy per entry
      st = p.batch !== undefined ? new BatchedStream(labels, labelsString, p.batch) : { labels, labelsString, entries: p.entries };
      byKey.set(labelsString, st);
      out.push(st);
      borrowed.add(st);
      continue;
    }
    if (borrowed.delete(st)) st.entries = st.entries.slice();
    const entries = st.entries;
    const more = p.batch !== undefined ? p.batch.materialize() : p.entries;
    for (let i = 0; i < more.length; i++) entries.push(more[i]! as PushEntry);
  }
  return out;
}

function humanBytes(n: number): string {
  // go-humanize Bytes (SI)
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  if (n < 10) return `${n} B`;
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const v = n / 1000 ** e;
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[e]}`;
}

function decodeProto(data: Buffer, max: number, opts: DecodeOptions): Pending[] {
  let raw: Buffer;
  try {
    raw = snappyUncompress(data, max, opts.bodyBuffer);
    opts.onProtobufBody?.(data, raw);
  } catch (e) {
    if (e instanceof SnappyTooLargeError) throw tooLarge(e.size, max);
    if (e instanceof ProtoError) throw new PushError(400, e.message);
    throw e;
  }
  try {
    const streams = readPushRequest(raw, undefined, true, opts.arena);
    const out: Pending[] = new Array(streams.length);
    for (let i = 0; i < streams.length; i++) out[i] = { labelsText: streams[i]!.labels, labels: undefined, entries: streams[i]!.entries, batch: streams[i]!.batch };
    return out;
  } catch (e) {
    if (e instanceof ProtoError) throw new PushError(400, e.message);
    throw e;
  }
}

/**
 * Decodes a `/loki/api/v1/push` body into streams (labels parsed, empty values dropped, sorted,
 * service_name added; identical label sets merged in order). Throws PushError (400/413).
 */
export function decodePushBody(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined, opts: DecodeOptions): PushStream[] {
  return decode(body, contentType, contentEncoding, opts, false);
}

/** `/api/prom/push`: JSON v0 (`labels` text + `entries[{ts,line}]`) or protobuf as in v1. */
export function decodeLegacyPushBody(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined, opts: DecodeOptions): PushStream[] {
  return decode(body, contentType, contentEncoding, opts, true);
}

function decode(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined, opts: DecodeOptions, legacy: boolean): PushStream[] {
  const max = opts.maxDecompressedBytes;
  const { data } = decodeContentEncoding(body, contentEncoding, max);
  const mt = mediaType(contentType);
  let pending: Pending[];
  if (mt === 'application/json') {
    const text = data.toString('utf8');
    try {
      if (legacy) {
        pending = decodeJsonV0(text).map((s) => ({ labelsText: s.labels, labels: undefined, entries: s.entries }));
      } else {
        pending = decodeJsonV1(text);
      }
    } catch (e) {
      if (e instanceof JsonPushError) throw new PushError(400, e.message);
      throw e;
    }
  } else {
    pending = decodeProto(data, max, opts);
  }
  return toStreams(pending, opts);
}

/** Protobuf-encodes a PushRequest (uncompressed). Labels may be a parsed list or label text. */
export function encodePushRequest(streams: ReadonlyArray<EncodableStream>): Buffer {
  return encodePushRequestRaw(streams);
}

/** Protobuf + snappy block compression: a body as Alloy/Promtail send it. */
export function encodePushRequestSnappy(streams: ReadonlyArray<EncodableStream>): Buffer {
  return snappyCompress(encodePushRequestRaw(streams));
}

// ---------------------------------------------------------------------------------------------
// Validation

export interface PushLimits {
  rejectOldSamples: boolean;
  /** reject_old_samples_max_age, ns */
  rejectOldSamplesMaxAgeNs: bigint;
  /** creation_grace_period, ns */
  creationGracePeriodNs: bigint;
  /** max_line_size in bytes; 0 = unlimited */
  maxLineSize: number;
  maxLineSizeTruncate: boolean;
  maxLineSizeTruncateIdentifier: string;
  maxLabelNamesPerSeries: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  allowStructuredMetadata: boolean;
  /** bytes; 0 = unlimited */
  maxStructuredMetadataSize: number;
  /** 0 = unlimited */
  maxStructuredMetadataEntriesCount: number;
  discoverServiceName: readonly string[];
  discoverLogLevels: boolean;
  logLevelFields: readonly string[];
  logLevelFromJsonMaxDepth: number;
  /** Labels every stream must carry (limits_config.enforced_labels); empty = none. */
  enforcedLabels: readonly string[];
}

export const DEFAULT_PUSH_LIMITS: Readonly<PushLimits> = Object.freeze({
  rejectOldSamples: true,
  rejectOldSamplesMaxAgeNs: 7n * 24n * 3600n * 1000000000n,
  creationGracePeriodNs: 10n * 60n * 1000000000n,
  maxLineSize: 256 * 1024,
  maxLineSizeTruncate: false,
  maxLineSizeTruncateIdentifier: '',
  maxLabelNamesPerSeries: 15,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
  allowStructuredMetadata: true,
  maxStructuredMetadataSize: 64 * 1024,
  maxStructuredMetadataEntriesCount: 128,
  discoverServiceName: DEFAULT_DISCOVER_SERVICE_NAME,
  discoverLogLevels: true,
  logLevelFields: DEFAULT_LOG_LEVEL_FIELDS,
  logLevelFromJsonMaxDepth: 2,
  enforcedLabels: [],
});

/** UTF-8 byte length without allocating for ASCII strings. */
export function utf8Len(s: string): number {
  return s.length < 16 ? shortUtf8Len(s) : Buffer.byteLength(s, 'utf8');
}

function shortUtf8Len(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** Σ(len(name)+len(value)) of structured metadata, in UTF-8 bytes. */
export function structuredMetadataSize(sm: Labels): number {
  let n = 0;
  for (let i = 0; i < sm.length; i++) n += utf8Len(sm[i]!.name) + utf8Len(sm[i]!.value);
  return n;
}

/** Loki's entry size: len(line) + structured metadata size (UTF-8 bytes); rate limits use this. */
export function entrySize(e: PushEntry): number {
  return lineLength(e) + structuredMetadataSize(e.structuredMetadata);
}

/** Go time.Format(time.RFC3339) in UTC for a ns timestamp. */
export function formatRFC3339(ns: bigint): string {
  let sec = ns / 1000000000n;
  if (ns < 0n && ns % 1000000000n !== 0n) sec -= 1n;
  const d = new Date(Number(sec) * 1000);
  if (Number.isNaN(d.getTime())) return String(ns);
  const y = d.getUTCFullYear();
  const ys = y < 0 ? '-' + String(-y).padStart(4, '0') : String(y).padStart(4, '0');
  const p = (n: number) => String(n).padStart(2, '0');
  return `${ys}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}Z`;
}

/** util.GroupedErrors: identical messages counted, `N errors like: ` prefixes when >1 distinct or repeated. */
export function groupErrors(msgs: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const m of msgs) counts.set(m, (counts.get(m) ?? 0) + 1);
  const parts: string[] = [];
  for (const [m, n] of counts) parts.push(counts.size > 1 || n > 1 ? `${n} errors like: ${m}` : m);
  return parts.join('; ');
}

export interface ValidateResult {
  accepted: PushStream[];
  error?: PushError;
  /** accepted entries */
  lines: number;
  /** accepted bytes (entry sizes incl. structured metadata and detected_level) */
  bytes: number;
}

function validateLabels(st: PushStream, limits: PushLimits): string | undefined {
  const ls = st.labels;
  if (ls.length === 0) return 'error at least one label pair is required per stream';
  if (isInternalStream(ls)) return undefined;
  let n = ls.length;
  for (const l of ls) if (l.name === SERVICE_NAME_LABEL) { n--; break; }
  if (n > limits.maxLabelNamesPerSeries) {
    return `entry for stream '${st.labelsString}' has ${n} label names; limit ${limits.maxLabelNamesPerSeries}`;
  }
  let last = '';
  for (const l of ls) {
    if (utf8Len(l.name) > limits.maxLabelNameLength) return `stream '${st.labelsString}' has label name too long: '${l.name}'`;
    if (utf8Len(l.value) > limits.maxLabelValueLength) return `stream '${st.labelsString}' has label value too long: '${l.value}'`;
    if (l.name === last) return `stream '${st.labelsString}' has duplicate label name: '${l.name}'`;
    last = l.name;
  }
  return undefined;
}

function truncateUtf8(line: string, maxBytes: number): string {
  const b = Buffer.from(line, 'utf8');
  return b.toString('utf8', 0, maxBytes);
}

/** Sanitises SM names (and U+FFFD in values) like the distributor; returns a sorted copy. */
function sanitizeSM(sm: Labels): Labels {
  let changed = false;
  for (let i = 0; i < sm.length; i++) {
    const l = sm[i]!;
    if (sanitizeLabelName(l.name) !== l.name || l.value.indexOf('\ufffd') >= 0) { changed = true; break; }
  }
  if (!changed) {
    let sorted = true;
    for (let i = 1; i < sm.length; i++) if (sm[i - 1]!.name >= sm[i]!.name) { sorted = false; break; }
    if (sorted) return sm;
  }
  // labels.Builder semantics: renamed labels are deleted and re-set (last wins), empty set = delete.
  const base = new Map<string, string>();
  for (const l of sm) base.set(l.name, l.value);
  for (const l of sm) {
    const normalized = sanitizeLabelName(l.name);
    if (normalized !== l.name) {
      base.delete(l.name);
      if (l.value === '') base.delete(normalized);
      else base.set(normalized, l.value);
    }
    if (l.value.indexOf('\ufffd') >= 0) base.set(normalized, l.value.replace(/\ufffd/g, ' '));
  }
  const out: Labels = [];
  for (const [name, value] of base) out.push({ name, value });
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

function insertSorted(sm: Labels, name: string, value: string): Labels {
  const out = sm.slice();
  let i = 0;
  while (i < out.length && out[i]!.name < name) i++;
  out.splice(i, 0, { name, value });
  return out;
}

const detectorCache = new WeakMap<PushLimits, LevelDetector>();

/** An entry that is a byte range of a request buffer and has no structured metadata. */
function isBareByteRange(e: EntryLike): e is LogEntry & { src: Buffer } {
  return e instanceof LogEntry && e.src !== null && e.structuredMetadata.length === 0;
}

/**
 * detectLevelFromBytes for every entry of a stream that is a byte range of one buffer without
 * structured metadata, in one kernel call; null when they do not all share a buffer (then each
 * is detected alone). Other entries' slots are left undefined and not read.
 */
/** Line ranges levelsOfBytes hands the kernels (reused; grown as needed). */
let levelRanges = new Int32Array(4096);

function levelsOfBytes(d: LevelDetector, entries: readonly EntryLike[]): (string | undefined)[] | null {
  let src: Buffer | null = null;
  let m = 0;
  for (const e of entries) {
    if (!isBareByteRange(e)) continue;
    if (src === null) src = e.src;
    else if (e.src !== src) return null;
    m++;
  }
  if (src === null) return null;
  if (levelRanges.length < 2 * m) levelRanges = new Int32Array(Math.max(2 * m, 2 * levelRanges.length));
  const ranges = levelRanges;
  let k = 0;
  for (const e of entries) {
    if (!isBareByteRange(e)) continue;
    ranges[k++] = e.start;
    ranges[k++] = e.end;
  }
  const levels: (string | undefined)[] = new Array(m);
  detectLevelsFromBytes(d, src, ranges, m, levels);
  if (m === entries.length) return levels; // every entry took part: same indexes
  const out: (string | undefined)[] = new Array(entries.length);
  k = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (!isBareByteRange(e)) continue;
    out[i] = levels[k++];
  }
  return out;
}

/** Levels detectLevelsFromBytes gives validateBatch (reused; grown as needed). */
let batchLevels: (string | undefined)[] = [];

/**
 * validatePush's per-entry work for a stream held as columns, when it keeps every entry as it
 * is: fills the batch's detected_level codes and returns the accepted bytes (Loki's entry sizes),
 * or -1 when some entry would be dropped or changed (too old or new, too long, not valid UTF-8;
 * also when the level codes run out) and the object path must decide entry by entry. Same
 * rules and results as that path.
 */
function validateBatch(
  b: EntryBatch, d: LevelDetector, discoverLevels: boolean, labelLevel: string | undefined, limits: PushLimits,
  oldestMs: number, oldestRem: number, newestMs: number, newestRem: number,
): number {
  const n = b.n;
  const ms = b.ms;
  const rem = b.rem;
  const r = b.ranges;
  const src = b.src;
  const maxLine = limits.maxLineSize;
  const rejectOld = limits.rejectOldSamples;
  let lineBytes = 0;
  for (let i = 0; i < n; i++) {
    const m = ms[i]!;
    const q = rem[i]!;
    if (rejectOld && (m < oldestMs || (m === oldestMs && q < oldestRem))) return -1;
    if (m > newestMs || (m === newestMs && q > newestRem)) return -1;
    const len = r[2 * i + 1]! - r[2 * i]!;
    if (maxLine !== 0 && len > maxLine) return -1;
    lineBytes += len;
  }
  const lv = b.level;
  if (!discoverLevels || labelLevel !== undefined) {
    // no detection: lines must still be valid UTF-8 (the object path would replace them)
    for (let i = 0; i < n; i++) if (!isUtf8Range(src, r[2 * i]!, r[2 * i + 1]!)) return -1;
    if (labelLevel === undefined) return lineBytes;
    const c = levelCode(labelLevel);
    if (c < 0) return -1;
    lv.fill(c);
    return lineBytes + n * levelSmSize(c);
  }
  if (batchLevels.length < n) batchLevels = new Array(Math.max(n, 2 * batchLevels.length));
  const levels = batchLevels;
  detectLevelsFromBytes(d, src, r, n, levels);
  let smBytes = 0;
  let lastV: string | undefined;
  let lastC = 0;
  for (let i = 0; i < n; i++) {
    let v = levels[i];
    if (v === undefined) {
      // the keyword kernels leave non-ASCII and JSON lines to the string path
      const s = r[2 * i]!;
      const e = r[2 * i + 1]!;
      if (!isUtf8Range(src, s, e)) return -1;
      v = detectLevelFromLogLine(d, src.toString('utf8', s, e));
    }
    if (v !== lastV) {
      lastC = levelCode(v);
      if (lastC < 0) return -1;
      lastV = v;
    }
    lv[i] = lastC;
    smBytes += levelSmSize(lastC);
  }
  return lineBytes + smBytes;
}

function isAsciiRange(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i]! >= 0x80) return false;
  return true;
}

/** Is b[start, end) valid UTF-8? (the ASCII loop first: nearly every log line is ASCII) */
function isUtf8Range(b: Buffer, start: number, end: number): boolean {
  return isAsciiRange(b, start, end) || isUtf8(b.subarray(start, end));
}

/** A bytes line that is not valid UTF-8 becomes its decoded string (U+FFFD), as every line did before the bytes path. */
function checkUtf8(e: LogEntry): LogEntry {
  if (isUtf8Range(e.src!, e.start, e.end)) return e;
  return e.withLine(e.line, e.structuredMetadata);
}

/** Is entry e (a LogEntry) before (ms, rem)? */
function before(e: LogEntry, ms: number, rem: number): boolean {
  return e.ms < ms || (e.ms === ms && e.rem < rem);
}

/** Is entry e (a LogEntry) after (ms, rem)? */
function after(e: LogEntry, ms: number, rem: number): boolean {
  return e.ms > ms || (e.ms === ms && e.rem > rem);
}

/**
 * Loki's distributor validation over decoded streams. Invalid streams/entries are dropped and
 * their messages grouped into one 400 (partial acceptance: `accepted` still holds the valid
 * data). Zero streams → 422. Entries gain sanitised SM and `detected_level`.
 */
export function validatePush(streams: PushStream[], tenant: string, limits: PushLimits, nowNs: bigint): ValidateResult {
  if (streams.length === 0) {
    return { accepted: [], error: new PushError(422, 'error at least one valid stream is required for ingestion'), lines: 0, bytes: 0 };
  }
  let detector = detectorCache.get(limits);
  if (!detector) {
    detector = newLevelDetector(limits.logLevelFields.length ? limits.logLevelFields : DEFAULT_LOG_LEVEL_FIELDS, limits.logLevelFromJsonMaxDepth);
    detectorCache.set(limits, detector);
  }
  const discoverLevels = limits.discoverLogLevels && limits.allowStructuredMetadata;
  const oldest = nowNs - limits.rejectOldSamplesMaxAgeNs;
  const newest = nowNs + limits.creationGracePeriodNs;
  const oldestMs = msOf(oldest);
  const oldestRem = remOf(oldest);
  const newestMs = msOf(newest);
  const newestRem = remOf(newest);
  const errors: string[] = [];
  const accepted: PushStream[] = [];
  let lines = 0;
  let bytes = 0;
  const maxLine = limits.maxLineSize;
  const truncId = limits.maxLineSizeTruncateIdentifier;
  const truncIdLen = utf8Len(truncId);
  let sizedSm: Labels | null = null; // the frozen list smBytes is the size of
  let smBytes = 0;

  for (const st of streams) {
    if ((st.batch !== undefined ? st.batch.n : st.entries.length) === 0) continue;
    const labelErr = validateLabels(st, limits);
    if (labelErr !== undefined) { errors.push(labelErr); continue; }
    if (limits.enforcedLabels.length > 0 && !isInternalStream(st.labels)) {
      const missing: string[] = [];
      for (const name of limits.enforcedLabels) if (!st.labels.some((l) => l.name === name)) missing.push(name);
      if (missing.length > 0) {
        errors.push(`missing required labels '${missing.join(',')}' for user '${tenant}' for stream '${st.labelsString}' (policy: '')`);
        continue;
      }
    }
    const labelLevel = discoverLevels ? levelFromStreamLabels(detector, st.labels) : undefined;
    const batch = st.batch;
    if (batch !== undefined) {
      const b = validateBatch(batch, detector, discoverLevels, labelLevel, limits, oldestMs, oldestRem, newestMs, newestRem);
      if (b >= 0) {
        lines += batch.n;
        bytes += b;
        accepted.push(st);
        continue;
      }
      // some entry is dropped or changed: the object path below (reading st.entries makes them)
    }
    const pre = discoverLevels && labelLevel === undefined ? levelsOfBytes(detector, st.entries) : null;
    // null while every entry so far was kept as the same object: then the stream's array is
    // passed on as it is (no copy per entry); a drop or a replaced entry makes the copy
    let out: PushEntry[] | null = null;
    for (let i = 0; i < st.entries.length; i++) {
      const e0 = st.entries[i]!;
      let e: EntryLike = e0;
      // bytes path: detect the level on the bytes when the line is ASCII (and prove it is)
      let level: string | undefined;
      let bytesChecked = false;
      if (e0 instanceof LogEntry && e0.src !== null) {
        if (discoverLevels && labelLevel === undefined && e0.structuredMetadata.length === 0) {
          level = pre !== null ? pre[i] : detectLevelFromBytes(detector, e0.src, e0.start, e0.end);
          bytesChecked = level !== undefined;
        }
        if (!bytesChecked) e = checkUtf8(e0);
      }
      let lineLen = lineLength(e);
      if (limits.maxLineSizeTruncate && maxLine !== 0 && lineLen > maxLine) {
        const to = maxLine - truncIdLen;
        if (to > 0) {
          const line = truncateUtf8(e.line, to) + truncId;
          e = e instanceof LogEntry ? e.withLine(line, e.structuredMetadata) : LogEntry.fromString(e.tsNs, line, e.structuredMetadata);
          lineLen = lineLength(e);
          level = undefined;
        }
      }
      // LogEntry timestamps compare as numbers (no bigint per entry)
      const isEntry = e instanceof LogEntry;
      if (limits.rejectOldSamples && (isEntry ? before(e as LogEntry, oldestMs, oldestRem) : e.tsNs < oldest)) {
        errors.push(`entry for stream '${st.labelsString}' has timestamp too old: ${formatRFC3339(e.tsNs)}, oldest acceptable timestamp is: ${formatRFC3339(oldest)}`);
        out ??= st.entries.slice(0, i);
        continue;
      }
      if (isEntry ? after(e as LogEntry, newestMs, newestRem) : e.tsNs > newest) {
        errors.push(`entry for stream '${st.labelsString}' has timestamp too new: ${formatRFC3339(e.tsNs)}`);
        out ??= st.entries.slice(0, i);
        continue;
      }
      if (maxLine !== 0 && lineLen > maxLine) {
        errors.push(`max entry size '${maxLine}' bytes exceeded for stream '${st.labelsString}' while adding an entry with length '${lineLen}' bytes`);
        out ??= st.entries.slice(0, i);
        continue;
      }
      let sm = e.structuredMetadata;
      if (sm.length > 0) {
        if (!limits.allowStructuredMetadata) {
          errors.push(`stream '${st.labelsString}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it`);
          out ??= st.entries.slice(0, i);
          continue;
        }
        const smSize = structuredMetadataSize(sm);
        if (limits.maxStructuredMetadataSize !== 0 && smSize > limits.maxStructuredMetadataSize) {
          errors.push(`stream '${st.labelsString}' has structured metadata too large: '${smSize}' bytes, limit: '${limits.maxStructuredMetadataSize}' bytes. Please see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it`);
          out ??= st.entries.slice(0, i);
          continue;
        }
        if (limits.maxStructuredMetadataEntriesCount !== 0 && sm.length > limits.maxStructuredMetadataEntriesCount) {
          errors.push(`stream '${st.labelsString}' has too many structured metadata labels: '${sm.length}', limit: '${limits.maxStructuredMetadataEntriesCount}'. Please see \`limits_config.max_structured_metadata_entries_count\` or contact your Loki administrator to increase it`);
          out ??= st.entries.slice(0, i);
          continue;
        }
        try {
          sm = sanitizeSM(sm);
        } catch (err) {
          if (err instanceof LabelNameError) return { accepted: [], error: new PushError(500, err.message), lines: 0, bytes: 0 };
          throw err;
        }
      }
      if (discoverLevels) {
        let existing = -1;
        for (let j = 0; j < sm.length; j++) if (sm[j]!.name === DETECTED_LEVEL) { existing = j; break; }
        if (existing >= 0) {
          const v = sm[existing]!.value;
          const nv = normalizeLogLevel(v);
          if (nv !== v) {
            sm = sm.slice();
            sm[existing] = { name: DETECTED_LEVEL, value: nv };
          }
        } else {
          if (level === undefined) level = labelLevel ?? levelFromStructuredMetadata(detector, sm) ?? detectLevelFromLogLine(detector, e.line);
          sm = sm.length === 0 ? levelOnly(level) : insertSorted(sm, DETECTED_LEVEL, level);
        }
      }
      if (e instanceof LogEntry) e.structuredMetadata = sm;
      else e = LogEntry.fromString(e.tsNs, e.line, sm);
      if (out !== null) out.push(e);
      else if (e !== e0) (out = st.entries.slice(0, i)).push(e);
      lines++;
      // the frozen level-only lists repeat from entry to entry: their size is counted once
      if (sm !== sizedSm) {
        sizedSm = Object.isFrozen(sm) ? sm : null;
        smBytes = structuredMetadataSize(sm);
      }
      bytes += lineLen + smBytes;
    }
    const kept = out ?? st.entries;
    if (kept.length === 0) continue;
    accepted.push({ labels: st.labels, labelsString: st.labelsString, entries: kept });
  }
  const result: ValidateResult = { accepted, lines, bytes };
  if (errors.length > 0) result.error = new PushError(400, groupErrors(errors));
  return result;
}
