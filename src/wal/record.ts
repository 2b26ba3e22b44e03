// Encoding of a push as one WAL record payload. Two record types:
//
// type 1 (entries): the tenant and, per stream, its label string and the accepted entries.
//   u8 1 | str tenant | u32 streams | per stream: str labels | u32 entries |
//   per entry: i64 ts | str line | u16 sm pairs | (str name | str value)*
//
// type 2 (request body): for protobuf pushes whose accepted entries are unchanged byte ranges of
// the request body with no structured metadata but detected_level (nearly all of them): the
// body as received (snappy) or decompressed, then which entries were accepted and their level.
// No line is copied, and the WAL holds the wire bytes (~0.4x raw) instead of ~1.3x raw.
//   u8 2 | str tenant | u8 codec (0 protobuf, 1 snappy protobuf) | u32 body length | body |
//   u8 levels | levels x str level | u32 streams |
//   per stream: str labels | u32 entries | entries x uvarint (start offset in the decompressed
//   body, minus the previous entry's) | entries x u8 (0: no metadata, k: detected_level=levels[k-1])
//
// str = u32 byte length + UTF-8 bytes. Decoded lines stay byte ranges of the payload or body (LogEntry).
import type { Labels } from '../util/labels.js';
import { LogEntry, lineLength, writeLine, type EntryLike } from '../push/entry.js';
import { readPushRequest, snappyUncompress } from '../push/protobuf.js';
import { DETECTED_LEVEL, levelOnly } from '../push/detect.js';
import { levelValue, type EntryBatch } from '../push/batch.js';
import { putUvarint, VarintReader } from '../util/varint.js';
import { PairCache } from '../util/pair-cache.js';
import { FRESH, type ArenaAlloc } from '../util/request-arena.js';

export const RECORD_PUSH = 1;
export const RECORD_PUSH_BODY = 2;


/** The request body a protobuf push was decoded from (entries are byte ranges of `raw`). */
export interface PushBody {
  /** the decompressed protobuf message */
  raw: Buffer;
  /** the body as received when it was snappy-compressed (smaller to log), else null */
  snappy: Buffer | null;
  /** where the record's index part goes (the request's arena; default: a new buffer) */
  arena?: ArenaAlloc;
}

/** An entry as the WAL carries it (LogEntry: lines are copied as bytes, never re-encoded). */
export type WalEntry = EntryLike;

/** Encoded `u16 count | str name | str value` of single-pair structured metadata (mostly detected_level). */
const onePair = new PairCache((name: string, value: string): Buffer => {
  const nl = Buffer.byteLength(name);
  const vl = Buffer.byteLength(value);
  const b = Buffer.allocUnsafe(2 + 4 + nl + 4 + vl);
  b.writeUInt16LE(1, 0);
  b.writeUInt32LE(nl, 2);
  b.write(name, 6, 'utf8');
  b.writeUInt32LE(vl, 6 + nl);
  b.write(value, 10 + nl, 'utf8');
  return b;
});

export interface WalStream {
  labels: string;
  /** the entries (as objects; empty while `batch` holds them) */
  entries: WalEntry[];
  /** the entries as columns (push/batch.ts), when the push kept them so */
  batch?: EntryBatch | undefined;
}

/** The stream's entries as objects (made from the columns when it has them). */
export function walEntries(s: WalStream): WalEntry[] {
  return s.batch !== undefined ? s.batch.materialize() : s.entries;
}

/** Record-local level index + 1 of each batch level code (reset per record; 0 = not yet listed). */
const localLevel = new Uint8Array(256);

