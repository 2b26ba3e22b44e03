// Public entry points of the LogQL metric evaluator: range aggregation over raw samples (run
// in scan workers), evaluation of the whole sample expression (main thread), the result JSON
// encoder, and the error classes with their HTTP status codes.
export { evalRangeAggregation } from './range.js';
export { evaluateSampleExpr } from './evaluate.js';
export { encodeQueryValue, formatFloat } from './encode.js';
export type { StepGrid, SeriesSamples, StepSeries, QueryValue, EvalLimits } from './types.js';
export { EvalError, PipelineError, SeriesLimitError, ApproxTopkError, stepCount, compareLabels, alignRangeGrid } from './types.js';
