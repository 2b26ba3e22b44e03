// A push given loop turns runs its per-entry rules and adds its entries to heads in slices,
// waiting for a turn between streams once a slice ran storeSliceMs (new streams are created
// first, in one index transaction committed before any wait); meanwhile other pushes wait, so
// their checks still see every earlier entry.
import { describe, expect, it } from 'vitest';
import { LogEntry } from '../../src/push/entry.js';
import type { IngestStream, StoreTurns } from '../../src/head/ingester.js';
import { withIngester } from '../helpers/ingester.js';

const T = 1795132800000000000n;
const body = Buffer.from('line');

function streams(n: number): IngestStream[] {
  return Array.from({ length: n }, (_, i) => ({
    labels: [{ name: 'job', value: `j${i}` }],
    labelsString: `{job="j${i}"}`,
    entries: [LogEntry.fromBytes(T + BigInt(i), body, 0, 4, [])],
  }));
}

/** Turns the test grants one at a time. */
function manualTurns(): StoreTurns & { waiting: (() => void)[]; asked: number } {
  const t = {
    waiting: [] as (() => void)[],
    asked: 0,
    next(): Promise<void> {
      t.asked++;
      return new Promise<void>((r) => t.waiting.push(r));
    },
  };
  return t;
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('store slices', () => {
  it('waits for a turn between streams and stores every entry', () => withIngester(async (ing) => {
    const turns = manualTurns();
    const done = ing.push('t', streams(4), undefined, turns);
    // the streams exist, and their index transaction is committed, before the first wait
    expect(ing.listStreams('t')).toHaveLength(4);
    expect(ing.index.loadStreams()).toHaveLength(4);
    expect(ing.index.db.inTransaction).toBe(false);
    const seen: number[] = [];
    for (;;) {
      await settle();
      seen.push(ing.metrics.linesIngested);
      const next = turns.waiting.shift();
      if (next === undefined) break;
      next();
    }
    expect(await done).toBeNull();
    // one stream per slice, for the rules (4 turns) and then into the heads (3): the loop ran
    // between them
    expect(seen).toEqual([0, 0, 0, 0, 1, 2, 3, 4]);
    expect(turns.asked).toBe(7);
    expect(ing.listStreams('t')).toHaveLength(4);
  }, 16 * 1024, { storeSliceMs: 0 }));

  it('stores in one go without turns', () => withIngester(async (ing) => {
    const done = ing.push('t', streams(4));
    expect(ing.metrics.linesIngested).toBe(4);
    expect(await done).toBeNull();
  }, 16 * 1024, { storeSliceMs: 0 }));

  it('a later push waits for one still storing, so its checks see those entries', () => withIngester(async (ing) => {
    const turns = manualTurns();
    const first = ing.push('t', streams(5), undefined, turns);
    // the first waits for a turn before its rules
    await settle();
    expect(turns.waiting).toHaveLength(1);
    expect(ing.metrics.linesIngested).toBe(0);
    // an exact duplicate of the first push's last entry (stream j4, not stored yet) and a new one
    const second = ing.push('t', [{
      labels: [{ name: 'job', value: 'j4' }],
      labelsString: '{job="j4"}',
      entries: [LogEntry.fromBytes(T + 4n, body, 0, 4, []), LogEntry.fromBytes(T + 5n, body, 0, 4, [])],
    }]);
    await settle();
    expect(ing.metrics.linesIngested).toBe(0);
    while (turns.waiting.length > 0 || ing.metrics.linesIngested < 5) {
      turns.waiting.shift()?.();
      await settle();
    }
    expect(await first).toBeNull();
    expect(await second).toBeNull();
    expect(ing.metrics.duplicatesDropped).toBe(1);
    expect(ing.metrics.linesIngested).toBe(6);
  }, 16 * 1024, { storeSliceMs: 0 }));

  it('a WAL write that fails while the push waits for a turn rejects the push, unhandled nowhere', () => withIngester(async (ing) => {
    const turns = manualTurns();
    const wal = ing.wal as unknown as { append: (p: unknown) => { pos: number; durable: Promise<void> } };
    const append = wal.append.bind(wal);
    wal.append = (p) => {
      const r = append(p);
      return { pos: r.pos, durable: r.durable.then(() => Promise.reject(new Error('EIO: i/o error, fsync'))) };
    };
    const done = ing.push('t', streams(3), undefined, turns);
    const outcome = done.then(() => null, (e: Error) => e.message);
    // the write fails while the push waits for its next turn
    await new Promise((r) => setTimeout(r, 50));
    while (turns.waiting.length > 0) {
      turns.waiting.shift()!();
      await settle();
    }
    expect(await outcome).toContain('EIO');
    wal.append = append;
  }, 16 * 1024, { storeSliceMs: 0 }));
});
