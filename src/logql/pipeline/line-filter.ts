// Line filters (`|=`, `!=`, `|~`, `!~`, `|>`, `!>`, `ip(...)`, `or` alternatives) and the regex
// simplifier shared with string label filters, after Loki's pkg/logql/log/filter.go: regexes
// that are literals, `(?i)` literals, alternations of literals or `.*`-wrapped literals become
// substring / equality tests; `.*` and the empty regex match everything and `.+` any non-empty
// value. Everything else runs on RE2 (src/util/regex.ts).
import type { LineFilterStage, LineFilterTerm } from '../ast.js';
import { compileRegex, compileAnchoredRegex, RegexError } from '../../util/regex.js';
import { lineHasMatchingIP, parseIPPattern } from './ip.js';
import { newPatternLineFilterMatcher } from './pattern.js';

/** A compiled predicate over a line (or label value). `always` marks Loki's TrueFilter. */
export interface Filter {
  test(s: string): boolean;
  readonly always?: boolean;
}

export class FilterCompileError extends Error {}

export const TRUE_FILTER: Filter = { test: () => true, always: true };

class ContainsFilter implements Filter {
  constructor(readonly match: string) {}
  test(s: string): boolean {
    return s.indexOf(this.match) >= 0;
  }
}

/** lower: the pattern lowercased (Loki's containsLower semantics for ASCII and simple folding). */
function containsLower(line: string, lower: string): boolean {
  const m = lower.length;
  if (m === 0) return true;
  const n = line.length;
  if (m > n) {
    // non-ASCII lowering may change lengths; fall back
    return line.toLowerCase().indexOf(lower) >= 0;
  }
  const first = lower.charCodeAt(0);
  outer: for (let i = 0; i <= n - m; i++) {
    let c = line.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    else if (c >= 128) return line.toLowerCase().indexOf(lower) >= 0;
    if (c !== first) continue;
    for (let k = 1; k < m; k++) {
      let d = line.charCodeAt(i + k);
      if (d >= 65 && d <= 90) d += 32;
      else if (d >= 128) return line.toLowerCase().indexOf(lower) >= 0;
      if (d !== lower.charCodeAt(k)) continue outer;
    }
    return true;
  }
  return false;
}

class ContainsCIFilter implements Filter {
  readonly lower: string;
  constructor(match: string) {
    this.lower = match.toLowerCase();
  }
  test(s: string): boolean {
    return containsLower(s, this.lower);
  }
}

class EqualFilter implements Filter {
  constructor(readonly match: string) {}
  test(s: string): boolean {
    return s === this.match;
  }
}

class EqualCIFilter implements Filter {
  readonly lower: string;
  constructor(match: string) {
    this.lower = match.toLowerCase();
  }
  test(s: string): boolean {
    return s.length === this.lower.length && s.toLowerCase() === this.lower;
  }
}

class ExistsFilter implements Filter {
  test(s: string): boolean {
    return s.length > 0;
  }
}

class NotFilter implements Filter {
  constructor(readonly inner: Filter) {}
  test(s: string): boolean {
    return !this.inner.test(s);
  }
}

class OrFilter implements Filter {
  constructor(readonly parts: Filter[]) {}
  test(s: string): boolean {
    const p = this.parts;
    for (let i = 0; i < p.length; i++) if (p[i]!.test(s)) return true;
    return false;
  }
}

class AndFilter implements Filter {
  constructor(readonly parts: Filter[]) {}
  test(s: string): boolean {
    const p = this.parts;
    for (let i = 0; i < p.length; i++) if (!p[i]!.test(s)) return false;
    return true;
  }
}

class RegexFilter implements Filter {
  constructor(readonly re: { test(s: string): boolean }) {}
  test(s: string): boolean {
    return this.re.test(s);
  }
}

class IPFilter implements Filter {
  constructor(readonly m: ReturnType<typeof parseIPPattern>) {}
  test(s: string): boolean {
    return lineHasMatchingIP(this.m, s);
  }
}

class PatternFilter implements Filter {
  constructor(readonly m: ReturnType<typeof newPatternLineFilterMatcher>) {}
  test(s: string): boolean {
    return this.m.test(s);
  }
}

const META = '\\.+*?()|[]{}^$';

/** Parses a regex that is a plain literal (with escaped punctuation); null otherwise. */
function literalOf(re: string): string | null {
  let out = '';
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '\\') {
      const d = re[i + 1];
      if (d === undefined) return null;
      if (/[A-Za-z0-9]/.test(d)) return null; // classes like \d, \w, \b, \pL
      out += d;
      i++;
      continue;
    }
    if (META.indexOf(c) >= 0) return null;
    out += c;
  }
  return out;
}

