// OpenBlock.reset(): after a cut, a block whose buffers no query can be reading is emptied and
// written again (a busy stream reuses one set of buffers); while a snapshot's read lease is open
// (always, for a snapshot without one), reset refuses, so a query holding the snapshot keeps
// seeing the bytes it was given.
import { describe, expect, it } from 'vitest';
import { OpenBlock, pooledLineBuffers } from '../../src/chunk/open-block.js';
import { decodeLines, decodeMeta, decodeStructuredMetadata, joinNs } from '../../src/chunk/block-reader.js';
import type { BlockData } from '../../src/chunk/block.js';
import { readLeases } from '../../src/chunk/read-leases.js';
import { StreamHead } from '../../src/head/stream-head.js';
import { LogEntry } from '../../src/push/entry.js';

const T0 = 1795132800000000000n;

function entries(b: BlockData): string[] {
  const m = decodeMeta(b);
  const lines = decodeLines(b);
  const sm = decodeStructuredMetadata(b);
  const out: string[] = [];
  for (let i = 0; i < m.n; i++) {
    out.push(`${joinNs(m.tsMs[i]!, m.tsRem[i]!)} ${Buffer.from(lines.subarray(m.lineOff[i]!, m.lineOff[i + 1]!)).toString()} ${sm[i]!.map((l) => `${l.name}=${l.value}`).join(',')}`);
  }
  return out;
}

describe('OpenBlock.reset', () => {
  it('reuses the buffers of a block nobody saw, and the next block reads back exactly', () => {
    const b = new OpenBlock(1024);
    for (let i = 0; i < 20; i++) b.append(T0 + BigInt(i), `first ${i} ${'x'.repeat(i)}`, i % 2 ? [{ name: 'detected_level', value: 'info' }] : []);
    const first = b.cut();
    const again = b.reset();
    expect(again).toBe(b);
    expect(b.entries).toBe(0);
    for (let i = 0; i < 7; i++) again!.append(T0 + 1000n + BigInt(i * 3), `second ${i}`, []);
    const second = again!.cut();
    expect(entries(second)).toEqual(Array.from({ length: 7 }, (_, i) => `${T0 + 1000n + BigInt(i * 3)} second ${i} `));
    // the first cut block is independent of the reused buffers
    expect(entries(first)[19]).toBe(`${T0 + 19n} first 19 ${'x'.repeat(19)} detected_level=info`);
    expect(first.info.minTs).toBe(T0);
    expect(second.info.minTs).toBe(T0 + 1000n);
  });

  it('refuses once a snapshot exposed the buffers', () => {
    const b = new OpenBlock(1024);
    b.append(T0, 'seen by a query', []);
    const snap = b.snapshot();
    b.cut();
    expect(b.reset()).toBeNull();
    expect(entries(snap)).toEqual([`${T0} seen by a query `]);
  });

  it('refuses while the read lease of the snapshot is open, and reuses the buffers after', () => {
    const b = new OpenBlock(1024);
    b.append(T0, 'seen under a lease', []);
    const lease = readLeases.open();
    const snap = b.snapshot(lease);
    b.cut();
    expect(b.reset()).toBeNull();
    readLeases.close(lease);
    expect(b.reset()).toBe(b);
    expect(entries(snap)).toEqual([`${T0} seen under a lease `]);
    // a lease opened after the snapshot does not hold the buffers
    b.append(T0 + 1n, 'second', []);
    const older = readLeases.open();
    b.snapshot(older);
    readLeases.close(older);
    const later = readLeases.open();
    b.cut();
    expect(b.reset()).toBe(b);
    readLeases.close(later);
  });
});

describe('OpenBlock.recycle', () => {
  const BIG = 256 * 1024;
  const fill = (b: OpenBlock, tag: string, n: number): void => {
    for (let i = 0; i < n; i++) b.append(T0 + BigInt(i), `${tag} ${i} ${'y'.repeat(9000)}`, []);
  };

  it('hands a dropped block line buffer to the next block, which reads back exactly', () => {
    const a = new OpenBlock(BIG, { meta: 64, lines: BIG, sm: 32 });
    fill(a, 'a', 29);
    a.cut();
    const before = pooledLineBuffers();
    a.recycle();
    expect(pooledLineBuffers()).toBe(before + 1);
    a.recycle(); // twice: still pooled once
    expect(pooledLineBuffers()).toBe(before + 1);
    const b = new OpenBlock(BIG, { meta: 64, lines: BIG, sm: 32 });
    expect(pooledLineBuffers()).toBe(before); // b took it
    fill(b, 'b', 3);
    const got = entries(b.cut());
    expect(got).toHaveLength(3);
    expect(got.every((l, i) => l.startsWith(`${T0 + BigInt(i)} b ${i} y`))).toBe(true);
  });

  it('keeps a block a snapshot saw out of the pool: for good without a read lease, until its lease closes with one', () => {
    for (const withLease of [false, true]) {
      const a = new OpenBlock(BIG, { meta: 64, lines: BIG, sm: 32 });
      fill(a, 'a', 2);
      const lease = withLease ? readLeases.open() : undefined;
      const snap = a.snapshot(lease);
      const seen = entries(snap);
      a.cut();
      const before = pooledLineBuffers();
      a.recycle();
      expect(pooledLineBuffers()).toBe(before);
      const b = new OpenBlock(BIG, { meta: 64, lines: BIG, sm: 32 });
      fill(b, 'b', 2);
      expect(entries(snap)).toEqual(seen); // the query's bytes did not change
      const pooled = pooledLineBuffers();
      if (lease !== undefined) readLeases.close(lease);
      expect(pooledLineBuffers()).toBe(withLease ? pooled + 1 : pooled);
    }
  });
});

describe('StreamHead under a read lease', () => {
  it('writes a busy stream\'s next block elsewhere while a query reads the last one, and pools its buffer when the query ends', () => {
    const BIG = 256 * 1024;
    const h = new StreamHead(BIG);
    let i = 0;
    const add = (n: number): void => {
      for (let k = 0; k < n; k++, i++) h.appendEntry(LogEntry.fromString(T0 + BigInt(i), `${i} ${'z'.repeat(2000)}`, []), 1, 0);
    };
    add(20);
    const lease = readLeases.open();
    const snap = h.snapshot(lease);
    const open = snap[snap.length - 1]!;
    const want = entries(open);
    add(140); // cuts the block the query sees; the next one goes to other memory
    expect(entries(open)).toEqual(want);
    const pooled = pooledLineBuffers();
    readLeases.close(lease);
    expect(pooledLineBuffers()).toBe(pooled + 1); // its line buffer is free for the next block
  });
});
