// Scratch returns views of exactly the requested length over one reused buffer, growing it
// only when a request does not fit.
import { describe, expect, it } from 'vitest';
import { Scratch } from '../../src/util/scratch.js';

describe('Scratch', () => {
  it('reuses its storage and grows when needed', () => {
    const s = new Scratch();
    const a = s.get(1000);
    expect(a.length).toBe(1000);
    const b = s.get(5000);
    expect(b.buffer).toBe(a.buffer); // 64 KiB minimum
    const c = s.get(200_000);
    expect(c.length).toBe(200_000);
    expect(c.buffer).not.toBe(a.buffer);
    expect(s.get(10).buffer).toBe(c.buffer);
    expect(s.capacity).toBeGreaterThanOrEqual(200_000);
  });
});
