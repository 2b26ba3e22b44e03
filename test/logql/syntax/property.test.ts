// Robustness: parseExpr on arbitrary strings and on mutations of valid queries either returns an
// AST or throws ParseError (QueryTypeError only from the typed entry points) - never another
// exception, and always quickly. Accepted queries must also survive the String() round trip.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exprToString, ParseError, parseExpr, prettyPrint } from '../../../src/logql/syntax/index.js';

const VALID = [
  '{app="a", ns=~"p.*"} |= "x" or "y" | json | level="error" and dur > 5s or size < 20MB',
  'sum by (a) (rate({app="a"} | logfmt --strict | unwrap bytes(b) | __error__="" [5m] offset 1m))',
  'topk(3, sum without (b) (count_over_time(({app="a"} |~ `re`)[1h])))',
  'quantile_over_time(0.9, {app="a"} | pattern "<a> <_>" | unwrap duration(a) [5m]) by (c) > bool on (c) group_left (d) vector(1)',
  'label_replace(sum(bytes_rate({app="a"} | drop x, y="z" | keep w [1m])), "d", "$1", "s", "(.*)") + 2 ^ -1',
  '{app="a"} | line_format "{{.x}}" | label_format a=b, c="{{.d}}" | decolorize | regexp "(?P<x>a)" # comment',
];

const TOKENS = [
  '{', '}', '(', ')', '[', ']', ',', '|', '|=', '!=', '|~', '!~', '|>', '!>', '=', '=~', '==', '<', '>=', '"s"', '`r`', '5m', '[5m]', '1.5',
  '-', '+', '*', '^', '20MB', 'sum', 'rate', 'by', 'without', 'unwrap', 'offset', 'json', 'logfmt', '--strict', 'x', 'or', 'and', 'bool',
  'on', 'group_left', 'ip', '(', 'vector', 'label_replace', 'bytes', '#', '\n', ' ', '"\\', "'", '/*', '0x', '1e', '\u00e9', '\u0000',
];

function check(q: string): void {
  const t0 = performance.now();
  try {
    const e = parseExpr(q);
    // accepted: the printers must work and the String() form must parse again
    const s = exprToString(e);
    prettyPrint(e);
    // (Loki's String() is not re-parseable for folded literals such as 1/0 -> NaN, for
    // non-ASCII label names, which Prometheus prints quoted, nor for a zero bytes literal, which
    // it prints as `0B`, read back by Go's scanner as a binary-literal prefix, nor for a lone `!`,
    // which Loki's lexer reads as a label name: `! > 5s` prints as `!>5s`, which lexes as `!>`)
    const roundTrips = !/NaN|Inf|(^|[^0-9.])0B/.test(s) && /^[\x00-\x7f]*$/.test(q) && !/!(?![=~>])/.test(q);
    if (roundTrips) expect(() => parseExpr(s)).not.toThrow();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    expect(err.message.startsWith('parse error')).toBe(true);
  }
  expect(performance.now() - t0).toBeLessThan(1000);
}

describe('parseExpr never throws anything but ParseError', () => {
  it('on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (q) => check(q)), { numRuns: 1500 });
  });

  it('on token soups', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 25 }), fc.boolean(), (toks, spaced) => check(toks.join(spaced ? ' ' : ''))),
      { numRuns: 2000 },
    );
  });

  it('on mutations of valid queries', () => {
    const mutation = fc.record({
      base: fc.constantFrom(...VALID),
      pos: fc.nat(),
      del: fc.nat({ max: 8 }),
      ins: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 4 })),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (muts) => {
        let q = muts[0]!.base;
        for (const m of muts) {
          const p = m.pos % (q.length + 1);
          q = q.slice(0, p) + m.ins + q.slice(p + m.del);
        }
        check(q);
      }),
      { numRuns: 2000 },
    );
  });

  it('valid seeds are accepted', () => {
    for (const q of VALID) expect(() => parseExpr(q), q).not.toThrow();
  });

  it('deeply nested input terminates', () => {
    check('('.repeat(2000) + '1' + ')'.repeat(2000));
    check('sum('.repeat(500));
    check('{a="b"} | x=1' + ' or y=2'.repeat(3000));
  });
});
