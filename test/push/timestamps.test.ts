// Protobuf entry timestamps decode to exact (ms, ns remainder) numbers (entry.ts): every valid
// Timestamp reads back to the nanosecond as the bigint decoder read it, an entry without one is
// Go's zero time, and out-of-range values keep gogo's error texts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readPushRequest, encodePushRequestRaw, ProtoError } from '../../src/push/protobuf.js';

const MIN_NS = -62135596800n * 1000000000n;
const MAX_NS = 253402300800n * 1000000000n - 1n;

function varint(v: bigint): number[] {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return out;
}

/** A PushRequest with one stream and one entry whose Timestamp has the given raw fields. */
function withTimestamp(seconds: bigint | null, nanos: bigint | null): Buffer {
  const ts = [...(seconds === null ? [] : [8, ...varint(seconds)]), ...(nanos === null ? [] : [16, ...varint(nanos)])];
  const entry = [10, ts.length, ...ts, 18, 1, 120];
  const labels = Buffer.from('{a="b"}');
  const stream = [10, labels.length, ...labels, 18, entry.length, ...entry];
  return Buffer.from([10, stream.length, ...stream]);
}

describe('protobuf timestamps', () => {
  it('read back every valid timestamp to the nanosecond', () => {
    fc.assert(fc.property(fc.oneof(fc.bigInt({ min: MIN_NS, max: MAX_NS }), fc.bigInt({ min: -3_000_000_000n, max: 3_000_000_000n }), fc.constantFrom(MIN_NS, MAX_NS, 0n, -1n, 1n)), (ts) => {
      const body = encodePushRequestRaw([{ labels: '{a="b"}', entries: [{ tsNs: ts, line: 'x' }] }]);
      const e = readPushRequest(body)[0]!.entries[0]!;
      expect(e.tsNs).toBe(ts);
      expect(e.rem).toBeGreaterThanOrEqual(0);
      expect(e.rem).toBeLessThan(1000000);
    }), { numRuns: 500 });
  });

  it('reads an entry without a Timestamp as Go zero time, and an empty one as the epoch', () => {
    const noTs = Buffer.from([10, 14, 10, 7, ...Buffer.from('{a="b"}'), 18, 3, 18, 1, 120]);
    expect(readPushRequest(noTs)[0]!.entries[0]!.tsNs).toBe(MIN_NS);
    expect(readPushRequest(withTimestamp(null, null))[0]!.entries[0]!.tsNs).toBe(0n);
    expect(readPushRequest(withTimestamp(null, 5n))[0]!.entries[0]!.tsNs).toBe(5n);
    expect(readPushRequest(withTimestamp(-1n, 999999999n))[0]!.entries[0]!.tsNs).toBe(-1n);
  });

  it('keeps the error texts for out-of-range values', () => {
    const err = (s: bigint | null, n: bigint | null): string => {
      try {
        readPushRequest(withTimestamp(s, n));
      } catch (e) {
        expect(e).toBeInstanceOf(ProtoError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err(-62135596801n, 0n)).toBe('timestamp: &Timestamp{Seconds:-62135596801,Nanos:0,} before 0001-01-01');
    expect(err(253402300800n, 0n)).toBe('timestamp: &Timestamp{Seconds:253402300800,Nanos:0,} after 10000-01-01');
    expect(err(5n, -1n)).toBe('timestamp: &Timestamp{Seconds:5,Nanos:-1,}: nanos not in range [0, 1e9)');
    expect(err(5n, 1000000000n)).toBe('timestamp: &Timestamp{Seconds:5,Nanos:1000000000,}: nanos not in range [0, 1e9)');
    expect(err(2n ** 50n, 0n)).toBe(`timestamp: &Timestamp{Seconds:${2n ** 50n},Nanos:0,} after 10000-01-01`);
  });
});
