// What Go clients put on the wire, rebuilt independently of the server's own decoders so the
// push tests can send byte-for-byte what Alloy's loki.write, Promtail and the Docker driver send:
// - golang/snappy's block encoder (Encode: varint length, then encodeBlock's 4-byte-hash match
//   finder with its skip heuristic and emitLiteral/emitCopy choices), the codec both Alloy
//   (internal/component/common/loki/client/encode.go) and Promtail (clients/pkg/util/batch.go) use;
// - gogo-protobuf's marshalling of logproto.PushRequest (pkg/push/push.pb.go, types.go):
//   fields written in number order, empty strings and zero hash omitted, the Timestamp always
//   present (stdtime, non-nullable) with zero seconds/nanos omitted inside it;
// - Go's strconv.Quote for label values in `{a="b", c="d"}` strings (labelsMapToString);
// - net/http's request serialisation: Host, User-Agent, Content-Length, the remaining headers
//   in sorted canonical form (X-Scope-OrgID goes out as X-Scope-Orgid), Accept-Encoding: gzip
//   added by the Transport.
import { connect } from 'node:net';

// ------------------------------------------------------------------ snappy (golang/snappy)

const MAX_BLOCK_SIZE = 65536;
const INPUT_MARGIN = 16 - 1;
const MIN_NON_LITERAL_BLOCK_SIZE = 1 + 1 + INPUT_MARGIN;

function load32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

function hash(u: number, shift: number): number {
  return Math.imul(u, 0x1e35a7bd) >>> shift;
}

function emitLiteral(dst: number[], lit: Uint8Array): void {
  const n = lit.length - 1;
  if (n < 60) dst.push((n << 2) | 0);
  else if (n < 256) dst.push(60 << 2, n);
  else dst.push(61 << 2, n & 0xff, (n >> 8) & 0xff);
  for (const b of lit) dst.push(b);
}

function emitCopy(dst: number[], offset: number, length: number): void {
  while (length >= 68) {
    dst.push((63 << 2) | 2, offset & 0xff, (offset >> 8) & 0xff);
    length -= 64;
  }
  if (length > 64) {
    dst.push((59 << 2) | 2, offset & 0xff, (offset >> 8) & 0xff);
    length -= 60;
  }
  if (length >= 12 || offset >= 2048) {
    dst.push(((length - 1) << 2) | 2, offset & 0xff, (offset >> 8) & 0xff);
    return;
  }
  dst.push((((offset >> 8) << 5) | ((length - 4) << 2) | 1) & 0xff, offset & 0xff);
}

function encodeBlock(dst: number[], src: Uint8Array): void {
  const maxTableSize = 1 << 14;
  const tableMask = maxTableSize - 1;
  let shift = 32 - 8;
  for (let tableSize = 1 << 8; tableSize < maxTableSize && tableSize < src.length; tableSize *= 2) shift--;
  const table = new Uint16Array(maxTableSize);
  const sLimit = src.length - INPUT_MARGIN;
  let nextEmit = 0;
  let s = 1;
  let nextHash = hash(load32(src, s), shift);
  outer: for (;;) {
    let skip = 32;
    let nextS = s;
    let candidate = 0;
    for (;;) {
      s = nextS;
      const between = skip >> 5;
      nextS = s + between;
      skip += between;
      if (nextS > sLimit) break outer;
      candidate = table[nextHash & tableMask]!;
      table[nextHash & tableMask] = s;
      nextHash = hash(load32(src, nextS), shift);
      if (load32(src, s) === load32(src, candidate)) break;
    }
    emitLiteral(dst, src.subarray(nextEmit, s));
    for (;;) {
      const base = s;
      s += 4;
      for (let i = candidate + 4; s < src.length && src[i] === src[s]; i++, s++);
      emitCopy(dst, base - candidate, s - base);
      nextEmit = s;
      if (s >= sLimit) break outer;
      // hash table updates at s-1 and s, from one 64-bit load in Go
      const prevHash = hash(load32(src, s - 1), shift);
      table[prevHash & tableMask] = s - 1;
      const cur = load32(src, s);
      const currHash = hash(cur, shift);
      candidate = table[currHash & tableMask]!;
      table[currHash & tableMask] = s;
      if (cur !== load32(src, candidate)) {
        nextHash = hash(load32(src, s + 1), shift);
        s++;
        break;
      }
    }
  }
  if (nextEmit < src.length) emitLiteral(dst, src.subarray(nextEmit));
}

