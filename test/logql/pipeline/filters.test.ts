import { describe, expect, it } from 'vitest';
import { runLine } from './helpers.js';
import { compileLineFilter } from '../../../src/logql/pipeline/index.js';
import type { LineFilterStage } from '../../../src/logql/ast.js';

const S = { app: 'web' };
const pass = (q: string, line: string, sm: Record<string, string> = {}) => runLine(q, S, line, sm).ok;

describe('line filters', () => {
  it('contains / not contains with or alternatives', () => {
    expect(pass('{app="web"} |= "a" or "b"', 'xbx')).toBe(true);
    expect(pass('{app="web"} |= "a" or "b"', 'xcx')).toBe(false);
    expect(pass('{app="web"} != "a" or "b"', 'xbx')).toBe(false);
    expect(pass('{app="web"} != "a" or "b"', 'xcx')).toBe(true);
    expect(pass('{app="web"} |= "Error"', 'error')).toBe(false);
  });
  it('regex, simplified literals and case-insensitivity', () => {
    expect(pass('{app="web"} |~ "(?i)exception"', 'java.lang.EXCEPTION')).toBe(true);
    expect(pass('{app="web"} |~ "foo|bar"', 'xxbarxx')).toBe(true);
    expect(pass('{app="web"} !~ "foo|bar"', 'xxbarxx')).toBe(false);
    expect(pass('{app="web"} |~ "^[IWE]1120"', 'I1120 x')).toBe(true);
    expect(pass('{app="web"} |~ "^[IWE]1120"', 'x I1120')).toBe(false);
    expect(pass('{app="web"} |~ "a\\\\.b"', 'a.b')).toBe(true);
    expect(pass('{app="web"} |~ "a\\\\.b"', 'axb')).toBe(false);
  });
  it('empty filters', () => {
    expect(pass('{app="web"} |= ""', 'x')).toBe(true);
    expect(pass('{app="web"} |~ ""', 'x')).toBe(true);
    expect(pass('{app="web"} != ""', 'x')).toBe(false);
  });
  it('pattern filters', () => {
    expect(pass('{app="web"} |> "<_> INFO <_>"', 'a INFO b')).toBe(true);
    expect(pass('{app="web"} |> "<_> INFO"', 'a INFO b')).toBe(false);
    expect(pass('{app="web"} !> "<_> INFO <_>"', 'a INFO b')).toBe(false);
  });
  it('ip filters: single, range, CIDR, IPv6; tokens found anywhere', () => {
    expect(pass('{app="web"} |= ip("192.168.0.0/16")', 'from 192.168.4.2:80 ok')).toBe(true);
    expect(pass('{app="web"} |= ip("192.168.0.0/16")', 'from 10.0.0.1 ok')).toBe(false);
    expect(pass('{app="web"} |= ip("172.16.0.1-172.16.10.255")', 'x=172.16.10.7')).toBe(true);
    expect(pass('{app="web"} |= ip("2001:db8::/32")', '[2001:db8:85a3::8a2e:370:7334] GET')).toBe(true);
    expect(pass('{app="web"} |= ip("10.0.0.1")', 'x 010.0.0.1')).toBe(false);
    expect(pass('{app="web"} != ip("10.0.0.1")', 'x 10.0.0.1')).toBe(false);
  });
  it('compileLineFilter reports Loki ip pattern errors', () => {
    const st: LineFilterStage = { kind: 'lineFilter', op: '|=', terms: [{ kind: 'ip', value: 'not-an-ip' }] };
    expect(() => compileLineFilter(st)).toThrow('ip: invalid pattern: "not-an-ip"');
    const f = compileLineFilter({ kind: 'lineFilter', op: '|~', terms: [{ kind: 'string', value: 'b+' }] });
    expect(f('abbb')).toBe(true);
    expect(f('ac')).toBe(false);
  });
});

