// Shared helpers for pipeline tests: parse a LogQL query with the real parser and run one line.
import { parseExpr } from '../../../src/logql/syntax/index.js';
import type { LogSelectorExpr, RangeAggregationExpr, VectorAggregationExpr, Grouping } from '../../../src/logql/ast.js';
import { compilePipeline, compileSampleExtractor } from '../../../src/logql/pipeline/index.js';
import { labelsFromObject, labelsToObject } from '../../../src/util/labels.js';

export function runLine(
  query: string,
  stream: Record<string, string>,
  line: string,
  sm: Record<string, string> = {},
): { ok: boolean; line: string; labels: Record<string, string> } {
  const expr = parseExpr(query) as LogSelectorExpr;
  const sp = compilePipeline(expr.pipeline).forStream(labelsFromObject(stream));
  const ok = sp.process(1000n, line, labelsFromObject(sm));
  if (!ok) return { ok, line: '', labels: {} };
  return { ok, line: sp.line, labels: labelsToObject(sp.labels()) };
}

/** Runs a metric query's extractor (pushing a parent `sum` grouping down as Loki does). */
export function runSample(
  query: string,
  stream: Record<string, string>,
  line: string,
  sm: Record<string, string> = {},
): { ok: boolean; value: number; labels: Record<string, string> } {
  const expr = parseExpr(query);
  let range: RangeAggregationExpr;
  let extra: Grouping | undefined;
  if (expr.kind === 'vectorAggregation') {
    const v = expr as VectorAggregationExpr;
    range = v.inner as RangeAggregationExpr;
    if (v.op === 'sum') extra = v.grouping ?? { without: false, labels: [] };
  } else range = expr as RangeAggregationExpr;
  const ex = compileSampleExtractor(range, extra).forStream(labelsFromObject(stream));
  const ok = ex.process(1000n, line, labelsFromObject(sm));
  if (!ok) return { ok, value: NaN, labels: {} };
  return { ok, value: ex.value, labels: labelsToObject(ex.labels()) };
}
