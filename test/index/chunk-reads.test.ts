// The narrow chunk reads a query uses on the event loop: chunkPaths (what a scan reads),
// chunkSpans (index/volume) and chunkTotals (index/stats, the bytes-read limit) answer exactly
// what the full rows say: every chunk overlapping the range, oldest first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexDb } from '../../src/index/index-db.js';

const T0 = 1795132800000000000n;
const S = 1_000_000_000n;

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('chunk reads', () => {
  it('chunkPaths, chunkSpans and chunkTotals agree with the full rows for every range', () => {
    dir = mkdtempSync(join(tmpdir(), 'bramble-index-'));
    const db = new IndexDb(join(dir, 'index.db'));
    try {
      const ids = [0, 1, 2].map((i) => db.createStream('t', `fp${i}`, `{job="j${i}"}`, [{ name: 'job', value: `j${i}` }]));
      // stream i has 5 + i chunks of 10 s each, 5 s apart, added newest first so that the
      // answer's order comes from the query, not from insertion
      for (const [i, id] of ids.entries()) {
        for (let c = 4 + i; c >= 0; c--) {
          const minTs = T0 + BigInt(c) * 15n * S + BigInt(i) * S;
          db.addChunk(id, { minTs, maxTs: minTs + 10n * S, path: `/c/${id}/${c}`, bytes: 100 + c, lineBytes: 1000 * (c + 1) + i, entries: 10 * (c + 1) }, 0);
        }
      }
      const ranges: [bigint, bigint][] = [
        [T0 - 100n * S, T0 - 1n], // before everything
        [T0, T0 + 1000n * S], // everything
        [T0 + 12n * S, T0 + 31n * S], // a gap's edge and the middle
        [T0 + 10n * S, T0 + 10n * S], // one instant: a chunk's last nanosecond
        [T0 + 45n * S + 2n * S, T0 + 200n * S], // from inside stream 2's 4th chunk on
      ];
      let some = 0;
      for (const id of ids) {
        for (const [from, through] of ranges) {
          const rows = db.allChunks().filter((r) => r.streamId === id && r.maxTs >= from && r.minTs <= through).sort((a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : 0));
          some += rows.length;
          expect(db.chunkPaths(id, from, through)).toEqual(rows.map((r) => r.path));
          expect(db.chunkSpans(id, from, through)).toEqual(rows.map((r) => [r.minTs, r.maxTs, BigInt(r.lineBytes)]));
          expect(db.chunkTotals(id, from, through)).toEqual({
            chunks: rows.length,
            lineBytes: rows.reduce((n, r) => n + r.lineBytes, 0),
            entries: rows.reduce((n, r) => n + r.entries, 0),
          });
        }
      }
      expect(some).toBeGreaterThan(20);
      expect(db.chunkPaths(ids[0]!, T0, T0 + 1000n * S)).toEqual(['/c/1/0', '/c/1/1', '/c/1/2', '/c/1/3', '/c/1/4']);
      expect(db.chunkTotals(ids[2]!, T0 - 100n * S, T0 - 1n)).toEqual({ chunks: 0, lineBytes: 0, entries: 0 });
    } finally {
      db.close();
    }
  });
});
