// The LogQL log pipeline and sample extraction (Loki's pkg/logql/log + syntax stage building):
// compiles AST stages once per query (line filters moved ahead of parsers exactly as Loki's
// reorderStages does, consecutive filters combined), then runs entries stream by stream inside
// scan workers. Each stream keeps a LabelsBuilder so unchanged label sets are not rebuilt per line.
// Sample extractors apply range-aggregation (or pushed-down `sum`) grouping and Loki's parser hints.
import type { Grouping, LineFilterStage, PipelineStage, RangeAggregationExpr, RangeOp } from '../ast.js';
import { labelsKey, type Labels } from '../../util/labels.js';
import { BaseLabelsBuilder, Cat, LabelsBuilder, LabelsResult } from './labels-builder.js';
import { Hints, newParserHint, type Stage } from './hints.js';
import { andFilters, compileLineFilterStage, type Filter } from './line-filter.js';
import { JSONParserStage, JSONExpressionStage, UnpackStage } from './json.js';
import { LogfmtExpressionStage, LogfmtParserStage } from './logfmt.js';
import {
  compileLabelFilter,
  DecolorizeStage,
  DropStage,
  KeepStage,
  PatternParserStage,
  reduceAndLabelFilters,
  RegexpParserStage,
  type LabelFilterStage,
} from './stages.js';
import { LabelFormatStage, LineFormatStage } from './format.js';
import { convError, parseGoDurationSeconds, parseGoFloat, parseHumanBytes } from './convert.js';

export { ERROR_LABEL, ERROR_DETAILS_LABEL, PRESERVE_ERROR_LABEL } from './labels-builder.js';

/** A stage could not be built (bad regex, ip pattern, template, ...). */
export class PipelineCompileError extends Error {
  constructor(
    message: string,
    /** the offending AST stage (undefined for unwrap / extractor problems) */
    readonly stage?: PipelineStage,
  ) {
    super(message);
  }
}

export interface Pipeline {
  readonly noop: boolean;
  forStream(streamLabels: Labels): StreamPipeline;
}

export interface StreamPipeline {
  process(tsNs: bigint, line: string, structuredMetadata: Labels): boolean;
  readonly line: string;
  labels(): Labels;
  labelsKey(): string;
  categorized(): { stream: Labels; structuredMetadata: Labels; parsed: Labels };
}

export interface SampleExtractor {
  forStream(streamLabels: Labels): StreamSampleExtractor;
}

export interface StreamSampleExtractor {
  process(tsNs: bigint, line: string, structuredMetadata: Labels): boolean;
  readonly value: number;
  labels(): Labels;
  labelsKey(): string;
}

// ---------------------------------------------------------------- stage compilation

class FilterStage implements Stage {
  constructor(readonly f: Filter) {}
  process(_ts: bigint, line: string): string | null {
    return this.f.test(line) ? line : null;
  }
  requiredLabelNames(): string[] {
    return [];
  }
}

type Item = { kind: 'filters'; stages: LineFilterStage[] } | { kind: 'stage'; stage: PipelineStage };

/** Loki's reorderStages: line filters go first within each segment bounded by label filters, line_format and unpack. */
function reorder(stages: PipelineStage[]): Item[] {
  const result: Item[] = [];
  let lineFilters: LineFilterStage[] = [];
  let others: PipelineStage[] = [];
  const flush = (): void => {
    if (lineFilters.length > 0) result.push({ kind: 'filters', stages: lineFilters });
    for (const s of others) result.push({ kind: 'stage', stage: s });
    lineFilters = [];
    others = [];
  };
  for (const s of stages) {
    switch (s.kind) {
      case 'labelFilter':
        flush();
        result.push({ kind: 'stage', stage: s });
        break;
      case 'lineFilter':
        lineFilters.push(s);
        break;
      case 'lineFormat':
        others.push(s);
        flush();
        break;
      case 'parser':
        others.push(s);
        if (s.parser === 'unpack') flush();
        break;
      default:
        others.push(s);
    }
  }
  flush();
  return result;
}

function wrap<T>(stage: PipelineStage, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PipelineCompileError) throw e;
    throw new PipelineCompileError((e as Error).message, stage);
  }
}

function compileStage(s: PipelineStage): Stage | null {
  switch (s.kind) {
    case 'lineFilter': {
      const f = compileLineFilterStage(s);
      return f.always ? null : new FilterStage(f);
    }
    case 'parser':
      switch (s.parser) {
        case 'json': return new JSONParserStage();
        case 'logfmt': return new LogfmtParserStage(!!s.strict, !!s.keepEmpty);
        case 'unpack': return new UnpackStage();
        case 'regexp': return new RegexpParserStage(s.param ?? '');
        case 'pattern': return new PatternParserStage(s.param ?? '');
      }
      break;
    case 'jsonExpressions':
      return new JSONExpressionStage(s.expressions);
    case 'logfmtExpressions':
      return new LogfmtExpressionStage(s.expressions, !!s.strict);
    case 'labelFilter': {
      const f = compileLabelFilter(s.filter);
      return f.noop ? null : f;
    }
    case 'lineFormat':
      return new LineFormatStage(s.template);
    case 'labelFormat':
      return new LabelFormatStage(s.items);
    case 'decolorize':
      return new DecolorizeStage();
    case 'drop':
      return new DropStage(s.items);
    case 'keep':
      return new KeepStage(s.items);
  }
  return null;
}

