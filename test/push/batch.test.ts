// Entries as columns (push/batch.ts) against the same entries as objects: validation keeps a
// plain stream as columns and gives it exactly what the per-entry path gives (accepted entries,
// detected_level, counted bytes, grouped errors), and hands any stream with an entry to drop or
// change to that path.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePushBody, validatePush, DEFAULT_PUSH_LIMITS, type PushLimits, type PushStream } from '../../src/push/index.js';
import { writeProtoStreams } from './helpers-bytes.js';
import { RequestArena } from '../../src/util/request-arena.js';

const T0 = 1795132800000000000n;
const DAY = 86_400_000_000_000n;

const decode = (body: Buffer): PushStream[] => decodePushBody(body, 'application/x-protobuf', undefined, { maxDecompressedBytes: 0 });

function view(v: ReturnType<typeof validatePush>): unknown {
  return {
    lines: v.lines,
    bytes: v.bytes,
    error: v.error ? [v.error.status, v.error.message] : null,
    accepted: v.accepted.map((s) => [s.labelsString, s.entries.map((e) => [e.tsNs.toString(), e.line, e.structuredMetadata])]),
  };
}

const LINES: Buffer[] = [
  'plain text', 'level=error boom', 'lvl=warn a=b', 'msg="x" severity=critical', '{"level":"debug","m":1}', 'ERROR: disk',
  'wörld ✓ WARN', '', 'x'.repeat(90), 'info ' + 'é'.repeat(40), 'level="a\\"b" info', 'panic: fatal',
].map((s) => Buffer.from(s, 'utf8')).concat([Buffer.from([0x61, 0xff, 0x62, 0x20, 0x45, 0x52, 0x52])]);

const entryArb = fc.record({
  dt: fc.oneof(fc.integer({ min: 0, max: 5 }).map(BigInt), fc.constantFrom(-8n * DAY, 3_600_000_000_000n, 1n)),
  line: fc.integer({ min: 0, max: LINES.length - 1 }),
});
const streamArb = fc.record({
  labels: fc.constantFrom('{job="a"}', '{job="b", level="warn"}', '{job="c", severity="ERROR"}', '{job="a"}'),
  entries: fc.array(entryArb, { minLength: 0, maxLength: 12 }),
});
const limitsArb = fc.record({
  rejectOldSamples: fc.boolean(),
  maxLineSize: fc.constantFrom(0, 64, 1024),
  maxLineSizeTruncate: fc.boolean(),
  discoverLogLevels: fc.boolean(),
});

describe('validatePush on entries held as columns', () => {
  it('keeps a plain stream as columns', () => {
    const body = writeProtoStreams([{ labels: '{job="a"}', entries: [{ tsNs: T0, line: Buffer.from('level=error x') }, { tsNs: T0 + 1n, line: Buffer.from('ok') }] }]);
    const streams = decode(body);
    expect(streams[0]!.batch).toBeDefined();
    const v = validatePush(streams, 'fake', { ...DEFAULT_PUSH_LIMITS, rejectOldSamples: false }, T0);
    expect(v.accepted[0]!.batch).toBeDefined();
    expect(v.accepted[0]!.entries.map((e) => e.structuredMetadata[0]!.value)).toEqual(['error', 'unknown']);
  });

  it('gives what the per-entry path gives, for any mix of streams, entries and limits', () => {
    fc.assert(fc.property(fc.array(streamArb, { minLength: 1, maxLength: 4 }), limitsArb, (spec, l) => {
      const body = writeProtoStreams(spec.map((s) => ({ labels: s.labels, entries: s.entries.map((e, i) => ({ tsNs: T0 + e.dt + BigInt(i), line: LINES[e.line]! })) })));
      const limits: PushLimits = { ...DEFAULT_PUSH_LIMITS, ...l, maxLineSizeTruncateIdentifier: '…' };
      const cols = validatePush(decode(body), 'fake', limits, T0);
      const objs = decode(body);
      for (const s of objs) void s.entries; // reading entries makes objects of them: the per-entry path
      expect(objs.every((s) => s.batch === undefined)).toBe(true);
      expect(view(cols)).toEqual(view(validatePush(objs, 'fake', limits, T0)));
    }), { numRuns: 400 });
  });
});

describe('entry columns from a request arena', () => {
  it('decodes into the arena and validates exactly as with fresh arrays', () => {
    fc.assert(fc.property(fc.array(streamArb, { minLength: 1, maxLength: 4 }), limitsArb, (spec, l) => {
      const body = writeProtoStreams(spec.map((s) => ({ labels: s.labels, entries: s.entries.map((e, i) => ({ tsNs: T0 + e.dt + BigInt(i), line: LINES[e.line]! })) })));
      const limits: PushLimits = { ...DEFAULT_PUSH_LIMITS, ...l, maxLineSizeTruncateIdentifier: '…' };
      const dirty = new RequestArena();
      dirty.bytes(200 << 10).fill(0xff);
      dirty.release();
      const arena = new RequestArena(); // takes the dirty block back: `level` must still start at 0
      const pooled = decodePushBody(body, 'application/x-protobuf', undefined, { maxDecompressedBytes: 0, arena });
      for (const s of pooled) if (s.batch) expect(s.batch.ms.buffer).toBe(arena.bytes(0).buffer);
      const got = view(validatePush(pooled, 'fake', limits, T0));
      arena.release();
      expect(got).toEqual(view(validatePush(decode(body), 'fake', limits, T0)));
    }), { numRuns: 200 });
  });
});
