import { describe, it, expect } from 'vitest';
import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  decodePushBody,
  decodeLegacyPushBody,
  encodePushRequest,
  encodePushRequestSnappy,
  validatePush,
  PushError,
  DEFAULT_PUSH_LIMITS,
  parseLabelsText,
  snappyCompress,
  groupErrors,
  formatRFC3339,
  entrySize,
  newLevelDetector,
  detectLevel,
  sanitizeLabelName,
  type PushStream,
} from '../../src/push/index.js';
import { labelsFromObject } from '../../src/util/labels.js';

const OPTS = { maxDecompressedBytes: 1 << 20 };
const T0 = 1795132800000000000n; // 2026-11-20T00:00:00Z
const JSON_CT = 'application/json';
const PB_CT = 'application/x-protobuf';

function json(body: unknown): Buffer {
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
}

function pushErr(fn: () => unknown): PushError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PushError);
    return e as PushError;
  }
  throw new Error('expected PushError');
}

describe('protobuf', () => {
  it('round-trips through snappy', () => {
    const body = encodePushRequestSnappy([
      {
        labels: '{job="app", env="dev"}',
        entries: [
          { tsNs: T0, line: 'hello', structuredMetadata: [{ name: 'trace_id', value: 'abc' }] },
          { tsNs: T0 + 1n, line: 'wörld ✓' },
        ],
      },
      { labels: [{ name: 'app', value: 'x' }], entries: [{ tsNs: -1n, line: 'neg' }] },
    ]);
    const streams = decodePushBody(body, PB_CT, 'snappy', OPTS);
    expect(streams).toHaveLength(2);
    expect(streams[0]!.labelsString).toBe('{env="dev", job="app", service_name="app"}');
    expect(streams[0]!.entries.map((e) => ({ tsNs: e.tsNs, line: e.line, structuredMetadata: e.structuredMetadata }))).toEqual([
      { tsNs: T0, line: 'hello', structuredMetadata: [{ name: 'trace_id', value: 'abc' }] },
      { tsNs: T0 + 1n, line: 'wörld ✓', structuredMetadata: [] },
    ]);
    expect(streams[1]!.labelsString).toBe('{app="x", service_name="x"}');
    expect(streams[1]!.entries[0]!.tsNs).toBe(-1n);
  });

  it('accepts gzip around the snappy body and any non-JSON content type', () => {
    const body = zlib.gzipSync(encodePushRequestSnappy([{ labels: '{a="b"}', entries: [{ tsNs: T0, line: 'x' }] }]));
    const streams = decodePushBody(body, 'application/octet-stream', 'gzip', OPTS);
    expect(streams[0]!.entries[0]!.line).toBe('x');
  });

  it('reports corrupt snappy and malformed protobuf as 400', () => {
    expect(pushErr(() => decodePushBody(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), PB_CT, undefined, OPTS)).message).toBe('snappy: corrupt input');
    // valid snappy wrapping a truncated message: field 1, length 10, only 1 byte present
    const bad = snappyCompress(Buffer.from([0x0a, 0x0a, 0x0a]));
    const e = pushErr(() => decodePushBody(bad, PB_CT, undefined, OPTS));
    expect(e.status).toBe(400);
    expect(e.message).toBe('unexpected EOF');
    const wrongWire = snappyCompress(Buffer.from([0x08, 0x01]));
    expect(pushErr(() => decodePushBody(wrongWire, PB_CT, undefined, OPTS)).message).toBe('proto: wrong wireType = 0 for field Streams');
  });

  it('rejects oversized snappy bodies from the length header (413)', () => {
    const raw = encodePushRequest([{ labels: '{a="b"}', entries: [{ tsNs: T0, line: 'x'.repeat(5000) }] }]);
    const e = pushErr(() => decodePushBody(snappyCompress(raw), PB_CT, undefined, { maxDecompressedBytes: 1000 }));
    expect(e.status).toBe(413);
    expect(e.message).toBe(`request body too large: decompressed message size too large than max (${raw.length} vs 1000)`);
  });

  it('parses label text errors with Loki text', () => {
    const mk = (labels: string) => encodePushRequestSnappy([{ labels, entries: [{ tsNs: T0, line: 'x' }] }]);
    expect(pushErr(() => decodePushBody(mk('{a="b"'), PB_CT, undefined, OPTS)).message).toBe(
      "couldn't parse labels: 1:7: parse error: unexpected end of input inside braces",
    );
    expect(pushErr(() => decodePushBody(mk('{a=b}'), PB_CT, undefined, OPTS)).message).toBe(
      `couldn't parse labels: 1:4: parse error: unexpected identifier "b" in label set, expected string`,
    );
    expect(pushErr(() => decodePushBody(mk('{a}'), PB_CT, undefined, OPTS)).message).toBe(
      `couldn't parse labels: 1:3: parse error: unexpected "}" in label set, expected "="`,
    );
    expect(pushErr(() => decodePushBody(mk('{a.b="c"}'), PB_CT, undefined, OPTS)).message).toBe(
      "couldn't parse labels: 1:3: parse error: unexpected character inside braces: '.'",
    );
  });
});

