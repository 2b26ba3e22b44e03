// Every query in the recorded Loki answers (shared/golden/cases.jsonl): status-400 `parse error`
// bodies must be reproduced exactly by parseExpr, status-200 queries must parse. Stage-construction
// errors (`stage '...' : ...`: templates, label_format duplicates, ip patterns) are raised by the
// pipeline builder, not the parser, so they are only required to parse here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError, parseExpr, parseMatchers, QueryTypeError } from '../../../src/logql/syntax/index.js';

interface Case {
  id: string;
  kind: string;
  params: Record<string, unknown>;
  status: number;
  body: unknown;
}

const cases: Case[] = readFileSync(new URL('../../../../shared/golden/cases.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Case);

function bodyText(c: Case): string {
  return typeof c.body === 'string' ? c.body.trim() : JSON.stringify(c.body);
}

const queryCases = cases.filter((c) => typeof c.params.query === 'string' && (c.kind === 'query' || c.kind === 'query_range'));
const parseErrorCases = queryCases.filter((c) => c.status === 400 && bodyText(c).startsWith('parse error') && !bodyText(c).includes(": stage '"));
const stageErrorCases = queryCases.filter((c) => c.status === 400 && bodyText(c).includes(": stage '"));
const okCases = queryCases.filter((c) => c.status === 200 || (c.status >= 400 && !bodyText(c).startsWith('parse error')));

function errorOf(q: string): string {
  try {
    parseExpr(q);
    return 'no error';
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return (e as Error).message;
  }
}

describe('golden parse errors', () => {
  it('has cases to check', () => {
    expect(parseErrorCases.length).toBeGreaterThan(20);
    expect(okCases.length).toBeGreaterThan(200);
  });
  it.each(parseErrorCases.map((c) => [c.id, c.params.query as string, bodyText(c)] as const))('%s %s', (_id, q, want) => {
    expect(errorOf(q)).toBe(want);
  });
});

describe('golden accepted queries', () => {
  it.each(okCases.map((c) => [c.id, c.params.query as string] as const))('%s %s', (_id, q) => {
    expect(() => parseExpr(q)).not.toThrow();
  });
  it.each(stageErrorCases.map((c) => [c.id, c.params.query as string] as const))('%s parses (stage error is the pipeline builder\'s) %s', (_id, q) => {
    expect(() => parseExpr(q)).not.toThrow();
  });
});

describe('golden match[] and index queries', () => {
  const other = cases.filter((c) => c.kind !== 'query' && c.kind !== 'query_range');
  for (const c of other) {
    const raw = c.params['match[]'] ?? c.params.query;
    const q = Array.isArray(raw) ? (raw[0] as string) : (raw as string | undefined);
    const body = bodyText(c);
    if (c.status === 400 && (body.startsWith('parse error') || body === 'only label matchers are supported')) {
      it(`${c.id} ${c.kind} ${JSON.stringify(q)}`, () => {
        let got = 'no error';
        try {
          parseMatchers(q ?? '');
        } catch (e) {
          expect(e instanceof ParseError || e instanceof QueryTypeError).toBe(true);
          got = (e as Error).message;
        }
        expect(got).toBe(body);
      });
    }
  }
});
