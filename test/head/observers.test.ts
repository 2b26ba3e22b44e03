// Entry observers (tail, forwarder) see acknowledged entries of the tenants and streams they ask
// for; entries nobody asked for stay byte ranges of the request (never decoded to strings).
import { describe, expect, it } from 'vitest';
import { LogEntry } from '../../src/push/entry.js';
import { withIngester } from '../helpers/ingester.js';

const T0 = 1795132800000000000n;

describe('entry observers', () => {
  it('get only the tenants they want, and only those entries are detached', () => withIngester(async (ing) => {
    const seen: string[] = [];
    ing.onEntry((s, e) => seen.push(`${s.tenant}:${e.line}`), (t) => t === 'a');
    const body = Buffer.from('line-1line-2');
    const push = (tenant: string): Promise<unknown> => {
      const entries = [LogEntry.fromBytes(T0, body, 0, 6, []), LogEntry.fromBytes(T0 + 1n, body, 6, 12, [])];
      return ing.push(tenant, [{ labels: [{ name: 'job', value: 'x' }], labelsString: '{job="x"}', entries }]).then(() => entries);
    };
    const a = (await push('a')) as LogEntry[];
    const b = (await push('b')) as LogEntry[];
    expect(seen).toEqual(['a:line-1', 'a:line-2']);
    expect(a.every((e) => e.src === null)).toBe(true); // detached: the observer may keep them
    expect(b.every((e) => e.src === body)).toBe(true); // nobody wanted tenant b: still bytes
  }));

  it('get only the streams they want, and only those entries are detached', () => withIngester(async (ing) => {
    const seen: string[] = [];
    ing.onEntry((s, e) => seen.push(`${s.labelsString}:${e.line}`), () => true, (s) => s.labels[0]!.value === 'x');
    const body = Buffer.from('line-1line-2');
    const entries = (): LogEntry[] => [LogEntry.fromBytes(T0, body, 0, 6, []), LogEntry.fromBytes(T0 + 1n, body, 6, 12, [])];
    const x = entries();
    const y = entries();
    await ing.push('a', [
      { labels: [{ name: 'job', value: 'y' }], labelsString: '{job="y"}', entries: y },
      { labels: [{ name: 'job', value: 'x' }], labelsString: '{job="x"}', entries: x },
    ]);
    expect(seen).toEqual(['{job="x"}:line-1', '{job="x"}:line-2']);
    expect(x.every((e) => e.src === null)).toBe(true);
    expect(y.every((e) => e.src === body)).toBe(true); // nobody wanted stream y: still bytes
  }));
});
