// Stream selection: compiles LogQL label matchers once (regexes fully anchored, RE2) and tests
// label sets against them.
import type { LabelMatcher } from '../logql/ast.js';
import { compileAnchoredRegex, type Regex } from '../util/regex.js';
import type { Labels } from '../util/labels.js';

export interface CompiledMatcher {
  name: string;
  type: LabelMatcher['type'];
  value: string;
  re: Regex | null;
}

export function compileMatchers(ms: LabelMatcher[]): CompiledMatcher[] {
  return ms.map((m) => ({ name: m.name, type: m.type, value: m.value, re: m.type === '=~' || m.type === '!~' ? compileAnchoredRegex(m.value) : null }));
}

export function matchesLabels(ms: CompiledMatcher[], labels: Labels): boolean {
  for (const m of ms) {
    let v = '';
    for (const l of labels) {
      if (l.name === m.name) {
        v = l.value;
        break;
      }
    }
    switch (m.type) {
      case '=': if (v !== m.value) return false; break;
      case '!=': if (v === m.value) return false; break;
      case '=~': if (!m.re!.test(v)) return false; break;
      case '!~': if (m.re!.test(v)) return false; break;
    }
  }
  return true;
}
