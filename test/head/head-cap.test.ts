// ingester.max_head_bytes: when all heads together exceed the cap, the biggest heads are flushed
// early to chunk files (nothing lost, still queryable from chunks), and heads shrink below it.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ingester } from '../../src/head/ingester.js';
import { LogEntry } from '../../src/push/entry.js';

const log = { info() {}, warn() {}, error() {} };
const T0 = 1795132800000000000n;
// incompressible printable text, so compressed blocks stay about as big as their lines
const RANDOM = Buffer.alloc(1 << 20);
{
  let x = 12345;
  for (let i = 0; i < RANDOM.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    RANDOM[i] = 33 + ((x >>> 16) % 90);
  }
}

function ingester(dir: string, maxHeadBytes: number): Ingester {
  const ing = new Ingester({ dataDir: dir, blockSize: 16 * 1024, chunkTargetSize: 64 * 1024 * 1024, maxChunkAgeMs: 2 * 3600_000, chunkIdlePeriodMs: 3600_000, walSegmentSize: 1 << 24, maxHeadBytes }, log);
  ing.start();
  return ing;
}

async function fill(ing: Ingester, streams: number, perStream: number, o: { wait?: boolean; seen?: number[]; first?: number } = {}): Promise<void> {
  for (let round = 0; round < perStream / 100; round++) {
    if (o.wait) await ing.waitForHeadRoom();
    const push = [];
    for (let s = o.first ?? 0; s < (o.first ?? 0) + streams; s++) {
      const entries = [];
      for (let i = 0; i < 100; i++) {
        const at = ((round * 100 + i) * 7 + s * 13) % (RANDOM.length - 200);
        entries.push(LogEntry.fromBytes(T0 + BigInt((round * 100 + i) * 1000 + s), RANDOM, at, at + 200, []));
      }
      push.push({ labels: [{ name: 'job', value: 'j' + s }], labelsString: `{job="j${s}"}`, entries });
    }
    const stored = ing.push('fake', push);
    o.seen?.push(ing.memoryBytes());
    await stored;
    ing.flushFull();
  }
  await ing.flush(false); // wait for queued flushes (none due by age/size)
}

/** Entries in chunk files plus entries still in heads. */
function storedEntries(ing: Ingester): number {
  let entries = 0;
  for (const s of ing.listStreams('fake')) {
    entries += ing.index.chunkTotals(s.id, 0n, T0 * 2n).entries;
    for (const b of s.head.snapshot()) entries += b.info.entries;
  }
  return entries;
}

/** Runs `fn` on a fresh ingester (heads capped at `maxHeadBytes`, 0 = none) in a temporary dir, then closes it. */
async function withIngester(maxHeadBytes: number, fn: (ing: Ingester, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-cap-'));
  try {
    const ing = ingester(dir, maxHeadBytes);
    await fn(ing, dir);
    await ing.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('head memory cap', () => {
  it('flushes the biggest heads early and keeps every entry', () =>
    withIngester(256 * 1024, async (ing) => {
      await fill(ing, 8, 1000); // 8 streams x 1000 x 211 B = 1.6 MiB of lines
      expect(ing.capFlushes).toBeGreaterThan(0);
      expect(ing.memoryBytes()).toBeLessThanOrEqual(256 * 1024 + 8 * 64 * 1024);
      expect(ing.metrics.chunksFlushed).toBeGreaterThan(0);
      expect(storedEntries(ing)).toBe(8 * 1000);
    }));

  it('holds pushes while the heads are over the cap, so memory stays within it', () => {
    const cap = 256 * 1024;
    return withIngester(cap, async (ing) => {
      const seen: number[] = [];
      // sixteen concurrent senders: pushes arrive faster than chunks are written
      await Promise.all(Array.from({ length: 16 }, (_, first) => fill(ing, 1, 1500, { wait: true, seen, first })));
      // one push per sender (100 x 200 B lines + block encoding) may land while the heads are at the cap
      const onePush = 16 * 100 * 230;
      expect(Math.max(...seen)).toBeLessThanOrEqual(cap + onePush);
      expect(ing.capFlushes).toBeGreaterThan(2);
      expect(storedEntries(ing)).toBe(16 * 1500);
    });
  });

  it('does nothing without a cap', () =>
    withIngester(0, async (ing) => {
      await fill(ing, 4, 500);
      expect(ing.capFlushes).toBe(0);
      expect(ing.metrics.chunksFlushed).toBe(0);
    }));
});

describe('flush writers', () => {
  // FileHandle.sync, patched while a flush runs (the WAL is idle then): counts the chunk files
  // being synced at once, holds each for a few ms, and can fail the first one.
  async function patchSync(dir: string, failFirst: boolean): Promise<{ maxAtOnce: () => number; started: () => number; restore: () => void }> {
    const fh = await open(join(dir, 'probe'), 'w');
    type Sync = (this: unknown) => Promise<void>;
    const proto = Object.getPrototypeOf(fh) as { sync: Sync };
    await fh.close();
    const orig = proto.sync;
    let now = 0;
    let max = 0;
    let started = 0;
    proto.sync = async function (this: unknown) {
      const n = ++started;
      max = Math.max(max, ++now);
      try {
        if (failFirst && n === 1) throw Object.assign(new Error('ENOSPC: no space left on device, fsync'), { code: 'ENOSPC' });
        await new Promise((r) => setTimeout(r, 15));
        return await orig.call(this);
      } finally {
        now--;
      }
    };
    return { maxAtOnce: () => max, started: () => started, restore: () => { proto.sync = orig; } };
  }

  it('writes a flush\'s chunk files three at a time and flushes every stream', () =>
    withIngester(0, async (ing, dir) => {
      await fill(ing, 8, 200);
      const p = await patchSync(dir, false);
      try {
        await ing.flush(true);
      } finally {
        p.restore();
      }
      expect(p.started()).toBe(8);
      expect(p.maxAtOnce()).toBe(3);
      expect(ing.memoryChunks()).toBe(0);
      expect(ing.metrics.chunksFlushed).toBe(8);
      expect(storedEntries(ing)).toBe(8 * 200);
    }));

  it('starts no further file after a failed one, throws its error and keeps every entry', () =>
    withIngester(0, async (ing, dir) => {
      await fill(ing, 8, 200);
      const p = await patchSync(dir, true);
      try {
        await expect(ing.flush(true)).rejects.toThrow(/ENOSPC/);
      } finally {
        p.restore();
      }
      expect(p.started()).toBe(3); // the failed one and the two already under way
      expect(ing.metrics.chunksFlushed).toBe(2);
      expect(storedEntries(ing)).toBe(8 * 200); // the failed stream's blocks went back to its head
      await ing.flush(true); // writes work again
      expect(ing.memoryChunks()).toBe(0);
      expect(storedEntries(ing)).toBe(8 * 200);
    }));
});
