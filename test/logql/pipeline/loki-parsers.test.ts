// Loki's own parser test tables (pkg/logql/log/parser_test.go at the golden revision) expressed
// as data against our pipeline: input stream labels + structured metadata + line, expected labels.
import { describe, expect, it } from 'vitest';
import { runLine } from './helpers.js';

type Row = [name: string, stages: string, stream: Record<string, string>, line: string, want: Record<string, string>, sm?: Record<string, string>];

function table(rows: Row[]): void {
  for (const [name, stages, stream, line, want, sm] of rows) {
    it(name, () => {
      const r = runLine(`{x="y"} ${stages}`, stream, line, sm ?? {});
      expect(r.labels).toEqual(want);
    });
  }
}

const E = {};
const JLINE = '{"app":"foo","field with space":"value","field with ÜFT8👌":"value","null_field":null,"bool_field":false,"namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar", "params": [1,2,3,"string_value"]}}}';
const JERR = "Value looks like object, but can't find closing '}' symbol";

describe('Test_jsonParser_Parse', () => {
  table([
    ['multi depth', '| json', E, '{"app":"foo","namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar"}}}', { app: 'foo', namespace: 'prod', pod_uuid: 'foo', pod_deployment_ref: 'foobar' }],
    ['multi depth with duplicates', '| json', { app: 'foo', pod_uuid: 'foo' }, '{"app":"bar","namespace":"prod","pod":{"uuid":"bar","deployment":{"ref":"foobar"}}}',
      { app: 'foo', app_extracted: 'bar', namespace: 'prod', pod_uuid: 'foo', pod_uuid_extracted: 'bar', pod_deployment_ref: 'foobar' }],
    ['numeric', '| json', E, '{"counter":1, "price": {"_net_":5.56909}}', { counter: '1', price__net_: '5.56909' }],
    ['whitespace key value', '| json', E, '{" ": {"foo":"bar"}}', { foo: 'bar' }],
    ['escaped', '| json', E, '{"counter":1,"foo":"foo\\\\\\"bar", "price": {"_net_":5.56909}}', { counter: '1', price__net_: '5.56909', foo: 'foo\\"bar' }],
    ['utf8 error rune', '| json', E, '{"counter":1,"foo":"\uFFFD", "price": {"_net_":5.56909}}', { counter: '1', price__net_: '5.56909', foo: ' ' }],
    ['skip arrays', '| json', E, '{"counter":1, "price": {"net_":["10","20"]}}', { counter: '1' }],
    ['bad key replaced', '| json', E, '{"cou-nter":1}', { cou_nter: '1' }],
    ['nested bad key replaced', '| json', E, '{"foo":{"cou-nter":1}}"', { foo_cou_nter: '1' }],
    ['errors', '| json', E, '{n}', { __error__: 'JSONParserErr', __error_details__: JERR }],
    ['duplicate extraction', '| json', { app: 'bar' }, '{"app":"foo","namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar"}},"next":{"err":false}}',
      { app: 'bar', app_extracted: 'foo', namespace: 'prod', pod_uuid: 'foo', next_err: 'false', pod_deployment_ref: 'foobar' }],
    ['duplicate conflict with structured metadata', '| json', E, '{"app":"foo","namespace":"prod","pod":"pod_parsed"}', { app: 'foo', namespace: 'prod', pod: 'pod_sm', pod_extracted: 'pod_parsed' }, { pod: 'pod_sm' }],
  ]);
});