describe('label text parser', () => {
  it('handles Go escapes, quoted names, empty values and ordering', () => {
    expect(parseLabelsText('{b="2", a="1"}')).toEqual([{ name: 'a', value: '1' }, { name: 'b', value: '2' }]);
    expect(parseLabelsText('{a="x\\ny\\"z\\u00e9\\x41", e=""}')).toEqual([{ name: 'a', value: 'x\ny"zéA' }]);
    expect(parseLabelsText("{ a = 'q' , \"we.ird\"=`r\\aw`, }")).toEqual([
      { name: 'a', value: 'q' },
      { name: 'we.ird', value: 'r\\aw' },
    ]);
    expect(parseLabelsText('')).toEqual([]);
    expect(parseLabelsText('{}')).toEqual([]);
    expect(parseLabelsText('{a="1", a="2"}')).toEqual([{ name: 'a', value: '1' }, { name: 'a', value: '2' }]);
  });
});

describe('JSON v1', () => {
  it('decodes values, structured metadata and merges repeated label sets', () => {
    const streams = decodePushBody(
      json({
        streams: [
          { stream: { job: 'app', env: 'dev' }, values: [['1795132800000000000', 'one'], ['1795132800000000001', 'two', { trace_id: 'abc', user: 'u1' }]] },
          { stream: { env: 'dev', job: 'app' }, values: [['1795132800000000002', 'three']] },
          { stream: { empty: '' }, values: [] },
        ],
      }),
      'application/json; charset=utf-8',
      undefined,
      OPTS,
    );
    expect(streams.map((s) => s.labelsString)).toEqual(['{env="dev", job="app", service_name="app"}', '{service_name="unknown_service"}']);
    expect(streams[0]!.entries.map((e) => e.line)).toEqual(['one', 'two', 'three']);
    expect(streams[0]!.entries[1]!.structuredMetadata).toEqual([
      { name: 'trace_id', value: 'abc' },
      { name: 'user', value: 'u1' },
    ]);
  });

  it('decodes gzip and deflate bodies', () => {
    const b = json({ streams: [{ stream: { a: 'b' }, values: [['1', 'x']] }] });
    expect(decodePushBody(zlib.gzipSync(b), JSON_CT, 'gzip', OPTS)[0]!.entries[0]!.tsNs).toBe(1n);
    expect(decodePushBody(zlib.deflateRawSync(b), JSON_CT, 'deflate', OPTS)[0]!.entries[0]!.line).toBe('x');
  });

  it('stops zip bombs while inflating (413)', () => {
    const b = zlib.gzipSync(Buffer.alloc(5 << 20, 0x20));
    const e = pushErr(() => decodePushBody(b, JSON_CT, 'gzip', OPTS));
    expect(e.status).toBe(413);
    expect(e.message).toMatch(/^request body too large: decompressed message size too large than max \(\d+ vs 1048576\)$/);
  });

  it('reproduces Loki error texts', () => {
    const body = '{"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}';
    expect(pushErr(() => decodePushBody(json(body), JSON_CT, undefined, OPTS)).message).toBe(
      'loghttp.PushRequest.Streams: []loghttp.LogProtoStream: unmarshalerDecoder: Value is string, but can\'t find closing \'"\' symbol, error found in #10 byte of ...|[[1,"x"]]}]}|..., bigger context ...|"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}|...',
    );
    const badTs = pushErr(() => decodePushBody(json({ streams: [{ stream: { a: 'b' }, values: [['12a', 'x']] }] }), JSON_CT, undefined, OPTS));
    expect(badTs.message).toContain("unmarshalerDecoder: Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol, error found");
    const badSm = pushErr(() => decodePushBody(json({ streams: [{ stream: { a: 'b' }, values: [['1', 'x', { n: 1 }]] }] }), JSON_CT, undefined, OPTS));
    expect(badSm.message).toContain("unmarshalerDecoder: Value is string, but can't find closing '\"' symbol");
    expect(pushErr(() => decodePushBody(Buffer.alloc(0), JSON_CT, undefined, OPTS)).message).toBe('EOF');
    expect(pushErr(() => decodePushBody(json('[1]'), JSON_CT, undefined, OPTS)).message).toBe(
      'loghttp.PushRequest.readObjectStart: expect { or n, but found [, error found in #1 byte of ...|[1]|..., bigger context ...|[1]|...',
    );
    expect(pushErr(() => decodePushBody(json({ streams: [{ stream: { 'a.b': 'c' }, values: [['1', 'x']] }] }), JSON_CT, undefined, OPTS)).message).toBe(
      "couldn't parse labels: 1:3: parse error: unexpected character inside braces: '.'",
    );
    expect(pushErr(() => decodePushBody(json('{}'), undefined, undefined, OPTS)).message).toBe('mime: no media type');
    const enc = pushErr(() => decodePushBody(json('{}'), JSON_CT, 'br', OPTS));
    expect([enc.status, enc.message]).toEqual([400, 'Content-Encoding "br" not supported']);
  });

  it('ignores trailing data after the first JSON value like jsoniter', () => {
    const s = decodePushBody(json('{"streams":[{"stream":{"a":"b"},"values":[["5","x"]]}]} trailing'), JSON_CT, undefined, OPTS);
    expect(s[0]!.entries[0]!.tsNs).toBe(5n);
  });
});

