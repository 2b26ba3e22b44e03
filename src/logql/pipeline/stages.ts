// Label-oriented pipeline stages after Loki's pkg/logql/log: label filters (label_filter.go,
// ip.go), the regexp and pattern parsers (parser.go), drop / keep (drop_labels.go,
// keep_labels.go) and decolorize (fmt.go). Errors while converting label values set
// `__error__=LabelFilterErr` with Go's error text as details, keeping the entry.
import type { ComparisonOp, LabelFilterExpr, LabelMatcher, DropKeepItem } from '../ast.js';
import { compileRegex, RegexError, type Regex } from '../../util/regex.js';
import { Cat, DUPLICATE_SUFFIX, ERROR_DETAILS_LABEL, ERROR_LABEL, PRESERVE_ERROR_LABEL, type LabelsBuilder } from './labels-builder.js';
import type { Stage } from './hints.js';
import { labelValueFilter, exactMatcherFilter, FilterCompileError, type Filter } from './line-filter.js';
import { convError, parseGoFloat, parseGoDurationNs, parseHumanBytes } from './convert.js';
import { lineHasMatchingIP, parseIPPattern, type IPMatcher } from './ip.js';
import { newPatternParserMatcher, type PatternMatcher } from './pattern.js';
import { sanitizeLabelKey, isValidLabelName } from './util.js';

export const ERR_LABEL_FILTER = 'LabelFilterErr';

export class StageCompileError extends Error {}

function labelValue(name: string, lbs: LabelsBuilder): string {
  if (name === ERROR_LABEL) return lbs.err;
  return lbs.get(name) ?? '';
}

export interface LabelFilterStage extends Stage {
  readonly isLabelFilter: true;
  /** Loki's NoopLabelFilter (dropped from the stage list) */
  readonly noop?: boolean;
}

class NoopLabelFilter implements LabelFilterStage {
  readonly isLabelFilter = true as const;
  readonly noop = true;
  process(_ts: bigint, line: string): string | null {
    return line;
  }
  requiredLabelNames(): string[] {
    return [];
  }
}

class BinaryLabelFilter implements LabelFilterStage {
  readonly isLabelFilter = true as const;
  readonly isBinaryLabelFilter = true;
  constructor(readonly left: LabelFilterStage, readonly right: LabelFilterStage, readonly and: boolean) {}
  process(ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    const lok = this.left.process(ts, line, lbs) !== null;
    if (!this.and && lok) return line;
    const rok = this.right.process(ts, line, lbs) !== null;
    if (!this.and) return lok || rok ? line : null;
    return lok && rok ? line : null;
  }
  requiredLabelNames(): string[] {
    const out: string[] = [];
    for (const n of [...this.left.requiredLabelNames(), ...this.right.requiredLabelNames()]) {
      if (n.length > 0 && out.indexOf(n) < 0) out.push(n);
    }
    return out;
  }
}

class StringLabelFilter implements LabelFilterStage {
  readonly isLabelFilter = true as const;
  constructor(readonly name: string, readonly filter: Filter) {}
  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    return this.filter.test(labelValue(this.name, lbs)) ? line : null;
  }
  requiredLabelNames(): string[] {
    return [this.name];
  }
}

function compare(op: ComparisonOp, a: number, b: number): boolean {
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '<': return a < b;
    case '<=': return a <= b;
  }
}

const enum Conv { Number, Duration, Bytes }

class ConvertingLabelFilter implements LabelFilterStage {
  readonly isLabelFilter = true as const;
  constructor(readonly name: string, readonly op: ComparisonOp, readonly value: number, readonly conv: Conv) {}
  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    const v = lbs.get(this.name);
    if (v === undefined) return null;
    let x: number;
    switch (this.conv) {
      case Conv.Number: x = parseGoFloat(v); break;
      case Conv.Duration: x = parseGoDurationNs(v); break;
      default: x = parseHumanBytes(v);
    }
    if (convError !== '') {
      if (lbs.err === '') {
        lbs.err = ERR_LABEL_FILTER;
        lbs.errDetails = convError;
      }
      return line;
    }
    return compare(this.op, x, this.value) ? line : null;
  }
  requiredLabelNames(): string[] {
    return [this.name];
  }
}