/** golang/snappy Encode (block format, not framed). */
export function goSnappyEncode(src: Uint8Array): Buffer {
  const dst: number[] = [];
  let n = src.length;
  while (n >= 0x80) {
    dst.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  dst.push(n);
  for (let off = 0; off < src.length; off += MAX_BLOCK_SIZE) {
    const p = src.subarray(off, Math.min(src.length, off + MAX_BLOCK_SIZE));
    if (p.length < MIN_NON_LITERAL_BLOCK_SIZE) emitLiteral(dst, p);
    else encodeBlock(dst, p);
  }
  return Buffer.from(dst);
}

// ------------------------------------------------------------------ gogo protobuf PushRequest

export interface GoEntry {
  /** unix nanoseconds */
  ts: bigint;
  line: string;
  structuredMetadata?: [string, string][];
}

export interface GoStream {
  labels: string;
  entries: GoEntry[];
  hash?: bigint;
}

function varint(out: number[], v: bigint): void {
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

function bytesField(out: number[], tag: number, b: Uint8Array): void {
  out.push(tag);
  varint(out, BigInt(b.length));
  for (const x of b) out.push(x);
}

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function marshalEntry(e: GoEntry): number[] {
  const out: number[] = [];
  // google.protobuf.Timestamp: seconds (floor) and nanos in [0, 1e9)
  let secs = e.ts / 1_000_000_000n;
  let nanos = e.ts % 1_000_000_000n;
  if (nanos < 0n) {
    nanos += 1_000_000_000n;
    secs -= 1n;
  }
  const ts: number[] = [];
  if (secs !== 0n) {
    ts.push(0x08);
    varint(ts, secs);
  }
  if (nanos !== 0n) {
    ts.push(0x10);
    varint(ts, nanos);
  }
  bytesField(out, 0x0a, Uint8Array.from(ts));
  if (e.line.length > 0) bytesField(out, 0x12, utf8(e.line));
  for (const [name, value] of e.structuredMetadata ?? []) {
    const pair: number[] = [];
    if (name.length > 0) bytesField(pair, 0x0a, utf8(name));
    if (value.length > 0) bytesField(pair, 0x12, utf8(value));
    bytesField(out, 0x1a, Uint8Array.from(pair));
  }
  return out;
}

/** proto.Marshal(&push.PushRequest{Streams: streams}) as gogo-protobuf writes it. */
export function goMarshalPushRequest(streams: GoStream[]): Buffer {
  const out: number[] = [];
  for (const s of streams) {
    const st: number[] = [];
    if (s.labels.length > 0) bytesField(st, 0x0a, utf8(s.labels));
    for (const e of s.entries) bytesField(st, 0x12, Uint8Array.from(marshalEntry(e)));
    if (s.hash !== undefined && s.hash !== 0n) {
      st.push(0x18);
      varint(st, s.hash);
    }
    bytesField(out, 0x0a, Uint8Array.from(st));
  }
  return Buffer.from(out);
}

// ------------------------------------------------------------------ labels string

/** Go's strconv.Quote for the characters tests use (ASCII escapes, printable Unicode kept). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/**
 * labelsMapToString of Alloy (skips every `__`-prefixed label) or Promtail/Docker driver (skips
 * only __tenant_id__): names sorted, `name="value"` joined by ", ".
 */
export function goLabelsString(labels: Record<string, string>, skip: (name: string) => boolean): string {
  const names = Object.keys(labels).filter((n) => !skip(n)).sort();
  return '{' + names.map((n) => `${n}=${goQuote(labels[n]!)}`).join(', ') + '}';
}

// ------------------------------------------------------------------ net/http request bytes

/** Go's textproto.CanonicalMIMEHeaderKey for ASCII keys. */
export function canonicalHeaderKey(k: string): string {
  return k.toLowerCase().replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

/** The bytes net/http's Transport writes for a POST with these headers and body. */
export function goHttpRequest(url: string, userAgent: string, headers: Record<string, string>, body: Buffer): Buffer {
  const u = new URL(url);
  let head = `POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: ${userAgent}\r\nContent-Length: ${body.length}\r\n`;
  const canon = Object.entries(headers).map(([k, v]) => [canonicalHeaderKey(k), v] as const);
  canon.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [k, v] of canon) head += `${k}: ${v}\r\n`;
  head += 'Accept-Encoding: gzip\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Sends raw request bytes over TCP and returns the status code and body of the answer. */
export function sendRaw(url: string, bytes: Buffer): Promise<{ status: number; body: string; raw: string }> {
  const u = new URL(url);
  return new Promise((res, rej) => {
    const sock = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      rej(new Error('no answer in 10s'));
    }, 10_000);
    const finish = (): void => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      const sep = raw.indexOf('\r\n\r\n');
      res({ status: m ? Number(m[1]) : 0, body: sep >= 0 ? raw.slice(sep + 4) : '', raw });
    };
    sock.on('data', (d) => {
      chunks.push(d);
      const raw = Buffer.concat(chunks).toString('latin1');
      const sep = raw.indexOf('\r\n\r\n');
      if (sep < 0) return;
      const cl = /\r\ncontent-length: (\d+)/i.exec(raw.slice(0, sep));
      // 204 has no body; otherwise wait for Content-Length bytes
      if (/^HTTP\/1\.1 204/.test(raw) || (cl && Buffer.byteLength(raw.slice(sep + 4), 'latin1') >= Number(cl[1]))) {
        sock.end();
        finish();
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    sock.on('end', () => finish());
    sock.write(bytes);
  });
}
