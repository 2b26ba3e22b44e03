// Block cuts off the event loop (chunk/block-cut.ts), taken while a query reads (a read lease is
// open): the closed form is byte for byte what a cut on the event loop gives, queries read the
// staged copy meanwhile, a flush that cannot wait compresses it at once, a stage a query saw
// waits for its read lease, and at most MAX_CUTS_IN_FLIGHT run at once. With no query reading,
// or without the addon, every cut runs on the event loop.
import { describe, expect, it, vi } from 'vitest';
import { OpenBlock } from '../../src/chunk/open-block.js';
import { MAX_CUTS_IN_FLIGHT, PendingCut, cutsInFlight, pooledStages } from '../../src/chunk/block-cut.js';
import { blockIndexParts, BLOOM_SCRATCH_WORDS } from '../../src/chunk/block-index.js';
import { BlockSlab } from '../../src/chunk/block-slab.js';
import { CODEC_LZ4, CODEC_NONE, type BlockData } from '../../src/chunk/block.js';
import { decodeLines, decodeMeta, decodeStructuredMetadata, joinNs } from '../../src/chunk/block-reader.js';
import { readLeases } from '../../src/chunk/read-leases.js';
import { canCutAsync } from '../../src/native/index.js';
import { StreamHead } from '../../src/head/stream-head.js';
import { LogEntry } from '../../src/push/entry.js';

const T0 = 1795132800000000000n;
const LEVELS = [[], [{ name: 'detected_level', value: 'info' }], [{ name: 'trace_id', value: 'abc123' }, { name: 'detected_level', value: 'warn' }]];

function filled(n: number, tag: string): OpenBlock {
  const b = new OpenBlock(1 << 18);
  for (let i = 0; i < n; i++) b.append(T0 + BigInt(i * 1000), `${tag} ${i} level=info msg="request ${i % 17} handled" took=${i % 97}ms`, LEVELS[i % 3]!);
  return b;
}

function entries(b: BlockData): string[] {
  const m = decodeMeta(b);
  const lines = decodeLines(b);
  const sm = decodeStructuredMetadata(b);
  const out: string[] = [];
  for (let i = 0; i < m.n; i++) out.push(`${joinNs(m.tsMs[i]!, m.tsRem[i]!)} ${Buffer.from(lines.subarray(m.lineOff[i]!, m.lineOff[i + 1]!)).toString()} ${sm[i]!.map((l) => `${l.name}=${l.value}`).join(',')}`);
  return out;
}

function bytesOf(b: BlockData): string[] {
  return [b.index ?? new Uint8Array(0), b.meta, b.sm, b.lines].map((x) => Buffer.from(x).toString('hex'));
}

const slabs = (): ((bound: number) => BlockSlab) => {
  let slab = new BlockSlab(1 << 20);
  return (bound) => {
    if (slab.room() < bound) slab = new BlockSlab(Math.max(1 << 20, bound));
    return slab;
  };
};

/** Runs fn while a query's read lease is open (what lets cuts leave the event loop). */
async function whileReading<T>(fn: () => Promise<T> | T): Promise<T> {
  const lease = readLeases.open();
  try {
    return await fn();
  } finally {
    readLeases.close(lease);
  }
}

describe.runIf(canCutAsync)('block cuts off the event loop (addon)', () => {
  it('give the bytes a cut on the event loop gives, and queries read the staged copy meanwhile', () => whileReading(async () => {
    for (const n of [1, 2, 700, 2500]) {
      const want = filled(n, 'x').cut(slabs());
      const b = filled(n, 'x');
      const p = b.startCut(slabs())!;
      expect(p).not.toBeNull();
      b.reset()!.append(T0, 'the next block writes the open block again at once', []);
      expect(p.block.codec).toBe(CODEC_NONE);
      expect(entries(p.block)).toEqual(entries(want));
      const got = (await p.done)!;
      expect(got.codec).toBe(CODEC_LZ4);
      expect(bytesOf(got)).toEqual(bytesOf(want));
      expect(got.info).toEqual(want.info);
    }
  }));

  it('compresses at once when a flush cannot wait, and the work then changes nothing', () => whileReading(async () => {
    const want = filled(900, 'y').cut(slabs());
    const p = filled(900, 'y').startCut(slabs())!;
    const now = p.finishNow();
    expect(bytesOf(now)).toEqual(bytesOf(want));
    expect(p.finishNow()).toBe(now);
    expect(await p.done).toBeNull();
    expect(bytesOf(now)).toEqual(bytesOf(want));
  }));

  it('keeps a stage a query read under a lease out of the pool until the lease closes', async () => {
    // settle the pool: one cut, its stage pooled
    const other = readLeases.open();
    await filled(10, 'w').startCut(slabs())!.done;
    const pooled = pooledStages();
    const p = filled(800, 'z').startCut(slabs())!;
    readLeases.close(other);
    expect(pooledStages()).toBe(pooled - 1); // took the pooled stage
    const lease = readLeases.open();
    p.expose(lease);
    const seen = entries(p.block);
    await p.done;
    expect(pooledStages()).toBe(pooled - 1);
    expect(entries(p.block)).toEqual(seen);
    readLeases.close(lease);
    expect(pooledStages()).toBe(pooled);
  });

  it('runs at most MAX_CUTS_IN_FLIGHT at once; beyond, startCut declines', () => whileReading(async () => {
    const started: PendingCut[] = [];
    for (let i = 0; i < MAX_CUTS_IN_FLIGHT + 3; i++) {
      const p = filled(2000, `m${i}`).startCut(slabs());
      if (p !== null) started.push(p);
      else break;
    }
    expect(cutsInFlight()).toBeLessThanOrEqual(MAX_CUTS_IN_FLIGHT);
    expect(started.length).toBeLessThanOrEqual(MAX_CUTS_IN_FLIGHT);
    await Promise.all(started.map((p) => p.done));
    expect(cutsInFlight()).toBe(0);
  }));

  it('a stream head serves every entry while its cuts run, and a flush takes them closed', async () => {
    const h = new StreamHead(16 * 1024);
    const want: string[] = [];
    await whileReading(() => {
      for (let i = 0; i < 3000; i++) {
        const line = `line ${i} ${'abcdefgh'.repeat(i % 13)}`;
        want.push(line);
        h.appendEntry(LogEntry.fromString(T0 + BigInt(i), line, []), 1, 0);
      }
    });
    expect(h.cutsUnderWay).toBeGreaterThan(0);
    const lines = (bs: BlockData[]): string[] => bs.flatMap((b) => entries(b).map((e) => e.split(' ').slice(1, -1).join(' ')));
    expect(lines(h.snapshot())).toEqual(want);
    const { blocks } = h.takeForFlush(); // cuts still under way are compressed here
    expect(h.cutsUnderWay).toBe(0);
    expect(blocks.every((b) => b.codec === CODEC_LZ4)).toBe(true);
    expect(lines(blocks)).toEqual(want);
    await new Promise((r) => setTimeout(r, 50)); // the works end; nothing changes
    expect(lines(blocks)).toEqual(want);
    expect(cutsInFlight()).toBe(0);
  });
});

