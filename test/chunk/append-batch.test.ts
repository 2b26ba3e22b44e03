// The batched append path (OpenBlock.appendEntries, StreamHead.appendEntries) against appending
// the same entries one by one: identical block bytes, cuts at the same entries, and the same
// timestamps, including negative ones and deltas beyond 2^53 ns (numbers vs the bigint path).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OpenBlock } from '../../src/chunk/open-block.js';
import { StreamHead } from '../../src/head/stream-head.js';
import { LogEntry, msOf, nsOf, remOf, type EntryLike } from '../../src/push/entry.js';
import type { BlockData } from '../../src/chunk/block.js';
import type { Labels } from '../../src/util/labels.js';
import { putUvarint, zigzag } from '../../src/util/varint.js';
import { lz4Decode } from '../../src/native/index.js';
import { buildBlockIndex } from '../../src/chunk/block-index.js';
import { EntryBatch, levelCode } from '../../src/push/batch.js';

/** The meta section as the bigint encoder wrote it: zigzag(Number(ts - prev)), line length. */
function refMeta(es: readonly EntryLike[]): string {
  const out = Buffer.alloc(es.length * 20);
  let p = 0;
  let prev = es[0]!.tsNs;
  for (const e of es) {
    p = putUvarint(out, p, zigzag(Number(e.tsNs - prev)));
    p = putUvarint(out, p, Buffer.byteLength(e.line));
    prev = e.tsNs;
  }
  return out.subarray(0, p).toString('hex');
}

const LEVEL: Labels = [{ name: 'detected_level', value: 'info' }];
const TWO: Labels = [{ name: 'a', value: 'x' }, { name: 'détail', value: 'ü' }];
const LONE: Labels = [{ name: 'bad\ud800', value: 'v' }, { name: 'bad\udc00', value: 'w' }];
const ODD_VALUES: Labels = [{ name: 'a', value: 'x\ud800y' }, { name: 'b', value: 'é\udc00' }, { name: 'trace_id', value: '' }];

/** Entries as the ingest path has them: byte ranges of one body, strings, or plain objects. */
function makeEntries(spec: { ts: bigint; line: string; kind: number; sm: number }[]): EntryLike[] {
  const body = Buffer.from(spec.map((s) => s.line).join(''), 'utf8');
  let at = 0;
  return spec.map((s) => {
    const n = Buffer.byteLength(s.line);
    const start = at;
    at += n;
    const sm = s.sm === 0 ? [] : s.sm === 1 ? LEVEL : s.sm === 2 ? TWO : s.sm === 3 ? LONE : s.sm === 5 ? ODD_VALUES : Array.from({ length: 70 }, (_, k) => ({ name: `n${k}`, value: 'v' }));
    if (s.kind === 0) return LogEntry.fromBytes(s.ts, body, start, start + n, sm);
    if (s.kind === 1) return LogEntry.fromString(s.ts, s.line, sm);
    return { tsNs: s.ts, line: s.line, structuredMetadata: sm };
  });
}

