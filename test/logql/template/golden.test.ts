// Table-driven check of the template engine against real Loki answers. golden-fixtures.json was
// extracted from shared/golden/cases.jsonl (every case whose query uses line_format or
// label_format): for each returned entry it holds the result labels, the output line and the
// original pushed line(s) with that stream and timestamp (from shared/golden/ingest). A
// line_format that ends the pipeline (or is followed only by line filters) saw exactly the
// result labels, so executing the template over them must give the returned line.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileTemplate, TemplateParseError } from '../../../src/logql/template/index.js';

interface Fixture {
  id: string;
  query: string;
  status: number;
  error?: string;
  streams?: { labels: Record<string, string>; entries: { ts: string; out: string; lines: string[] }[] }[];
}

const fixtures: Fixture[] = JSON.parse(
  readFileSync(fileURLToPath(new URL('./golden-fixtures.json', import.meta.url)), 'utf8'),
);

/** Reads a LogQL string literal ("..." with Go escapes, or `raw`) starting at s[i]. */
function readLiteral(s: string, i: number): string {
  if (s[i] === '`') return s.slice(i + 1, s.indexOf('`', i + 1));
  let j = i + 1;
  while (s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
  return JSON.parse(s.slice(i, j + 1)) as string;
}

/** The template of the last line_format stage, if only line filters follow it. */
function lineFormatOf(q: string): string | null {
  const i = q.lastIndexOf('| line_format ');
  if (i < 0) return null;
  const start = i + '| line_format '.length;
  const tmpl = readLiteral(q, start);
  const rest = q.slice(start + tmpl.length + 2).trim();
  if (rest !== '' && !/^(\|=|!=|\|~|!~) "[^"]*"$/.test(rest)) return null;
  return tmpl;
}

const lineCases = fixtures.filter((f) => f.streams && f.streams.length > 0 && lineFormatOf(f.query) !== null);

describe('golden line_format answers', () => {
  it('covers the recorded line_format cases', () => {
    expect(lineCases.length).toBeGreaterThanOrEqual(18);
  });
  for (const f of lineCases) {
    it(`${f.id}: ${f.query}`, () => {
      const t = compileTemplate(lineFormatOf(f.query)!, 'line');
      const usesLine = f.query.includes('__line__');
      let checked = 0;
      for (const s of f.streams!) {
        for (const e of s.entries) {
          const candidates = usesLine ? e.lines : [''];
          expect(candidates.length).toBeGreaterThan(0);
          const outs = candidates.map((line) => t.execute({ labels: s.labels, line, tsNs: BigInt(e.ts) }));
          expect(outs).toContain(e.out);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(0);
    });
  }
});

describe('golden label_format answers', () => {
  const cases: [string, string, string][] = [
    ['g0139', 'code', '{{.status}}-{{.method}}'],
    ['g0441', 'src', '{{.source}}:{{.host}}'],
  ];
  for (const [id, target, tmpl] of cases) {
    it(`${id}: ${target}=${tmpl}`, () => {
      const f = fixtures.find((x) => x.id === id)!;
      expect(f.query).toContain(tmpl);
      const t = compileTemplate(tmpl, 'label');
      let checked = 0;
      for (const s of f.streams!) {
        const labels = { ...s.labels };
        const want = labels[target]!;
        delete labels[target];
        for (const e of s.entries) {
          expect(t.execute({ labels, line: e.lines[0] ?? '', tsNs: BigInt(e.ts) })).toBe(want);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(0);
    });
  }
});

describe('golden template parse errors', () => {
  for (const id of ['g0525', 'g0550']) {
    it(id, () => {
      const f = fixtures.find((x) => x.id === id)!;
      const tmpl = lineFormatOf(f.query)!;
      let msg = '';
      try {
        compileTemplate(tmpl, 'line');
      } catch (e) {
        expect(e).toBeInstanceOf(TemplateParseError);
        msg = (e as Error).message;
      }
      expect(f.error!.endsWith('invalid line template: ' + msg)).toBe(true);
      expect(msg).not.toBe('');
    });
  }
});
