// Push endpoint behaviour a Loki client sees: formats (JSON, gzip JSON, protobuf+snappy, legacy),
// Loki's error texts and codes, the out-of-order window and exact-duplicate dropping.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePushRequestSnappy } from '../../src/push/index.js';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';

const NOW = BigInt(Date.now()) * 1_000_000n;
const ts = (secondsAgo: number): string => String(NOW - BigInt(secondsAgo) * 1_000_000_000n);

describe('push', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });

  const push = async (body: Buffer | string, headers: Record<string, string>, path = '/loki/api/v1/push'): Promise<{ status: number; text: string }> => {
    const r = await fetch(s.url + path, { method: 'POST', headers, body });
    return { status: r.status, text: await r.text() };
  };
  const lines = async (q: string): Promise<{ stream: Record<string, string>; values: string[][] }[]> => {
    const p = new URLSearchParams({ query: q, start: ts(7200), end: String(NOW + 10n ** 9n), limit: '1000', direction: 'forward' });
    const r = await fetch(`${s.url}/loki/api/v1/query_range?${p}`);
    expect(r.status).toBe(200);
    return ((await r.json()) as { data: { result: { stream: Record<string, string>; values: string[][] }[] } }).data.result;
  };

  it('accepts JSON, gzip JSON, protobuf+snappy and the legacy endpoint, with structured metadata', async () => {
    const json = { streams: [{ stream: { app: 'fmt', via: 'json' }, values: [[ts(60), 'json line', { trace_id: 't1' }]] }] };
    expect((await push(JSON.stringify(json), { 'Content-Type': 'application/json' })).status).toBe(204);
    const gz = gzipSync(JSON.stringify({ streams: [{ stream: { app: 'fmt', via: 'gzip' }, values: [[ts(59), 'gzip line']] }] }));
    expect((await push(gz, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })).status).toBe(204);
    const pb = encodePushRequestSnappy([{ labels: '{app="fmt", via="proto"}', entries: [{ tsNs: NOW - 58n * 1_000_000_000n, line: 'proto line', structuredMetadata: [{ name: 'trace_id', value: 't2' }] }] }]);
    expect((await push(pb, { 'Content-Type': 'application/x-protobuf' })).status).toBe(204);
    const legacy = { streams: [{ labels: '{app="fmt", via="legacy"}', entries: [{ ts: new Date(Number((NOW - 57n * 1_000_000_000n) / 1_000_000n)).toISOString(), line: 'legacy line' }] }] };
    expect(await push(JSON.stringify(legacy), { "Content-Type": "application/json" }, "/api/prom/push")).toEqual({ status: 204, text: "" });
    const res = await lines('{app="fmt"}');
    const got = res.flatMap((r) => r.values.map((v) => `${r.stream.via}:${v[1]}:${r.stream.trace_id ?? ''}`)).sort();
    expect(got).toEqual(['gzip:gzip line:', 'json:json line:t1', 'legacy:legacy line:', 'proto:proto line:t2']);
    // Loki 3 defaults: service_name from app, detected_level added per entry
    expect(res[0]!.stream.service_name).toBe('fmt');
    expect(res[0]!.stream.detected_level).toBeDefined();
  });

  it('answers malformed bodies with Loki\'s 400 texts and keeps running', async () => {
    const noType = await push('{}', {});
    expect(noType.status).toBe(400);
    const badLabels = await push(encodePushRequestSnappy([{ labels: '{app="x"', entries: [{ tsNs: NOW, line: 'x' }] }]), { 'Content-Type': 'application/x-protobuf' });
    expect(badLabels.status).toBe(400);
    expect(badLabels.text).toMatch(/^couldn't parse labels: /);
    const badJson = await push('{"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}', { 'Content-Type': 'application/json' });
    expect(badJson.status).toBe(400);
    const unknownEncoding = await push('x', { 'Content-Type': 'application/json', 'Content-Encoding': 'br' });
    expect(unknownEncoding).toEqual({ status: 400, text: 'Content-Encoding "br" not supported\n' });
    expect((await fetch(s.url + '/ready')).status).toBe(200);
  });

  it('rejects entries too far behind the stream\'s newest one with Loki\'s ingester text, keeping the rest', async () => {
    const body = { streams: [{ stream: { app: 'ooo' }, values: [[ts(10), 'newest'], [ts(4000), 'too old'], [ts(20), 'in window']] }] };
    const r = await push(JSON.stringify(body), { 'Content-Type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/^entry with timestamp .* ignored, reason: 'entry too far behind, entry timestamp is: .*, oldest acceptable timestamp is: .*',\nuser 'fake', total ignored: 1 out of 3 for stream: \{app="ooo", service_name="ooo"\}\n$/);
    const res = await lines('{app="ooo"}');
    expect(res.flatMap((x) => x.values.map((v) => v[1])).sort()).toEqual(['in window', 'newest']);
  });

  it('drops an entry identical to the stream\'s previous one and merges identical entries at query time', async () => {
    const v = [ts(30), 'same line'];
    expect((await push(JSON.stringify({ streams: [{ stream: { app: 'dup' }, values: [v, v, [ts(29), 'other']] }] }), { 'Content-Type': 'application/json' })).status).toBe(204);
    expect((await push(JSON.stringify({ streams: [{ stream: { app: 'dup' }, values: [v] }] }), { 'Content-Type': 'application/json' })).status).toBe(204);
    const res = await lines('{app="dup"}');
    expect(res.flatMap((x) => x.values.map((y) => y[1]))).toEqual(['same line', 'other']);
  });
});
