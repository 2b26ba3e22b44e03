// Go/RE2-compatible regular expressions with linear-time matching (the `re2` native package), so
// a user's regex can never hang a scan. Loki's regexes are Go RE2 syntax; RE2 accepts the same
// syntax ((?P<name>..), (?i), \pL, ...). Compile once per query, never per line.
import RE2 from 're2';

export type Regex = RE2;

export class RegexError extends Error {}

/** Compiles a Go-syntax regex (unanchored). Throws RegexError with RE2's message on bad syntax. */
export function compileRegex(pattern: string): Regex {
  try {
    return new RE2(pattern, 'u');
  } catch (e) {
    throw new RegexError((e as Error).message);
  }
}

/** Compiles a regex anchored at both ends, as Prometheus/Loki label matchers are. */
export function compileAnchoredRegex(pattern: string): Regex {
  return compileRegex('^(?:' + pattern + ')$');
}