function bytesOf(b: BlockData): string {
  const h = (u: Uint8Array) => Buffer.from(u).toString('hex');
  return `${h(b.index)}|${h(b.meta)}|${h(b.sm)}|${h(b.lines)}|${JSON.stringify(b.info, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
}

const tsArb = fc.oneof(
  fc.bigInt({ min: 1795132800000000000n, max: 1795132800000000000n + 10_000_000_000n }),
  fc.bigInt({ min: -9_000_000_000_000_000_000n, max: 9_000_000_000_000_000_000n }),
  fc.bigInt({ min: -2_000_000n, max: 2_000_000n }),
);
const specArb = fc.array(
  fc.record({ ts: tsArb, line: fc.oneof(fc.string({ maxLength: 40 }), fc.constant('x'.repeat(700)), fc.constant('')), kind: fc.integer({ min: 0, max: 2 }), sm: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 5 })) }),
  { minLength: 1, maxLength: 60 },
);

describe('timestamps as (ms, rem)', () => {
  it('round-trips every int64 through msOf/remOf/nsOf', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (ts) => {
      const ms = msOf(ts);
      const rem = remOf(ts);
      expect(rem).toBeGreaterThanOrEqual(0);
      expect(rem).toBeLessThan(1000000);
      expect(nsOf(ms, rem)).toBe(ts);
      const e = LogEntry.fromBytes(ts, Buffer.from('l'), 0, 1, []);
      expect(e.tsNs).toBe(ts);
      expect([e.ms, e.rem]).toEqual([ms, rem]);
    }));
  });
});

describe('OpenBlock.appendEntries', () => {
  it('writes the bytes appendEntry writes one entry at a time', () => {
    fc.assert(fc.property(specArb, fc.integer({ min: 1, max: 3000 }), (spec, limit) => {
      const a = new OpenBlock(limit);
      const b = new OpenBlock(limit);
      const es = makeEntries(spec);
      let i = 0;
      const blocksA: string[] = [];
      const blocksB: string[] = [];
      while (i < es.length) {
        const next = a.appendEntries(es, i, es.length, limit);
        expect(next).toBeGreaterThan(i);
        for (let k = i; k < next; k++) {
          expect(b.lineBytes < limit || k === i).toBe(true);
          b.appendEntry(es[k]!.tsNs, es[k]!);
        }
        expect(a.lineBytes >= limit || next === es.length).toBe(true);
        expect(Buffer.from(a.lastLine()).equals(Buffer.from(b.lastLine()))).toBe(true);
        const cutA = a.cut();
        expect(Buffer.from(lz4Decode(cutA.meta, cutA.info.metaU)).toString('hex')).toBe(refMeta(es.slice(i, next)));
        // the index the name tracker built is the one parsing the sm section gives
        const parsed = buildBlockIndex(lz4Decode(cutA.lines, cutA.info.linesU), lz4Decode(cutA.sm, cutA.info.smU), cutA.info.entries);
        expect(Buffer.from(cutA.index).equals(Buffer.from(parsed))).toBe(true);
        blocksA.push(bytesOf(cutA));
        blocksB.push(bytesOf(b.cut()));
        a.reset();
        b.reset();
        i = next;
      }
      expect(blocksA).toEqual(blocksB);
    }), { numRuns: 200 });
  });
});

describe('StreamHead.appendEntries', () => {
  it('cuts at the entries appendEntry cuts at and keeps the same time range', async () => {
    await fc.assert(fc.asyncProperty(specArb, fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 5 }), async (spec, blockSize, batches) => {
      const es = makeEntries(spec);
      const one = new StreamHead(blockSize);
      const many = new StreamHead(blockSize);
      for (const e of es) one.appendEntry(e, 7, 1);
      const per = Math.ceil(es.length / batches);
      let bytes = 0;
      for (let i = 0; i < es.length; i += per) bytes += many.appendEntries(es.slice(i, i + per), 7, 1);
      expect(bytes).toBe(Buffer.byteLength(spec.map((s) => s.line).join('')));
      // blocks may still be cut off the event loop: their closed forms are compared
      await one.cutsSettled();
      await many.cutsSettled();
      expect(many.snapshot().map(bytesOf)).toEqual(one.snapshot().map(bytesOf));
      for (const k of ['minTs', 'maxTs', 'lastTs', 'highestTs', 'entries', 'lastLine'] as const) expect(many[k]).toEqual(one[k]);
      let max = es[0]!.tsNs;
      let min = max;
      for (const e of es) {
        if (e.tsNs > max) max = e.tsNs;
        if (e.tsNs < min) min = e.tsNs;
      }
      expect(one.maxTs).toBe(max);
      expect(one.minTs).toBe(min);
      expect(one.lastTs).toBe(es[es.length - 1]!.tsNs);
    }), { numRuns: 150 });
  });

  it('starts with no last or highest timestamp (-1)', () => {
    const h = new StreamHead(1024);
    expect(h.lastTs).toBe(-1n);
    expect(h.highestTs).toBe(-1n);
  });
});

/** Entries as columns (a push the decoder kept as a batch): lines back to back in one body. */
function makeBatch(spec: { ts: bigint; line: string; level: number }[]): EntryBatch {
  const body = Buffer.from('#' + spec.map((s) => s.line).join(''), 'utf8');
  const n = spec.length;
  const ms = new Float64Array(n);
  const rem = new Int32Array(n);
  const ranges = new Int32Array(2 * n);
  let at = 1;
  spec.forEach((s, i) => {
    ms[i] = msOf(s.ts);
    rem[i] = remOf(s.ts);
    ranges[2 * i] = at;
    at += Buffer.byteLength(s.line);
    ranges[2 * i + 1] = at;
  });
  const b = new EntryBatch(body, n, ms, rem, ranges);
  const codes = [0, levelCode('info'), levelCode('error'), levelCode('unknown')];
  spec.forEach((s, i) => (b.level[i] = codes[s.level]!));
  return b;
}

const batchSpecArb = fc.array(
  fc.record({ ts: tsArb, line: fc.oneof(fc.string({ maxLength: 40 }), fc.constant('y'.repeat(900)), fc.constant('')), level: fc.integer({ min: 0, max: 3 }) }),
  { minLength: 1, maxLength: 60 },
);

describe('StreamHead.appendBatch (entries as columns)', () => {
  it('writes the blocks, cuts and time range appendEntry gives for the same entries as objects', async () => {
    await fc.assert(fc.asyncProperty(batchSpecArb, fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 4 }), async (spec, blockSize, parts) => {
      const one = new StreamHead(blockSize);
      const cols = new StreamHead(blockSize);
      const per = Math.ceil(spec.length / parts);
      let bytes = 0;
      for (let i = 0; i < spec.length; i += per) {
        const b = makeBatch(spec.slice(i, i + per));
        for (const e of b.materialize()) one.appendEntry(e, 7, 1);
        bytes += cols.appendBatch(b, 7, 1);
      }
      expect(bytes).toBe(Buffer.byteLength(spec.map((s) => s.line).join('')));
      await one.cutsSettled();
      await cols.cutsSettled();
      expect(cols.snapshot().map(bytesOf)).toEqual(one.snapshot().map(bytesOf));
      for (const k of ['minTs', 'maxTs', 'lastTs', 'highestTs', 'entries', 'lastLine'] as const) expect(cols[k]).toEqual(one[k]);
      // the index the name tracker built (detected_level seen or not) is the one parsing gives
      cols.cutBlock();
      await cols.cutsSettled();
      for (const blk of cols.snapshot()) {
        const parsed = buildBlockIndex(lz4Decode(blk.lines, blk.info.linesU), lz4Decode(blk.sm, blk.info.smU), blk.info.entries);
        expect(Buffer.from(blk.index).equals(Buffer.from(parsed))).toBe(true);
      }
    }), { numRuns: 150 });
  });

  it('grows the meta section when entries need more than the size hint (long deltas and lines)', () => {
    const spec = Array.from({ length: 3000 }, (_, i) => ({
      ts: i % 2 ? 9_000_000_000_000_000_000n - BigInt(i) : -9_000_000_000_000_000_000n + BigInt(i),
      line: i % 500 === 0 ? 'z'.repeat(20000) : `l${i}`,
      level: i % 4,
    }));
    const one = new StreamHead(1 << 20);
    const cols = new StreamHead(1 << 20);
    const objs = new StreamHead(1 << 20);
    const b = makeBatch(spec);
    for (const e of b.materialize()) one.appendEntry(e, 7, 1);
    cols.appendBatch(b, 7, 1);
    objs.appendEntries(b.materialize(), 7, 1); // the object path grows its meta section the same way
    expect(cols.snapshot().map(bytesOf)).toEqual(one.snapshot().map(bytesOf));
    expect(objs.snapshot().map(bytesOf)).toEqual(one.snapshot().map(bytesOf));
    // and every path wrote what the bigint encoder writes (they share the growth code)
    const [open] = cols.snapshot();
    expect(open!.info.entries).toBe(spec.length);
    expect(Buffer.from(open!.meta).toString('hex')).toBe(refMeta(b.materialize()));
  });

  it('materialize gives each entry its timestamp, line and detected_level', () => {
    const b = makeBatch([{ ts: 5n, line: 'a', level: 0 }, { ts: -1n, line: 'bc', level: 2 }]);
    const [x, y] = b.materialize();
    expect([x!.tsNs, x!.line, x!.structuredMetadata]).toEqual([5n, 'a', []]);
    expect([y!.tsNs, y!.line, y!.structuredMetadata]).toEqual([-1n, 'bc', [{ name: 'detected_level', value: 'error' }]]);
    expect(b.sameLines(0, 1)).toBe(false);
  });
});
