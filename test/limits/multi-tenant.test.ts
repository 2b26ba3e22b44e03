// Multi-tenant reads (querier.multi_tenant_queries_enabled, Loki's MultiTenantQuerier): a real
// server with auth enabled and the flag on. X-Scope-OrgID `a|b` answers are the union of the
// single-tenant answers with `__tenant_id__` added (log and metric queries, series), selectors
// filter tenants with `__tenant_id__` matchers, label APIs merge, the smallest limit applies,
// and a single tenant still sees only its own data, without the tenant label.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';

interface Res { status: number; body: string }
type Streams = { stream: Record<string, string>; values: [string, string][] }[];
type Matrix = { metric: Record<string, string>; value: [number, string] }[];

async function call(url: string, path: string, tenant: string, init: RequestInit = {}): Promise<Res> {
  const headers = new Headers(init.headers);
  headers.set('X-Scope-OrgID', tenant);
  const r = await fetch(url + path, { ...init, headers });
  return { status: r.status, body: await r.text() };
}

async function ok<T = any>(url: string, path: string, tenant: string): Promise<T> {
  const r = await call(url, path, tenant);
  expect([path, tenant, r.status, r.body.slice(0, 300)]).toEqual([path, tenant, 200, r.body.slice(0, 300)]);
  return JSON.parse(r.body) as T;
}

const enc = encodeURIComponent;

