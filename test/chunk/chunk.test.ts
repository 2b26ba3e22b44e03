import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OpenBlock } from '../../src/chunk/open-block.js';
import { decodeLines, decodeMeta, decodeStructuredMetadata, joinNs, nsString } from '../../src/chunk/block-reader.js';
import { loadChunkFile, readChunkFooter, readFileBlock, readFileBlockIndex, writeChunkFileAsync } from '../../src/chunk/chunk-file.js';
import { BlockIndex } from '../../src/chunk/block-index.js';
import { SEC_META } from '../../src/chunk/block.js';
import { removeDir, tempDataDir } from '../helpers/server.js';

function fill(b: OpenBlock, n: number): { ts: bigint; line: string }[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    // out-of-order and equal timestamps on purpose
    const ts = 1795132800000000000n + BigInt(i * 1_000_123) - (i % 7 === 3 ? 5_000_000n : 0n);
    const line = `line ${i} héllo ${'x'.repeat(i % 13)}`;
    b.append(ts, line, i % 5 === 0 ? [{ name: 'detected_level', value: 'info' }, { name: 'trace_id', value: 'abc' + i }] : []);
    out.push({ ts, line });
  }
  return out;
}

describe('blocks and chunk files', () => {
  it('round-trips entries through an open block snapshot and a cut (LZ4) block', () => {
    const b = new OpenBlock(1 << 16);
    const want = fill(b, 500);
    for (const data of [b.snapshot(), b.cut()]) {
      const meta = decodeMeta(data);
      const lines = decodeLines(data);
      const sm = decodeStructuredMetadata(data);
      expect(meta.n).toBe(500);
      for (let i = 0; i < 500; i++) {
        expect(joinNs(meta.tsMs[i]!, meta.tsRem[i]!)).toBe(want[i]!.ts);
        expect(nsString(meta.tsMs[i]!, meta.tsRem[i]!)).toBe(String(want[i]!.ts));
        expect(Buffer.from(lines.subarray(meta.lineOff[i]!, meta.lineOff[i + 1]!)).toString()).toBe(want[i]!.line);
      }
      expect(sm[5]).toEqual([{ name: 'detected_level', value: 'info' }, { name: 'trace_id', value: 'abc5' }]);
      expect(sm[6]).toEqual([]);
    }
  });

  it('writes a chunk file whose footer and blocks read back, and detects corruption', async () => {
    const dir = tempDataDir();
    const b1 = new OpenBlock(1 << 16);
    fill(b1, 100);
    const b2 = new OpenBlock(1 << 16);
    fill(b2, 50);
    const path = join(dir, 'x', 'c.chk');
    const summary = await writeChunkFileAsync(path, 'tenant-a', '{app="x"}', [b1.cut(), b2.cut()]);
    expect(summary.entries).toBe(150);
    const f = readChunkFooter(path);
    expect(f.tenant).toBe('tenant-a');
    expect(f.labels).toBe('{app="x"}');
    expect(f.blocks).toHaveLength(2);
    const blk = readFileBlock(f.blocks[1]!);
    expect(decodeMeta(blk).n).toBe(50);
    for (const field of ['crcIndex', 'crcMeta', 'crcSm', 'crcLines'] as const) {
      const bad = { ...f.blocks[1]!, [field]: (f.blocks[1]![field] + 1) >>> 0 };
      expect(() => readFileBlock(bad)).toThrow(/checksum/);
    }
    // partial reads check only what they read
    const metaOnly = readFileBlock({ ...f.blocks[1]!, crcLines: 0 }, undefined, SEC_META);
    expect(decodeMeta(metaOnly).n).toBe(50);
    expect(metaOnly.lines.length).toBe(0);
    const ix = new BlockIndex(readFileBlockIndex(f.blocks[1]!));
    expect(ix.smNames).toEqual(new Set(['detected_level', 'trace_id']));
    expect(ix.mayContain(Buffer.from('héllo'))).toBe(true);
    expect(ix.mayContain(Buffer.from('line 7'))).toBe(true);
    removeDir(dir);
  });

  it('loadChunkFile (the compactor\'s whole-file read) gives what the positioned reads give, and detects corruption', async () => {
    const dir = tempDataDir();
    try {
      const b1 = new OpenBlock(1 << 16);
      fill(b1, 100);
      const b2 = new OpenBlock(1 << 16);
      fill(b2, 50);
      const path = join(dir, 'x', 'c.chk');
      await writeChunkFileAsync(path, 'tenant-a', '{app="x"}', [b1.cut(), b2.cut()]);
      const loaded = await loadChunkFile(path);
      expect(loaded.footer).toEqual(readChunkFooter(path));
      for (const src of loaded.footer.blocks) {
        const a = loaded.block(src);
        const b = readFileBlock(src);
        for (const k of ['index', 'meta', 'sm', 'lines'] as const) expect(Buffer.from(a[k]).equals(Buffer.from(b[k]))).toBe(true);
        expect(a.info).toEqual(b.info);
        expect(a.loaded).toBe(b.loaded);
      }
      for (const field of ['crcIndex', 'crcMeta', 'crcSm', 'crcLines'] as const) {
        const bad = { ...loaded.footer.blocks[0]!, [field]: (loaded.footer.blocks[0]![field] + 1) >>> 0 };
        expect(() => loaded.block(bad)).toThrow(/checksum/);
      }
      // a flipped byte inside the first block's lines, and a file cut short
      const bytes = readFileSync(path);
      const src = loaded.footer.blocks[0]!;
      const flipped = Buffer.from(bytes);
      flipped[src.offset + src.indexLen + src.metaC + src.smC + 3]! ^= 0xff;
      writeFileSync(path, flipped);
      const again = await loadChunkFile(path);
      expect(() => again.block(src)).toThrow(/lines section failed its checksum/);
      writeFileSync(path, bytes.subarray(0, bytes.length - 5));
      await expect(loadChunkFile(path)).rejects.toThrow(/no valid trailer/);
    } finally {
      removeDir(dir);
    }
  });
});
