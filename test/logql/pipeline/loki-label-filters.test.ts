// Loki's label filter tables (pkg/logql/log/label_filter_test.go at the golden revision) as
// LogQL stages over our pipeline: number/duration/bytes/string filters combined with and/or,
// conversion errors (LabelFilterErr and its details, the line still passes), filters after an
// earlier error, missing labels.
import { describe, expect, it } from 'vitest';
import { runLine } from './helpers.js';

type Row = [filter: string, stream: Record<string, string>, want: boolean, wantLabels?: Record<string, string>];

function table(rows: Row[]): void {
  for (const [filter, stream, want, wantLabels] of rows) {
    it(`${filter} on ${JSON.stringify(stream)}`, () => {
      const r = runLine(`{x="y"} | ${filter}`, stream, 'sample log line');
      expect(r.ok).toBe(want);
      if (want) expect(r.labels).toEqual(wantLabels ?? stream);
    });
  }
}

describe('TestBinary_Filter', () => {
  table([
    ['foo == 5 and bar == 1s', { foo: '5', bar: '1s' }, true],
    ['foo == 5 and bar == 42KB', { foo: '5', bar: '42kB' }, true],
    ['foo == 5 and bar == 1s', { foo: '6', bar: '1s' }, false],
    ['foo == 5 and bar == 1s', { foo: '5', bar: '2s' }, false],
    ['foo = "5" and bar == 1s', { foo: '5', bar: '1s' }, true],
    ['foo = "5" and bar == 1s', { foo: '6', bar: '1s' }, false],
    ['(duration > 1s or status != 200) and method != "POST"', { duration: '2s', status: '200', method: 'GET' }, true],
    ['(duration > 1s or status != 200) and method != "POST"', { duration: '2s', status: '200', method: 'POST' }, false],
    ['(duration > 1s or status != 200) and method != "POST"', { duration: '2s', status: '500', method: 'POST' }, false],
    ['(duration > 3s or status != 200) and method != "POST"', { duration: '2s', status: '200', method: 'POST' }, false],
    ['duration > 3s', { duration: '2weeeeee' }, true,
      { duration: '2weeeeee', __error__: 'LabelFilterErr', __error_details__: 'time: unknown unit "weeeeee" in duration "2weeeeee"' }],
    ['bytes > 100B', { bytes: '2qb' }, true, { bytes: '2qb', __error__: 'LabelFilterErr', __error_details__: 'unhandled size name: qb' }],
    ['number > 100', { number: 'not_a_number' }, true,
      { number: 'not_a_number', __error__: 'LabelFilterErr', __error_details__: 'strconv.ParseFloat: parsing "not_a_number": invalid syntax' }],
    // a missing label fails numeric, duration and bytes filters
    ['number > 100', { other: '1' }, false],
    ['number < 100', { other: '1' }, false],
    ['d < 1s', { other: '1' }, false],
    ['b < 1KB', { other: '1' }, false],
  ]);
});

describe('TestBytes_Filter', () => {
  const cases: [string, string][] = [
    ['42B', '42B'], ['42KB', '42kB'], ['42MB', '42MB'], ['42GB', '42GB'], ['42TB', '42TB'], ['42PB', '42PB'],
    ['42KiB', '42KiB'], ['42MiB', '42MiB'], ['42GiB', '42GiB'], ['42TiB', '42TiB'], ['42PiB', '42PiB'],
  ];
  table(cases.map(([q, v]) => [`bar == ${q}`, { bar: v }, true] as Row));
});

describe('TestErrorFiltering (filters after a parser error)', () => {
  // `| json` on a non-JSON line sets __error__=JSONParserErr first
  const run = (filter: string) => runLine(`{x="y"} | json | ${filter}`, { status: '200', method: 'POST' }, 'not json');
  it('__error__ != "JSONParserErr" drops the line', () => expect(run('__error__ != "JSONParserErr"').ok).toBe(false));
  it('__error__ !~ ".+" drops the line', () => expect(run('__error__ !~ ".+"').ok).toBe(false));
  it('a conversion failure keeps the earlier error and lets the line through; a missing label drops it', () => {
    const r = run('method > 5');
    expect(r.ok).toBe(true);
    expect(r.labels.__error__).toBe('JSONParserErr');
    expect(r.labels.__error_details__).toBe("Value looks like object, but can't find closing '}' symbol");
    expect(run('nope > 5').ok).toBe(false);
  });
  it('without an error both pass', () => {
    expect(runLine('{x="y"} | __error__ !~ ".+"', { status: '200' }, 'x').ok).toBe(true);
    expect(runLine('{x="y"} | __error__ != "JSONParserErr"', { status: '200' }, 'x').ok).toBe(true);
  });
});

describe('TestStringLabelFilter (missing labels count as empty)', () => {
  table([
    ['subqueries != "0"', { msg: 'hello' }, true],
    ['subqueries != "0"', { msg: 'hello', subqueries: '2' }, true],
    ['subqueries !~ "0"', { msg: 'hello' }, true],
    ['subqueries !~ "0"', { msg: 'hello', subqueries: '2' }, true],
    ['subqueries = ""', { msg: 'hello' }, true],
    ['subqueries = ""', { msg: 'hello', subqueries: '' }, true],
    ['subqueries =~ ""', { msg: 'hello' }, true],
    ['msg =~ "(?i)hello"', { msg: 'HELLO' }, true],
    ['msg =~ "(?i)HELLO"', { msg: 'hello' }, true],
    ['msg =~ "hello"', { msg: 'HELLO' }, false],
  ]);
});
