// Builds a snappy protobuf push whose one line is arbitrary bytes (the encoder only takes strings).
import { snappyCompress } from '../../src/push/index.js';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) { out.push((n % 128) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}
function field(no: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([no * 8 + 2, ...varint(body.length)]), body]);
}

export function writeProtoLine(labels: string, tsNs: bigint, line: Buffer): Buffer {
  const sec = Number(tsNs / 1000000000n);
  const nanos = Number(tsNs % 1000000000n);
  const ts = Buffer.from([8, ...varint(sec), ...(nanos ? [16, ...varint(nanos)] : [])]);
  const entry = Buffer.concat([field(1, ts), field(2, line)]);
  const stream = Buffer.concat([field(1, Buffer.from(labels)), field(2, entry)]);
  return snappyCompress(field(1, stream));
}

/** A snappy protobuf push of several streams whose lines are arbitrary bytes. */
export function writeProtoStreams(streams: { labels: string; entries: { tsNs: bigint; line: Buffer }[] }[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of streams) {
    const es = s.entries.map((e) => {
      const sec = e.tsNs / 1000000000n;
      const nanos = Number(e.tsNs - sec * 1000000000n);
      const ts = Buffer.from([8, ...varint(Number(sec)), ...(nanos ? [16, ...varint(nanos)] : [])]);
      return field(2, Buffer.concat([field(1, ts), field(2, e.line)]));
    });
    parts.push(field(1, Buffer.concat([field(1, Buffer.from(s.labels)), ...es])));
  }
  return snappyCompress(Buffer.concat(parts));
}
