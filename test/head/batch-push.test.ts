// Ingester.push with streams held as columns (push/batch.ts) against the same pushes as objects:
// the same rejections (duplicates, out-of-order window, per-stream rate), metrics, observed
// entries and head blocks, and the same heads after a restart replays the WAL.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ingester } from '../../src/head/ingester.js';
import { decodePushBody, validatePush, DEFAULT_PUSH_LIMITS, type PushStream } from '../../src/push/index.js';
import type { PushBody } from '../../src/wal/record.js';
import type { BlockData } from '../../src/chunk/block.js';
import { writeProtoStreams } from '../push/helpers-bytes.js';

const log = { info() {}, warn() {}, error() {} };
const T0 = 1795132800000000000n;
const HOUR = 3_600_000_000_000n;
const LINES = ['a', 'level=error b', 'ccc ccc', 'WARN dddd', ''];

function hex(b: BlockData): string {
  const h = (u: Uint8Array) => Buffer.from(u).toString('hex');
  return `${h(b.index)}|${h(b.meta)}|${h(b.sm)}|${h(b.lines)}|${b.info.entries}`;
}

function decoded(body: Buffer, objects: boolean): { streams: PushStream[]; body: PushBody | undefined } {
  let pb: PushBody | undefined;
  const streams = decodePushBody(body, 'application/x-protobuf', undefined, { maxDecompressedBytes: 0, onProtobufBody: (snappy, raw) => { pb = { snappy, raw }; } });
  const v = validatePush(streams, 'fake', { ...DEFAULT_PUSH_LIMITS, rejectOldSamples: false }, T0 + 24n * HOUR);
  if (objects) for (const s of v.accepted) void s.entries; // the per-entry path
  return { streams: v.accepted, body: pb };
}

/** Every head's blocks, closed forms once the cuts under way are done. */
async function heads(ing: Ingester): Promise<string[]> {
  for (const s of ing.listStreams('fake')) await s.head.cutsSettled();
  return ing.listStreams('fake').map((s) => `${s.labelsString}:${s.head.snapshot().map(hex).join(',')}`).sort();
}

const entryArb = fc.record({ dt: fc.constantFrom(0n, 1n, 2n, 1000n, -2n * HOUR, -1n), line: fc.integer({ min: 0, max: LINES.length - 1 }), dup: fc.boolean() });
const pushArb = fc.array(fc.record({ labels: fc.constantFrom('{job="a"}', '{job="b"}'), entries: fc.array(entryArb, { minLength: 1, maxLength: 10 }) }), { minLength: 1, maxLength: 2 });

describe('Ingester.push with entries as columns', () => {
  const dirs: string[] = [];
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] }); // the per-stream rate refills by Date.now()
    vi.setSystemTime(new Date(1795132800000));
  });
  afterEach(() => {
    vi.useRealTimers();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const open = (dir: string, rate: number): Ingester => {
    const ing = new Ingester({
      dataDir: dir, blockSize: 64, chunkTargetSize: 1 << 20, maxChunkAgeMs: 2 * 3600_000, chunkIdlePeriodMs: 3600_000, walSegmentSize: 1 << 24,
      limits: { maxActiveStreams: () => Infinity, perStreamRate: () => ({ limit: rate, burst: rate }) },
    }, log);
    ing.start();
    return ing;
  };

  it('rejects, stores, shows and replays what the per-entry path does', async () => {
    let batched = 0;
    await fc.assert(fc.asyncProperty(fc.array(pushArb, { minLength: 1, maxLength: 4 }), fc.constantFrom(Infinity, 60, 400), async (pushes, rate) => {
      const dirA = mkdtempSync(join(tmpdir(), 'bramble-batch-a-'));
      const dirB = mkdtempSync(join(tmpdir(), 'bramble-batch-b-'));
      dirs.push(dirA, dirB);
      let a = open(dirA, rate);
      let b = open(dirB, rate);
      const seenA: string[] = [];
      const seenB: string[] = [];
      a.onEntry((s, e) => seenA.push(`${s.labelsString} ${e.tsNs} ${e.line} ${JSON.stringify(e.structuredMetadata)}`));
      b.onEntry((s, e) => seenB.push(`${s.labelsString} ${e.tsNs} ${e.line} ${JSON.stringify(e.structuredMetadata)}`));
      let t = T0;
      for (const p of pushes) {
        const body = writeProtoStreams(p.map((s) => {
          const entries: { tsNs: bigint; line: Buffer }[] = [];
          for (const e of s.entries) {
            t += 1n;
            const line = Buffer.from(LINES[e.line]!);
            entries.push({ tsNs: t + e.dt, line });
            if (e.dup) entries.push({ tsNs: t + e.dt, line }); // an exact duplicate of the entry before
          }
          return { labels: s.labels, entries };
        }));
        const ca = decoded(body, false);
        const cb = decoded(body, true);
        batched += ca.streams.filter((s) => s.batch !== undefined).length; // (two parts of one stream are merged as objects)
        const ra = await a.push('fake', ca.streams, ca.body);
        const rb = await b.push('fake', cb.streams, cb.body);
        expect(ra && [ra.status, ra.message]).toEqual(rb && [rb.status, rb.message]);
        vi.setSystemTime(Date.now() + 250);
      }
      expect(a.metrics).toEqual(b.metrics);
      expect(seenA).toEqual(seenB);
      expect(await heads(a)).toEqual(await heads(b));
      await a.close();
      await b.close();
      a = open(dirA, rate);
      b = open(dirB, rate);
      expect(await heads(a)).toEqual(await heads(b));
      await a.close();
      await b.close();
    }), { numRuns: 60 });
    expect(batched).toBeGreaterThan(30); // the columns path did run
  });
});
