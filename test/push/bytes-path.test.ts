// The bytes path (entry.ts, detectLevelFromBytes): level detection on a line's bytes answers
// exactly what the string algorithm answers, invalid UTF-8 in a protobuf line is stored as its
// decoded text (U+FFFD) as before, and lines go through validation and WAL encoding unchanged.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { detectLevelFromBytes, detectLevelFromLogLine, newLevelDetector } from '../../src/push/detect.js';
import { decodePushBody, validatePush, DEFAULT_PUSH_LIMITS, encodePushRequestSnappy, LogEntry } from '../../src/push/index.js';
import { decodePushRecord, encodePushRecord } from '../../src/wal/record.js';
import { writeProtoLine } from './helpers-bytes.js';

const D = newLevelDetector();
const here = path.dirname(fileURLToPath(import.meta.url));
const loghub = path.join(here, '..', '..', '..', 'shared', 'data', 'loghub');

function viaBytes(line: string): string {
  const b = Buffer.from('xx' + line + 'yy', 'utf8');
  const v = detectLevelFromBytes(D, b, 2, b.length - 2);
  return v ?? detectLevelFromLogLine(D, line);
}

describe('detectLevelFromBytes', () => {
  it('matches the string algorithm on hand-picked lines', () => {
    const lines = [
      '', 'info', 'INFO x', 'xinfo', '[ERROR] boom', 'err:', 'error=1', 'level=warn msg=x', 'lvl="DEBUG" a=b',
      'a=b level=', 'level="a\\"b" info', 'msg="x" severity=critical', 'warning: warn', 'warnings', '{"level":"info"}',
      '  {"a":1} ', 'key"=x info', '=x error', 'x==y fatal', 'Level=Info', 'LEVEL=information trace', 'l=é error',
      'trace|debug', '(fatal)', 'crit critical', 'Information', 'a= level=err', 'a="unterminated level=info',
    ];
    for (const l of lines) expect(viaBytes(l), l).toBe(detectLevelFromLogLine(D, l));
  });

  it('matches the string algorithm on random level-ish text', () => {
    const tok = fc.constantFrom('info', 'INFO', 'Warn', 'warning', 'err', 'error', 'ERR', 'fatal', 'debug', 'trace', 'critical',
      'level', 'lvl', 'severity', '=', '"', '\\', ' ', ':', '[', ']', '{', '}', '(', ')', 'x', 'é', '\t', ',', '|', 'a=b', 'level=', 'information');
    fc.assert(fc.property(fc.array(tok, { maxLength: 14 }), (parts) => {
      const l = parts.join('');
      expect(viaBytes(l)).toBe(detectLevelFromLogLine(D, l));
    }), { numRuns: 3000 });
  });

  it('matches the string algorithm on every loghub line', () => {
    // ../shared is part of every checkout's environment (CI lays it beside the clone): fail loudly without it.
    expect(fs.existsSync(loghub), `missing ${loghub}`).toBe(true);
    let n = 0;
    for (const f of fs.readdirSync(loghub).filter((x) => x.endsWith('.log'))) {
      for (const l of fs.readFileSync(path.join(loghub, f), 'utf8').split('\n')) {
        expect(viaBytes(l), l).toBe(detectLevelFromLogLine(D, l));
        n++;
      }
    }
    expect(n).toBeGreaterThan(30000);
  });
});

describe('bytes path through decode, validate and the WAL record', () => {
  const LIMITS = { ...DEFAULT_PUSH_LIMITS, rejectOldSamples: false };
  const T0 = 1795132800000000000n;

  it('keeps lines as byte ranges and round-trips them through the WAL record', () => {
    const body = encodePushRequestSnappy([{ labels: '{job="a"}', entries: [
      { tsNs: T0, line: 'level=error boom' }, { tsNs: T0 + 1n, line: 'wörld ✓ WARN' }, { tsNs: T0 + 2n, line: '' },
    ] }]);
    const v = validatePush(decodePushBody(body, 'application/x-protobuf', undefined, { maxDecompressedBytes: 0 }), 'fake', LIMITS, T0);
    const es = v.accepted[0]!.entries;
    expect(es.every((e) => e instanceof LogEntry && e.src !== null)).toBe(true);
    expect(es.map((e) => e.structuredMetadata[0]!.value)).toEqual(['error', 'warn', 'unknown']);
    expect(v.bytes).toBe(16 + Buffer.byteLength('wörld ✓ WARN') + 0 + 3 * 14 + 5 + 4 + 7);
    const back = decodePushRecord(encodePushRecord('fake', [{ labels: '{job="a"}', entries: es }]));
    expect(back.streams[0]!.entries.map((e) => [e.tsNs, e.line, e.structuredMetadata])).toEqual(es.map((e) => [e.tsNs, e.line, e.structuredMetadata]));
  });

  it('stores a line with invalid UTF-8 as its decoded text, as before', () => {
    const body = writeProtoLine('{job="a"}', T0, Buffer.from([0x61, 0xff, 0x62, 0x20, 0x45, 0x52, 0x52, 0x4f, 0x52]));
    const v = validatePush(decodePushBody(body, 'application/x-protobuf', undefined, { maxDecompressedBytes: 0 }), 'fake', LIMITS, T0);
    const e = v.accepted[0]!.entries[0]!;
    expect(e.line).toBe('a\ufffdb ERROR');
    expect(e.structuredMetadata).toEqual([{ name: 'detected_level', value: 'error' }]);
    const rec = encodePushRecord('fake', [{ labels: '{job="a"}', entries: [e] }]);
    expect(rec.includes(Buffer.from('a\ufffdb ERROR'))).toBe(true);
  });
});