describe('legacy v0', () => {
  it('decodes labels text and RFC3339 timestamps', () => {
    const s = decodeLegacyPushBody(
      json({ streams: [{ labels: '{job="app"}', entries: [{ ts: '2026-11-20T00:00:00.5Z', line: 'x' }] }] }),
      JSON_CT,
      undefined,
      OPTS,
    );
    expect(s[0]!.labelsString).toBe('{job="app", service_name="app"}');
    expect(s[0]!.entries[0]!.tsNs).toBe(T0 + 500000000n);
  });
});

describe('service_name', () => {
  const cases: [Record<string, string>, string][] = [
    [{ job: 'j', app: 'a' }, 'a'],
    [{ service: 's', app: 'a' }, 's'],
    [{ container: 'c', component: 'x' }, 'c'],
    [{ k8s_job_name: 'k' }, 'k'],
    [{ host: 'h' }, 'unknown_service'],
    [{ service_name: 'mine', app: 'a' }, 'mine'],
    [{ app: '', job: 'j' }, 'j'],
  ];
  for (const [labels, want] of cases) {
    it(JSON.stringify(labels), () => {
      const s = decodePushBody(json({ streams: [{ stream: labels, values: [['1', 'x']] }] }), JSON_CT, undefined, OPTS);
      expect(s[0]!.labels.find((l) => l.name === 'service_name')?.value).toBe(want);
    });
  }
  it('is skipped for internal streams and when discovery is disabled', () => {
    const s = decodePushBody(json({ streams: [{ stream: { __pattern__: 'p' }, values: [['1', 'x']] }] }), JSON_CT, undefined, OPTS);
    expect(s[0]!.labelsString).toBe('{__pattern__="p"}');
    const d = decodePushBody(json({ streams: [{ stream: { app: 'a' }, values: [['1', 'x']] }] }), JSON_CT, undefined, { ...OPTS, discoverServiceName: [] });
    expect(d[0]!.labelsString).toBe('{app="a"}');
  });
});

