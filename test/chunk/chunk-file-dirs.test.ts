// Chunk files are written into their directory whether or not it exists, including after it was
// removed while the server ran (retention empties old day directories).
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OpenBlock } from '../../src/chunk/open-block.js';
import { readChunkFooter, writeChunkFileAsync } from '../../src/chunk/chunk-file.js';
import { removeDir, tempDataDir } from '../helpers/server.js';

const dir = tempDataDir('bramble-chunkdir-');
afterAll(() => removeDir(dir));

function block() {
  const b = new OpenBlock(1 << 12);
  b.append(1795132800000000000n, 'a line', []);
  return b.cut();
}

describe('chunk file directories', () => {
  it('makes the directory, and makes it again after it was removed', async () => {
    const day = join(dir, 'chunks', 'fake', '2026-11-29');
    const a = join(day, 'a.chk');
    await writeChunkFileAsync(a, 'fake', '{job="x"}', [block()]);
    expect(readChunkFooter(a).blocks).toHaveLength(1);
    rmSync(day, { recursive: true });
    const b = join(day, 'b.chk');
    await writeChunkFileAsync(b, 'fake', '{job="x"}', [block()]);
    expect(existsSync(b)).toBe(true);
    expect(readChunkFooter(b).blocks).toHaveLength(1);
  });
});