describe('a cut whose work failed', () => {
  it('is compressed on the event loop instead, with the same bytes, and frees its in-flight slot', async () => {
    const want = filled(600, 'f').cut(slabs());
    const b = filled(600, 'f');
    const snap = b.snapshot();
    const [meta, sm, lines] = [snap.meta, snap.sm, snap.lines];
    const stage = { bytes: new Uint8Array(new SharedArrayBuffer(meta.length + sm.length + lines.length)), bloom: new Uint32Array(BLOOM_SCRATCH_WORDS) };
    stage.bytes.set(meta, 0);
    stage.bytes.set(sm, meta.length);
    stage.bytes.set(lines, meta.length + sm.length);
    const before = cutsInFlight();
    const p = new PendingCut(
      { info: snap.info, parts: blockIndexParts(sm, snap.info.entries), metaLen: meta.length, smLen: sm.length, linesLen: lines.length },
      stage, slabs(), Promise.reject(new Error('cutBlockAsync: out of memory')),
    );
    expect(cutsInFlight()).toBe(before + 1);
    const got = (await p.done)!;
    expect(bytesOf(got)).toEqual(bytesOf(want));
    expect(cutsInFlight()).toBe(before);
  });
});

describe('a head whose cut can be closed neither off nor on the event loop', () => {
  it('does not keep a flush waiting, and the flush compresses the block once it can', async () => {
    let refuse = true;
    const spy = vi.spyOn(OpenBlock.prototype, 'startCut').mockImplementationOnce(function (this: OpenBlock, slabFor) {
      const snap = this.snapshot();
      const stage = { bytes: new Uint8Array(new SharedArrayBuffer(snap.meta.length + snap.sm.length + snap.lines.length)), bloom: new Uint32Array(BLOOM_SCRATCH_WORDS) };
      stage.bytes.set(snap.meta, 0);
      stage.bytes.set(snap.sm, snap.meta.length);
      stage.bytes.set(snap.lines, snap.meta.length + snap.sm.length);
      const failing = (bound: number): BlockSlab => {
        if (refuse) throw new Error('no memory for a slab');
        return slabFor(bound);
      };
      return new PendingCut(
        { info: snap.info, parts: blockIndexParts(snap.sm, snap.info.entries), metaLen: snap.meta.length, smLen: snap.sm.length, linesLen: snap.lines.length },
        stage, failing, Promise.reject(new Error('cutBlockAsync: out of memory')),
      );
    });
    try {
      const h = new StreamHead(64 * 1024);
      for (let i = 0; i < 50; i++) h.appendEntry(LogEntry.fromString(T0 + BigInt(i), `stuck ${i}`, []), 1, 0);
      h.cutBlock(false);
      await h.cutsSettled(); // resolves although no closed form exists (it waited forever before)
      expect(h.cutsUnderWay).toBe(0);
      expect(() => h.takeForFlush()).toThrow('no memory for a slab');
      refuse = false;
      const { blocks } = h.takeForFlush();
      expect(blocks).toHaveLength(1);
      expect(blocks[0]!.codec).toBe(CODEC_LZ4);
      expect(entries(blocks[0]!).map((e) => e.split(' ').slice(1, 3).join(' '))).toEqual(Array.from({ length: 50 }, (_, i) => `stuck ${i}`));
    } finally {
      spy.mockRestore();
    }
  });
});

describe('block cuts on the event loop', () => {
  it('while no query reads, and always without the addon', async () => {
    expect(readLeases.openCount).toBe(0);
    expect(filled(10, 'n').startCut(slabs())).toBeNull();
    const p = await whileReading(() => filled(10, 'n').startCut(slabs()));
    expect(p === null).toBe(!canCutAsync);
    await p?.done;
  });
});
