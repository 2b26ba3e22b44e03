// An Ingester on a fresh temporary data directory (small blocks, no age or idle flushes),
// started, handed to fn, then closed and its directory removed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ingester, type IngesterOptions } from '../../src/head/ingester.js';

const log = { info() {}, warn() {}, error() {} };

export async function withIngester(fn: (ing: Ingester, dir: string) => Promise<void>, blockSize = 16 * 1024, opts: Partial<IngesterOptions> = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-ingester-'));
  try {
    const ing = new Ingester({ dataDir: dir, blockSize, chunkTargetSize: 1 << 20, maxChunkAgeMs: 3600_000, chunkIdlePeriodMs: 3600_000, walSegmentSize: 1 << 24, ...opts }, log);
    ing.start();
    try {
      await fn(ing, dir);
    } finally {
      await ing.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
