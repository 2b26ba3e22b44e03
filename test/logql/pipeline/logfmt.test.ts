import { describe, expect, it } from 'vitest';
import { runLine } from './helpers.js';

const S = { app: 'worker' };
const LINE = 'ts=1 level=info msg="job done" queue=emails error= flag queue=other trace.id=abc =orphan';

describe('| logfmt', () => {
  it('parses quoted values, bare keys, dotted keys; first duplicate wins; skips empties', () => {
    expect(runLine('{app="worker"} | logfmt', S, LINE).labels).toEqual({
      app: 'worker', ts: '1', level: 'info', msg: 'job done', queue: 'emails', trace_id: 'abc',
    });
  });
  it('--keep-empty keeps empty values and bare keys', () => {
    expect(runLine('{app="worker"} | logfmt --keep-empty', S, LINE).labels).toMatchObject({ error: '', flag: '' });
  });
  it('--strict stops at the first error and reports its byte position', () => {
    const r = runLine('{app="worker"} | logfmt --strict', S, 'a=1 é=2 =orphan b=3');
    expect(r.labels).toEqual({
      app: 'worker', a: '1', _: '2', __error__: 'LogfmtParserErr', __error_details__: 'logfmt syntax error at pos 10 : unexpected \'=\'',
    });
    expect(runLine('{app="worker"} | logfmt --strict', S, 'a="open').labels.__error_details__).toBe(
      'logfmt syntax error at pos 8 : unterminated quoted value',
    );
  });
  it('without --strict errors are ignored', () => {
    expect(runLine('{app="worker"} | logfmt', S, 'a=1 =orphan b=3').labels).toEqual({ app: 'worker', a: '1', b: '3' });
  });
  it('expressions: renames, pre-sets missing labels to empty, last duplicate wins', () => {
    expect(runLine('{app="worker"} | logfmt q="queue", d="duration", level', S, LINE).labels).toEqual({
      app: 'worker', q: 'other', d: '', level: 'info',
    });
  });
});
