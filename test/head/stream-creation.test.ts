// A push's new streams go into the index in one transaction: all of them are kept, or, when
// the index write fails, none (in the index or in memory) and the push throws.
import { describe, expect, it } from 'vitest';
import { IndexDb } from '../../src/index/index-db.js';
import { LogEntry } from '../../src/push/entry.js';
import type { IngestStream } from '../../src/head/ingester.js';
import { withIngester } from '../helpers/ingester.js';

const T = 1795132800000000000n;

function streams(n: number): IngestStream[] {
  const body = Buffer.from('line');
  return Array.from({ length: n }, (_, i) => ({
    labels: [{ name: 'job', value: `j${i}` }],
    labelsString: `{job="j${i}"}`,
    entries: [LogEntry.fromBytes(T + BigInt(i), body, 0, 4, [])],
  }));
}

describe('stream creation', () => {
  it('creates a push\'s streams in one index transaction', async () => {
    await withIngester(async (ing) => {
      const index = (ing as unknown as { index: IndexDb }).index;
      const calls: string[] = [];
      for (const m of ['begin', 'commit', 'createStream'] as const) {
        const orig = index[m].bind(index) as (...a: unknown[]) => unknown;
        (index as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
          calls.push(m);
          return orig(...a);
        };
      }
      await ing.push('t', streams(5));
      expect(calls).toEqual(['begin', 'createStream', 'createStream', 'createStream', 'createStream', 'createStream', 'commit']);
      expect(index.loadStreams().map((r) => r.labels).sort()).toEqual(['{job="j0"}', '{job="j1"}', '{job="j2"}', '{job="j3"}', '{job="j4"}']);
      // known streams: no transaction at all
      calls.length = 0;
      await ing.push('t', streams(5).map((s) => ({ ...s, entries: [LogEntry.fromBytes(T + 100n, Buffer.from('next'), 0, 4, [])] })));
      expect(calls).toEqual([]);
    });
  });

  it('keeps none of them when one cannot be written, and a later push creates them', async () => {
    await withIngester(async (ing) => {
      const index = (ing as unknown as { index: IndexDb }).index;
      const orig = index.createStream.bind(index);
      let n = 0;
      index.createStream = (...a: Parameters<IndexDb['createStream']>) => {
        if (++n === 3) throw new Error('disk I/O error');
        return orig(...a);
      };
      await expect(ing.push('t', streams(4))).rejects.toThrow('disk I/O error');
      expect(index.loadStreams()).toEqual([]);
      expect(ing.listStreams('t')).toEqual([]);
      expect(index.db.inTransaction).toBe(false);
      expect(ing.metrics.linesIngested).toBe(0);
      await ing.push('t', streams(4));
      expect(index.loadStreams()).toHaveLength(4);
      expect(ing.listStreams('t').map((s) => s.labelsString).sort()).toEqual(['{job="j0"}', '{job="j1"}', '{job="j2"}', '{job="j3"}']);
      expect(ing.metrics.linesIngested).toBe(4);
    });
  });
});
