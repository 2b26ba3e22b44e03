// Replays the HTTP calls Grafana makes against a Loki data source, in order, and checks each
// answer has the shape Grafana parses. Sources (grafana/grafana, grafana/logs-drilldown):
// - Save & test: pkg/tsdb/loki/healthcheck.go — instant query `vector(1)+vector(1)`, time range
//   1s..4s, so api.go makeDataRequest sends /loki/api/v1/query?direction=&query=...&time=4000000000;
//   the check wants one frame whose value is 2.
// - Version detection: the frontend reads /loki/api/v1/status/buildinfo (`version`).
// - Label browser / autocomplete: resource calls proxied as GET (api.go makeRawRequest):
//   labels?start&end, label/<name>/values?start&end, index/stats?query&start&end (query stats).
// - Explore log query: api.go makeDataRequest — query_range with query, direction, limit,
//   start/end in ns, step "<n>ms", and X-Loki-Response-Encoding-Flags: categorize-labels
//   (requestStructuredMetadata); the log-volume supplementary query is
//   `sum by (level, detected_level) (count_over_time(<expr>[<auto>]))` with X-Query-Tags
//   Source=logvolhist (getSupportingQueryHeaderValue).
// - Logs Drilldown (logs-drilldown src/services/datasource.ts): drilldown-limits (cached, errors
//   tolerated), index/volume (query, limit=5000, ISO start/end) for the service list,
//   detected_labels, detected_fields, patterns (step = panel interval), all with
//   X-Query-Tags Source=grafana-lokiexplore-app; the service view's level volume
//   `sum by (detected_level) (count_over_time({ service_name="x" } [$__auto]))`
//   (ServiceSelectionScene.tsx) and the logs panel query go through the data-query path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { getJson, pushJson } from './helpers.js';

let srv: TestServer;
const MIN = 60_000_000_000n;
// a fixed, recent window of 30 minutes with whole-minute bounds
const endNs = ((BigInt(Date.now()) * 1_000_000n) / MIN) * MIN;
const startNs = endNs - 30n * MIN;
const iso = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();
const grafanaHeaders = { 'User-Agent': 'Grafana/12.1.0' };
const drilldown = { ...grafanaHeaders, 'X-Query-Tags': 'Source=grafana-lokiexplore-app' };
const LEVELS = ['info', 'info', 'info', 'warn', 'error'];
const N = 300;

beforeAll(async () => {
  srv = await startTestServer();
  for (const svc of ['checkout', 'cart']) {
    const entries = Array.from({ length: N }, (_, i) => ({
      ts: startNs + BigInt(i) * 5_000_000_000n + 1000n,
      line: `level=${LEVELS[i % LEVELS.length]} method=${i % 2 ? 'GET' : 'POST'} status=${i % 7 === 0 ? 500 : 200} duration=${(i % 13) + 1}ms msg="handled request ${i % 3}"`,
      sm: i % 10 === 0 ? { trace_id: `t${i}` } : undefined,
    }));
    await pushJson(srv.url, { service_name: svc, env: 'prod', pod: `${svc}-0` }, entries);
  }
});

afterAll(async () => {
  await srv?.stop();
  if (srv) removeDir(srv.dataDir);
});