describe('detected_level', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const golden = JSON.parse(fs.readFileSync(path.join(here, 'fixtures/golden-levels.json'), 'utf8')) as {
    labels: Record<string, string>;
    line: string;
    sm: Record<string, string>;
    level: string;
  }[];
  const d = newLevelDetector();

  it('matches every level real Loki assigned in the golden corpus', () => {
    expect(golden.length).toBeGreaterThan(500);
    const levels = new Set(golden.map((g) => g.level));
    expect(levels.size).toBeGreaterThanOrEqual(5);
    const wrong = golden.filter((g) => detectLevel(d, labelsFromObject(g.labels), labelsFromObject(g.sm), g.line) !== g.level);
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  const table: [string, string, Record<string, string>?, Record<string, string>?][] = [
    ['{"level":"WARNING","msg":"x"}', 'warn'],
    ['{"a":{"severity":"dbg"}}', 'debug'],
    ['{"a":{"b":{"level":"dbg"}}}', 'unknown'],
    ['{"a":{"b":{"level":"dbg"}},"x":"info here"}', 'info'],
    ['{"a":{"level":"dbg"}, "level":"error"}', 'debug'],
    ['{"level":3,"lvl":"trc"}', 'trace'],
    ['{"level":"notice","msg":"error happened"}', 'error'],
    ['ts=1 LEVEL=Err msg=x', 'error'],
    ['ts=1 lvl=info level=debug', 'debug'],
    ['ts=1 severity=fatal "broken level=info', 'fatal'],
    ['a "b" level=dbg', 'unknown'],
    ['a "b" level=info', 'info'],
    ['[ERROR] something', 'error'],
    ['misc:error happened', 'unknown'],
    ['debug: starting', 'debug'],
    ['an informational message', 'unknown'],
    ['CRITICAL failure', 'critical'],
    ['x=1 warn=2', 'warn'],
    ['line', 'notice', { level: 'notice' }],
    ['error here', 'info', { level: 'INFO' }],
    ['error here', 'warn', {}, { severity: 'Warning' }],
    ['nothing', 'error', {}, { severity_number: '17' }],
    ['nothing', 'info', {}, { severity_number: 'x' }],
    ['nothing', 'unknown', {}, { severity_number: '0' }],
    ['nothing', 'fatal', {}, { severity_number: '24' }],
  ];
  for (const [line, want, labels, sm] of table) {
    it(`${line} → ${want}`, () => {
      expect(detectLevel(d, labelsFromObject(labels ?? {}), labelsFromObject(sm ?? {}), line)).toBe(want);
    });
  }
});

describe('structured metadata names', () => {
  it('sanitises like otlptranslator', () => {
    expect(sanitizeLabelName('trace.id')).toBe('trace_id');
    expect(sanitizeLabelName('a..b__c')).toBe('a_b_c');
    expect(sanitizeLabelName('1abc')).toBe('key_1abc');
    expect(sanitizeLabelName('__meta.x__')).toBe('__meta_x__');
    expect(sanitizeLabelName('_x')).toBe('_x');
    expect(() => sanitizeLabelName('...')).toThrow('normalization for label name "..." resulted in invalid name "_"');
  });
});

function stream(labels: Record<string, string>, entries: [bigint, string, Record<string, string>?][]): PushStream {
  const s = decodePushBody(
    json({ streams: [{ stream: labels, values: entries.map(([t, l, sm]) => (sm ? [String(t), l, sm] : [String(t), l])) }] }),
    JSON_CT,
    undefined,
    OPTS,
  );
  return s[0]!;
}

describe('validatePush', () => {
  const now = T0 + 3600n * 1000000000n;

  it('accepts, adds detected_level and counts bytes', () => {
    const r = validatePush([stream({ app: 'a' }, [[T0, 'level=error boom', { 'trace.id': 't' }]])], 'fake', DEFAULT_PUSH_LIMITS, now);
    expect(r.error).toBeUndefined();
    expect(r.accepted[0]!.entries[0]!.structuredMetadata).toEqual([
      { name: 'detected_level', value: 'error' },
      { name: 'trace_id', value: 't' },
    ]);
    expect(r.lines).toBe(1);
    expect(r.bytes).toBe(entrySize(r.accepted[0]!.entries[0]!));
    expect(r.bytes).toBe(16 + 'detected_level'.length + 5 + 'trace_id'.length + 1);
  });

  it('keeps and normalises an existing detected_level', () => {
    const r = validatePush([stream({ app: 'a' }, [[T0, 'x', { detected_level: 'WRN' }]])], 'fake', DEFAULT_PUSH_LIMITS, now);
    expect(r.accepted[0]!.entries[0]!.structuredMetadata).toEqual([{ name: 'detected_level', value: 'warn' }]);
  });

  it('partially accepts and groups error texts', () => {
    const r = validatePush(
      [
        stream({ app: 'a' }, [
          [T0, 'ok'],
          [now + 11n * 60n * 1000000000n, 'future'],
          [now + 11n * 60n * 1000000000n, 'future2'],
          [now - 8n * 24n * 3600n * 1000000000n, 'old'],
        ]),
      ],
      'fake',
      DEFAULT_PUSH_LIMITS,
      now,
    );
    expect(r.accepted[0]!.entries.map((e) => e.line)).toEqual(['ok']);
    expect(r.error!.status).toBe(400);
    expect(r.error!.message).toBe(
      `2 errors like: entry for stream '{app="a", service_name="a"}' has timestamp too new: 2026-11-20T01:11:00Z; ` +
        `1 errors like: entry for stream '{app="a", service_name="a"}' has timestamp too old: 2026-11-12T01:00:00Z, oldest acceptable timestamp is: 2026-11-13T01:00:00Z`,
    );
  });

  it('checks label limits, service_name not counted', () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 15; i++) many['l' + String(i).padStart(2, '0')] = 'v';
    expect(validatePush([stream(many, [[T0, 'x']])], 'fake', DEFAULT_PUSH_LIMITS, now).error).toBeUndefined();
    many.extra = 'v';
    const r = validatePush([stream(many, [[T0, 'x']])], 'fake', DEFAULT_PUSH_LIMITS, now);
    expect(r.accepted).toEqual([]);
    expect(r.error!.message).toMatch(/^entry for stream '\{extra="v", .*service_name="unknown_service"\}' has 16 label names; limit 15$/);
    const long = validatePush([stream({ app: 'x'.repeat(2049) }, [[T0, 'x']])], 'fake', DEFAULT_PUSH_LIMITS, now);
    expect(long.error!.message).toBe(`stream '{app="${'x'.repeat(2049)}", service_name="${'x'.repeat(2049)}"}' has label value too long: '${'x'.repeat(2049)}'`);
    const dup = decodePushBody(encodePushRequestSnappy([{ labels: '{a="1", a="2"}', entries: [{ tsNs: T0, line: 'x' }] }]), PB_CT, undefined, OPTS);
    expect(validatePush(dup, 'fake', DEFAULT_PUSH_LIMITS, now).error!.message).toBe(
      `stream '{a="1", a="2", service_name="unknown_service"}' has duplicate label name: 'a'`,
    );
  });

  it('rejects long lines, or truncates them when configured', () => {
    const limits = { ...DEFAULT_PUSH_LIMITS, maxLineSize: 10 };
    const r = validatePush([stream({ app: 'a' }, [[T0, 'x'.repeat(11)]])], 'fake', limits, now);
    expect(r.error!.message).toBe(`max entry size '10' bytes exceeded for stream '{app="a", service_name="a"}' while adding an entry with length '11' bytes`);
    const t = validatePush([stream({ app: 'a' }, [[T0, 'x'.repeat(11)]])], 'fake', { ...limits, maxLineSizeTruncate: true, maxLineSizeTruncateIdentifier: '..' }, now);
    expect(t.error).toBeUndefined();
    expect(t.accepted[0]!.entries[0]!.line).toBe('xxxxxxxx..');
  });

  it('enforces structured metadata limits', () => {
    const s = () => stream({ app: 'a' }, [[T0, 'x', { a: '1', b: '2' }]]);
    expect(validatePush([s()], 'fake', { ...DEFAULT_PUSH_LIMITS, allowStructuredMetadata: false }, now).error!.message).toBe(
      `stream '{app="a", service_name="a"}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it`,
    );
    expect(validatePush([s()], 'fake', { ...DEFAULT_PUSH_LIMITS, maxStructuredMetadataSize: 3 }, now).error!.message).toBe(
      `stream '{app="a", service_name="a"}' has structured metadata too large: '4' bytes, limit: '3' bytes. Please see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it`,
    );
    expect(validatePush([s()], 'fake', { ...DEFAULT_PUSH_LIMITS, maxStructuredMetadataEntriesCount: 1 }, now).error!.message).toBe(
      `stream '{app="a", service_name="a"}' has too many structured metadata labels: '2', limit: '1'. Please see \`limits_config.max_structured_metadata_entries_count\` or contact your Loki administrator to increase it`,
    );
  });

  it('answers 422 for zero streams and skips empty streams', () => {
    const r = validatePush([], 'fake', DEFAULT_PUSH_LIMITS, now);
    expect([r.error!.status, r.error!.message]).toEqual([422, 'error at least one valid stream is required for ingestion']);
    const e = validatePush(decodePushBody(json({ streams: [{ stream: { a: 'b' }, values: [] }] }), JSON_CT, undefined, OPTS), 'fake', DEFAULT_PUSH_LIMITS, now);
    expect(e).toEqual({ accepted: [], lines: 0, bytes: 0 });
  });

  it('formats helpers like Go', () => {
    expect(formatRFC3339(T0)).toBe('2026-11-20T00:00:00Z');
    expect(groupErrors(['a'])).toBe('a');
    expect(groupErrors(['a', 'a'])).toBe('2 errors like: a');
  });
});

