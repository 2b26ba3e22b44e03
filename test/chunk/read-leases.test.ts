// Read leases: memory exposed under lease k is reusable once no lease <= k is open; memory
// exposed without a lease never is; retired memory goes back when the leases close, in order.
import { describe, expect, it } from 'vitest';
import { MAX_WAITING_BYTES, NEVER, ReadLeases, UNSEEN } from '../../src/chunk/read-leases.js';

describe('ReadLeases', () => {
  it('holds memory exposed under a lease until every lease up to it is closed', () => {
    const l = new ReadLeases();
    const a = l.open();
    const b = l.open();
    const c = l.open();
    expect(l.reusable(UNSEEN)).toBe(true);
    expect(l.reusable(NEVER)).toBe(false);
    expect(l.reusable(b)).toBe(false);
    l.close(b);
    expect(l.reusable(b)).toBe(false); // a may have seen it too
    l.close(a);
    expect(l.reusable(b)).toBe(true);
    expect(l.reusable(c)).toBe(false);
    l.close(c);
    expect(l.reusable(c)).toBe(true);
    expect(l.openCount).toBe(0);
    l.close(c); // twice: nothing
    expect(l.openCount).toBe(0);
  });

  it('frees retired memory when the oldest lease that could read it closes', () => {
    const l = new ReadLeases();
    const freed: string[] = [];
    l.retire(UNSEEN, 10, () => freed.push('unseen'));
    l.retire(NEVER, 10, () => freed.push('never'));
    const a = l.open();
    const b = l.open();
    l.retire(a, 10, () => freed.push('a'));
    l.retire(b, 20, () => freed.push('b'));
    expect(freed).toEqual(['unseen']);
    expect(l.waitingCount).toBe(2);
    expect(l.waitingSize).toBe(30);
    l.close(b); // a is still open: nothing may go
    expect(freed).toEqual(['unseen']);
    l.close(a);
    expect(freed).toEqual(['unseen', 'a', 'b']);
    expect(l.waitingCount).toBe(0);
    expect(l.waitingSize).toBe(0);
  });

  it('keeps at most MAX_WAITING_BYTES waiting, dropping the oldest', () => {
    const l = new ReadLeases();
    const a = l.open();
    const freed: number[] = [];
    const piece = 1024 * 1024;
    const fit = MAX_WAITING_BYTES / piece;
    for (let i = 0; i < fit + 10; i++) l.retire(a, piece, () => freed.push(i));
    expect(l.waitingCount).toBe(fit);
    expect(l.waitingSize).toBe(MAX_WAITING_BYTES);
    l.close(a);
    expect(freed).toEqual(Array.from({ length: fit }, (_, i) => i + 10));
  });
});