describe('TestJSONExpressionParser', () => {
  table([
    ['single field', '| json app="app"', E, JLINE, { app: 'foo' }],
    ['alternate syntax', '| json test=`["field with space"]`', E, JLINE, { test: 'value' }],
    ['multiple fields', '| json app="app", namespace="namespace"', E, JLINE, { app: 'foo', namespace: 'prod' }],
    ['utf8', '| json utf8=`["field with ÜFT8👌"]`', E, JLINE, { utf8: 'value' }],
    ['nested field', '| json uuid="pod.uuid"', E, JLINE, { uuid: 'foo' }],
    ['nested field alternate syntax', '| json uuid=`pod["uuid"]`', E, JLINE, { uuid: 'foo' }],
    ['nested field alternate syntax 2', '| json uuid=`["pod"]["uuid"]`', E, JLINE, { uuid: 'foo' }],
    ['nested field alternate syntax 3', '| json uuid=`["pod"].uuid`', E, JLINE, { uuid: 'foo' }],
    ['array element', '| json param=`pod.deployment.params[0]`', E, JLINE, { param: '1' }],
    ['object element not present', '| json undefined=`pod[""]`', E, JLINE, { undefined: '' }],
    ['accessing invalid array index', '| json param=`pod.deployment.params[""]`', E, JLINE, { param: '' }],
    ['array string element', '| json param=`pod.deployment.params[3]`', E, JLINE, { param: 'string_value' }],
    ['full array', '| json params=`pod.deployment.params`', E, JLINE, { params: '[1,2,3,"string_value"]' }],
    ['full object', '| json deployment=`pod.deployment`', E, JLINE, { deployment: '{"ref":"foobar", "params": [1,2,3,"string_value"]}' }],
    ['expression matching nothing', '| json nope=`pod.nope`', E, JLINE, { nope: '' }],
    ['null field', '| json nf=`null_field`', E, JLINE, { nf: '' }],
    ['boolean field', '| json b=`bool_field`', E, JLINE, { b: 'false' }],
    ['label override', '| json uuid=`pod.uuid`', { uuid: 'bar' }, JLINE, { uuid: 'bar', uuid_extracted: 'foo' }],
    ['non-matching expression', '| json request_size=`request.size.invalid`', { uuid: 'bar' }, JLINE, { uuid: 'bar', request_size: '' }],
    ['empty object line', '| json uuid=`pod.uuid`', E, '{}', { uuid: '' }],
    ['existing labels are not affected', '| json uuid=`will.not.work`', { foo: 'bar' }, JLINE, { foo: 'bar', uuid: '' }],
    ['invalid JSON line', '| json uuid=`will.not.work`', { foo: 'bar' }, 'invalid json', { foo: 'bar', __error__: 'JSONParserErr' }],
    ['empty line', '| json uuid=`will.not.work`', { foo: 'bar' }, '', { foo: 'bar' }],
    ['nested escaped object', '| json app=`app`', { foo: 'bar' }, '{"app":"{ \\"key\\": \\"value\\", \\"key2\\":\\"value2\\"}"}', { foo: 'bar', app: '{ "key": "value", "key2":"value2"}' }],
    ['nested object with escaped value', '| json app=`app`', { foo: 'bar' }, '{"app":{"name":"great \\"loki\\""}', { foo: 'bar', app: '{"name":"great \\"loki\\""}' }],
    ['field with escaped value inside the json string', '| json app=`app`', { foo: 'bar' }, '{"app":"{\\"name\\":\\"great \\\\\\"loki\\\\\\"\\"}"}', { foo: 'bar', app: '{"name":"great \\"loki\\""}' }],
    ['duplicate field name takes first value', '| json app=`app`', { foo: 'bar' }, '{"app":"foo","app":"duplicate"}', { foo: 'bar', app: 'foo' }],
    ['duplicate conflict with structured metadata', '| json app="app"', E, JLINE, { app: 'app_sm', app_extracted: 'foo' }, { app: 'app_sm' }],
  ]);
});

const FB = { foo: 'bar' };
const AB = { a: 'b' };
// [name, stream, line, want (non-strict), wantStrict (undefined → same), sm]
const LOGFMT: [string, Record<string, string>, string, Record<string, string>, Record<string, string> | undefined, Record<string, string>?][] = [
  ['not logfmt', FB, 'foobar====wqe=sdad1r', FB, { ...FB, __error__: 'LogfmtParserErr', __error_details__: "logfmt syntax error at pos 8 : unexpected '='" }],
  ['utf8 error rune', E, 'buzz=foo bar=\uFFFDf', { bar: ' f', buzz: 'foo' }, undefined],
  ['key alone logfmt', FB, 'buzz bar=foo', { ...FB, bar: 'foo' }, undefined],
  ['quoted logfmt', FB, 'foobar="foo bar"', { ...FB, foobar: 'foo bar' }, undefined],
  ['escaped control chars in logfmt', AB, 'foobar="foo\\nbar\\tbaz"', { ...AB, foobar: 'foo\nbar\tbaz' }, undefined],
  ['literal control chars in logfmt', AB, 'foobar="foo\nbar\tbaz"', { ...AB, foobar: 'foo\nbar\tbaz' }, undefined],
  ['escaped slash logfmt', AB, 'foobar="foo ba\\\\r baz"', { ...AB, foobar: 'foo ba\\r baz' }, undefined],
  ['literal newline and escaped slash logfmt', AB, 'foobar="foo bar\nb\\\\az"', { ...AB, foobar: 'foo bar\nb\\az' }, undefined],
  ['double property logfmt', FB, 'foobar="foo bar" latency=10ms', { ...FB, foobar: 'foo bar', latency: '10ms' }, undefined],
  ['duplicate from line property', FB, 'foobar="foo bar" foobar=10ms', { ...FB, foobar: 'foo bar' }, undefined],
  ['duplicate property', FB, 'foo="foo bar" foobar=10ms', { ...FB, foo_extracted: 'foo bar', foobar: '10ms' }, undefined],
  ['no duplicate property', E, 'foo="foo bar" foobar=10ms', { foo: 'foo bar', foobar: '10ms' }, undefined],
  ['invalid key names', FB, 'foo="foo bar" foo.bar=10ms test-dash=foo', { ...FB, foo_extracted: 'foo bar', foo_bar: '10ms', test_dash: 'foo' }, undefined],
  ['nil', FB, '', FB, undefined],
  ['empty key', FB, 'foo="foo bar" =notkey bar=10ms', { ...FB, foo_extracted: 'foo bar', bar: '10ms' },
    { ...FB, foo_extracted: 'foo bar', __error__: 'LogfmtParserErr', __error_details__: "logfmt syntax error at pos 15 : unexpected '='" }],
  ['error rune in key', FB, 'foo="foo bar" b\uFFFDr=10ms', { ...FB, foo_extracted: 'foo bar' },
    { ...FB, foo_extracted: 'foo bar', __error__: 'LogfmtParserErr', __error_details__: 'logfmt syntax error at pos 20 : invalid key' }],
  ['double quote in key', FB, 'foo="foo bar" bu"zz=10ms', { ...FB, foo_extracted: 'foo bar' },
    { ...FB, foo_extracted: 'foo bar', __error__: 'LogfmtParserErr', __error_details__: 'logfmt syntax error at pos 17 : unexpected \'"\'' }],
  ['= in value', FB, 'bar=bu=zz foo="foo bar"', { ...FB, foo_extracted: 'foo bar' },
    { ...FB, __error__: 'LogfmtParserErr', __error_details__: "logfmt syntax error at pos 7 : unexpected '='" }],
  ['duplicate conflict with structured metadata', E, 'app=foo level=error', { app: 'foo_sm', app_extracted: 'foo', level: 'error' }, undefined, { app: 'foo_sm' }],
];