class IPLabelFilter implements LabelFilterStage {
  readonly isLabelFilter = true as const;
  constructor(readonly name: string, readonly neq: boolean, readonly m: IPMatcher) {}
  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    if (lbs.err !== '') return line;
    const v = lbs.get(this.name);
    if (v === undefined) return null;
    const hit = ipInValue(this.m, v);
    return (this.neq ? !hit : hit) ? line : null;
  }
  requiredLabelNames(): string[] {
    return [this.name];
  }
}

function ipInValue(m: IPMatcher, v: string): boolean {
  return lineHasMatchingIP(m, v);
}

/** Builds a label filter stage from the AST. Throws StageCompileError (bad regex / ip pattern). */
export function compileLabelFilter(f: LabelFilterExpr): LabelFilterStage {
  switch (f.kind) {
    case 'and':
    case 'or':
      return new BinaryLabelFilter(compileLabelFilter(f.left), compileLabelFilter(f.right), f.kind === 'and');
    case 'string': {
      let filter: Filter;
      try {
        filter = labelValueFilter(f.matcher.type, f.matcher.value);
      } catch (e) {
        if (e instanceof FilterCompileError) throw new StageCompileError(e.message);
        throw e;
      }
      if (filter.always) return new NoopLabelFilter();
      return new StringLabelFilter(f.matcher.name, filter);
    }
    case 'number':
      return new ConvertingLabelFilter(f.name, f.op, f.value, Conv.Number);
    case 'duration':
      return new ConvertingLabelFilter(f.name, f.op, Math.round(f.value * 1e9), Conv.Duration);
    case 'bytes':
      return new ConvertingLabelFilter(f.name, f.op, f.value, Conv.Bytes);
    case 'ip': {
      let m: IPMatcher;
      try {
        m = parseIPPattern(f.pattern);
      } catch (e) {
        throw new StageCompileError((e as Error).message);
      }
      return new IPLabelFilter(f.name, f.op === '!=', m);
    }
  }
}

/** Several label filters joined with `and` (unwrap post filters). */
export function reduceAndLabelFilters(filters: LabelFilterExpr[]): LabelFilterStage {
  if (filters.length === 0) return new NoopLabelFilter();
  let r = compileLabelFilter(filters[0]!);
  for (let i = 1; i < filters.length; i++) r = new BinaryLabelFilter(r, compileLabelFilter(filters[i]!), true);
  return r;
}

// ---------------------------------------------------------------- regexp parser

/** Capture group names by group index (index 0 = whole match); '' for unnamed groups. */
function groupNames(re: string): string[] {
  const names: string[] = [''];
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') { i++; continue; }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (re[i + 1] === '^') i++;
      if (re[i + 1] === ']') i++;
      continue;
    }
    if (c !== '(') continue;
    if (re[i + 1] !== '?') { names.push(''); continue; }
    const m = /^\(\?P?<([^>]*)>/.exec(re.slice(i, i + 300));
    if (m) names.push(m[1]!);
  }
  return names;
}

export class RegexpParserStage implements Stage {
  private readonly re: Regex;
  private readonly index: number[] = [];
  private readonly keys: string[] = [];

  constructor(pattern: string) {
    try {
      this.re = compileRegex(pattern);
    } catch (e) {
      if (e instanceof RegexError) throw new StageCompileError(e.message);
      throw e;
    }
    const names = groupNames(pattern);
    if (names.length <= 1) throw new StageCompileError('at least one named capture must be supplied');
    const seen = new Set<string>();
    for (let i = 1; i < names.length; i++) {
      const n = names[i]!;
      if (n === '') continue;
      if (!isValidLabelName(n)) throw new StageCompileError(`invalid extracted label name '${n}'`);
      if (seen.has(n)) throw new StageCompileError(`duplicate extracted label name '${n}'`);
      seen.add(n);
      this.index.push(i);
      this.keys.push(sanitizeLabelKey(n, true));
    }
    if (this.index.length === 0) throw new StageCompileError('at least one named capture must be supplied');
  }

  requiredLabelNames(): string[] {
    return [];
  }

  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    const m = this.re.exec(line);
    if (m === null) return line;
    const hints = lbs.hints;
    for (let k = 0; k < this.index.length; k++) {
      let key = this.keys[k]!;
      if (key.length === 0) continue;
      if (lbs.baseHas(key) || lbs.hasInCategory(key, Cat.StructuredMetadata)) key = key + DUPLICATE_SUFFIX;
      if (!hints.shouldExtract(key) || hints.extractedHas(key)) continue;
      lbs.set(Cat.Parsed, key, m[this.index[k]!] ?? '');
      if (!hints.shouldContinueParsingLine(key, lbs)) return null;
    }
    return line;
  }
}

