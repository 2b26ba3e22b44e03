import { describe, expect, it } from 'vitest';
import { detectFieldValues, detectFields, FieldEntry, DetectedField } from '../../../src/drilldown/fields/detected.js';
import { parseJSONFields, parseLogfmtFields } from '../../../src/drilldown/fields/parse.js';
import { determineType, humanizeBytes, isGoDuration, isGoFloat, parseHumanizeBytes } from '../../../src/drilldown/fields/types.js';
import { GoldenEntry, goldenCases, goldenEntries, parseSelector } from '../golden-data.js';
import { Labels, sortLabels } from '../../../src/util/labels.js';

/** Stored entries (exact duplicates dropped) with detected_level in structured metadata. */
function stored(): GoldenEntry[] {
  const seen = new Set<string>();
  const out: GoldenEntry[] = [];
  for (const e of goldenEntries()) {
    const k = e.key + '\x00' + e.tsNs + '\x00' + e.line;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out;
}

/** The newest `limit` entries matching the query, as Loki's backward query returns them. */
function sample(query: string, startNs: bigint, endNs: bigint, limit: number): FieldEntry[] {
  const m = /^(\{[^}]*\})(.*)$/.exec(query)!;
  const sel = parseSelector(m[1]!)!;
  const pipeline = m[2]!.trim();
  const cands: { e: GoldenEntry; idx: number; parsed?: Labels }[] = [];
  const all = stored();
  for (let idx = 0; idx < all.length; idx++) {
    const e = all[idx]!;
    if (e.tsNs < startNs || e.tsNs >= endNs || !sel(e.labels)) continue;
    const stream = new Set(e.labels.map((l) => l.name));
    let parsed: Labels | undefined;
    if (pipeline === '| json | status >= 500') {
      const f = parseJSONFields(e.line, (n) => stream.has(n));
      if (f === null) continue;
      const st = f.find((x) => x.name === 'status');
      if (!st || !(Number(st.value) >= 500)) continue;
      parsed = sortLabels(f.map((x) => ({ name: x.name, value: x.value })));
    } else if (pipeline === '| logfmt | queue="emails"') {
      const f = parseLogfmtFields(e.line, (n) => stream.has(n));
      if (f.find((x) => x.name === 'queue')?.value !== 'emails') continue;
      parsed = sortLabels(f.map((x) => ({ name: x.name, value: x.value })));
    } else if (pipeline !== '') throw new Error('unsupported pipeline in test: ' + pipeline);
    cands.push({ e, idx, parsed });
  }
  // backward: newest first; equal timestamps in one stream come back in reverse push order
  cands.sort((a, b) => (a.e.tsNs > b.e.tsNs ? -1 : a.e.tsNs < b.e.tsNs ? 1 : b.idx - a.idx));
  return cands.slice(0, limit).map(({ e, parsed }) => ({
    line: e.line,
    streamLabels: e.labels,
    structuredMetadata: sortLabels([...e.sm, { name: 'detected_level', value: e.level }]),
    ...(parsed ? { parsed } : {}),
  }));
}

function norm(fields: DetectedField[]): DetectedField[] {
  return [...fields].sort((a, b) => (a.label < b.label ? -1 : 1));
}

describe('detected_fields golden cases', () => {
  for (const c of goldenCases('detected_fields').filter((c) => c.status === 200)) {
    it(`${c.id} ${c.path} ${c.params.query}`, () => {
      const entries = sample(c.params.query!, BigInt(c.params.start!), BigInt(c.params.end!), Number(c.params.line_limit ?? 100));
      const vm = /^\/loki\/api\/v1\/detected_field\/([^/]+)\/values$/.exec(c.path);
      if (vm) {
        const got = detectFieldValues(entries, decodeURIComponent(vm[1]!));
        const want = c.body as { values: string[]; limit: number };
        expect({ ...got, values: [...(got.values ?? [])].sort() }).toEqual({ ...want, values: [...want.values].sort() });
      } else {
        const got = detectFields(entries);
        const want = c.body as { fields: DetectedField[]; limit: number };
        expect(got.limit).toBe(want.limit);
        expect(norm(got.fields ?? [])).toEqual(norm(want.fields));
      }
    });
  }
});

describe('field parsing and types', () => {
  it('infers Go types in Loki order', () => {
    expect(determineType('42')).toBe('int');
    expect(determineType('-1.5e3')).toBe('float');
    expect(determineType('NaN')).toBe('float');
    expect(determineType('true')).toBe('boolean');
    expect(determineType('1')).toBe('int');
    expect(determineType('2m3s')).toBe('duration');
    expect(determineType('1.5µs')).toBe('duration');
    expect(determineType('12KiB')).toBe('bytes');
    expect(determineType('3.4 KB')).toBe('bytes');
    expect(determineType('1,024')).toBe('bytes');
    expect(determineType('12 apples')).toBe('string');
    expect(isGoDuration('1sec')).toBe(false);
    expect(isGoDuration('.s')).toBe(false);
    expect(isGoFloat('1e400')).toBe(false);
    expect(isGoFloat('0x1p-2')).toBe(true);
  });

  it('formats bytes like go-humanize', () => {
    expect(parseHumanizeBytes('8KiB')).toBe(8192);
    expect(humanizeBytes(8192)).toBe('8.2 kB');
    expect(humanizeBytes(82854982)).toBe('83 MB');
    expect(humanizeBytes(12500)).toBe('12 kB'); // %.0f rounds half to even
    expect(humanizeBytes(7)).toBe('7 B');
  });

  it('flattens JSON with paths, _extracted on stream-label clashes, first key wins', () => {
    const f = parseJSONFields('{"app":"x","a":{"b.c":1,"app":null,"d":[1]},"a_b_c":2,"ok":true,"a":{"z":3}}', (n) => n === 'app');
    expect(f).toEqual([
      { name: 'app_extracted', value: 'x', jsonPath: ['app'] },
      { name: 'a_b_c', value: '1', jsonPath: ['a', 'b.c'] },
      { name: 'ok', value: 'true', jsonPath: ['ok'] },
      { name: 'a_z', value: '3', jsonPath: ['a', 'z'] },
    ]);
    expect(parseJSONFields('{"a":1', () => false)).toBeNull();
    expect(parseJSONFields('plain text', () => false)).toBeNull();
  });

  it('parses logfmt leniently', () => {
    const f = parseLogfmtFields('a=1 a=2 =orphan flag error= trace.id="x y" b="q\\"z"', () => false);
    expect(f).toEqual([
      { name: 'a', value: '1', jsonPath: null },
      { name: 'trace_id', value: 'x y', jsonPath: null },
      { name: 'b', value: 'q"z', jsonPath: null },
    ]);
  });

  it('answers {} when nothing is detected and respects the field limit', () => {
    expect(detectFields([])).toEqual({});
    expect(detectFieldValues([], 'x')).toEqual({});
    const e: FieldEntry = { line: 'a=1 b=2 c=3', structuredMetadata: [], streamLabels: [{ name: 'app', value: 'x' }] };
    expect(detectFields([e], 2).fields).toHaveLength(2);
  });
});
