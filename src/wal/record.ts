// Encoding of a push as one WAL record payload: the tenant and, per stream, its label string and
// the accepted entries (timestamp, line, structured metadata).
//
// payload: u8 type=1 | str tenant | u32 streams | per stream: str labels | u32 entries |
//          per entry: i64 ts | str line | u16 sm pairs | (str name | str value)*
// str = u32 byte length + UTF-8 bytes
import type { Labels } from '../util/labels.js';

export const RECORD_PUSH = 1;

export interface WalEntry {
  tsNs: bigint;
  line: string;
  structuredMetadata: Labels;
}

export interface WalStream {
  labels: string;
  entries: WalEntry[];
}

export function encodePushRecord(tenant: string, streams: WalStream[]): Buffer {
  let size = 1 + 4 + Buffer.byteLength(tenant) + 4;
  for (const s of streams) {
    size += 4 + Buffer.byteLength(s.labels) + 4;
    for (const e of s.entries) {
      size += 8 + 4 + Buffer.byteLength(e.line) + 2;
      for (const l of e.structuredMetadata) size += 8 + Buffer.byteLength(l.name) + Buffer.byteLength(l.value);
    }
  }
  const buf = Buffer.allocUnsafe(size);
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
      str(e.line);
      buf.writeUInt16LE(e.structuredMetadata.length, p);
      p += 2;
      for (const l of e.structuredMetadata) {
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
      const line = str();
      const nsm = buf.readUInt16LE(p);
      p += 2;
      const sm: Labels = [];
      for (let k = 0; k < nsm; k++) sm.push({ name: str(), value: str() });
      entries[j] = { tsNs, line, structuredMetadata: sm };
    }
    streams.push({ labels, entries });
  }
  return { tenant, streams };
}