// ---------------------------------------------------------------- pattern parser

export class PatternParserStage implements Stage {
  private readonly m: PatternMatcher;
  constructor(pattern: string) {
    try {
      this.m = newPatternParserMatcher(pattern);
    } catch (e) {
      throw new StageCompileError((e as Error).message);
    }
    for (const n of this.m.names) {
      if (!isValidLabelName(n)) throw new StageCompileError(`invalid capture label name '${n}'`);
    }
  }

  requiredLabelNames(): string[] {
    return [];
  }

  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    const hints = lbs.hints;
    if (hints.noLabels()) return line;
    const matches = this.m.matches(line);
    const names = this.m.names;
    for (let i = 0; i < matches.length; i++) {
      let name = names[i]!;
      if (lbs.baseHas(name) || lbs.hasInCategory(name, Cat.StructuredMetadata)) name = name + DUPLICATE_SUFFIX;
      if (hints.extractedHas(name) || !hints.shouldExtract(name)) continue;
      lbs.set(Cat.Parsed, name, matches[i]!);
      if (!hints.shouldContinueParsingLine(name, lbs)) return null;
    }
    return line;
  }
}

// ---------------------------------------------------------------- drop / keep

interface NamedMatcher {
  name: string;
  matcher: LabelMatcher | undefined;
  filter: Filter | undefined;
}

function compileItems(items: DropKeepItem[]): NamedMatcher[] {
  return items.map((it) => {
    if (!it.matcher) return { name: it.name, matcher: undefined, filter: undefined };
    let filter: Filter;
    try {
      filter = exactMatcherFilter(it.matcher.type, it.matcher.value);
    } catch (e) {
      throw new StageCompileError((e as Error).message);
    }
    return { name: it.matcher.name, matcher: it.matcher, filter };
  });
}

export class DropStage implements Stage {
  private readonly items: NamedMatcher[];
  constructor(items: DropKeepItem[]) {
    this.items = compileItems(items);
  }
  requiredLabelNames(): string[] {
    return [];
  }
  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    for (const it of this.items) {
      const name = it.name;
      if (it.filter) {
        if (name === ERROR_LABEL) {
          if (it.filter.test(lbs.err)) lbs.err = '';
          continue;
        }
        if (name === ERROR_DETAILS_LABEL) {
          if (it.filter.test(lbs.errDetails)) lbs.errDetails = '';
          continue;
        }
        if (it.filter.test(lbs.get(name) ?? '')) lbs.del1(name);
        continue;
      }
      if (name === ERROR_LABEL) { lbs.err = ''; continue; }
      if (name === ERROR_DETAILS_LABEL) { lbs.errDetails = ''; continue; }
      if (lbs.get(name) !== undefined) lbs.del1(name);
    }
    return line;
  }
}

export class KeepStage implements Stage {
  private readonly items: NamedMatcher[];
  private readonly buf: { name: string; value: string }[] = [];
  constructor(items: DropKeepItem[]) {
    this.items = compileItems(items);
  }
  requiredLabelNames(): string[] {
    return [];
  }
  process(_ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    if (this.items.length === 0) return line;
    const all = lbs.unsortedLabels(this.buf).slice();
    for (const l of all) {
      if (l.name === ERROR_LABEL || l.name === ERROR_DETAILS_LABEL || l.name === PRESERVE_ERROR_LABEL) continue;
      let keep = false;
      for (const it of this.items) {
        if (it.filter) {
          if (it.name === l.name && it.filter.test(l.value)) { keep = true; break; }
        } else if (it.name === l.name) { keep = true; break; }
      }
      if (!keep) lbs.del1(l.name);
    }
    return line;
  }
}

// ---------------------------------------------------------------- decolorize

const ANSI = /[\u001B\u009B][[\]()#;?]*(?:(?:(?:[a-zA-Z\d]*(?:;[a-zA-Z\d]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PRZcf-ntqry=><~]))/g;

export class DecolorizeStage implements Stage {
  requiredLabelNames(): string[] {
    return [];
  }
  process(_ts: bigint, line: string): string | null {
    if (line.indexOf('\u001b') < 0 && line.indexOf('\u009b') < 0) return line;
    return line.replace(ANSI, '');
  }
}