/** Compiles AST stages into runnable stages (noops removed). */
export function compileStages(stages: PipelineStage[]): Stage[] {
  const out: Stage[] = [];
  for (const item of reorder(stages)) {
    if (item.kind === 'filters') {
      const fs: Filter[] = [];
      for (const lf of item.stages) fs.push(wrap(lf, () => compileLineFilterStage(lf)));
      const f = andFilters(fs);
      if (!f.always) out.push(new FilterStage(f));
      continue;
    }
    const st = wrap(item.stage, () => compileStage(item.stage));
    if (st) out.push(st);
  }
  return out;
}

function requiredNames(stages: Stage[]): string[] {
  const out: string[] = [];
  for (const s of stages) for (const n of s.requiredLabelNames()) out.push(n);
  return out;
}

// ---------------------------------------------------------------- log pipeline

class StreamPipelineImpl implements StreamPipeline {
  line = '';
  private result: LabelsResult | undefined;
  constructor(private readonly stages: Stage[], private readonly b: LabelsBuilder) {}

  process(tsNs: bigint, line: string, structuredMetadata: Labels): boolean {
    const b = this.b;
    b.reset();
    if (structuredMetadata.length > 0) b.addLabels(Cat.StructuredMetadata, structuredMetadata);
    this.result = undefined;
    const stages = this.stages;
    let l: string | null = line;
    for (let i = 0; i < stages.length; i++) {
      l = stages[i]!.process(tsNs, l, b);
      if (l === null) return false;
    }
    this.line = l;
    return true;
  }

  private res(): LabelsResult {
    if (this.result === undefined) this.result = this.b.labelsResult();
    return this.result;
  }

  labels(): Labels {
    return this.res().labels;
  }

  labelsKey(): string {
    return this.res().key;
  }

  categorized(): { stream: Labels; structuredMetadata: Labels; parsed: Labels } {
    return this.res().categorized();
  }
}

class PipelineImpl implements Pipeline {
  readonly noop: boolean;
  private readonly base: BaseLabelsBuilder;
  private readonly streams = new Map<string, StreamPipelineImpl>();
  constructor(private readonly stages: Stage[]) {
    this.noop = stages.length === 0;
    const hints = this.noop ? Hints.none() : newParserHint([], [], false, false, '', stages);
    this.base = new BaseLabelsBuilder(hints, undefined, false, false);
  }

  forStream(streamLabels: Labels): StreamPipeline {
    const key = labelsKey(streamLabels);
    let sp = this.streams.get(key);
    if (!sp) {
      sp = new StreamPipelineImpl(this.stages, new LabelsBuilder(streamLabels, this.base));
      this.streams.set(key, sp);
    }
    return sp;
  }
}

/** Compiles a log pipeline. Throws PipelineCompileError. */
export function compilePipeline(stages: PipelineStage[]): Pipeline {
  return new PipelineImpl(compileStages(stages));
}

/** A standalone line filter (also used by the scan engine to pre-filter raw lines). */
export function compileLineFilter(stage: LineFilterStage): (line: string) => boolean {
  const f = wrap(stage, () => compileLineFilterStage(stage));
  return (line: string) => f.test(line);
}

// ---------------------------------------------------------------- sample extraction

/** UTF-8 byte length of a string. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 4 bytes for 2 code units
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/** Loki's canInjectVectorGrouping: `sum` over count/rate/bytes/sum_over_time may push its grouping down. */
export function canInjectVectorGrouping(vecOp: string, rangeOp: RangeOp): boolean {
  if (vecOp !== 'sum') return false;
  return (
    rangeOp === 'bytes_over_time' ||
    rangeOp === 'bytes_rate' ||
    rangeOp === 'sum_over_time' ||
    rangeOp === 'rate' ||
    rangeOp === 'count_over_time'
  );
}

const enum LineValue { Count, Bytes }

class StreamLineExtractor implements StreamSampleExtractor {
  value = 0;
  private result: LabelsResult | undefined;
  constructor(private readonly stages: Stage[], private readonly kind: LineValue, private readonly b: LabelsBuilder) {}

  process(tsNs: bigint, line: string, structuredMetadata: Labels): boolean {
    const b = this.b;
    b.reset();
    if (structuredMetadata.length > 0) b.addLabels(Cat.StructuredMetadata, structuredMetadata);
    this.result = undefined;
    let l: string | null = line;
    const stages = this.stages;
    for (let i = 0; i < stages.length; i++) {
      l = stages[i]!.process(tsNs, l, b);
      if (l === null) return false;
    }
    this.value = this.kind === LineValue.Count ? 1 : utf8Length(l);
    return true;
  }

