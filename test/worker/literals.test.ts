// Properties of the literal machinery that block and line skipping rely on: every string a
// regex matches contains one of its required literals, and a block's trigram bloom never
// denies a substring of its lines.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { requiredLiterals } from '../../src/worker/regex-literals.js';
import { buildBlockIndex, BlockIndex } from '../../src/chunk/block-index.js';
import { planLineFilters } from '../../src/worker/prefilter.js';
import { parseExpr } from '../../src/logql/syntax/index.js';
import type { LogSelectorExpr } from '../../src/logql/ast.js';

// regexes over {a,b,c} in the syntax RE2 and JavaScript agree on
const regexArb: fc.Arbitrary<string> = fc.letrec((tie) => ({
  re: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('a', 'b', 'c', 'ab', 'abc', '.', '[ab]', '[a-c]', '\\.', '^', '$', '[^a]'),
    fc.tuple(tie('re'), tie('re')).map(([x, y]) => `${x}${y}`),
    fc.tuple(tie('re'), tie('re')).map(([x, y]) => `${x}|${y}`),
    fc.tuple(tie('re'), fc.constantFrom('?', '*', '+', '{2}', '{0,2}', '{1,}', '??')).map(([x, q]) => `(?:${x})${q}`),
    tie('re').map((x) => `(${x})`),
  ),
})).re as fc.Arbitrary<string>;

describe('requiredLiterals', () => {
  it('knows the common shapes', () => {
    expect(requiredLiterals('error|fail(ed)?')).toEqual(['fail', 'error']);
    expect(requiredLiterals('foo.*bar')).toEqual(['foo']);
    expect(requiredLiterals('(?i)error')).toBeNull();
    expect(requiredLiterals('a?')).toBeNull();
    expect(requiredLiterals('x\\d+y')).toEqual(['x']);
    expect(requiredLiterals('(?P<n>abc)+')).toEqual(['abc']);
  });
  it('every match contains a required literal', () => {
    fc.assert(
      fc.property(regexArb, fc.array(fc.stringMatching(/^[abc. ]{0,12}$/), { minLength: 1, maxLength: 20 }), (re, strs) => {
        const lits = requiredLiterals(re);
        if (lits === null) return;
        const rx = new RegExp(re);
        for (const s of strs) if (rx.test(s)) expect(lits.some((l) => s.includes(l)), `${re} on ${s}: ${lits}`).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('block trigram bloom', () => {
  it('never denies a substring of a line, and sizes itself to the trigrams', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { minLength: 1, maxLength: 60 }), fc.nat(), (lines, pick) => {
        const bytes = Buffer.from(lines.join(''), 'utf8');
        const ix = new BlockIndex(buildBlockIndex(bytes, new Uint8Array(lines.length), lines.length));
        const line = Buffer.from(lines[pick % lines.length]!, 'utf8');
        for (let i = 0; i < line.length; i++) for (let j = i + 1; j <= Math.min(line.length, i + 8); j++) expect(ix.mayContain(line.subarray(i, j))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
  it('rules out absent literals on real-sized blocks', () => {
    const lines: string[] = [];
    for (let i = 0, len = 0; len < 200_000; i++) {
      lines.push(`2024-01-01 INFO worker-${i % 50} handled request ${i * 7919} in ${i % 300}ms`);
      len += lines[i]!.length;
    }
    const raw = buildBlockIndex(Buffer.from(lines.join('')), new Uint8Array(lines.length), lines.length);
    expect(raw.length).toBeLessThan(20_000);
    const ix = new BlockIndex(raw);
    expect(ix.mayContain(Buffer.from('needle-7f3a9c'))).toBe(false);
    expect(ix.mayContain(Buffer.from('handled request'))).toBe(true);
  });
  it('answers the same from an aligned index (filter read as a view) and a misaligned one (copied)', () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `req ${i * 7919} took ${i % 300}ms path=/api/v${i % 9}`);
    const raw = buildBlockIndex(Buffer.from(lines.join('')), new Uint8Array(lines.length), lines.length);
    const shifted = new Uint8Array(raw.length + 1).subarray(1);
    shifted.set(raw);
    const a = new BlockIndex(raw);
    const b = new BlockIndex(shifted);
    for (const probe of ['took 299ms', 'path=/api/v8', 'needle-7f3a9c', 'req 7919 ', 'zzz', 'v9x', '/api/v1']) {
      expect(a.mayContain(Buffer.from(probe)), probe).toBe(b.mayContain(Buffer.from(probe)));
    }
    expect(a.mayContain(Buffer.from('needle-7f3a9c'))).toBe(false);
  });
});

describe('planLineFilters', () => {
  const plan = (q: string) => planLineFilters((parseExpr(q) as LogSelectorExpr).pipeline);
  it('turns plain |= / != into byte conditions and keeps the rest', () => {
    const p = plan('{a="b"} |= "x" != "y" | json |= "z" or "w" |~ "e(rr)?or|fail" | line_format "{{.a}}" |= "after"');
    expect(p.must.map((c) => c.map(String))).toEqual([['x'], ['z', 'w'], ['eor', 'fail', 'error']]);
    expect(p.mustNot.map(String)).toEqual(['y']);
    expect(p.rest.map((s) => s.kind)).toEqual(['parser', 'lineFilter', 'lineFormat', 'lineFilter']);
  });
  it('leaves filters it cannot answer exactly in the pipeline', () => {
    const p = plan('{a="b"} |= ip("1.2.3.4") != "" |~ "(?i)x"');
    expect(p.must).toEqual([]);
    expect(p.rest).toHaveLength(3);
  });
});