describe('fuzz', () => {
  const expectOnlyPushError = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof PushError)) throw e;
    }
  };

  it('arbitrary bytes only ever raise PushError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(PB_CT, JSON_CT), fc.constantFrom(undefined, 'gzip', 'deflate', 'snappy'), (bytes, ct, enc) => {
        expectOnlyPushError(() => decodePushBody(Buffer.from(bytes), ct, enc, OPTS));
        expectOnlyPushError(() => decodePushBody(snappyCompress(bytes), ct, enc, OPTS));
      }),
      { numRuns: 400 },
    );
  });

  it('arbitrary JSON only ever raises PushError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => {
        expectOnlyPushError(() => decodePushBody(json(JSON.stringify({ streams: [v] })), JSON_CT, undefined, OPTS));
        expectOnlyPushError(() => decodePushBody(json(JSON.stringify(v)), JSON_CT, undefined, OPTS));
        expectOnlyPushError(() => decodeLegacyPushBody(json(JSON.stringify({ streams: [v] })), JSON_CT, undefined, OPTS));
      }),
      { numRuns: 400 },
    );
  });

  it('mutated valid protobuf bodies only ever raise PushError and validate cleanly', () => {
    const base = encodePushRequest([{ labels: '{a="b", c="d"}', entries: [{ tsNs: T0, line: 'level=info x', structuredMetadata: [{ name: 'k', value: 'v' }] }] }]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (muts) => {
        const b = Buffer.from(base);
        for (const [i, v] of muts) b[i] = v;
        try {
          const s = decodePushBody(snappyCompress(b), PB_CT, undefined, OPTS);
          validatePush(s, 'fake', DEFAULT_PUSH_LIMITS, T0);
        } catch (e) {
          if (!(e instanceof PushError)) throw e;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('arbitrary label text only ever raises LabelParseError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        try {
          parseLabelsText(s);
        } catch (e) {
          expect((e as Error).message).toMatch(/^\d+:\d+: parse error: /);
        }
      }),
      { numRuns: 500 },
    );
  });
});
