// Required literals of a regular expression (RE2 syntax), for skipping blocks and lines that
// cannot match: `requiredLiterals(re)` returns strings such that every string the regex matches
// (unanchored search) contains at least one of them, or null when nothing useful is known.
// Conservative by construction: every construct it does not fully understand yields "no
// information" (or gives up on the whole expression), never a wrong literal. Case-insensitive
// flags make it give up. E.g. `error|fail(ed)?` -> ["error", "fail"].

interface Info {
  /** the node matches exactly one of these strings (null: unknown / too many) */
  exact: string[] | null;
  /** every match contains one of these (null: nothing known) */
  req: string[] | null;
}

const MAX_SET = 16;
const ANY: Info = { exact: null, req: null };

class GiveUp extends Error {}

function reqOf(i: Info): string[] | null {
  if (i.exact) return i.exact.some((s) => s === '') ? null : i.exact;
  return i.req;
}

/** Drops alternatives that contain another alternative (contains(b) implies contains(a) when a ⊂ b). */
function minimise(list: string[]): string[] {
  const uniq = [...new Set(list)].sort((a, b) => a.length - b.length);
  const out: string[] = [];
  for (const s of uniq) if (!out.some((o) => s.includes(o))) out.push(s);
  return out;
}

/** Quality of an OR-list: its shortest literal (longer literals prune better). */
function score(list: string[] | null): number {
  if (!list || list.length === 0) return -1;
  let m = Infinity;
  for (const s of list) m = Math.min(m, s.length);
  return m;
}

class Parser {
  pos = 0;
  constructor(readonly re: string) {}

  parseAlt(): Info {
    const alts: Info[] = [this.parseConcat()];
    while (this.re[this.pos] === '|') {
      this.pos++;
      alts.push(this.parseConcat());
    }
    if (alts.length === 1) return alts[0]!;
    let exact: string[] | null = [];
    let req: string[] | null = [];
    for (const a of alts) {
      if (exact && a.exact && exact.length + a.exact.length <= MAX_SET) exact = exact.concat(a.exact);
      else exact = null;
      const r = reqOf(a);
      if (req && r) req = req.concat(r);
      else req = null;
    }
    return { exact: exact ? [...new Set(exact)] : null, req };
  }

  parseConcat(): Info {
    const items: Info[] = [];
    while (this.pos < this.re.length && this.re[this.pos] !== '|' && this.re[this.pos] !== ')') {
      items.push(this.parseRepeat());
    }
    if (items.length === 0) return { exact: [''], req: null };
    if (items.length === 1) return items[0]!;
    let best: string[] | null = null;
    let cur: string[] | null = [''];
    let whole = true;
    const consider = (l: string[] | null): void => {
      if (l && !l.some((s) => s === '') && score(l) > score(best)) best = l;
    };
    for (const it of items) {
      if (cur && it.exact && cur.length * it.exact.length <= MAX_SET) {
        const next: string[] = [];
        for (const a of cur) for (const b of it.exact) next.push(a + b);
        cur = [...new Set(next)];
        continue;
      }
      whole = false;
      consider(cur);
      if (it.exact) cur = it.exact;
      else {
        consider(it.req);
        cur = [''];
      }
    }
    consider(cur);
    return { exact: whole ? cur : null, req: best };
  }

