// One log entry on the ingest path. A protobuf push keeps each line as a byte range of the
// decompressed request body (and a WAL replay as a range of the record) from decoding through
// validation, WAL encoding and head append, so a line is never decoded to a JS string and
// re-encoded to UTF-8 on the way: `line` builds the string only when something asks for it
// (tail, forwarder, pattern mining, level detection of non-ASCII/JSON lines). JSON pushes carry
// strings. Functions here also accept plain `{ tsNs, line, structuredMetadata }` objects.
// A LogEntry keeps its timestamp as two exact numbers, milliseconds since the epoch (floored) and
// the nanoseconds below them, instead of a bigint: the decoder, validation, the ingester's
// per-stream rules and the block encoder compare and subtract numbers, and `tsNs` builds the
// bigint only when something asks for it (a bigint per entry was most of the ingest garbage).
import type { Labels } from '../util/labels.js';

/** floor(ns / 1e6) of a bigint nanosecond timestamp, as a number (exact for every int64). */
export function msOf(tsNs: bigint): number {
  let ms = tsNs / 1000000n;
  if (tsNs < 0n && ms * 1000000n !== tsNs) ms -= 1n;
  return Number(ms);
}

/** tsNs - msOf(tsNs) * 1e6: the nanoseconds below the millisecond, 0..999999. */
export function remOf(tsNs: bigint): number {
  const r = Number(tsNs % 1000000n);
  return r < 0 ? r + 1000000 : r;
}

/** The bigint nanosecond timestamp of (ms, rem). */
export function nsOf(ms: number, rem: number): bigint {
  return rem === 0 ? BigInt(ms) * 1000000n : BigInt(ms) * 1000000n + BigInt(rem);
}

export interface EntryLike {
  tsNs: bigint;
  readonly line: string;
  structuredMetadata: Labels;
}

export class LogEntry implements EntryLike {
  // The timestamp as whole seconds (floored) and the nanoseconds past them (0..999999999): both
  // small integers for any time before 2038, so they live in the object itself, where a
  // millisecond count (above 2^31) would be a separate heap number per entry. `ms` and `rem`
  // are derived from them.
  private sec: number;
  private nsec: number;
  structuredMetadata: Labels;
  /** bytes of the line: src[start, end) (src null: the line is only a string, start 0 and end its UTF-8 length) */
  src: Buffer | null;
  start: number;
  end: number;
  private str: string | null;

  private constructor(ms: number, rem: number, src: Buffer | null, start: number, end: number, str: string | null, sm: Labels) {
    const sec = Math.floor(ms / 1000);
    this.sec = sec;
    this.nsec = (ms - sec * 1000) * 1000000 + rem;
    this.src = src;
    this.start = start;
    this.end = end;
    this.str = str;
    this.structuredMetadata = sm;
  }

  /** floor(ns / 1e6) of the timestamp */
  get ms(): number {
    const n = this.nsec;
    return this.sec * 1000 + (n - (n % 1000000)) / 1000000;
  }

  /** the nanoseconds of the timestamp below its millisecond, 0..999999 */
  get rem(): number {
    return this.nsec % 1000000;
  }

  /** UTF-8 byte length of the line */
  get lineLen(): number {
    return this.end - this.start;
  }

  /** An entry whose line is src[start, end) (UTF-8; invalid sequences decode to U+FFFD as before). */
  static fromBytes(tsNs: bigint, src: Buffer, start: number, end: number, sm: Labels): LogEntry {
    return new LogEntry(msOf(tsNs), remOf(tsNs), src, start, end, null, sm);
  }

  /** fromBytes with the timestamp as (ms, rem) (rem in 0..999999; no bigint is made). */
  static fromBytesMs(ms: number, rem: number, src: Buffer, start: number, end: number, sm: Labels): LogEntry {
    return new LogEntry(ms, rem, src, start, end, null, sm);
  }

  static fromString(tsNs: bigint, line: string, sm: Labels): LogEntry {
    return new LogEntry(msOf(tsNs), remOf(tsNs), null, 0, utf8Length(line), line, sm);
  }

  /** An entry with this one's timestamp and another line (given as a string). */
  withLine(line: string, sm: Labels): LogEntry {
    return new LogEntry(this.ms, this.rem, null, 0, utf8Length(line), line, sm);
  }

  /** The timestamp in nanoseconds (a new bigint each time: hot paths read ms/rem). */
  get tsNs(): bigint {
    return nsOf(this.ms, this.rem);
  }

  set tsNs(v: bigint) {
    const ms = msOf(v);
    const sec = Math.floor(ms / 1000);
    this.sec = sec;
    this.nsec = (ms - sec * 1000) * 1000000 + remOf(v);
  }

  get line(): string {
    let s = this.str;
    if (s === null) {
      s = this.src!.toString('utf8', this.start, this.end);
      this.str = s;
    }
    return s;
  }

  /** Decodes the line and drops the reference to the source buffer (before an entry outlives its push). */
  detach(): void {
    if (this.src === null) return;
    void this.line;
    this.src = null;
  }
}

/** UTF-8 byte length without allocating for short ASCII strings. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n >= 16) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** floor(tsNs / 1e6) of any entry, as a number. */
export function entryMs(e: EntryLike): number {
  return e instanceof LogEntry ? e.ms : msOf(e.tsNs);
}

/** The nanoseconds of any entry's timestamp below its millisecond (0..999999). */
export function entryRem(e: EntryLike): number {
  return e instanceof LogEntry ? e.rem : remOf(e.tsNs);
}

/** UTF-8 byte length of an entry's line. */
export function lineLength(e: EntryLike): number {
  return e instanceof LogEntry ? e.lineLen : utf8Length(e.line);
}

/** Writes the line's UTF-8 bytes at dst[pos]; returns the number of bytes written (= lineLength(e)). */
export function writeLine(e: EntryLike, dst: Buffer, pos: number): number {
  if (e instanceof LogEntry && e.src !== null) {
    const src = e.src;
    const s = e.start;
    const n = e.end - s;
    // Typical log lines are cheaper to copy as a loop than through Buffer#copy, which allocates
    // a view per call (about 2x on the ingest path).
    if (n < 512) for (let i = 0; i < n; i++) dst[pos + i] = src[s + i]!;
    else src.copy(dst, pos, s, e.end);
    return n;
  }
  const line = e.line;
  return line.length === 0 ? 0 : dst.write(line, pos, 'utf8');
}

/** Do two entries carry the same line (byte-equal)? Compares bytes when both have them. */
export function sameLine(a: EntryLike, b: EntryLike): boolean {
  if (a instanceof LogEntry && b instanceof LogEntry && a.src !== null && b.src !== null) {
    const n = a.end - a.start;
    if (n !== b.end - b.start) return false;
    return a.src.compare(b.src, b.start, b.end, a.start, a.end) === 0;
  }
  return a.line === b.line;
}
