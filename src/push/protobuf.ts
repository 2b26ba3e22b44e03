// logproto.PushRequest wire format (pkg/push/push.proto) without protobufjs: a hand-written
// reader that walks the bytes once and produces raw streams (labels text, entries with exact
// numeric (ms, ns remainder) timestamps, structured metadata pairs), a matching encoder for tests/tools, and a
// snappy *block* decoder that checks the declared uncompressed length against the limit before
// allocating. Error texts follow the gogo-generated unmarshalers and golang/snappy.

import snappy from 'snappyjs';
import { labelsToString, NO_LABELS, type Labels } from '../util/labels.js';
import { LogEntry } from './entry.js';
import { EntryBatch } from './batch.js';
import { kernels, snappyDecodeInto, type ScanKernels } from '../native/index.js';
import { FRESH, type ArenaAlloc } from '../util/request-arena.js';

export class ProtoError extends Error {}
export class SnappyTooLargeError extends Error {
  constructor(readonly size: number) {
    super('decompressed message size too large');
  }
}

/** structured metadata in wire order, unsanitised; the line stays a byte range of the body */
export type RawEntry = LogEntry;

export interface RawStream {
  labels: string;
  /** the entries as objects (empty when `batch` holds them) */
  entries: RawEntry[];
  /** the entries as columns (readPushRequest with `batches`, when every entry is plain) */
  batch?: EntryBatch;
}

// ---------------------------------------------------------------------------------------------
// snappy block format

const CORRUPT = 'snappy: corrupt input';

/** Declared uncompressed length of a snappy block; throws on a malformed header. */
export function snappyDecodedLen(src: Uint8Array): { len: number; headerLen: number } {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10 && i < src.length; i++) {
    const b = src[i]!;
    v += (b & 0x7f) * mul;
    mul *= 128;
    if (b < 0x80) {
      if (v > 0xffffffff) throw new ProtoError(CORRUPT);
      return { len: v, headerLen: i + 1 };
    }
  }
  throw new ProtoError(CORRUPT);
}

/** Decodes a snappy block; `maxLen` bounds the declared length before any allocation. */
export function snappyUncompress(src: Buffer, maxLen: number, alloc?: (bytes: number) => Buffer): Buffer {
  const { len, headerLen } = snappyDecodedLen(src);
  if (maxLen > 0 && len > maxLen) throw new SnappyTooLargeError(len);
  const dst = alloc ? alloc(len) : Buffer.allocUnsafe(len);
  // native kernel when built (src/native), else the TypeScript loop; same result
  if (snappyDecodeInto(src, headerLen, dst) !== len) throw new ProtoError(CORRUPT);
  return dst;
}