/** Splits on top-level `|` (no groups/classes/escapes involved); null when not simple. */
function splitTopAlternation(re: string): string[] | null {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '\\') {
      cur += c + (re[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '|') {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

function stripGroup(re: string): string {
  // `(a|b)` or `(?:a|b)` wrapping the whole expression
  if (re.startsWith('(?:') && re.endsWith(')') && balancedInner(re.slice(3, -1))) return re.slice(3, -1);
  if (re.startsWith('(') && !re.startsWith('(?') && re.endsWith(')') && balancedInner(re.slice(1, -1))) return re.slice(1, -1);
  return re;
}

function balancedInner(s: string): boolean {
  return s.indexOf('(') < 0 && s.indexOf(')') < 0;
}

/**
 * Loki's regex simplification, restricted to the forms whose meaning is unambiguous:
 * returns a Filter equivalent to the regex, or null to use the regex itself.
 */
export function simplifyRegex(re: string, isLabel: boolean): Filter | null {
  let ci = false;
  let body = re;
  if (body.startsWith('(?i)')) {
    ci = true;
    body = body.slice(4);
  }
  if (body === '' || (!isLabel && body === '.*')) return TRUE_FILTER;
  if (isLabel && body === '.*') return TRUE_FILTER;
  if (body === '.+') return new ExistsFilter();
  body = stripGroup(body);
  const alts = splitTopAlternation(body);
  if (!alts) return null;
  const filters: Filter[] = [];
  for (let a of alts) {
    // Loki turns literal concatenations with `.*` into substring tests even for label
    // matchers (unanchored: `queue=~"e.*"` matches "reports"); bare literals of a label
    // matcher become equality tests.
    let wrapped = false;
    if (a.startsWith('.*')) { a = a.slice(2); wrapped = true; }
    if (a.endsWith('.*') && !a.endsWith('\\.*')) { a = a.slice(0, -2); wrapped = true; }
    if (a === '') return null;
    const lit = literalOf(a);
    if (lit === null) return null;
    let f: Filter;
    if (!isLabel || wrapped) f = ci ? new ContainsCIFilter(lit) : new ContainsFilter(lit);
    else f = ci ? new EqualCIFilter(lit) : new EqualFilter(lit);
    filters.push(f);
  }
  if (filters.length === 1) return filters[0]!;
  return new OrFilter(filters);
}

function regexFilter(re: string, isLabel: boolean): Filter {
  const s = simplifyRegex(re, isLabel);
  if (s) return s;
  try {
    return new RegexFilter(isLabel ? compileAnchoredRegex(re) : compileRegex(re));
  } catch (e) {
    if (e instanceof RegexError) throw new FilterCompileError(e.message);
    throw e;
  }
}

/** Label matcher semantics (anchored regex / equality) as a Filter; used by label filters. */
export function labelValueFilter(type: '=' | '!=' | '=~' | '!~', value: string): Filter {
  switch (type) {
    case '=':
      return new EqualFilter(value);
    case '!=':
      return new NotFilter(new EqualFilter(value));
    case '=~':
      return regexFilter(value, true);
    case '!~':
      return new NotFilter(regexFilter(value, true));
  }
}

/** Exact Prometheus matcher semantics (fully anchored regex, no simplification): drop / keep. */
export function exactMatcherFilter(type: '=' | '!=' | '=~' | '!~', value: string): Filter {
  if (type === '=') return new EqualFilter(value);
  if (type === '!=') return new NotFilter(new EqualFilter(value));
  let re;
  try {
    re = compileAnchoredRegex(value);
  } catch (e) {
    throw new FilterCompileError((e as Error).message);
  }
  const f = new RegexFilter(re);
  return type === '=~' ? f : new NotFilter(f);
}

function termFilter(op: LineFilterStage['op'], term: LineFilterTerm): Filter {
  if (term.kind === 'ip') {
    if (op !== '|=' && op !== '!=') throw new FilterCompileError('ip: invalid operation');
    try {
      return new IPFilter(parseIPPattern(term.value));
    } catch (e) {
      throw new FilterCompileError((e as Error).message);
    }
  }
  switch (op) {
    case '|=':
    case '!=':
      return term.value === '' ? TRUE_FILTER : new ContainsFilter(term.value);
    case '|~':
    case '!~':
      return regexFilter(term.value, false);
    case '|>':
    case '!>':
      try {
        return new PatternFilter(newPatternLineFilterMatcher(term.value));
      } catch (e) {
        throw new FilterCompileError((e as Error).message);
      }
  }
}

/** Compiles one line filter stage (with its `or` alternatives) into a Filter. */
export function compileLineFilterStage(stage: LineFilterStage): Filter {
  const negative = stage.op === '!=' || stage.op === '!~' || stage.op === '!>';
  const terms = stage.terms.map((t) => termFilter(stage.op, t));
  if (!negative) {
    if (terms.some((t) => t.always)) return TRUE_FILTER;
    return terms.length === 1 ? terms[0]! : new OrFilter(terms);
  }
  // not(a or b) = not(a) and not(b)
  const nots = terms.map((t) => new NotFilter(t));
  return nots.length === 1 ? nots[0]! : new AndFilter(nots);
}

/** Several consecutive line filter stages combined (all must pass). */
export function andFilters(filters: Filter[]): Filter {
  const kept = filters.filter((f) => !f.always);
  if (kept.length === 0) return TRUE_FILTER;
  if (kept.length === 1) return kept[0]!;
  return new AndFilter(kept);
}