describe('label filters', () => {
  const J = '{"status":"abc","d":"5s","size":"2KB","n":"7","ip":"10.1.2.3"}';
  it('numeric / duration / bytes comparisons', () => {
    expect(pass('{app="web"} | json | n > 5', J)).toBe(true);
    expect(pass('{app="web"} | json | n == 7', J)).toBe(true);
    expect(pass('{app="web"} | json | d >= 5s', J)).toBe(true);
    expect(pass('{app="web"} | json | d > 5s', J)).toBe(false);
    expect(pass('{app="web"} | json | size > 1KiB', J)).toBe(true);
    expect(pass('{app="web"} | json | missing > 1', J)).toBe(false);
  });
  it('conversion failures keep the line with LabelFilterErr', () => {
    expect(runLine('{app="web"} | json | status >= 500', S, J).labels).toMatchObject({
      __error__: 'LabelFilterErr', __error_details__: 'strconv.ParseFloat: parsing "abc": invalid syntax',
    });
    expect(runLine('{app="web"} | json | status > 1s', S, J).labels.__error_details__).toBe('time: invalid duration "abc"');
    expect(runLine('{app="web"} | json | n > 1s', S, J).labels.__error_details__).toBe('time: missing unit in duration "7"');
    expect(runLine('{app="web"} | json | status > 1KB', S, J).labels.__error_details__).toBe('strconv.ParseFloat: parsing "": invalid syntax');
  });
  it('string matchers: missing labels compare as empty, __error__ is filterable', () => {
    expect(pass('{app="web"} | json | missing=""', J)).toBe(true);
    expect(pass('{app="web"} | json | __error__=""', 'nope')).toBe(false);
    expect(pass('{app="web"} | json | __error__="JSONParserErr"', 'nope')).toBe(true);
    expect(pass('{app="web"} | json | n=~"7|8"', J)).toBe(true);
    expect(pass('{app="web"} | json | n=~"7.+"', J)).toBe(false);
  });
  it('and / or precedence', () => {
    expect(pass('{app="web"} | json | n="1" or n="7" and status="abc"', J)).toBe(true);
    expect(pass('{app="web"} | json | (n="1" or n="7") and status="x"', J)).toBe(false);
  });
  it('ip label filter', () => {
    expect(pass('{app="web"} | json | ip = ip("10.0.0.0/8")', J)).toBe(true);
    expect(pass('{app="web"} | json | ip != ip("10.0.0.0/8")', J)).toBe(false);
  });
  it('structured metadata is filterable like a label', () => {
    expect(pass('{app="web"} | user="alice"', 'x', { user: 'alice' })).toBe(true);
    expect(pass('{app="web"} | user="alice"', 'x', { user: 'bob' })).toBe(false);
  });
});

describe('drop / keep / decolorize / regexp / pattern', () => {
  it('drop names and matchers, error labels', () => {
    const r = runLine('{app="web"} | json | drop __error__, __error_details__, app', { app: 'web', ns: 'x' }, 'nope');
    expect(r.labels).toEqual({ ns: 'x' });
    expect(runLine('{app="web"} | logfmt | drop a="1", b=~"x.*"', S, 'a=1 b=2').labels).toEqual({ app: 'web', b: '2' });
  });
  it('keep retains only listed labels (and the error labels)', () => {
    expect(runLine('{app="web"} | logfmt | keep a, b="3"', S, 'a=1 b=2 c=3').labels).toEqual({ a: '1' });
    expect(runLine('{app="web"} | json | keep app', S, 'nope').labels).toMatchObject({ app: 'web', __error__: 'JSONParserErr' });
  });
  it('decolorize strips ANSI sequences; line filters after it run before it (Loki reordering)', () => {
    expect(runLine('{app="web"} | decolorize', S, '\u001b[31mERROR\u001b[0m x').line).toBe('ERROR x');
    expect(pass('{app="web"} | decolorize |= "ERROR x"', '\u001b[31mERROR\u001b[0m x')).toBe(false);
  });
  it('regexp: named groups; non-participating groups give empty labels', () => {
    expect(runLine('{app="web"} | regexp "(?P<a>x)?(?P<b>\\\\d+)"', S, 'n 42').labels).toEqual({ app: 'web', a: '', b: '42' });
    expect(runLine('{app="web"} | regexp "(?P<a>\\\\d+)"', S, 'none').labels).toEqual({ app: 'web' });
  });
  it('pattern parser', () => {
    expect(runLine('{app="web"} | pattern "<ip> - <_> [<ts>] <rest>"', S, '1.2.3.4 - u [now] GET /').labels).toEqual({
      app: 'web', ip: '1.2.3.4', ts: 'now', rest: 'GET /',
    });
    expect(runLine('{app="web"} | pattern "<a> x <b> y"', S, 'p x q').labels).toEqual({ app: 'web', a: 'p', b: 'q' });
  });
});