  private res(): LabelsResult {
    if (this.result === undefined) this.result = this.b.groupedLabels();
    return this.result;
  }
  labels(): Labels {
    return this.res().labels;
  }
  labelsKey(): string {
    return this.res().key;
  }
}

const enum Conv { Float, Bytes, Duration }

class StreamLabelExtractor implements StreamSampleExtractor {
  value = 0;
  private result: LabelsResult | undefined;
  constructor(
    private readonly stages: Stage[],
    private readonly post: Stage,
    private readonly labelName: string,
    private readonly conv: Conv,
    private readonly b: LabelsBuilder,
  ) {}

  process(tsNs: bigint, line: string, structuredMetadata: Labels): boolean {
    const b = this.b;
    b.reset();
    if (structuredMetadata.length > 0) b.addLabels(Cat.StructuredMetadata, structuredMetadata);
    this.result = undefined;
    let l: string | null = line;
    const stages = this.stages;
    for (let i = 0; i < stages.length; i++) {
      l = stages[i]!.process(tsNs, l, b);
      if (l === null) return false;
    }
    const s = b.get(this.labelName);
    if (s === undefined || s === '') return false;
    let v: number;
    switch (this.conv) {
      case Conv.Float: v = parseGoFloat(s); break;
      case Conv.Bytes: v = parseHumanBytes(s); break;
      default: v = parseGoDurationSeconds(s);
    }
    if (convError !== '') {
      b.err = 'SampleExtractionErr';
      b.errDetails = convError;
    }
    if (this.post.process(tsNs, l, b) === null) return false;
    this.value = v;
    return true;
  }

  private res(): LabelsResult {
    if (this.result === undefined) this.result = this.b.groupedLabels();
    return this.result;
  }
  labels(): Labels {
    return this.res().labels;
  }
  labelsKey(): string {
    return this.res().key;
  }
}

class SampleExtractorImpl implements SampleExtractor {
  private readonly streams = new Map<string, StreamSampleExtractor>();
  constructor(private readonly make: (lbs: Labels) => StreamSampleExtractor) {}
  forStream(streamLabels: Labels): StreamSampleExtractor {
    const key = labelsKey(streamLabels);
    let s = this.streams.get(key);
    if (!s) {
      s = this.make(streamLabels);
      this.streams.set(key, s);
    }
    return s;
  }
}

/**
 * Builds the sample extractor of a range aggregation. `extraGrouping` is the grouping of a parent
 * `sum` (pass `{without:false, labels:[]}` for a bare `sum(...)`), honoured only where Loki pushes
 * it down: the range aggregation has no grouping of its own and canInjectVectorGrouping holds.
 */
export function compileSampleExtractor(expr: RangeAggregationExpr, extraGrouping?: Grouping): SampleExtractor {
  let groups: string[] = [];
  let without = false;
  let noLabels = false;
  const override =
    extraGrouping && !expr.grouping && canInjectVectorGrouping('sum', expr.op) ? extraGrouping : undefined;
  for (const g of [expr.grouping, override]) {
    if (g) {
      groups = g.labels;
      without = g.without;
      noLabels = g.labels.length === 0 && !g.without;
    }
  }
  if (expr.op === 'absent_over_time') noLabels = true;
  groups = groups.slice().sort();

  const stages = compileStages(expr.range.selector.pipeline);
  const unwrap = expr.range.unwrap;
  if (unwrap) {
    const conv = unwrap.conversion === 'bytes' ? Conv.Bytes : unwrap.conversion === '' ? Conv.Float : Conv.Duration;
    let post: LabelFilterStage;
    try {
      post = reduceAndLabelFilters(unwrap.postFilters);
    } catch (e) {
      throw new PipelineCompileError((e as Error).message);
    }
    if (groups.length === 0 || without) {
      without = true;
      groups = [...groups, unwrap.identifier].sort();
    }
    const hints = newParserHint(
      [...requiredNames(stages), ...post.requiredLabelNames()],
      groups,
      without,
      noLabels,
      unwrap.identifier,
      [...stages, post],
    );
    const base = new BaseLabelsBuilder(hints, groups, without, noLabels);
    const name = unwrap.identifier;
    return new SampleExtractorImpl((lbs) => new StreamLabelExtractor(stages, post, name, conv, new LabelsBuilder(lbs, base)));
  }
  let kind: LineValue;
  switch (expr.op) {
    case 'rate':
    case 'count_over_time':
    case 'absent_over_time':
      kind = LineValue.Count;
      break;
    case 'bytes_over_time':
    case 'bytes_rate':
      kind = LineValue.Bytes;
      break;
    default:
      throw new PipelineCompileError(`unsupported range vector aggregation operation: ${expr.op}`);
  }
  const hints = newParserHint(requiredNames(stages), groups, without, noLabels, '', stages);
  const base = new BaseLabelsBuilder(hints, groups, without, noLabels);
  return new SampleExtractorImpl((lbs) => new StreamLineExtractor(stages, kind, new LabelsBuilder(lbs, base)));
}
