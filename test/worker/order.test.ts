// Loki's order of log entries with equal timestamps (pkg/iter/entry_iterator.go lessAscending /
// lessDescending): different streams are ordered by labels.StableHash ascending in both
// directions; one stream's entries keep push order (reversed when backward). Checks our XXH64
// against published test vectors and the comparators against that rule.
import { describe, expect, it } from 'vitest';
import { xxhash64, stableLabelsHash } from '../../src/util/xxhash.js';
import { cmpBackward, cmpForward, mergeSorted } from '../../src/worker/merge.js';
import type { ScannedEntry } from '../../src/worker/protocol.js';
import { labelsFromObject } from '../../src/util/labels.js';

const enc = new TextEncoder();

describe('xxhash64', () => {
  it('matches the reference vectors (seed 0)', () => {
    expect(xxhash64(enc.encode('')).toString(16)).toBe('ef46db3751d8e999');
    expect(xxhash64(enc.encode('a')).toString(16)).toBe('d24ec4f1a98c6e5b');
    expect(xxhash64(enc.encode('abc')).toString(16)).toBe('44bc2cf5ad770999');
    expect(xxhash64(enc.encode('Nobody inspects the spammish repetition')).toString(16)).toBe('fbcea83c8a378bf1');
    expect(xxhash64(enc.encode('The quick brown fox jumps over the lazy dog')).toString(16)).toBe('b242d361fda71bc');
  });
  it('StableHash hashes name 0xff value 0xff per label', () => {
    const b = new Uint8Array([...enc.encode('a'), 0xff, ...enc.encode('1'), 0xff, ...enc.encode('b'), 0xff, ...enc.encode('é'), 0xff]);
    expect(stableLabelsHash(labelsFromObject({ b: 'é', a: '1' }))).toBe(xxhash64(b));
  });
});

function e(tsMs: number, h: number, seq: number, line: string): ScannedEntry {
  return { tsMs, tsRem: 0, seq, h, line, key: String(h), labels: [] };
}

describe('entry order at equal timestamps', () => {
  const a1 = e(5, 200, 1, 'a1');
  const a2 = e(5, 200, 2, 'a2');
  const b1 = e(5, 100, 1, 'b1');
  const later = e(6, 300, 0, 'later');
  it('forward: time, then smaller stream hash, then push order', () => {
    expect([later, a2, a1, b1].sort(cmpForward).map((x) => x.line)).toEqual(['b1', 'a1', 'a2', 'later']);
  });
  it('backward: time descending, smaller stream hash first, push order reversed', () => {
    expect([a1, b1, later, a2].sort(cmpBackward).map((x) => x.line)).toEqual(['later', 'b1', 'a2', 'a1']);
  });
  it('the limit cut of a merge keeps the smaller hash at a tie', () => {
    expect(mergeSorted([a1], [b1], cmpBackward, 1).map((x) => x.line)).toEqual(['b1']);
    expect(mergeSorted([a1], [b1], cmpForward, 1).map((x) => x.line)).toEqual(['b1']);
  });
});
