// The ingester counts pushes under way (appended, waiting for their WAL fsync) so the reclaimer
// never takes a slow fsync for the end of ingest.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ingester } from '../../src/head/ingester.js';
import { LogEntry } from '../../src/push/entry.js';

const log = { info() {}, warn() {}, error() {} };

describe('pushes in flight', () => {
  it('counts a push until it is durable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-inflight-'));
    try {
      const ing = new Ingester({ dataDir: dir, blockSize: 4096, chunkTargetSize: 1 << 20, maxChunkAgeMs: 3600_000, chunkIdlePeriodMs: 3600_000, walSegmentSize: 1 << 24 }, log);
      ing.start();
      const body = Buffer.from('line');
      const p = ing.push('t', [{ labels: [{ name: 'job', value: 'x' }], labelsString: '{job="x"}', entries: [LogEntry.fromBytes(1795132800000000000n, body, 0, 4, [])] }]);
      expect(ing.metrics.pushesInFlight).toBe(1);
      await p;
      expect(ing.metrics.pushesInFlight).toBe(0);
      await ing.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
