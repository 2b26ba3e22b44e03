import { describe, expect, it } from 'vitest';
import { runSample } from './helpers.js';
import { utf8Length } from '../../../src/logql/pipeline/index.js';

const HDFS = { host: 'a', job: 'hdfs', service_name: 'hdfs', source: 'loghub' };
const API = { app: 'api', namespace: 'prod' };
const J = '{"latency_ms":12.5,"status":"200","size":"1.5KB","duration":"2m3s","level":"info"}';

describe('sample extraction', () => {
  it('count / bytes values', () => {
    expect(runSample('count_over_time({app="api"}[5m])', API, 'x')).toEqual({ ok: true, value: 1, labels: API });
    expect(runSample('bytes_over_time({app="api"}[5m])', API, 'héllo')).toMatchObject({ value: 6 });
    expect(utf8Length('a😀é')).toBe(7);
  });
  it('parser errors are kept in the series labels (g0175)', () => {
    const r = runSample('sum by (level) (count_over_time({job="hdfs"} | drop detected_level | json [5m]))', HDFS, '081111 101954 INFO x', {
      detected_level: 'info',
    });
    expect(r.labels).toEqual({
      ...HDFS,
      __error__: 'JSONParserErr',
      __error_details__: "Value looks like object, but can't find closing '}' symbol",
    });
  });
  it('a bare sum pushes noLabels down: parsers are skipped, no errors (Loki hints)', () => {
    expect(runSample('sum(count_over_time({job="hdfs"} | json [5m]))', HDFS, 'not json')).toEqual({ ok: true, value: 1, labels: {} });
  });
  it('grouping by __error__ preserves the error (g0300)', () => {
    const r = runSample('sum(count_over_time({app="api"} | json | __error__!="" [35m])) by (__error__)', API, '{"a":');
    expect(r.labels).toMatchObject({ __error__: 'JSONParserErr', __preserve_error__: 'true' });
  });
  it('sum by pushes grouping down', () => {
    expect(runSample('sum by (level) (count_over_time({app="api"} | json [5m]))', API, J).labels).toEqual({ level: 'info' });
  });
  it('unwrap: value conversions and removal of the unwrapped label', () => {
    expect(runSample('max_over_time({app="api"} | json | unwrap latency_ms [5m])', API, J)).toEqual({
      ok: true, value: 12.5, labels: { ...API, duration: '2m3s', level: 'info', size: '1.5KB', status: '200' },
    });
    expect(runSample('max_over_time({app="api"} | json | unwrap latency_ms [5m]) by (namespace)', API, J).labels).toEqual({ namespace: 'prod' });
    expect(runSample('avg_over_time({app="api"} | json | unwrap bytes(size) [5m]) by (level)', API, J).value).toBe(1500);
    expect(runSample('avg_over_time({app="api"} | json | unwrap duration(duration) [5m]) by (level)', API, J).value).toBe(123);
    expect(runSample('avg_over_time({app="api"} | json | unwrap duration_seconds(duration) [5m]) by (level)', API, J).value).toBe(123);
    expect(runSample('sum_over_time({app="api"} | json | unwrap missing [5m])', API, J).ok).toBe(false);
  });
  it('unwrap conversion errors: SampleExtractionErr, full labels; post filters can drop them', () => {
    const r = runSample('max_over_time({app="api"} | json | unwrap level [5m]) by (namespace)', API, J);
    expect(r.labels).toMatchObject({
      __error__: 'SampleExtractionErr', __error_details__: 'strconv.ParseFloat: parsing "info": invalid syntax', level: 'info',
    });
    expect(runSample('max_over_time({app="api"} | json | unwrap level | __error__="" [5m]) by (namespace)', API, J).ok).toBe(false);
    expect(runSample('max_over_time({app="api"} | json | unwrap bytes(level) [5m]) by (namespace)', API, J).labels.__error_details__).toBe(
      'strconv.ParseFloat: parsing "": invalid syntax',
    );
  });
});
