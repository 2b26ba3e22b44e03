// Regex validation for the parser: compiles a Go/RE2 pattern once with the `re2` package and,
// when it is invalid, renders the error the way Go's regexp package words it
// (`error parsing regexp: missing closing ): `((``), since Loki echoes that text to users.
import RE2 from 're2';

const TRANSLATIONS: Array<[string, string]> = [
  ['missing ): ', 'missing closing )'],
  ['unexpected ): ', 'unexpected )'],
  ['missing ]: ', 'missing closing ]'],
  ['invalid escape sequence: ', 'invalid escape sequence'],
  ['no argument for repetition operator: ', 'missing argument to repetition operator'],
  ['bad repetition operator: ', 'invalid nested repetition operator'],
  ['invalid named capture group: ', 'invalid named capture'],
  ['invalid repetition size: ', 'invalid repeat count'],
  ['invalid character class range: ', 'invalid character class range'],
  ['invalid character class: ', 'invalid character class'],
  ['invalid perl operator: ', 'invalid or unsupported Perl syntax'],
  ['invalid UTF-8: ', 'invalid UTF-8'],
];

/** Go's wording of an RE2 compile error message. */
export function goRegexErrorText(re2Message: string): string {
  for (const [prefix, code] of TRANSLATIONS) {
    if (re2Message.startsWith(prefix)) return `error parsing regexp: ${code}: \`${re2Message.slice(prefix.length)}\``;
  }
  if (re2Message.startsWith('trailing \\')) return 'error parsing regexp: trailing backslash at end of expression: ``';
  if (re2Message.includes('too large')) return 'expression too large';
  return `error parsing regexp: ${re2Message}`;
}

/** Compiles `pattern`; returns the RE2 object, or throws an Error carrying Go's message. */
export function compileGoRegex(pattern: string): RE2 {
  try {
    return new RE2(pattern, 'u');
  } catch (e) {
    throw new Error(goRegexErrorText((e as Error).message));
  }
}
