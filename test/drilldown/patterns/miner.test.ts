import { describe, expect, it } from 'vitest';
import { PatternMiner, PatternSeries } from '../../../src/drilldown/patterns/miner.js';
import { goldenCases, goldenEntries, parseSelector, parseStepNs } from '../golden-data.js';

function sortSeries(s: PatternSeries[]): PatternSeries[] {
  return [...s].sort((a, b) => {
    const ka = a.level + '\x00' + a.pattern;
    const kb = b.level + '\x00' + b.pattern;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

describe('PatternMiner over the golden data', () => {
  const entries = goldenEntries();
  const miner = new PatternMiner();
  const t0 = performance.now();
  for (const e of entries) miner.observe(e.key, e.tsNs, e.line, e.level);
  const ms = performance.now() - t0;
  console.log(`pattern miner: ${entries.length} lines in ${ms.toFixed(0)} ms = ${Math.round(entries.length / (ms / 1000))} lines/s`);

  const keysByLabels = new Map<string, (typeof entries)[number]['labels']>();
  for (const e of entries) keysByLabels.set(e.key, e.labels);

  for (const c of goldenCases('patterns').filter((c) => c.status === 200)) {
    it(`${c.id} ${c.params.query} step=${c.params.step ?? 'default'}`, () => {
      const sel = parseSelector(c.params.query!)!;
      const keys = new Set<string>();
      for (const [k, l] of keysByLabels) if (sel(l)) keys.add(k);
      const start = BigInt(c.params.start!);
      const end = BigInt(c.params.end!);
      const got = miner.query(keys, start, end, parseStepNs(c.params.step, start, end));
      const want = (c.body as { data: PatternSeries[] }).data;
      expect(sortSeries(got)).toEqual(sortSeries(want));
    });
  }
});
