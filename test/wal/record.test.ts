// WAL record type 2 (the push's request body plus which entries were accepted and their level)
// must replay exactly what a type-1 record (every accepted entry copied) replays: same streams,
// timestamps, lines and structured metadata, whatever validation and the ingester dropped,
// merged streams, truncation or client metadata. Where it cannot, the encoder must say so (null)
// so the ingester writes type 1.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePushBody, encodePushRequestSnappy, validatePush, DEFAULT_PUSH_LIMITS } from '../../src/push/index.js';
import { decodePushRecord, encodePushBodyRecord, encodePushRecord, RECORD_PUSH_BODY, type PushBody, type WalStream } from '../../src/wal/record.js';
import { nowNs } from '../../src/util/time.js';
import { RequestArena } from '../../src/util/request-arena.js';

const LINES = ['level=error msg="disk full"', 'GET /api 200', 'WARN something odd', '{"level":"info","msg":"x"}', 'plain text é', '', 'x'.repeat(120)];
const LABELS = ['{job="a"}', '{job="b", host="h1"}', '{app="svc"}', '{job="a"}'];

function norm(r: { tenant: string; streams: WalStream[] }): string[] {
  const out = [r.tenant];
  for (const s of r.streams) {
    for (const e of s.entries) out.push(`${s.labels}|${e.tsNs}|${e.line}|${e.structuredMetadata.map((l) => `${l.name}=${l.value}`).join(',')}`);
  }
  return out;
}

const entryArb = fc.record({
  dt: fc.integer({ min: 0, max: 5_000_000 }),
  line: fc.oneof(fc.constantFrom(...LINES), fc.string({ minLength: 1, maxLength: 40 })),
  sm: fc.oneof({ weight: 60, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom([{ name: 'trace_id', value: 'abc' }], [{ name: 'detected_level', value: 'WARN' }]) }),
});
const pushArb = fc.array(fc.record({ labels: fc.constantFrom(...LABELS), entries: fc.array(entryArb, { minLength: 1, maxLength: 20 }) }), { minLength: 1, maxLength: 5 });