  parseRepeat(): Info {
    let atom = this.parseAtom();
    for (;;) {
      const c = this.re[this.pos];
      let min: number;
      let max: number; // -1 = unbounded
      if (c === '*') { min = 0; max = -1; this.pos++; }
      else if (c === '+') { min = 1; max = -1; this.pos++; }
      else if (c === '?') { min = 0; max = 1; this.pos++; }
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.re.slice(this.pos));
        if (!m) return atom; // a literal '{' comes next as an atom
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
        this.pos += m[0].length;
      } else return atom;
      if (this.re[this.pos] === '?') this.pos++; // non-greedy: same language
      if (min === 0 && max === 1) {
        atom = atom.exact && atom.exact.length < MAX_SET ? { exact: [...new Set(['', ...atom.exact])], req: null } : ANY;
      } else if (min === 0) atom = ANY;
      else if (min === 1 && max === 1) { /* unchanged */ }
      else atom = { exact: null, req: reqOf(atom) };
    }
  }

  parseAtom(): Info {
    const re = this.re;
    const c = re[this.pos]!;
    if (c === '(') {
      this.pos++;
      if (re[this.pos] === '?') {
        const named = /^\?(P?<[A-Za-z0-9_]+>)/.exec(re.slice(this.pos));
        if (named) this.pos += named[0].length;
        else if (re[this.pos + 1] === ':') this.pos += 2;
        else {
          // flags: (?flags) or (?flags:...) ; case folding changes literals -> give up
          const f = /^\?([a-zA-Z-]*)([:)])/.exec(re.slice(this.pos));
          if (!f || /i/.test(f[1]!)) throw new GiveUp();
          this.pos += f[0].length;
          if (f[2] === ')') return { exact: [''], req: null };
        }
      }
      const inner = this.parseAlt();
      if (re[this.pos] !== ')') throw new GiveUp();
      this.pos++;
      return inner;
    }
    if (c === '[') return this.parseClass();
    if (c === '.') {
      this.pos++;
      return ANY;
    }
    if (c === '^' || c === '$') {
      this.pos++;
      return { exact: [''], req: null };
    }
    if (c === '\\') return this.parseEscape();
    if (c === '*' || c === '+' || c === '?' || c === ')') throw new GiveUp(); // invalid here
    const cp = re.codePointAt(this.pos)!;
    const ch = String.fromCodePoint(cp);
    this.pos += ch.length;
    return { exact: [ch], req: null };
  }

  parseEscape(): Info {
    const re = this.re;
    const d = re[this.pos + 1];
    if (d === undefined) throw new GiveUp();
    this.pos += 2;
    if ('bBAz'.includes(d)) return { exact: [''], req: null };
    if ('dDwWsS'.includes(d)) return ANY;
    if (d === 'p' || d === 'P') {
      if (re[this.pos] === '{') {
        const close = re.indexOf('}', this.pos);
        if (close < 0) throw new GiveUp();
        this.pos = close + 1;
      } else this.pos++;
      return ANY;
    }
    if (d === 'Q') {
      const end = re.indexOf('\\E', this.pos);
      const lit = end < 0 ? re.slice(this.pos) : re.slice(this.pos, end);
      this.pos = end < 0 ? re.length : end + 2;
      return { exact: [lit], req: null };
    }
    const ctl: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07' };
    if (ctl[d] !== undefined) return { exact: [ctl[d]!], req: null };
    if (/[A-Za-z0-9]/.test(d)) throw new GiveUp(); // \x.., octal, unknown escapes
    return { exact: [d], req: null }; // escaped punctuation
  }

  parseClass(): Info {
    const re = this.re;
    let p = this.pos + 1;
    let negated = false;
    if (re[p] === '^') {
      negated = true;
      p++;
    }
    const chars: string[] = [];
    let simple = !negated;
    let first = true;
    for (;;) {
      if (p >= re.length) throw new GiveUp();
      const c = re[p]!;
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && re[p + 1] === ':') {
        const close = re.indexOf(':]', p + 2);
        if (close < 0) throw new GiveUp();
        p = close + 2;
        simple = false;
        continue;
      }
      if (c === '\\') {
        const d = re[p + 1];
        if (d === undefined) throw new GiveUp();
        if (d === 'p' || d === 'P') {
          if (re[p + 2] === '{') {
            const close = re.indexOf('}', p + 2);
            if (close < 0) throw new GiveUp();
            p = close + 1;
          } else p += 3;
          simple = false;
          continue;
        }
        if (/[A-Za-z0-9]/.test(d)) {
          if (!'dDwWsS'.includes(d)) throw new GiveUp();
          simple = false;
        } else chars.push(d);
        p += 2;
      } else {
        const cp = re.codePointAt(p)!;
        const ch = String.fromCodePoint(cp);
        chars.push(ch);
        p += ch.length;
      }
      if (re[p] === '-' && re[p + 1] !== ']' && re[p + 1] !== undefined) {
        // a range: skip its upper end (escaped or not)
        p += re[p + 1] === '\\' ? 3 : 2;
        simple = false;
      }
    }
    this.pos = p + 1;
    if (simple && chars.length > 0 && chars.length <= 8) return { exact: [...new Set(chars)], req: null };
    return ANY;
  }
}

/** Literals one of which every match of `re` contains; null when unknown (or when one is ""). */
export function requiredLiterals(re: string): string[] | null {
  try {
    const p = new Parser(re);
    const info = p.parseAlt();
    if (p.pos !== re.length) return null;
    const r = reqOf(info);
    if (!r || r.length === 0 || r.some((s) => s === '')) return null;
    return minimise(r);
  } catch (e) {
    if (e instanceof GiveUp) return null;
    throw e;
  }
}