describe('multi-tenant reads (querier.multi_tenant_queries_enabled)', () => {
  let srv: TestServer;
  let dir: string;
  // 30 s past a minute boundary: range queries align their grid to the step (as Loki's frontend
  // does), and the 1m windows at the aligned steps must hold all the lines at t0..t0+13s whatever
  // the wall clock is when the test runs.
  const t0 = BigInt(Math.floor((Date.now() - 120_000) / 60_000) * 60_000 + 30_000) * 1_000_000n;
  const sec = 1_000_000_000n;
  const range = `&start=${t0 - 10n * sec}&end=${t0 + 100n * sec}`;
  // tenant -> streams; timestamps interleave across tenants so the limit merge matters.
  const data: Record<string, { labels: Record<string, string>; lines: [bigint, string][] }[]> = {
    a: [
      { labels: { job: 'x', env: 'a' }, lines: [0, 2, 4, 6, 8].map((i) => [t0 + BigInt(i) * sec, `a x line ${i} level=info`]) },
      { labels: { job: 'y', env: 'a' }, lines: [1, 3].map((i) => [t0 + BigInt(i) * sec, `a y line ${i} level=warn`]) },
    ],
    b: [{ labels: { job: 'x', env: 'b' }, lines: [5, 7, 9, 11].map((i) => [t0 + BigInt(i) * sec, `b x line ${i} level=error`]) }],
    c: [{ labels: { job: 'x', env: 'c' }, lines: [10, 12, 13].map((i) => [t0 + BigInt(i) * sec, `c x line ${i}`]) }],
    // 3 x 40 bytes, under an override of max_query_bytes_read: 50
    d: [{ labels: { job: 'x', env: 'd' }, lines: [1, 2, 3].map((i) => [t0 + BigInt(i) * sec, `d line ${i} `.padEnd(40, '.')]) }],
  };

  beforeAll(async () => {
    dir = tempDataDir();
    const overridesFile = join(dir, 'overrides.yaml');
    writeFileSync(overridesFile, 'overrides:\n  b:\n    max_entries_limit_per_query: 50\n  d:\n    max_query_bytes_read: 50\n');
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, `auth_enabled: true
querier:
  multi_tenant_queries_enabled: true
runtime_config:
  file: ${overridesFile}
limits_config:
  reject_old_samples: false
`);
    srv = await startTestServer({ configFile: cfg, dataDir: join(dir, 'data') });
    for (const [tenant, streams] of Object.entries(data)) {
      const body = JSON.stringify({ streams: streams.map((s) => ({ stream: s.labels, values: s.lines.map(([t, l]) => [String(t), l]) })) });
      const r = await call(srv.url, '/loki/api/v1/push', tenant, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
      expect(r.status).toBe(204);
    }
  }, 90_000);
  afterAll(async () => {
    await srv?.stop();
    removeDir(dir);
  });

  const logQuery = async (tenant: string, query: string, extra = ''): Promise<Streams> =>
    (await ok(srv.url, `/loki/api/v1/query_range?query=${enc(query)}${range}${extra.includes('limit=') ? '' : '&limit=50'}${extra}`, tenant)).data.result as Streams;
  /** Order-independent form: one string per stream. */
  const norm = (s: Streams): string[] => s.map((x) => JSON.stringify([Object.entries(x.stream).sort(), x.values])).sort();
  const tagged = (s: Streams, tenant: string): Streams => s.map((x) => ({ stream: { ...x.stream, __tenant_id__: tenant }, values: x.values }));

  it('a single tenant sees only its own streams, without __tenant_id__', async () => {
    const a = await logQuery('a', '{job=~"x|y"}');
    expect(a.map((s) => s.stream.env)).toEqual(['a', 'a']);
    expect(a.every((s) => !('__tenant_id__' in s.stream))).toBe(true);
    expect(await logQuery('a', '{job="x", __tenant_id__="a"}')).toEqual([]); // one tenant: no tenant label to match
    const labels = await ok(srv.url, '/loki/api/v1/labels' + `?start=${t0 - 10n * sec}&end=${t0 + 100n * sec}`, 'a');
    expect(labels.data).toEqual(['env', 'job', 'service_name']);
  });

  it('log query over a|b is the union of both tenants with __tenant_id__, c excluded', async () => {
    for (const query of ['{job="x"}', '{job=~"x|y"} |= "line"', '{env=~".+"} | logfmt | level!="warn"']) {
      for (const dir of ['backward', 'forward']) {
        const extra = `&direction=${dir}`;
        const merged = await logQuery('a|b', query, extra);
        const union = [...tagged(await logQuery('a', query, extra), 'a'), ...tagged(await logQuery('b', query, extra), 'b')];
        expect(norm(merged)).toEqual(norm(union));
        expect(merged.some((s) => s.stream.env === 'c')).toBe(false);
      }
    }
    // The same set whatever the order of the header.
    expect(norm(await logQuery('b|a', '{job="x"}'))).toEqual(norm(await logQuery('a|b', '{job="x"}')));
  });

  it('the limit keeps the newest (or oldest) entries across tenants', async () => {
    const newest = (await logQuery('a|b', '{job="x"}', '&limit=3')).flatMap((s) => s.values.map((v) => v[1])).sort();
    expect(newest).toEqual(['a x line 8 level=info', 'b x line 11 level=error', 'b x line 9 level=error']);
    const oldest = (await logQuery('a|b', '{job="x"}', '&limit=3&direction=forward')).flatMap((s) => s.values.map((v) => v[1])).sort();
    expect(oldest).toEqual(['a x line 0 level=info', 'a x line 2 level=info', 'a x line 4 level=info']);
  });

  it('__tenant_id__ matchers choose tenants', async () => {
    const onlyB = await logQuery('a|b|c', '{job="x", __tenant_id__="b"}');
    expect(onlyB.map((s) => s.stream)).toEqual([{ detected_level: 'error', env: 'b', job: 'x', service_name: 'x', __tenant_id__: 'b' }]);
    const notA = await logQuery('a|b|c', '{job="x", __tenant_id__!="a"}');
    expect(notA.map((s) => s.stream.__tenant_id__).sort()).toEqual(['b', 'c']);
    expect(await logQuery('a|b', '{job="x", __tenant_id__=~"z.*"}')).toEqual([]);
  });

  it('metric queries: series carry __tenant_id__; sum by (__tenant_id__) counts per tenant; grouping without it adds up', async () => {
    const inst = async (tenant: string, query: string): Promise<Matrix> =>
      (await ok(srv.url, `/loki/api/v1/query?query=${enc(query)}&time=${t0 + 60n * sec}`, tenant)).data.result as Matrix;
    const byTenant = await inst('a|b|c', 'sum by (__tenant_id__) (count_over_time({job="x"}[5m]))');
    expect(byTenant.map((s) => [s.metric, s.value[1]]).sort((p, q) => JSON.stringify(p).localeCompare(JSON.stringify(q)))).toEqual([[{ __tenant_id__: 'a' }, '5'], [{ __tenant_id__: 'b' }, '4'], [{ __tenant_id__: 'c' }, '3']]);
    const total = await inst('a|b', 'sum(count_over_time({job=~"x|y"}[5m]))');
    expect(total.map((s) => s.value[1])).toEqual(['11']);
    const byJob = await inst('a|b', 'sum by (job) (count_over_time({job=~"x|y"}[5m]))');
    expect(byJob.map((s) => [s.metric.job, s.value[1]]).sort()).toEqual([['x', '9'], ['y', '2']]);
    const raw = await inst('a|b', 'count_over_time({job="x"}[5m])');
    expect(raw.map((s) => s.metric).sort((p, q) => p.env!.localeCompare(q.env!))).toEqual([
      { detected_level: 'info', env: 'a', job: 'x', service_name: 'x', __tenant_id__: 'a' },
      { detected_level: 'error', env: 'b', job: 'x', service_name: 'x', __tenant_id__: 'b' },
    ]);
    const filtered = await inst('a|b|c', 'sum(count_over_time({job="x", __tenant_id__=~"b|c"}[5m]))');
    expect(filtered.map((s) => s.value[1])).toEqual(['7']);
    // Binary expressions: each selector picks its own tenants.
    const ratio = await inst('a|b', 'sum(count_over_time({job="x", __tenant_id__="b"}[5m])) / sum(count_over_time({job="x", __tenant_id__="a"}[5m]))');
    expect(ratio.map((s) => s.value[1])).toEqual(['0.8']);
    // Range queries too.
    const rq = await ok(srv.url, `/loki/api/v1/query_range?query=${enc('sum by (__tenant_id__) (count_over_time({job="x"}[1m]))')}&start=${t0 + 60n * sec}&end=${t0 + 60n * sec}&step=60`, 'a|b');
    expect((rq.data.result as { metric: Record<string, string>; values: [number, string][] }[]).map((s) => [s.metric.__tenant_id__, s.values[0]![1]]).sort()).toEqual([['a', '5'], ['b', '4']]);
  });

  it('labels, label values, series, index stats and volume merge over the tenants', async () => {
    const b = `?start=${t0 - 10n * sec}&end=${t0 + 100n * sec}`;
    expect((await ok(srv.url, '/loki/api/v1/labels' + b, 'a|b')).data).toEqual(['__tenant_id__', 'env', 'job', 'service_name']);
    expect((await ok(srv.url, '/loki/api/v1/label/env/values' + b, 'a|b')).data).toEqual(['a', 'b']);
    expect((await ok(srv.url, '/loki/api/v1/label/job/values' + b, 'b|c')).data).toEqual(['x']);
    expect((await ok(srv.url, '/loki/api/v1/label/__tenant_id__/values' + b, 'b|a')).data).toEqual(['a', 'b']);
    expect((await ok(srv.url, '/loki/api/v1/label/__tenant_id__/values' + b, 'a')).data).toEqual(['a']);
    const series = (await ok(srv.url, `/loki/api/v1/series${b}&match[]=${enc('{job=~".+"}')}`, 'a|b')).data as Record<string, string>[];
    expect(series.map((s) => `${s.__tenant_id__}/${s.job}/${s.env}`).sort()).toEqual(['a/x/a', 'a/y/a', 'b/x/b']);
    const single = (await ok(srv.url, `/loki/api/v1/series${b}&match[]=${enc('{job=~".+"}')}`, 'a')).data as Record<string, string>[];
    expect(single.every((s) => !('__tenant_id__' in s))).toBe(true);
    const stats = await ok(srv.url, `/loki/api/v1/index/stats${b}&query=${enc('{job="x"}')}`, 'a|b|c');
    const one = await Promise.all(['a', 'b', 'c'].map((t) => ok(srv.url, `/loki/api/v1/index/stats${b}&query=${enc('{job="x"}')}`, t)));
    expect(stats).toEqual({ streams: 3, chunks: one.reduce((s, x) => s + x.chunks, 0), bytes: one.reduce((s, x) => s + x.bytes, 0), entries: 12 });
    const vol = await ok(srv.url, `/loki/api/v1/index/volume${b}&query=${enc('{job=~".+"}')}&targetLabels=job`, 'a|b');
    expect((vol.data.result as Matrix).map((s) => s.metric.job).sort()).toEqual(['x', 'y']);
    const dl = await ok(srv.url, `/loki/api/v1/detected_labels${b}&query=${enc('{job=~".+"}')}`, 'a|b');
    expect(dl.detectedLabels.find((l: { label: string }) => l.label === 'env')).toEqual({ label: 'env', cardinality: 2 });
    const df = await ok(srv.url, `/loki/api/v1/detected_fields${b}&query=${enc('{job=~".+"}')}`, 'a|b');
    expect(df.fields.map((f: { label: string }) => f.label)).toContain('level');
  });

  it('the smallest limit of the tenants applies', async () => {
    const r = await call(srv.url, `/loki/api/v1/query_range?query=${enc('{job="x"}')}${range}&limit=100`, 'a|b');
    expect([r.status, r.body]).toEqual([400, 'max entries limit per query exceeded, limit > max_entries_limit_per_query (100 > 50)']);
    expect((await call(srv.url, `/loki/api/v1/query_range?query=${enc('{job="x"}')}${range}&limit=100`, 'a')).status).toBe(200);
  });

  it('max_query_bytes_read: the index size of the selected streams, over all tenants, smallest limit', async () => {
    const tooMany = (bytes: string): string => `the query would read too many bytes (query: ${bytes}, limit: 50 B); consider adding more specific stream selectors or reduce the time range of the query`;
    const r = await call(srv.url, `/loki/api/v1/query_range?query=${enc('{job="x"}')}${range}&limit=10`, 'd');
    expect([r.status, r.body]).toEqual([400, tooMany('120 B')]);
    const m = await call(srv.url, `/loki/api/v1/query?query=${enc('count_over_time({job="x"}[5m])')}&time=${t0 + 60n * sec}`, 'd');
    expect([m.status, m.body]).toEqual([400, tooMany('120 B')]);
    const both = await call(srv.url, `/loki/api/v1/query_range?query=${enc('{job="x"}')}${range}&limit=10`, 'c|d');
    expect([both.status, both.body]).toEqual([400, tooMany('153 B')]);
    // Tenants filtered out by __tenant_id__ read nothing.
    expect((await call(srv.url, `/loki/api/v1/query_range?query=${enc('{job="x", __tenant_id__="none"}')}${range}&limit=10`, 'c|d')).status).toBe(200);
    // Label APIs are not limited by it (as in Loki).
    expect((await call(srv.url, '/loki/api/v1/labels', 'd')).status).toBe(200);
  });

  it('invalid tenant IDs in the list are still 400', async () => {
    const r = await call(srv.url, '/loki/api/v1/labels', 'a|b/c');
    expect([r.status, r.body]).toEqual([400, "tenant ID 'b/c' contains unsupported character '/'"]);
  });
});
