// Replays the golden log-query answers of real Loki through the pipeline: every returned entry,
// rebuilt as (stream labels, structured metadata, original line), must pass the pipeline and come
// out with exactly the labels and line Loki returned.
import { describe, expect, it } from 'vitest';

import { parseExpr } from '../../../src/logql/syntax/index.js';
import type { LogSelectorExpr } from '../../../src/logql/ast.js';
import { compilePipeline } from '../../../src/logql/pipeline/index.js';
import { labelsFromObject, labelsKey } from '../../../src/util/labels.js';
import { goldenCases, inputsFromResult } from './golden-helpers.js';

const SKIP = /\b(drop|keep|label_format|line_format|unpack)\b/;

const cases = goldenCases().filter(
  (c) =>
    c.kind === 'query_range' &&
    c.status === 200 &&
    c.body?.data?.resultType === 'streams' &&
    (c.params.query ?? '').includes('|') &&
    !SKIP.test(c.params.query!),
);

describe('golden log queries', () => {
  it('has cases', () => {
    expect(cases.length).toBeGreaterThan(40);
  });
  for (const c of cases) {
    it(`${c.id} ${c.params.query}`, () => {
      const expr = parseExpr(c.params.query!) as LogSelectorExpr;
      const p = compilePipeline(expr.pipeline);
      for (const s of c.body.data.result as { stream: Record<string, string>; values: [string, string][] }[]) {
        const { stream, sm } = inputsFromResult(s.stream);
        const sp = p.forStream(stream);
        const want = labelsFromObject(s.stream);
        for (const [ts, line] of s.values) {
          const ok = sp.process(BigInt(ts), line, sm);
          expect(ok, `entry ${ts} ${line.slice(0, 80)}`).toBe(true);
          expect(sp.line).toBe(line);
          expect(sp.labels()).toEqual(want);
          expect(sp.labelsKey()).toBe(labelsKey(want));
        }
      }
    });
  }
});