describe('WAL push records', () => {
  it('type 2 replays what type 1 replays, or declines', () => {
    let typed2 = 0;
    let runs = 0;
    fc.assert(
      fc.property(pushArb, fc.boolean(), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.boolean(), fc.boolean(), (push0, truncate0, dropSeed, snappyBody, clean) => {
        // clean pushes (no client metadata, no truncation, no empty line) must always be type 2
        const push = clean ? push0.map((s) => ({ ...s, entries: s.entries.map((e) => ({ ...e, sm: undefined, line: e.line || 'x' })) })) : push0;
        const truncate = clean ? false : truncate0;
        const t0 = nowNs() - 10n ** 12n;
        let k = 0;
        const body = encodePushRequestSnappy(push.map((s) => ({
          labels: s.labels,
          entries: s.entries.map((e) => ({ tsNs: t0 + BigInt(k++) * 1000n + BigInt(e.dt), line: e.line, structuredMetadata: e.sm })),
        })));
        let pb: PushBody | undefined;
        const streams = decodePushBody(body, 'application/x-protobuf', undefined, { maxDecompressedBytes: 0, onProtobufBody: (snappy, raw) => { pb = { snappy: snappyBody ? snappy : null, raw }; } });
        const limits = { ...DEFAULT_PUSH_LIMITS, maxLineSize: truncate ? 60 : 0, maxLineSizeTruncate: truncate, maxLineSizeTruncateIdentifier: '...' };
        const v = validatePush(streams, 'fake', limits, nowNs());
        // the ingester may drop entries too (duplicates, rate, out of order): drop some
        let seed = dropSeed;
        const wal: WalStream[] = v.accepted.map((s) => ({
          labels: s.labelsString,
          entries: s.entries.filter(() => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 5) !== 0),
        })).filter((s) => s.entries.length > 0);
        if (wal.length === 0) return;
        if (clean) runs++;
        const want = norm(decodePushRecord(encodePushRecord('fake', wal)));
        const parts = encodePushBodyRecord('fake', wal, pb!);
        if (clean) expect(parts).not.toBeNull();
        if (parts === null) {
          // declined only for what type 2 cannot carry
          const entries = wal.flatMap((s) => s.entries);
          const carriable = entries.every((e) => e.line !== '' && e.structuredMetadata.every((l) => l.name === 'detected_level') && e.structuredMetadata.length <= 1)
            && !truncate;
          expect(carriable && push.every((s) => s.entries.every((e) => e.sm === undefined))).toBe(false);
          return;
        }
        if (clean) typed2++;
        const rec = Buffer.concat(parts);
        expect(rec[0]).toBe(RECORD_PUSH_BODY);
        expect(norm(decodePushRecord(rec))).toEqual(want);
      }),
      { numRuns: 300 },
    );
    expect(typed2).toBe(runs);
    expect(runs).toBeGreaterThan(50); // the property is not vacuous
  });

  it('logs the snappy body as received, which is smaller than the copied entries', () => {
    const entries = Array.from({ length: 500 }, (_, i) => ({ tsNs: nowNs() - BigInt(1000 - i) * 1_000_000n, line: `level=info msg="request ${i} served" path=/api/v1/items/${i % 17} took=${i % 91}ms` }));
    const body = encodePushRequestSnappy([{ labels: '{job="web"}', entries }]);
    let pb: PushBody | undefined;
    const streams = decodePushBody(body, 'application/x-protobuf', undefined, { maxDecompressedBytes: 0, onProtobufBody: (snappy, raw) => { pb = { snappy, raw }; } });
    const v = validatePush(streams, 'fake', DEFAULT_PUSH_LIMITS, nowNs());
    const wal = v.accepted.map((s) => ({ labels: s.labelsString, entries: s.entries }));
    const parts = encodePushBodyRecord('fake', wal, pb!)!;
    expect(parts[1]).toBe(body); // not copied
    const size2 = parts.reduce((a, p) => a + p.length, 0);
    const size1 = encodePushRecord('fake', wal).length;
    expect(size2).toBeLessThan(size1 / 2);
    expect(norm(decodePushRecord(Buffer.concat(parts)))).toEqual(norm(decodePushRecord(encodePushRecord('fake', wal))));
  });

  it('writes the index part of a columns push into the request arena, with the same bytes', () => {
    const entries = Array.from({ length: 300 }, (_, i) => ({ tsNs: nowNs() - BigInt(1000 - i) * 1_000_000n, line: i % 3 ? `level=warn n=${i}` : `plain ${i}` }));
    const body = encodePushRequestSnappy([{ labels: '{job="web"}', entries }, { labels: '{job="db"}', entries: entries.slice(0, 50) }]);
    const record = (arena?: RequestArena): Buffer[] => {
      let pb: PushBody | undefined;
      const streams = decodePushBody(body, 'application/x-protobuf', undefined, { maxDecompressedBytes: 0, arena, onProtobufBody: (snappy, raw) => { pb = { snappy, raw, arena }; } });
      const v = validatePush(streams, 'fake', DEFAULT_PUSH_LIMITS, nowNs());
      const wal: WalStream[] = v.accepted.map((s) => ({ labels: s.labelsString, entries: [], batch: s.batch }));
      expect(wal.every((s) => s.batch !== undefined)).toBe(true);
      const parts = encodePushBodyRecord('fake', wal, pb!)!;
      if (arena) expect(parts[2]!.buffer).toBe(arena.bytes(0).buffer);
      return parts.map((p) => Buffer.from(p));
    };
    const arena = new RequestArena();
    const pooled = record(arena);
    arena.release();
    expect(Buffer.concat(pooled).equals(Buffer.concat(record()))).toBe(true);
    expect(norm(decodePushRecord(Buffer.concat(pooled))).length).toBe(351);
  });
});