/** `alloc`: where the record goes (default: a new buffer), e.g. a BufferPool's acquire. */
export function encodePushRecord(tenant: string, walStreams: WalStream[], alloc?: (bytes: number) => Buffer): Buffer {
  const streams = walStreams.map((s) => (s.batch !== undefined ? { labels: s.labels, entries: walEntries(s) } : s));
  let size = 1 + 4 + Buffer.byteLength(tenant) + 4;
  for (const s of streams) {
    size += 4 + Buffer.byteLength(s.labels) + 4;
    for (const e of s.entries) {
      size += 8 + 4 + lineLength(e) + 2;
      const sm = e.structuredMetadata;
      for (let k = 0; k < sm.length; k++) size += 8 + Buffer.byteLength(sm[k]!.name) + Buffer.byteLength(sm[k]!.value);
    }
  }
  const buf = alloc ? alloc(size) : Buffer.allocUnsafe(size);
  let p = 0;
  const str = (s: string): void => {
    const n = buf.write(s, p + 4, 'utf8');
    buf.writeUInt32LE(n, p);
    p += 4 + n;
  };
  buf[p++] = RECORD_PUSH;
  str(tenant);
  buf.writeUInt32LE(streams.length, p);
  p += 4;
  for (const s of streams) {
    str(s.labels);
    buf.writeUInt32LE(s.entries.length, p);
    p += 4;
    for (const e of s.entries) {
      buf.writeBigInt64LE(e.tsNs, p);
      p += 8;
      const n = writeLine(e, buf, p + 4);
      buf.writeUInt32LE(n, p);
      p += 4 + n;
      const sm = e.structuredMetadata;
      if (sm.length === 1) {
        const b = onePair.get(sm[0]!.name, sm[0]!.value);
        for (let k = 0; k < b.length; k++) buf[p + k] = b[k]!; // short: a loop beats a native copy
        p += b.length;
        continue;
      }
      buf.writeUInt16LE(sm.length, p);
      p += 2;
      for (const l of sm) {
        str(l.name);
        str(l.value);
      }
    }
  }
  return p === size ? buf : buf.subarray(0, p);
}

/**
 * A type-2 record's parts (written back to back, the body not copied), or null when some accepted
 * entry is not an unchanged byte range of `body.raw` or carries other structured metadata than
 * detected_level: the caller then writes a type-1 record.
 */
export function encodePushBodyRecord(tenant: string, streams: WalStream[], body: PushBody): Uint8Array[] | null {
  const raw = body.raw;
  const levels: string[] = [];
  let n = 0;
  // consecutive entries mostly share one metadata list (detect.ts levelOnly): checked once
  let seenSm: unknown = null;
  localLevel.fill(0);
  for (const s of streams) {
    let prev = -1;
    const b = s.batch;
    if (b !== undefined) {
      if (b.src !== raw) return null;
      const r = b.ranges;
      const lv = b.level;
      for (let i = 0; i < b.n; i++) {
        const start = r[2 * i]!;
        if (start <= prev || start === 0) return null;
        prev = start;
        const c = lv[i]!;
        if (c === 0 || localLevel[c] !== 0) continue;
        const v = levelValue(c);
        let k = levels.indexOf(v);
        if (k < 0) {
          if (levels.length === 255) return null;
          k = levels.push(v) - 1;
        }
        localLevel[c] = k + 1;
      }
      n += b.n;
      continue;
    }
    for (const e of s.entries) {
      // (an entry without a Line field has start 0, which names no unique entry: type 1 then)
      if (!(e instanceof LogEntry) || e.src !== raw || e.start <= prev || e.start === 0) return null;
      prev = e.start;
      const sm = e.structuredMetadata;
      if (sm.length === 0 || sm === seenSm) continue;
      seenSm = sm;
      if (sm.length !== 1 || sm[0]!.name !== DETECTED_LEVEL) return null;
      const v = sm[0]!.value;
      if (!levels.includes(v)) {
        if (levels.length === 255) return null;
        levels.push(v);
      }
    }
    n += s.entries.length;
  }
  const tenantB = Buffer.from(tenant, 'utf8');
  const levelsB = levels.map((l) => Buffer.from(l, 'utf8'));
  let headSize = 1 + 4 + tenantB.length + 1 + 4;
  let tailSize = 1 + 4;
  for (const b of levelsB) tailSize += 4 + b.length;
  for (const s of streams) tailSize += 4 + Buffer.byteLength(s.labels) + 4;
  tailSize += n * (5 + 1);
  const head = Buffer.allocUnsafe(headSize);
  let p = 0;
  head[p++] = RECORD_PUSH_BODY;
  head.writeUInt32LE(tenantB.length, p);
  p += 4;
  p += tenantB.copy(head, p);
  const bodyBytes = body.snappy ?? raw;
  head[p++] = body.snappy ? 1 : 0;
  head.writeUInt32LE(bodyBytes.length, p);
  p += 4;
  headSize = p;
  const tail = (body.arena ?? FRESH).bytes(tailSize);
  p = 0;
  tail[p++] = levels.length;
  for (const b of levelsB) {
    tail.writeUInt32LE(b.length, p);
    p += 4;
    p += b.copy(tail, p);
  }
  tail.writeUInt32LE(streams.length, p);
  p += 4;
  for (const s of streams) {
    const n = tail.write(s.labels, p + 4, 'utf8');
    tail.writeUInt32LE(n, p);
    p += 4 + n;
    const b = s.batch;
    if (b !== undefined) {
      tail.writeUInt32LE(b.n, p);
      p += 4;
      const r = b.ranges;
      let prev = 0;
      for (let i = 0; i < b.n; i++) {
        const start = r[2 * i]!;
        p = putUvarint(tail, p, start - prev);
        prev = start;
      }
      const lv = b.level;
      for (let i = 0; i < b.n; i++) tail[p++] = localLevel[lv[i]!]!;
      continue;
    }
    tail.writeUInt32LE(s.entries.length, p);
    p += 4;
    let prev = 0;
    for (const e of s.entries) {
      const start = (e as LogEntry).start;
      p = putUvarint(tail, p, start - prev);
      prev = start;
    }
    let lastSm: unknown = null;
    let lastCode = 0;
    for (const e of s.entries) {
      const sm = e.structuredMetadata;
      if (sm !== lastSm) {
        lastSm = sm;
        lastCode = sm.length === 0 ? 0 : levels.indexOf(sm[0]!.value) + 1;
      }
      tail[p++] = lastCode;
    }
  }
  return [head.subarray(0, headSize), bodyBytes, tail.subarray(0, p)];
}