export function snappyCompress(buf: Uint8Array): Buffer {
  const out = snappy.compress(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

// ---------------------------------------------------------------------------------------------
// reader

const ERR_OVERFLOW = 'proto: integer overflow';
const ERR_LENGTH = 'proto: negative length found during unmarshaling';
const ERR_EOF = 'unexpected EOF';

let pos = 0; // shared cursor; decoding is synchronous and not re-entrant

function varint(b: Buffer, end: number): number {
  // Values up to 2^53 exactly; larger ones (hash) lose precision, which we do not use.
  let result = 0;
  let mul = 1;
  for (let shift = 0; ; shift += 7) {
    if (shift >= 64) throw new ProtoError(ERR_OVERFLOW);
    if (pos >= end) throw new ProtoError(ERR_EOF);
    const c = b[pos++]!;
    result += (c & 0x7f) * mul;
    mul *= 128;
    if (c < 0x80) return result;
  }
}

/** int64 varint (two's complement) as bigint. */
function varint64(b: Buffer, end: number): bigint {
  let lo = 0;
  let hi = 0n;
  let shift = 0;
  for (;;) {
    if (shift >= 64) throw new ProtoError(ERR_OVERFLOW);
    if (pos >= end) throw new ProtoError(ERR_EOF);
    const c = b[pos++]!;
    if (shift < 28) lo += (c & 0x7f) * 2 ** shift;
    else hi |= BigInt(c & 0x7f) << BigInt(shift);
    shift += 7;
    if (c < 0x80) break;
  }
  let v = (hi | BigInt(lo)) & 0xffffffffffffffffn;
  if (v >= 0x8000000000000000n) v -= 0x10000000000000000n;
  return v;
}

function lengthDelim(b: Buffer, end: number): number {
  const l = varint(b, end);
  if (l > 0x7fffffffffff) throw new ProtoError(ERR_LENGTH);
  const post = pos + l;
  if (post > end) throw new ProtoError(ERR_EOF);
  return post;
}

function skipField(b: Buffer, end: number, wire: number): void {
  switch (wire) {
    case 0:
      varint(b, end);
      return;
    case 1:
      if (pos + 8 > end) throw new ProtoError(ERR_EOF);
      pos += 8;
      return;
    case 2:
      pos = lengthDelim(b, end);
      return;
    case 5:
      if (pos + 4 > end) throw new ProtoError(ERR_EOF);
      pos += 4;
      return;
    default:
      throw new ProtoError(`proto: illegal wireType ${wire}`);
  }
}

function readTag(b: Buffer, end: number, msg: string): number {
  const key = varint(b, end);
  const wire = key % 8;
  const field = Math.floor(key / 8);
  if (wire === 4) throw new ProtoError(`proto: ${msg}: wiretype end group for non-group`);
  if (field <= 0) throw new ProtoError(`proto: ${msg}: illegal tag ${field} (wire type ${wire})`);
  return key;
}

function wrongWire(wire: number, field: string): never {
  throw new ProtoError(`proto: wrong wireType = ${wire} for field ${field}`);
}

const MIN_SECONDS = -62135596800;
const MAX_SECONDS = 253402300800;

// readTimestamp's result: floor(ns / 1e6) and the nanoseconds below it (LogEntry's form). A typed
// array, not two module variables: a module `let` holding a non-Smi number is a new heap number
// on every store (12 MB of garbage per 100 MiB pushed).
const TS = new Float64Array(2);

/** Reads a google.protobuf.Timestamp into TS (numbers: no bigint per entry). */
function readTimestamp(b: Buffer, end: number): void {
  let secFast = false;
  let fastSec = 0;
  let seconds = 0n;
  let nanos = 0;
  while (pos < end) {
    const key = readTag(b, end, 'Timestamp');
    const wire = key % 8;
    const field = Math.floor(key / 8);
    if (field === 1) {
      if (wire !== 0) wrongWire(wire, 'Seconds');
      // Fast path: positive seconds below 2^49 are exact numbers.
      const start = pos;
      const n = varint(b, end);
      if (pos - start < 8) {
        fastSec = n;
        secFast = true;
      } else {
        pos = start;
        seconds = varint64(b, end);
        secFast = false;
      }
    } else if (field === 2) {
      if (wire !== 0) wrongWire(wire, 'Nanos');
      // int32: non-negative values take at most 5 bytes; negatives are 10-byte varints.
      const start = pos;
      const n = varint(b, end);
      if (pos - start <= 5 && n <= 0x7fffffff) nanos = n;
      else {
        pos = start;
        nanos = Number(BigInt.asIntN(32, varint64(b, end)));
      }
    } else skipField(b, end, wire);
  }
  if (secFast && nanos >= 0 && nanos < 1e9 && fastSec < MAX_SECONDS) {
    const subMs = Math.floor(nanos / 1000000);
    TS[0] = fastSec * 1000 + subMs;
    TS[1] = nanos - subMs * 1000000;
    return;
  }
  if (secFast) seconds = BigInt(fastSec);
  const secNum = Number(seconds);
  const shown = `&Timestamp{Seconds:${seconds},Nanos:${nanos},}`;
  if (secNum < MIN_SECONDS) throw new ProtoError(`timestamp: ${shown} before 0001-01-01`);
  if (secNum >= MAX_SECONDS) throw new ProtoError(`timestamp: ${shown} after 10000-01-01`);
  if (nanos < 0 || nanos >= 1e9) throw new ProtoError(`timestamp: ${shown}: nanos not in range [0, 1e9)`);
  // in range: seconds (|s| < 2^38) and the whole ms are exact numbers
  const subMs = Math.floor(nanos / 1000000);
  TS[0] = secNum * 1000 + subMs;
  TS[1] = nanos - subMs * 1000000;
}

function readPair(b: Buffer, end: number, out: Labels): void {
  let name = '';
  let value = '';
  while (pos < end) {
    const key = readTag(b, end, 'LabelPairAdapter');
    const wire = key % 8;
    const field = Math.floor(key / 8);
    if (field === 1 || field === 2) {
      if (wire !== 2) wrongWire(wire, field === 1 ? 'Name' : 'Value');
      const post = lengthDelim(b, end);
      const str = b.toString('utf8', pos, post);
      if (field === 1) name = str;
      else value = str;
      pos = post;
    } else skipField(b, end, wire);
  }
  out.push({ name, value });
}

/** Go's zero time (0001-01-01T00:00:00Z) in ms: an entry without a Timestamp field */
const ZERO_TIME_MS = -62135596800 * 1000;

function readEntry(b: Buffer, end: number): RawEntry {
  let ms = ZERO_TIME_MS;
  let rem = 0;
  let lineStart = 0;
  let lineEnd = 0;
  let sm: Labels = NO_LABELS;
  while (pos < end) {
    const key = readTag(b, end, 'EntryAdapter');
    const wire = key % 8;
    const field = Math.floor(key / 8);
    switch (field) {
      case 1: {
        if (wire !== 2) wrongWire(wire, 'Timestamp');
        const post = lengthDelim(b, end);
        readTimestamp(b, post);
        ms = TS[0]!;
        rem = TS[1]!;
        pos = post;
        break;
      }
      case 2: {
        if (wire !== 2) wrongWire(wire, 'Line');
        const post = lengthDelim(b, end);
        lineStart = pos;
        lineEnd = post;
        pos = post;
        break;
      }
      case 3:
      case 4: {
        if (wire !== 2) wrongWire(wire, field === 3 ? 'StructuredMetadata' : 'Parsed');
        const post = lengthDelim(b, end);
        if (field === 3) {
          if (sm === NO_LABELS) sm = [];
          readPair(b, post, sm);
        }
        pos = post;
        break;
      }
      default:
        skipField(b, end, wire);
    }
  }
  return LogEntry.fromBytesMs(ms, rem, b, lineStart, lineEnd, sm);
}

/** Does the current readPushRequest want plain streams as columns (EntryBatch)? */
let batches = false;
/** where the current readPushRequest's columns come from */
let columns: ArenaAlloc = FRESH;

/** scanStream's output (grown when a stream has more entries than it holds). */
let scanOut = new Float64Array(2 + 4 * 8192);

/**
 * A stream message through the scanStream kernel: labels and plain entries come back as numbers
 * and ranges, entries with metadata fields are read by readEntry; null when the kernel leaves the
 * stream to readStream (the TypeScript kernel always does; the native one on anything unusual).
 */
function scanStream(b: Buffer, end: number, k: Pick<ScanKernels, 'scanStream'>): RawStream | null {
  const start = pos;
  let n = k.scanStream(b, start, end, scanOut);
  while (n === -2) {
    scanOut = new Float64Array(2 * scanOut.length);
    n = k.scanStream(b, start, end, scanOut);
  }
  if (n < 0) return null;
  const o = scanOut;
  const labels = o[0]! >= 0 ? b.toString('utf8', o[0]!, o[1]!) : '';
  if (batches && n > 0) {
    // columns when no entry has metadata fields (rem < 0 marks one the kernel left to readEntry)
    let plain = true;
    for (let j = 3; j < 2 + 4 * n; j += 4) if (o[j]! < 0) { plain = false; break; }
    if (plain) {
      const ms = columns.f64(n);
      const rem = columns.i32(n);
      const ranges = columns.i32(2 * n);
      for (let i = 0, j = 2; i < n; i++, j += 4) {
        ms[i] = o[j]!;
        rem[i] = o[j + 1]!;
        ranges[2 * i] = o[j + 2]!;
        ranges[2 * i + 1] = o[j + 3]!;
      }
      pos = end;
      return { labels, entries: [], batch: new EntryBatch(b, n, ms, rem, ranges, columns.zeros(n)) };
    }
  }
  const entries: RawEntry[] = new Array(n);
  for (let i = 0, j = 2; i < n; i++, j += 4) {
    const rem = o[j + 1]!;
    if (rem >= 0) entries[i] = LogEntry.fromBytesMs(o[j]!, rem, b, o[j + 2]!, o[j + 3]!, NO_LABELS);
    else {
      pos = o[j + 2]!;
      entries[i] = readEntry(b, o[j + 3]!);
    }
  }
  pos = end;
  return { labels, entries };
}

function readStream(b: Buffer, end: number, k: Pick<ScanKernels, 'scanStream'> = kernels): RawStream {
  const fast = scanStream(b, end, k);
  if (fast !== null) return fast;
  let labels = '';
  const entries: RawEntry[] = [];
  while (pos < end) {
    const key = readTag(b, end, 'StreamAdapter');
    const wire = key % 8;
    const field = Math.floor(key / 8);
    switch (field) {
      case 1: {
        if (wire !== 2) wrongWire(wire, 'StructuredMetadata');
        const post = lengthDelim(b, end);
        labels = b.toString('utf8', pos, post);
        pos = post;
        break;
      }
      case 2: {
        if (wire !== 2) wrongWire(wire, 'Entries');
        const post = lengthDelim(b, end);
        entries.push(readEntry(b, post));
        pos = post;
        break;
      }
      case 3:
        if (wire !== 0) wrongWire(wire, 'Hash');
        varint(b, end);
        break;
      default:
        skipField(b, end, wire);
    }
  }
  return { labels, entries };
}

/**
 * Parses an uncompressed logproto.PushRequest. Throws ProtoError with gogo-like texts. `k`: whose
 * scanStream kernel reads stream messages first (tests compare the native one to the parser).
 * `withBatches`: streams the kernel read whole, without metadata fields, come back as columns,
 * allocated from `arena` (the request's, released once the push returned).
 */
export function readPushRequest(b: Buffer, k: Pick<ScanKernels, 'scanStream'> = kernels, withBatches = false, arena: ArenaAlloc = FRESH): RawStream[] {
  pos = 0;
  batches = withBatches;
  columns = arena;
  try {
    return readStreams(b, k);
  } finally {
    columns = FRESH; // not kept past the call
  }
}

function readStreams(b: Buffer, k: Pick<ScanKernels, 'scanStream'>): RawStream[] {
  const streams: RawStream[] = [];
  const end = b.length;
  while (pos < end) {
    const key = readTag(b, end, 'PushRequest');
    const wire = key % 8;
    const field = Math.floor(key / 8);
    if (field === 1) {
      if (wire !== 2) wrongWire(wire, 'Streams');
      const post = lengthDelim(b, end);
      streams.push(readStream(b, post, k));
      pos = post;
    } else if (field === 2) {
      if (wire !== 2) wrongWire(wire, 'Format');
      pos = lengthDelim(b, end);
    } else skipField(b, end, wire);
  }
  return streams;
}

// ---------------------------------------------------------------------------------------------
// writer

class Writer {
  buf: Buffer;
  len = 0;
  constructor(size = 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }
  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }
  varint64(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    this.ensure(10);
    while (u >= 0x80n) {
      this.buf[this.len++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.len++] = Number(u);
  }
  bytes(field: number, data: Buffer): void {
    this.varint(field * 8 + 2);
    this.varint(data.length);
    this.ensure(data.length);
    data.copy(this.buf, this.len);
    this.len += data.length;
  }
  string(field: number, s: string): void {
    const n = Buffer.byteLength(s);
    this.varint(field * 8 + 2);
    this.varint(n);
    this.ensure(n);
    this.len += this.buf.write(s, this.len, 'utf8');
  }
  /** Starts a length-delimited submessage; returns a mark for end(). Reserves 5 bytes of length. */
  begin(field: number): number {
    this.varint(field * 8 + 2);
    this.ensure(5);
    const mark = this.len;
    this.len += 5;
    return mark;
  }
  end(mark: number): void {
    let l = this.len - mark - 5;
    // fixed 5-byte varint (padded with continuation bits) keeps this single-pass
    for (let i = 0; i < 4; i++) {
      this.buf[mark + i] = (l & 0x7f) | 0x80;
      l >>>= 7;
    }
    this.buf[mark + 4] = l & 0x7f;
  }
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

export interface EncodableStream {
  labels: string | Labels;
  entries: ReadonlyArray<{ tsNs: bigint; line: string; structuredMetadata?: Labels }>;
}

function labelsText(l: string | Labels): string {
  return typeof l === 'string' ? l : labelsToString(l);
}

/** Encodes a logproto.PushRequest (not compressed). */
export function encodePushRequestRaw(streams: ReadonlyArray<EncodableStream>): Buffer {
  const w = new Writer(4096);
  for (const st of streams) {
    const sm = w.begin(1);
    w.string(1, labelsText(st.labels));
    for (const e of st.entries) {
      const em = w.begin(2);
      const tm = w.begin(1);
      let sec = e.tsNs / 1000000000n;
      let nanos = e.tsNs % 1000000000n;
      if (nanos < 0n) { nanos += 1000000000n; sec -= 1n; }
      if (sec !== 0n) { w.varint(8); w.varint64(sec); }
      if (nanos !== 0n) { w.varint(16); w.varint(Number(nanos)); }
      w.end(tm);
      if (e.line !== '') w.string(2, e.line);
      if (e.structuredMetadata) {
        for (const l of e.structuredMetadata) {
          const lm = w.begin(3);
          if (l.name !== '') w.string(1, l.name);
          if (l.value !== '') w.string(2, l.value);
          w.end(lm);
        }
      }
      w.end(em);
    }
    w.end(sm);
  }
  return w.finish();
}
