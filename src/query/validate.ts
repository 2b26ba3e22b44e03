// Builds every pipeline and sample extractor of a parsed query once on the main thread before
// any scan starts, so stage errors (bad template, ip pattern, duplicate label_format name, ...)
// are answered as Loki does: 400 `parse error : stage '<stage>' : <reason>`.
import type { Expr, LineFilterStage, PipelineStage, SampleExpr } from '../logql/ast.js';
import { compilePipeline, compileSampleExtractor, PipelineCompileError } from '../logql/pipeline/index.js';
import { ParseError, stageToString } from '../logql/syntax/index.js';

function stageText(stages: PipelineStage[], bad: PipelineStage): string {
  if (bad.kind !== 'lineFilter') return stageToString(bad);
  // Loki folds adjacent line filters into one stage: quote the whole run.
  const i = stages.indexOf(bad);
  if (i < 0) return stageToString(bad);
  let a = i;
  let b = i;
  while (a > 0 && stages[a - 1]!.kind === 'lineFilter') a--;
  while (b + 1 < stages.length && stages[b + 1]!.kind === 'lineFilter') b++;
  return (stages.slice(a, b + 1) as LineFilterStage[]).map(stageToString).join(' ');
}

function wrap(e: unknown, stages: PipelineStage[]): never {
  if (e instanceof PipelineCompileError && e.stage) {
    throw Object.assign(new ParseError(`stage '${stageText(stages, e.stage)}' : ${e.message}`, 0, 0), { status: 400 });
  }
  if (e instanceof PipelineCompileError) throw Object.assign(new Error(e.message), { status: 400 });
  throw e;
}

function visitSample(e: SampleExpr): void {
  switch (e.kind) {
    case 'rangeAggregation':
      try {
        compileSampleExtractor(e);
      } catch (err) {
        wrap(err, e.range.selector.pipeline);
      }
      break;
    case 'vectorAggregation':
    case 'labelReplace':
      visitSample(e.inner);
      break;
    case 'binOp':
      visitSample(e.lhs);
      visitSample(e.rhs);
      break;
    default:
      break;
  }
}

export function validateQuery(expr: Expr): void {
  if (expr.kind === 'logSelector') {
    try {
      compilePipeline(expr.pipeline);
    } catch (err) {
      wrap(err, expr.pipeline);
    }
    return;
  }
  visitSample(expr);
}
