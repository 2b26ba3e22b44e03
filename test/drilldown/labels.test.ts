import { describe, expect, it } from 'vitest';
import { detectLabels, isUUID, shouldRejectLabel } from '../../src/drilldown/labels.js';
import { goldenCases, goldenEntries, parseSelector } from './golden-data.js';
import { Labels, labelsFromObject } from '../../src/util/labels.js';

describe('detected_labels golden cases', () => {
  const streams = new Map<string, Labels>();
  for (const e of goldenEntries()) streams.set(e.key, e.labels);
  for (const c of goldenCases('detected_labels').filter((c) => c.status === 200)) {
    it(`${c.id} ${c.params.query}`, () => {
      const sel = parseSelector(c.params.query!)!;
      const got = detectLabels([...streams.values()].filter(sel));
      const want = c.body as { detectedLabels: { label: string; cardinality: number }[] };
      const sort = (a: { label: string }, b: { label: string }) => (a.label < b.label ? -1 : 1);
      expect([...(got.detectedLabels ?? [])].sort(sort)).toEqual([...want.detectedLabels].sort(sort));
    });
  }
});

describe('detected_labels rules', () => {
  it('drops ID-like labels but keeps static ones and booleans', () => {
    const ls = [
      labelsFromObject({ pod: '123', req: '1', flag: '0', uuid: '6ba7b810-9dad-11d1-80b4-00c04fd430c8', app: 'a' }),
      labelsFromObject({ pod: '124', req: '2', flag: '1', uuid: '6ba7b8109dad11d180b400c04fd430c8', app: 'a' }),
      labelsFromObject({ pod: '125', req: '3.5', flag: '1', uuid: '{6ba7b810-9dad-11d1-80b4-00c04fd430c9}', app: 'b' }),
    ];
    const got = detectLabels(ls).detectedLabels!.sort((a, b) => (a.label < b.label ? -1 : 1));
    expect(got).toEqual([
      { label: 'app', cardinality: 2 },
      { label: 'flag', cardinality: 2 },
      { label: 'pod', cardinality: 3 },
    ]);
    expect(shouldRejectLabel(['1', '0'])).toBe(false);
    expect(shouldRejectLabel(['1', '2'])).toBe(true);
    expect(shouldRejectLabel(['1', 'x'])).toBe(false);
    expect(isUUID('urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(true);
    expect(isUUID('6ba7b810-9dad-11d1-80b4')).toBe(false);
    expect(detectLabels([])).toEqual({});
  });
});
