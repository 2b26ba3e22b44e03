// Loki's pattern language (pkg/logql/log/pattern): `<name>` captures, `<_>` unnamed captures and
// literal text in between. Used by the `| pattern "..."` parser (Matcher.matches) and by the
// `|>` / `!>` pattern line filters (Matcher.test), with Loki's validation errors.

export type PatternNode = { capture: string } | { literal: string };

export class PatternError extends Error {}

const IDENT = /^<([A-Za-z_][A-Za-z0-9_]*)>/;

export function parsePatternExpr(input: string): PatternNode[] {
  const out: PatternNode[] = [];
  let lit = '';
  let i = 0;
  while (i < input.length) {
    if (input[i] === '<') {
      const m = IDENT.exec(input.slice(i, i + 256));
      if (m) {
        if (lit) { out.push({ literal: lit }); lit = ''; }
        out.push({ capture: m[1]! });
        i += m[0].length;
        continue;
      }
    }
    lit += input[i];
    i++;
  }
  if (lit) out.push({ literal: lit });
  return out;
}

function nodeString(n: PatternNode): string {
  return 'capture' in n ? '<' + n.capture + '>' : n.literal;
}

function validateNoConsecutiveCaptures(e: PatternNode[]): void {
  for (let i = 0; i + 1 < e.length; i++) {
    if ('capture' in e[i]! && 'capture' in e[i + 1]!) {
      throw new PatternError(`found consecutive capture '${nodeString(e[i]!)}${nodeString(e[i + 1]!)}': invalid expression`);
    }
  }
}

function isUnnamed(n: PatternNode): boolean {
  return 'capture' in n && n.capture === '_';
}

export class PatternMatcher {
  /** names of the named captures, in order */
  readonly names: string[];
  private readonly literalFirst: string | null;
  /** after the optional leading literal: capture, literal, capture, literal, ..., [capture] */
  private readonly caps: boolean[]; // isNamed per capture
  private readonly lits: (string | null)[]; // literal following each capture (null = end)
  private readonly nodes: PatternNode[];
  private readonly captures: string[] = [];

  constructor(nodes: PatternNode[]) {
    this.nodes = nodes;
    this.names = [];
    for (const n of nodes) if ('capture' in n && !isUnnamed(n)) this.names.push(n.capture);
    let k = 0;
    if (nodes.length > 0 && 'literal' in nodes[0]!) {
      this.literalFirst = nodes[0].literal;
      k = 1;
    } else this.literalFirst = null;
    this.caps = [];
    this.lits = [];
    for (; k < nodes.length; k += 2) {
      const c = nodes[k]!;
      this.caps.push(!isUnnamed(c));
      const l = nodes[k + 1];
      this.lits.push(l && 'literal' in l ? l.literal : null);
    }
  }

  /** Loki's Matcher.Matches: the named capture values (possibly fewer than names). */
  matches(line: string): string[] {
    const out = this.captures;
    out.length = 0;
    if (line.length === 0 || this.nodes.length === 0) return out;
    let pos = 0;
    if (this.literalFirst !== null) {
      if (!line.startsWith(this.literalFirst)) return out;
      pos = this.literalFirst.length;
    }
    const caps = this.caps;
    if (caps.length === 0) return out;
    for (let k = 0; k < caps.length; k++) {
      const lit = this.lits[k]!;
      if (lit === null) {
        if (caps[k]) out.push(line.slice(pos));
        return out;
      }
      const i = line.indexOf(lit, pos);
      if (i < 0) {
        if (caps[k]) out.push(line.slice(pos));
        return out;
      }
      if (caps[k]) out.push(line.slice(pos, i));
      pos = i + lit.length;
    }
    return out;
  }

  /** Loki's Matcher.Test (line filter semantics). */
  test(line: string): boolean {
    const e = this.nodes;
    if (line.length === 0 || e.length === 0) return line.length === 0 && e.length === 0;
    let off = 0;
    for (let i = 0; i < e.length; i++) {
      const n = e[i]!;
      if (!('literal' in n)) continue;
      const j = line.indexOf(n.literal, off);
      if (j < 0) return false;
      if (i !== 0 && j === off) return false;
      off = j + n.literal.length;
    }
    const reqRem = 'capture' in e[e.length - 1]!;
    const hasRem = off !== line.length;
    return reqRem === hasRem;
  }
}

/** For `| pattern "..."`: needs at least one named capture, no consecutive or duplicate captures. */
export function newPatternParserMatcher(input: string): PatternMatcher {
  const e = parsePatternExpr(input);
  const m = new PatternMatcher(e);
  if (m.names.length === 0) throw new PatternError('at least one capture is required');
  validateNoConsecutiveCaptures(e);
  const seen = new Set<string>();
  for (const n of m.names) {
    if (seen.has(n)) throw new PatternError(`duplicate capture name (${n}): invalid expression`);
    seen.add(n);
  }
  return m;
}

/** For `|>` / `!>`: only `<_>` captures allowed. */
export function newPatternLineFilterMatcher(input: string): PatternMatcher {
  if (input.length === 0) return new PatternMatcher([]);
  const e = parsePatternExpr(input);
  validateNoConsecutiveCaptures(e);
  for (const n of e) {
    if ('capture' in n && !isUnnamed(n)) throw new PatternError(`named captures are not allowed: found '${nodeString(n)}'`);
  }
  return new PatternMatcher(e);
}