/** Reads a record front to back (`str` = u32 byte length + UTF-8, as both record types write it). */
class RecordCursor {
  constructor(readonly buf: Buffer, public p: number) {}
  u32(): number {
    const v = this.buf.readUInt32LE(this.p);
    this.p += 4;
    return v;
  }
  str(): string {
    const n = this.u32();
    const s = this.buf.toString('utf8', this.p, this.p + n);
    this.p += n;
    return s;
  }
}

/** Decodes a record of either type. */
export function decodePushRecord(buf: Buffer): { tenant: string; streams: WalStream[] } {
  if (buf[0] === RECORD_PUSH_BODY) return decodePushBodyRecord(buf);
  if (buf[0] !== RECORD_PUSH) throw new Error('unknown WAL record type');
  const c = new RecordCursor(buf, 1);
  const tenant = c.str();
  const ns = c.u32();
  const streams: WalStream[] = [];
  for (let i = 0; i < ns; i++) {
    const labels = c.str();
    const ne = c.u32();
    const entries: WalEntry[] = new Array(ne);
    for (let j = 0; j < ne; j++) {
      const tsNs = buf.readBigInt64LE(c.p);
      c.p += 8;
      const ll = c.u32();
      const lineStart = c.p;
      c.p = lineStart + ll;
      const nsm = buf.readUInt16LE(c.p);
      c.p += 2;
      const sm: Labels = [];
      for (let k = 0; k < nsm; k++) sm.push({ name: c.str(), value: c.str() });
      entries[j] = LogEntry.fromBytes(tsNs, buf, lineStart, lineStart + ll, sm);
    }
    streams.push({ labels, entries });
  }
  return { tenant, streams };
}

function decodePushBodyRecord(buf: Buffer): { tenant: string; streams: WalStream[] } {
  const c = new RecordCursor(buf, 1);
  const tenant = c.str();
  const codec = buf[c.p++];
  const bodyLen = c.u32();
  const body = buf.subarray(c.p, c.p + bodyLen);
  c.p += bodyLen;
  const raw = codec === 1 ? snappyUncompress(body, 0) : body;
  // every entry of the body by its start offset (accepted ones are picked from these)
  const byStart = new Map<number, LogEntry>();
  for (const st of readPushRequest(raw)) for (const e of st.entries) byStart.set(e.start, e);
  const nLevels = buf[c.p++]!;
  const levels: Labels[] = [];
  for (let i = 0; i < nLevels; i++) levels.push(levelOnly(c.str()));
  const ns = c.u32();
  const streams: WalStream[] = [];
  const r = new VarintReader(buf, 0);
  for (let i = 0; i < ns; i++) {
    const labels = c.str();
    const ne = c.u32();
    const entries: WalEntry[] = new Array(ne);
    r.pos = c.p;
    let start = 0;
    for (let j = 0; j < ne; j++) {
      start += r.uvarint();
      const e = byStart.get(start);
      if (e === undefined) throw new Error('WAL record names an entry its request body does not hold');
      entries[j] = e;
    }
    c.p = r.pos;
    for (let j = 0; j < ne; j++) {
      const code = buf[c.p++]!;
      const e = entries[j] as LogEntry;
      e.structuredMetadata = code === 0 ? [] : levels[code - 1]!;
    }
    streams.push({ labels, entries });
  }
  return { tenant, streams };
}
