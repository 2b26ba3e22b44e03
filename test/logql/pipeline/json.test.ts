import { describe, expect, it } from 'vitest';
import { runLine } from './helpers.js';

const S = { app: 'api' };

describe('| json', () => {
  it('flattens nested objects, keeps raw numbers, skips arrays and nulls', () => {
    const r = runLine('{app="api"} | json', S, '{"a":{"b":{"c":"x"}},"n":1.50e3,"t":true,"f":false,"arr":[1,2],"nul":null,"s":"q\\"\\u00e9"}');
    expect(r.labels).toEqual({ app: 'api', a_b_c: 'x', n: '1.50e3', t: 'true', f: 'false', s: 'q"é' });
  });
  it('sanitizes keys and suffixes collisions with stream labels and structured metadata', () => {
    const r = runLine('{app="api"} | json', S, '{"app":"x","user":"u","1st key":"v","a.b":{"c-d":"w"}}', { user: 'alice' });
    expect(r.labels).toEqual({ app: 'api', app_extracted: 'x', user: 'alice', user_extracted: 'u', _1st_key: 'v', a_b_c_d: 'w' });
  });
  it('duplicate keys: the first one wins', () => {
    expect(runLine('{app="api"} | json', S, '{"a":"1","a":"2"}').labels.a).toBe('1');
  });
  it('reports jsonparser errors like Loki', () => {
    const t = (line: string) => runLine('{app="api"} | json', S, line).labels;
    expect(t('081111 101954 INFO x')).toMatchObject({ __error__: 'JSONParserErr', __error_details__: "Value looks like object, but can't find closing '}' symbol" });
    expect(t('{"ts":"2026","level":"debug","msg":"truncated')).toEqual({
      app: 'api', ts: '2026', level: 'debug', __error__: 'JSONParserErr', __error_details__: 'Value is string, but can\'t find closing \'"\' symbol',
    });
    expect(t('{"a":tru}')).toMatchObject({ __error_details__: 'Unknown value type' });
    expect(t('')).toMatchObject({ __error__: 'JSONParserErr' });
    expect(t('{"a":1')).toMatchObject({ a: '1', __error_details__: "Value is array, but can't find closing ']' symbol" });
  });
  it('json expressions: paths, bracketed keys, array indexes, missing → empty', () => {
    const line = '{"user":{"address":{"city":"Osaka"},"roles":["admin","dev"]},"http.version":"2","status":200,"o":{"k":1}}';
    const r = runLine('{app="api"} | json city="user.address.city", v="[\\"http.version\\"]", r="user.roles[1]", status, o, miss="nope"', S, line);
    expect(r.labels).toEqual({ app: 'api', city: 'Osaka', v: '2', r: 'dev', status: '200', o: '{"k":1}', miss: '' });
  });
  it('json expressions on a non-JSON line set JSONParserErr without details', () => {
    expect(runLine('{app="api"} | json a', S, 'plain text').labels).toEqual({ app: 'api', __error__: 'JSONParserErr' });
  });
  it('unpack: only packed entries add labels and replace the line', () => {
    expect(runLine('{app="api"} | unpack', S, '{"a":"b"}')).toEqual({ ok: true, line: '{"a":"b"}', labels: { app: 'api' } });
    expect(runLine('{app="api"} | unpack', S, '{"a":"b","_entry":"hello \\"x\\""}')).toEqual({
      ok: true, line: 'hello "x"', labels: { app: 'api', a: 'b' },
    });
    expect(runLine('{app="api"} | unpack', S, 'nope').labels).toEqual({
      app: 'api', __error__: 'JSONParserErr', __error_details__: 'expecting json object(6), but it is not',
    });
  });
});
