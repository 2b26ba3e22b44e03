// Protobuf entry timestamps decode to exact (ms, ns remainder) numbers (entry.ts): every valid
// Timestamp reads back to the nanosecond as the bigint decoder read it, an entry without one is
// Go's zero time, and out-of-range values keep gogo's error texts. The native scanStream kernel
// reads bodies, valid or mutated, exactly as the TypeScript parser does.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readPushRequest, encodePushRequestRaw, ProtoError } from '../../src/push/protobuf.js';
import { nativeKernels, typescriptKernels } from '../../src/native/index.js';

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

describe('scanStream kernel (native) against the TypeScript parser', () => {
  const show = (b: Buffer, k: Parameters<typeof readPushRequest>[1]): string => {
    try {
      return JSON.stringify(readPushRequest(b, k).map((s) => ({ labels: s.labels, entries: s.entries.map((e) => [String(e.tsNs), e.line, e.start, e.end, e.structuredMetadata]) })));
    } catch (e) {
      return `${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
  };
  const entryArb = fc.record({
    tsNs: fc.oneof(fc.bigInt({ min: MIN_NS, max: MAX_NS }), fc.constantFrom(0n, -1n, MIN_NS, 1795132800123456789n)),
    line: fc.string({ maxLength: 30 }),
    structuredMetadata: fc.oneof(fc.constant([]), fc.array(fc.record({ name: fc.string({ maxLength: 5 }), value: fc.string({ maxLength: 5 }) }), { maxLength: 2 })),
  });
  const bodyArb = fc.array(fc.record({ labels: fc.constantFrom('{a="b"}', '{job="x", host="h"}', ''), entries: fc.array(entryArb, { maxLength: 8 }) }), { maxLength: 4 })
    .map((streams) => encodePushRequestRaw(streams));

  it('reads valid bodies and every mutation of them exactly as the parser does', () => {
    if (nativeKernels === null) return;
    fc.assert(fc.property(bodyArb, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }), fc.nat(), (body, flips, cut) => {
      expect(show(body, nativeKernels!)).toBe(show(body, typescriptKernels));
      const m = Buffer.from(body);
      for (const [at, v] of flips) if (m.length > 0) m[at % m.length] = v;
      const t = m.subarray(0, m.length === 0 ? 0 : cut % (m.length + 1));
      expect(show(m, nativeKernels!)).toBe(show(m, typescriptKernels));
      expect(show(t, nativeKernels!)).toBe(show(t, typescriptKernels));
    }), { numRuns: 2000 });
  });

  it('agrees on hand-made edge cases: repeated fields, unknown fields, huge tags, many entries', () => {
    const cases: Buffer[] = [
      withTimestamp(-62135596801n, 0n), withTimestamp(253402300799n, 999999999n), withTimestamp(5n, 2n ** 32n - 1n), withTimestamp(2n ** 40n, 1n),
      withTimestamp(null, null), Buffer.from([10, 3, 24, 5, 0]), Buffer.from([10, 2, 40, 1]), Buffer.from([10, 4, 13, 1, 2, 3]),
      Buffer.from([10, 11, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0]),
      encodePushRequestRaw([{ labels: '{a="b"}', entries: Array.from({ length: 20000 }, (_, i) => ({ tsNs: BigInt(i), line: 'x' })) }]),
    ];
    // an entry with its line and timestamp given twice (the last one wins)
    const e = [10, 2, 8, 1, 18, 1, 97, 10, 2, 8, 2, 18, 1, 98];
    cases.push(Buffer.from([10, e.length + 2, 18, e.length, ...e]));
    for (const c of cases) expect(show(c, nativeKernels ?? typescriptKernels)).toBe(show(c, typescriptKernels));
  });

  it('takes the fast path for ordinary streams and leaves metadata entries to readEntry', () => {
    if (nativeKernels === null) return;
    const body = encodePushRequestRaw([{ labels: '{a="b"}', entries: [{ tsNs: 1795132800123456789n, line: 'hello' }, { tsNs: 5n, line: 'x', structuredMetadata: [{ name: 'n', value: 'v' }] }] }]);
    const out = new Float64Array(64);
    // the stream message starts after its tag and the encoder's fixed 5-byte length
    expect(nativeKernels.scanStream(body, 6, body.length, out)).toBe(2);
    expect(body.toString('utf8', out[0], out[1])).toBe('{a="b"}');
    expect([out[2], out[3], body.toString('utf8', out[4], out[5])]).toEqual([1795132800123, 456789, 'hello']);
    expect(out[7]).toBe(-1);
    expect(nativeKernels.scanStream(body, 6, body.length, new Float64Array(4))).toBe(-2);
    expect(typescriptKernels.scanStream(body, 6, body.length, out)).toBe(-1);
  });
});
