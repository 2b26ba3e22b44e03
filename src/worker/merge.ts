// Merging of direction-ordered entry lists (per stream, per worker, per query), keeping at most
// `limit` entries, in Loki's order.
import type { ScannedEntry } from './protocol.js';

/** Merges two sorted lists into the first `limit` entries; what is cut off goes to `rest` if given. */
export function mergeSorted(a: ScannedEntry[], b: ScannedEntry[], cmp: (x: ScannedEntry, y: ScannedEntry) => number, limit: number, rest?: ScannedEntry[]): ScannedEntry[] {
  const out: ScannedEntry[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && cmp(a[i]!, b[j]!) <= 0)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  if (rest) {
    while (i < a.length) rest.push(a[i++]!);
    while (j < b.length) rest.push(b[j++]!);
  }
  return out;
}

/**
 * Loki's entry order (iter.lessAscending / lessDescending): by timestamp, then by the stream hash
 * ascending in both directions; entries of one stream keep their order (push order, reversed
 * when backward).
 */
export function cmpForward(a: ScannedEntry, b: ScannedEntry): number {
  return a.tsMs - b.tsMs || a.tsRem - b.tsRem || a.h - b.h || a.seq - b.seq;
}
export function cmpBackward(a: ScannedEntry, b: ScannedEntry): number {
  return b.tsMs - a.tsMs || b.tsRem - a.tsRem || a.h - b.h || b.seq - a.seq;
}