describe('Grafana Explore on a Loki data source', () => {
  it('Save & test: vector(1)+vector(1) at time=4000000000', async () => {
    const r = await getJson(srv.url, '/loki/api/v1/query', { direction: '', query: 'vector(1)+vector(1)', time: '4000000000' }, grafanaHeaders);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('success');
    expect(r.body.data.resultType).toBe('vector');
    // Loki reads a timestamp of at most 10 digits as seconds (loghttp parseTimestamp), so Grafana's
    // "4 s in ns" lands in 2096; the check only looks at the value being 2
    expect(r.body.data.result).toEqual([{ metric: {}, value: [4000000000, '2'] }]);
  });

  it('buildinfo carries a 3.x semver version', async () => {
    const r = await getJson(srv.url, '/loki/api/v1/status/buildinfo', {}, grafanaHeaders);
    expect(r.status).toBe(200);
    expect(r.body.version).toMatch(/^3\.\d+\.\d+/);
    for (const k of ['revision', 'branch', 'buildUser', 'buildDate', 'goVersion']) expect(typeof r.body[k]).toBe('string');
  });

  it('label browser: labels, label values, query stats', async () => {
    const range = { start: String(startNs), end: String(endNs) };
    const labels = await getJson(srv.url, '/loki/api/v1/labels', range, grafanaHeaders);
    expect(labels.status).toBe(200);
    expect(labels.body).toEqual({ status: 'success', data: ['env', 'pod', 'service_name'] });
    const values = await getJson(srv.url, '/loki/api/v1/label/service_name/values', range, grafanaHeaders);
    expect(values.body).toEqual({ status: 'success', data: ['cart', 'checkout'] });
    const filtered = await getJson(srv.url, '/loki/api/v1/label/pod/values', { ...range, query: '{service_name="cart"}' }, grafanaHeaders);
    expect(filtered.body.data).toEqual(['cart-0']);
    const stats = await getJson(srv.url, '/loki/api/v1/index/stats', { query: '{service_name="checkout"}', ...range }, grafanaHeaders);
    expect(stats.status).toBe(200);
    expect(Object.keys(stats.body).sort()).toEqual(['bytes', 'chunks', 'entries', 'streams']);
    expect(stats.body.streams).toBe(1);
    expect(stats.body.entries).toBe(N);
    expect(stats.body.bytes).toBeGreaterThan(0);
  });

  it('log query: query_range with limit, direction, ns bounds, step in ms, categorize-labels', async () => {
    const r = await getJson(srv.url, '/loki/api/v1/query_range', {
      direction: 'backward', end: String(endNs), limit: '1000', query: '{service_name="checkout"} | logfmt | status >= 500', start: String(startNs), step: '2000ms',
    }, { ...grafanaHeaders, 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    expect(r.status).toBe(200);
    const d = r.body.data;
    expect(Object.keys(d)).toEqual(['resultType', 'encodingFlags', 'result', 'stats']);
    expect(d.resultType).toBe('streams');
    expect(d.encodingFlags).toEqual(['categorize-labels']);
    const values = d.result.flatMap((s: any) => s.values);
    expect(values.length).toBe(Math.ceil(N / 7));
    for (const s of d.result) expect(s.stream).toEqual({ env: 'prod', pod: 'checkout-0', service_name: 'checkout' });
    for (const v of values) {
      expect(v).toHaveLength(3);
      expect(v[0]).toMatch(/^\d{19}$/);
      expect(v[2].parsed.status).toBe('500');
      expect(typeof v[2].structuredMetadata.detected_level).toBe('string');
    }
    // newest first
    const ts = values.map((v: any) => BigInt(v[0]));
    expect(ts).toEqual([...ts].sort((a: bigint, b: bigint) => (a > b ? -1 : a < b ? 1 : 0)));
    expect(typeof d.stats.summary.execTime).toBe('number');
  });

  it('log volume: sum by (level, detected_level) with X-Query-Tags Source=logvolhist', async () => {
    const r = await getJson(srv.url, '/loki/api/v1/query_range', {
      direction: 'backward', end: String(endNs), query: 'sum by (level, detected_level) (count_over_time({service_name="checkout"}[1m]))', start: String(startNs), step: '60000ms',
    }, { ...grafanaHeaders, 'X-Query-Tags': 'Source=logvolhist', 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    expect(r.status).toBe(200);
    expect(r.body.data.resultType).toBe('matrix');
    // metric queries carry no encodingFlags even when asked
    expect(r.body.data.encodingFlags).toBeUndefined();
    const byLevel = new Map<string, number>();
    for (const s of r.body.data.result) {
      expect(Object.keys(s.metric)).toEqual(['detected_level']);
      let sum = 0;
      for (const [t, v] of s.values) {
        expect(typeof t).toBe('number');
        expect(typeof v).toBe('string');
        sum += Number(v);
      }
      byLevel.set(s.metric.detected_level, sum);
    }
    expect(Object.fromEntries(byLevel)).toEqual({ error: N / 5, info: (N * 3) / 5, warn: N / 5 });
  });
});

describe('Grafana Logs Drilldown opening a service', () => {
  it('drilldown-limits without a tenant header: 401 as Loki (Drilldown then treats limits as unsupported)', async () => {
    const r = await getJson(srv.url, '/loki/api/v1/drilldown-limits', {}, { ...drilldown, 'X-Grafana-Cache': 'private, max-age=86400' });
    expect(r.status).toBe(401);
  });

  it('service list: index/volume with ISO bounds and limit=5000', async () => {
    const r = await getJson(srv.url, '/loki/api/v1/index/volume', { end: iso(endNs), limit: '5000', query: '{service_name=~".+"}', start: iso(startNs) }, drilldown);
    expect(r.status).toBe(200);
    expect(r.body.data.resultType).toBe('vector');
    const byService = Object.fromEntries(r.body.data.result.map((x: any) => [x.metric.service_name, x.value]));
    expect(Object.keys(byService).sort()).toEqual(['cart', 'checkout']);
    for (const [t, v] of Object.values(byService) as [number, string][]) {
      expect(typeof t).toBe('number');
      expect(Number(v)).toBeGreaterThan(0);
    }
  });

  it('level volume per service: sum by (detected_level) (count_over_time({ service_name="checkout" } [$__auto]))', async () => {
    const r = await getJson(srv.url, '/loki/api/v1/query_range', {
      direction: 'backward', end: String(endNs), query: 'sum by (detected_level) (count_over_time({ service_name="checkout" } [30s]))', start: String(startNs), step: '30000ms',
    }, { ...drilldown, 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    expect(r.status).toBe(200);
    const levels = r.body.data.result.map((s: any) => s.metric.detected_level).sort();
    expect(levels).toEqual(['error', 'info', 'warn']);
  });

  it('detected_labels, detected_fields, patterns', async () => {
    const q = { end: iso(endNs), query: '{service_name="checkout"}', start: iso(startNs) };
    const dl = await getJson(srv.url, '/loki/api/v1/detected_labels', q, drilldown);
    expect(dl.status).toBe(200);
    const labels = Object.fromEntries(dl.body.detectedLabels.map((l: any) => [l.label, l.cardinality]));
    expect(labels).toMatchObject({ env: 1, pod: 1 });
    const df = await getJson(srv.url, '/loki/api/v1/detected_fields', q, drilldown);
    expect(df.status).toBe(200);
    expect(df.body.limit).toBe(1000);
    const fields = Object.fromEntries(df.body.fields.map((f: any) => [f.label, f]));
    expect(fields.status).toMatchObject({ type: 'int', parsers: ['logfmt'], cardinality: 2 });
    expect(fields.duration).toMatchObject({ type: 'duration', parsers: ['logfmt'] });
    expect(fields.method).toMatchObject({ type: 'string', cardinality: 2 });
    for (const f of df.body.fields) expect(Object.keys(f)).toContain('parsers');
    const pat = await getJson(srv.url, '/loki/api/v1/patterns', { ...q, step: '1m' }, drilldown);
    expect(pat.status).toBe(200);
    expect(pat.body.status).toBe('success');
    expect(Array.isArray(pat.body.data)).toBe(true);
    for (const p of pat.body.data) {
      expect(typeof p.pattern).toBe('string');
      for (const [t, c] of p.samples) {
        expect(Number.isInteger(t)).toBe(true);
        expect(Number.isInteger(c)).toBe(true);
      }
    }
  });
});
