// Encoding of a push as one WAL record payload: the tenant and, per stream, its label string and
// the accepted entries (timestamp, line, structured metadata).
//
// payload: u8 type=1 | str tenant | u32 streams | per stream: str labels | u32 entries |
//          per entry: i64 ts | str line | u16 sm pairs | (str name | str value)*
// str = u32 byte length + UTF-8 bytes. Decoded lines stay byte ranges of the payload (LogEntry).
import type { Labels } from '../util/labels.js';
import { LogEntry, lineLength, writeLine, type EntryLike } from '../push/entry.js';

export const RECORD_PUSH = 1;

/** An entry as the WAL carries it (LogEntry: lines are copied as bytes, never re-encoded). */
export type WalEntry = EntryLike;

/** Encoded `u16 count | str name | str value` of single-pair structured metadata (mostly detected_level). */
const onePair = new Map<string, Map<string, Buffer>>();
function onePairBytes(name: string, value: string): Buffer {
  let m = onePair.get(name);
  if (m === undefined) {
    m = new Map();
    if (onePair.size < 16) onePair.set(name, m);
  }
  let b = m.get(value);
  if (b === undefined) {
    const nl = Buffer.byteLength(name);
    const vl = Buffer.byteLength(value);
    b = Buffer.allocUnsafe(2 + 4 + nl + 4 + vl);
    b.writeUInt16LE(1, 0);
    b.writeUInt32LE(nl, 2);
    b.write(name, 6, 'utf8');
    b.writeUInt32LE(vl, 6 + nl);
    b.write(value, 10 + nl, 'utf8');
    if (m.size < 64) m.set(value, b);
  }
  return b;
}

export interface WalStream {
  labels: string;
  entries: WalEntry[];
}

/** `alloc`: where the record goes (default: a new buffer), e.g. a BufferPool's acquire. */
export function encodePushRecord(tenant: string, streams: WalStream[], alloc?: (bytes: number) => Buffer): Buffer {
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
        const b = onePairBytes(sm[0]!.name, sm[0]!.value);
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

export function decodePushRecord(buf: Buffer): { tenant: string; streams: WalStream[] } {
  let p = 0;
  const str = (): string => {
    const n = buf.readUInt32LE(p);
    const s = buf.toString('utf8', p + 4, p + 4 + n);
    p += 4 + n;
    return s;
  };
  if (buf[p++] !== RECORD_PUSH) throw new Error('unknown WAL record type');
  const tenant = str();
  const ns = buf.readUInt32LE(p);
  p += 4;
  const streams: WalStream[] = [];
  for (let i = 0; i < ns; i++) {
    const labels = str();
    const ne = buf.readUInt32LE(p);
    p += 4;
    const entries: WalEntry[] = new Array(ne);
    for (let j = 0; j < ne; j++) {
      const tsNs = buf.readBigInt64LE(p);
      p += 8;
      const ll = buf.readUInt32LE(p);
      const lineStart = p + 4;
      p = lineStart + ll;
      const nsm = buf.readUInt16LE(p);
      p += 2;
      const sm: Labels = [];
      for (let k = 0; k < nsm; k++) sm.push({ name: str(), value: str() });
      entries[j] = LogEntry.fromBytes(tsNs, buf, lineStart, lineStart + ll, sm);
    }
    streams.push({ labels, entries });
  }
  return { tenant, streams };
}
