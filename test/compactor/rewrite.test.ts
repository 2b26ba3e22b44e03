// rewriteChunks re-encodes small blocks entry by entry; it yields to the event loop within a
// block once a slice ran REWRITE_SLICE_MS, not only between blocks, and the merged chunk holds
// every entry in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OpenBlock } from '../../src/chunk/open-block.js';
import { decodeLines, decodeMeta, joinNs } from '../../src/chunk/block-reader.js';
import { readChunkFooter, readFileBlock, writeChunkFileAsync } from '../../src/chunk/chunk-file.js';
import { REWRITE_SLICE_MS, rewriteChunks } from '../../src/compactor/rewrite.js';

const T = 1795132800000000000n;
const BLOCK = 256 * 1024;

async function smallChunk(path: string, from: number, n: number): Promise<void> {
  const b = new OpenBlock(BLOCK);
  for (let i = from; i < from + n; i++) b.append(T + BigInt(i), `line ${i}`, []);
  await writeChunkFileAsync(path, 'fake', '{job="x"}', [b.cut()]);
}

function readAll(path: string): [bigint, string][] {
  const out: [bigint, string][] = [];
  for (const src of readChunkFooter(path).blocks) {
    const block = readFileBlock(src);
    const meta = decodeMeta(block);
    const lines = decodeLines(block);
    for (let i = 0; i < meta.n; i++) out.push([joinNs(meta.tsMs[i]!, meta.tsRem[i]!), Buffer.from(lines.subarray(meta.lineOff[i]!, meta.lineOff[i + 1]!)).toString()]);
  }
  return out;
}

describe('rewriteChunks', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('yields within a block once a slice ran long, and keeps every entry in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-rewrite-'));
    dirs.push(dir);
    await smallChunk(join(dir, 'a.chk'), 0, 2000);
    await smallChunk(join(dir, 'b.chk'), 2000, 2000);
    // every look at the clock finds a slice's worth of time gone
    let fake = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (fake += REWRITE_SLICE_MS));
    // the clock readings the loop got to run between: one per slice the rewrite yielded after
    // (the loop also turns freely while the file is read and written, at no new reading)
    const between = new Set<number>();
    let running = true;
    const tick = (): void => {
      if (!running) return;
      between.add(fake);
      setImmediate(tick);
    };
    setImmediate(tick);
    const res = await rewriteChunks([join(dir, 'a.chk'), join(dir, 'b.chk')], { path: join(dir, 'out.chk'), tenant: 'fake', labels: '{job="x"}' }, BLOCK);
    running = false;
    // 4000 entries, the clock looked at every 64: ~62 yields within blocks
    expect(between.size).toBeGreaterThanOrEqual(60);
    expect(res.kept).toBe(4000);
    expect(res.summary!.entries).toBe(4000);
    const got = readAll(join(dir, 'out.chk'));
    expect(got).toHaveLength(4000);
    got.forEach(([ts, line], i) => {
      expect(ts).toBe(T + BigInt(i));
      expect(line).toBe(`line ${i}`);
    });
  });
});