describe('TestLogfmtParser_parse', () => {
  table(LOGFMT.map(([n, s, l, w, _ws, sm]) => [n, '| logfmt', s, l, w, sm] as Row));
  describe('strict', () => {
    table(LOGFMT.map(([n, s, l, w, ws, sm]) => [n, '| logfmt --strict', s, l, ws ?? w, sm] as Row));
  });
});

describe('TestLogfmtParser_keepEmpty', () => {
  for (const strict of ['', ' --strict']) {
    table([
      ['without keep empty' + strict, `| logfmt${strict}`, FB, 'foo bar=buzz', { ...FB, bar: 'buzz' }],
      ['with keep empty' + strict, `| logfmt${strict} --keep-empty`, FB, 'foo bar=buzz', { ...FB, foo_extracted: '', bar: 'buzz' }],
      ['utf8 error rune without keep empty' + strict, `| logfmt${strict}`, FB, 'foo=b\uFFFDr bar=buzz', { ...FB, bar: 'buzz', foo_extracted: 'b r' }],
      ['utf8 error rune with keep empty' + strict, `| logfmt${strict} --keep-empty`, FB, 'foo=b\uFFFDr bar=buzz', { ...FB, bar: 'buzz', foo_extracted: 'b r' }],
    ]);
  }
});

const LLINE = 'app=foo level=error spaces="value with ÜFT8👌" ts=2021-02-12T19:18:10.037940878Z';
describe('TestLogfmtExpressionParser', () => {
  table([
    ['single field', '| logfmt app', E, LLINE, { app: 'foo' }],
    ['multiple fields', '| logfmt app, level, ts', E, LLINE, { app: 'foo', level: 'error', ts: '2021-02-12T19:18:10.037940878Z' }],
    ['label renaming', '| logfmt test="level"', E, LLINE, { test: 'error' }],
    ['multiple fields with label renaming', '| logfmt app, lvl="level", timestamp="ts"', E, LLINE, { app: 'foo', lvl: 'error', timestamp: '2021-02-12T19:18:10.037940878Z' }],
    ['value with spaces and ÜFT8👌', '| logfmt spaces', E, LLINE, { spaces: 'value with ÜFT8👌' }],
    ['expression matching nothing', '| logfmt nope', E, LLINE, { nope: '' }],
    ['double property logfmt', '| logfmt app', { ap: 'bar' }, LLINE, { ap: 'bar', app: 'foo' }],
    ['label override', '| logfmt app', { app: 'bar' }, LLINE, { app: 'bar', app_extracted: 'foo' }],
    ['label override 2', '| logfmt lvl="level"', { level: 'debug' }, LLINE, { level: 'debug', lvl: 'error' }],
    ['structured metadata conflict', '| logfmt app', E, LLINE, { app: 'foo_sm', app_extracted: 'foo' }, { app: 'foo_sm' }],
  ]);
});

describe('Test_regexpParser_Parse', () => {
  table([
    ['no matches', '| regexp "(?P<foo>foo|bar)buzz"', { app: 'foo' }, 'blah', { app: 'foo' }],
    ['double matches', '| regexp "(?P<foo>.*)buzz"', { app: 'bar' }, 'matchebuzz barbuzz', { app: 'bar', foo: 'matchebuzz bar' }],
    ['duplicate labels', '| regexp "(?P<bar>bar)buzz"', { bar: 'foo' }, 'barbuzz', { bar: 'foo', bar_extracted: 'bar' }],
    ['multiple labels extracted', '| regexp "status=(?P<status>\\\\w+),latency=(?P<latency>\\\\w+)(ms|ns)"', { app: 'foo' }, 'status=200,latency=500ms', { app: 'foo', status: '200', latency: '500' }],
    ['duplicate conflict with structured metadata', '| regexp "status=(?P<status>\\\\w+),latency=(?P<latency>\\\\w+)(ms|ns)"', E, 'status=200,latency=500ms', { status: '400', status_extracted: '200', latency: '500' }, { status: '400' }],
  ]);
});
