// Turns asked for together are granted one per loop iteration, in order: a timer that falls due
// during one turn runs before the next (setImmediate alone runs them all in one check phase).
import { describe, expect, it } from 'vitest';
import { LoopTurns } from '../../src/util/loop-turns.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a long synchronous step */ }
}

describe('LoopTurns', () => {
  it('lets a due timer run between two turns asked for at once', async () => {
    const turns = new LoopTurns();
    const order: string[] = [];
    const step = async (name: string): Promise<void> => {
      await turns.next();
      order.push(name);
      if (name === 'a') setTimeout(() => order.push('timer'), 1);
      busy(5); // the timer falls due
    };
    await Promise.all([step('a'), step('b'), step('c')]);
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(['a', 'timer', 'b', 'c']);
  });

  it('the same steps behind plain setImmediate run back to back (what the turns avoid)', async () => {
    const order: string[] = [];
    const step = async (name: string): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      order.push(name);
      if (name === 'a') setTimeout(() => order.push('timer'), 1);
      busy(5);
    };
    await Promise.all([step('a'), step('b'), step('c')]);
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(['a', 'b', 'c', 'timer']);
  });

  it('grants in the order asked, including turns asked for during a turn', async () => {
    const turns = new LoopTurns();
    const order: number[] = [];
    const step = async (k: number, again: boolean): Promise<void> => {
      await turns.next();
      order.push(k);
      if (again) {
        await turns.next();
        order.push(k + 10);
      }
    };
    await Promise.all([step(1, true), step(2, false), step(3, true)]);
    expect(order).toEqual([1, 2, 3, 11, 13]);
    expect(turns.pending).toBe(0);
  });

  it('grants every one of many waiters, and goes on past a step that throws', async () => {
    const turns = new LoopTurns();
    let n = 0;
    const all = Array.from({ length: 3000 }, async (_, i) => {
      await turns.next();
      n++;
      if (i % 1000 === 0) throw new Error('step failed');
    });
    const settled = await Promise.allSettled(all);
    expect(n).toBe(3000);
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(3);
    expect(turns.pending).toBe(0);
  });
});
