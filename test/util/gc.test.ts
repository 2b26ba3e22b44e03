// majorGc: a full collection on demand without --expose-gc on the command line (the server runs
// one after flushes so dead head blocks give their memory back).
import { describe, expect, it } from 'vitest';
import { majorGc } from '../../src/util/gc.js';

describe('majorGc', () => {
  it('collects an unreachable SharedArrayBuffer that survived into the old generation', async () => {
    let collected = false;
    const registry = new FinalizationRegistry(() => { collected = true; });
    (() => {
      const old = { buf: new SharedArrayBuffer(1 << 20) };
      registry.register(old, 'slab');
    })();
    const ms = majorGc();
    expect(ms).not.toBeNull();
    expect(ms!).toBeGreaterThanOrEqual(0);
    // finalizers run as a task after the collection
    for (let i = 0; i < 20 && !collected; i++) await new Promise((r) => setTimeout(r, 5));
    expect(collected).toBe(true);
  });
});
