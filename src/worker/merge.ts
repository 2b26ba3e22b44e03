// Merging of direction-ordered entry lists (per stream, per worker, per query), keeping at most
// `limit` entries.
import type { ScannedEntry } from './protocol.js';

export function mergeSorted(a: ScannedEntry[], b: ScannedEntry[], cmp: (x: ScannedEntry, y: ScannedEntry) => number, limit: number): ScannedEntry[] {
  const out: ScannedEntry[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && cmp(a[i]!, b[j]!) <= 0)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
