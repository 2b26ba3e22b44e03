// End-to-end limits and tenancy: real servers started with small limits from a config file and
// a per-tenant runtime overrides file. Checks Loki's exact status codes and texts for the
// ingestion rate, stream limit, per-stream rate, line size, body size, query limits, the
// auth_enabled tenant rules (401 no org id, isolation across every read endpoint), the
// admission queue, basic/bearer auth and TLS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { removeDir, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';
import { encodePushRequestSnappy } from '../../src/push/index.js';
import { goTimeString } from '../../src/util/time.js';

const FIX = join(import.meta.dirname, 'fixtures');
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

interface Res { status: number; body: string; headers: Headers }

async function call(url: string, path: string, init: RequestInit & { tenant?: string } = {}): Promise<Res> {
  const headers = new Headers(init.headers);
  if (init.tenant !== undefined) headers.set('X-Scope-OrgID', init.tenant);
  const r = await fetch(url + path, { ...init, headers });
  return { status: r.status, body: await r.text(), headers: r.headers };
}

function pushJson(url: string, tenant: string | undefined, streams: { labels: Record<string, string>; lines: [bigint, string][] }[]): Promise<Res> {
  const body = JSON.stringify({ streams: streams.map((s) => ({ stream: s.labels, values: s.lines.map(([t, l]) => [String(t), l]) })) });
  return call(url, '/loki/api/v1/push', { method: 'POST', body, headers: { 'Content-Type': 'application/json' }, tenant });
}

const q = (query: string, extra = ''): string => `?query=${encodeURIComponent(query)}${extra}`;

describe('limits and tenants (auth_enabled, small limits, overrides file)', () => {
  let srv: TestServer;
  let dir: string;
  let overridesFile: string;
  const overrides = (lineTenantMax: number): string => `overrides:
  rate:
    ingestion_rate_mb: 0.00001
    ingestion_burst_size_mb: 0.001
  streams:
    max_global_streams_per_user: 2
  perstream:
    per_stream_rate_limit: 1024
    per_stream_rate_limit_burst: 1024
  lines:
    max_line_size: ${lineTenantMax}
  trunc:
    max_line_size: 20
    max_line_size_truncate: true
  lookback:
    max_query_lookback: 1h
`;

  beforeAll(async () => {
    dir = tempDataDir();
    overridesFile = join(dir, 'overrides.yaml');
    writeFileSync(overridesFile, overrides(100));
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, `auth_enabled: true
distributor:
  max_recv_msg_size: 4000
runtime_config:
  file: ${overridesFile}
  period: 1s
pattern_ingester:
  enabled: true
limits_config:
  max_entries_limit_per_query: 100
`);
    srv = await startTestServer({ configFile: cfg, dataDir: join(dir, 'data') });
  }, 90_000);
  afterAll(async () => {
    await srv?.stop();
    removeDir(dir);
  });

  it('auth_enabled: 401 "no org id" on tenant routes, before the body is read; open routes stay open', async () => {
    const push = await call(srv.url, '/loki/api/v1/push', { method: 'POST', body: 'x'.repeat(10_000), headers: { 'Content-Type': 'application/json' } });
    expect([push.status, push.body]).toEqual([401, 'no org id\n']);
    for (const path of ['/loki/api/v1/query_range?query={a="b"}', '/loki/api/v1/labels', '/loki/api/v1/series?match[]={a="b"}', '/loki/api/v1/index/stats?query={a="b"}']) {
      const r = await call(srv.url, path);
      expect([path, r.status, r.body]).toEqual([path, 401, 'no org id\n']);
    }
    expect((await call(srv.url, '/loki/api/v1/status/buildinfo')).status).toBe(200);
    expect((await call(srv.url, '/ready')).status).toBe(200);
  });

  it('tenant IDs: invalid characters 400; several tenants 400 on push, 500 on single-tenant reads', async () => {
    const bad = await pushJson(srv.url, 'a/b', [{ labels: { job: 'x' }, lines: [[nowNs(), 'l']] }]);
    expect([bad.status, bad.body]).toEqual([400, "tenant ID 'a/b' contains unsupported character '/'\n"]);
    const multi = await pushJson(srv.url, 'a|b', [{ labels: { job: 'x' }, lines: [[nowNs(), 'l']] }]);
    expect([multi.status, multi.body]).toEqual([400, 'multiple org IDs present\n']);
    const read = await call(srv.url, '/loki/api/v1/query_range' + q('{job="x"}'), { tenant: 'a|b' });
    expect([read.status, read.body]).toEqual([500, 'multiple org IDs present']);
    const badRead = await call(srv.url, '/loki/api/v1/labels', { tenant: 'a/b' });
    expect([badRead.status, badRead.body]).toEqual([400, "tenant ID 'a/b' contains unsupported character '/'"]);
  });

  it('every read endpoint is isolated by tenant', async () => {
    const t = nowNs();
    const lines: [bigint, string][] = [];
    for (let i = 0; i < 5; i++) lines.push([t - BigInt(5 - i) * 1_000_000_000n, `level=info secretfield=${i} secretline number ${i}`]);
    expect((await pushJson(srv.url, 'owner', [{ labels: { secretlabel: 'secretvalue' }, lines }])).status).toBe(204);
    expect((await pushJson(srv.url, 'other', [{ labels: { job: 'visible' }, lines: [[t, 'other tenant line']] }])).status).toBe(204);
    const sel = '{secretlabel="secretvalue"}';
    const endpoints: [string, string | null][] = [
      ['/loki/api/v1/query_range' + q(sel), 'secretline'],
      ['/loki/api/v1/query' + q(`count_over_time(${sel}[1h])`), 'secretvalue'],
      ['/loki/api/v1/labels', 'secretlabel'],
      ['/loki/api/v1/label/secretlabel/values', 'secretvalue'],
      ['/loki/api/v1/series?match[]=' + encodeURIComponent(sel), 'secretvalue'],
      ['/loki/api/v1/index/volume' + q(sel), 'secretvalue'],
      ['/loki/api/v1/index/volume_range' + q(sel), 'secretvalue'],
      ['/loki/api/v1/detected_fields' + q(sel), 'secretfield'],
      ['/loki/api/v1/detected_labels' + q(sel), null],
      ['/loki/api/v1/index/stats' + q(sel), null],
      ['/loki/api/v1/patterns' + q(sel), null],
    ];
    for (const [path, marker] of endpoints) {
      const mine = await call(srv.url, path, { tenant: 'owner' });
      const theirs = await call(srv.url, path, { tenant: 'other' });
      expect([path, mine.status]).toEqual([path, 200]);
      expect([path, theirs.status]).toEqual([path, 200]);
      if (marker) expect(mine.body, path).toContain(marker);
      for (const m of ['secretline', 'secretvalue', 'secretlabel', 'secretfield']) expect(theirs.body, path).not.toContain(m);
    }
    const stats = JSON.parse((await call(srv.url, '/loki/api/v1/index/stats' + q(sel), { tenant: 'other' })).body);
    expect(stats.entries).toBe(0);
    const own = JSON.parse((await call(srv.url, '/loki/api/v1/index/stats' + q(sel), { tenant: 'owner' })).body);
    expect(own.streams).toBe(1);
  });

  it('tenant ingestion rate: 429 with Loki text, whole request refused (even valid streams of a partly invalid push)', async () => {
    const t = nowNs();
    const line = 'x'.repeat(600);
    expect((await pushJson(srv.url, 'rate', [{ labels: { job: 'r' }, lines: [[t, line]] }])).status).toBe(204);
    // entry size = line + structured metadata (detected_level=unknown)
    const size = 600 + 'detected_level'.length + 'unknown'.length;
    const r = await pushJson(srv.url, 'rate', [
      { labels: { job: 'r' }, lines: [[t + 1n, line]] },
      { labels: { job: 'r2' }, lines: [[t + 10n ** 18n, 'too new']] },
    ]);
    expect(r.status).toBe(429);
    expect(r.body).toBe(`ingestion rate limit exceeded for user rate (limit: 10 bytes/sec) while attempting to ingest '1' lines totaling '${size}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased\n`);
    const got = JSON.parse((await call(srv.url, '/loki/api/v1/query_range' + q('{job="r"}'), { tenant: 'rate' })).body);
    expect(got.data.result[0].values).toHaveLength(1);
  });

  it('active stream limit: 429 naming the refused stream; other streams are written; the last stream decides the answer', async () => {
    const t = nowNs();
    const s = (n: number) => ({ labels: { job: `s${n}` }, lines: [[t, `line ${n}`]] as [bigint, string][] });
    const r = await pushJson(srv.url, 'streams', [s(1), s(2), s(3)]);
    expect(r.status).toBe(429);
    expect(r.body).toBe(`maximum active stream limit exceeded when trying to create stream {job="s3", service_name="s3"}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: 'streams'\n`);
    const labels = JSON.parse((await call(srv.url, '/loki/api/v1/label/job/values', { tenant: 'streams' })).body);
    expect(labels.data).toEqual(['s1', 's2']);
    // Existing streams still accept data; a refused new stream followed by an accepted one → 204 (Loki's instance.Push).
    const s1 = { labels: { job: 's1' }, lines: [[t + 1n, 'more']] as [bigint, string][] };
    expect((await pushJson(srv.url, 'streams', [s1])).status).toBe(204);
    expect((await pushJson(srv.url, 'streams', [s(4), { labels: { job: 's2' }, lines: [[t + 1n, 'more']] }])).status).toBe(204);
    expect(JSON.parse((await call(srv.url, '/loki/api/v1/label/job/values', { tenant: 'streams' })).body).data).toEqual(['s1', 's2']);
  });

  it('per-stream rate limit: 429 inside the ingester wrapper text', async () => {
    const t = nowNs();
    const line = 'y'.repeat(900);
    expect((await pushJson(srv.url, 'perstream', [{ labels: { job: 'p' }, lines: [[t, line]] }])).status).toBe(204);
    const r = await pushJson(srv.url, 'perstream', [{ labels: { job: 'p' }, lines: [[t + 1n, line]] }]);
    const size = 900 + 'detected_level'.length + 'unknown'.length;
    expect(r.status).toBe(429);
    expect(r.body).toBe(
      `entry with timestamp ${goTimeString(t + 1n)} ignored, reason: 'Per stream rate limit exceeded (limit: 1KB/sec) while attempting to ingest for stream '{job="p", service_name="p"}' totaling ${size}B, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased',\n` +
        `user 'perstream', total ignored: 1 out of 1 for stream: {job="p", service_name="p"}\n`,
    );
    // another stream of the same tenant has its own bucket
    expect((await pushJson(srv.url, 'perstream', [{ labels: { job: 'p2' }, lines: [[t, line]] }])).status).toBe(204);
  });

  it('max_line_size (400, valid entries kept) and max_line_size_truncate; overrides reload from the file', async () => {
    const t = nowNs();
    const long = 'z'.repeat(150);
    const r = await pushJson(srv.url, 'lines', [{ labels: { job: 'l' }, lines: [[t, 'short'], [t + 1n, long]] }]);
    expect([r.status, r.body]).toEqual([400, `max entry size '100' bytes exceeded for stream '{job="l", service_name="l"}' while adding an entry with length '150' bytes\n`]);
    const kept = JSON.parse((await call(srv.url, '/loki/api/v1/query_range' + q('{job="l"}'), { tenant: 'lines' })).body);
    expect(kept.data.result[0].values.map((v: string[]) => v[1])).toEqual(['short']);

    expect((await pushJson(srv.url, 'trunc', [{ labels: { job: 't' }, lines: [[t, 'a'.repeat(50)]] }])).status).toBe(204);
    const tr = JSON.parse((await call(srv.url, '/loki/api/v1/query_range' + q('{job="t"}'), { tenant: 'trunc' })).body);
    expect(tr.data.result[0].values[0][1]).toBe('a'.repeat(20));

    writeFileSync(overridesFile, overrides(1000));
    await new Promise((res) => setTimeout(res, 2500));
    expect((await pushJson(srv.url, 'lines', [{ labels: { job: 'l' }, lines: [[t + 2n, long]] }])).status).toBe(204);
  });

  it('413 over distributor.max_recv_msg_size with the exact text for JSON and protobuf', async () => {
    const big = 'q'.repeat(5000);
    const j = await pushJson(srv.url, 'owner', [{ labels: { job: 'big' }, lines: [[nowNs(), big]] }]);
    expect([j.status, j.body]).toEqual([413, 'request body too large: message size too large than max (4001 vs 4000)\n']);
    const pb = encodePushRequestSnappy([{ labels: '{job="big"}', entries: [{ tsNs: nowNs(), line: randomBytes(6000).toString('base64') }] }]);
    expect(pb.length).toBeGreaterThan(4000);
    const p = await call(srv.url, '/loki/api/v1/push', { method: 'POST', body: pb, headers: { 'Content-Type': 'application/x-protobuf' }, tenant: 'owner' });
    expect([p.status, p.body]).toEqual([413, `request body too large: message size too large than max (${pb.length} vs 4000)\n`]);
  });

  it('query limits: max entries, max_query_lookback clamps start and empties older ranges', async () => {
    const r = await call(srv.url, '/loki/api/v1/query_range' + q('{job="x"}', '&limit=101'), { tenant: 'owner' });
    expect([r.status, r.body]).toEqual([400, 'max entries limit per query exceeded, limit > max_entries_limit_per_query (101 > 100)']);
    const t = nowNs();
    const h = 3_600_000_000_000n;
    expect((await pushJson(srv.url, 'lookback', [{ labels: { job: 'lb' }, lines: [[t - 3n * h, 'old'], [t - h / 6n, 'recent']] }])).status).toBe(204);
    const all = JSON.parse((await call(srv.url, '/loki/api/v1/query_range' + q('{job="lb"}', `&start=${t - 4n * h}&end=${t}`), { tenant: 'lookback' })).body);
    expect(all.data.result.flatMap((s: { values: string[][] }) => s.values.map((v) => v[1]))).toEqual(['recent']);
    const old = JSON.parse((await call(srv.url, '/loki/api/v1/query_range' + q('{job="lb"}', `&start=${t - 4n * h}&end=${t - 2n * h}`), { tenant: 'lookback' })).body);
    expect(old.data.resultType).toBe('streams');
    expect(old.data.result).toEqual([]);
    const inst = JSON.parse((await call(srv.url, '/loki/api/v1/query' + q('count_over_time({job="lb"}[1h])', `&time=${t - 2n * h}`), { tenant: 'lookback' })).body);
    expect([inst.data.resultType, inst.data.result]).toEqual(['vector', []]);
    // without the override the old line is there
    expect((await pushJson(srv.url, 'owner', [{ labels: { job: 'lb' }, lines: [[t - 3n * h, 'old']] }])).status).toBe(204);
    const own = JSON.parse((await call(srv.url, '/loki/api/v1/query_range' + q('{job="lb"}', `&start=${t - 4n * h}&end=${t}`), { tenant: 'owner' })).body);
    expect(own.data.result[0].values[0][1]).toBe('old');
  });
});

const HEAVY = 'sum(count_over_time({job="load"} |~ "(a|b|c)+x" [1m]))';

describe('query admission and timeout', () => {
  let srv: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = tempDataDir();
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, `auth_enabled: true
querier:
  max_concurrent: 1
frontend:
  max_outstanding_per_tenant: 1
runtime_config:
  file: ${join(dir, 'overrides.yaml')}
`);
    writeFileSync(join(dir, 'overrides.yaml'), 'overrides:\n  slow:\n    query_timeout: 1ms\n');
    srv = await startTestServer({ configFile: cfg, dataDir: join(dir, 'data') });
    const t = nowNs();
    for (const tenant of ['slow', 'load']) {
      for (let b = 0; b < 4; b++) {
        const lines: [bigint, string][] = [];
        for (let i = 0; i < 5000; i++) lines.push([t - BigInt((b * 5000 + i) * 1000), `line ${b} ${i} some padding text to scan through ${'p'.repeat(40)}`]);
        expect((await pushJson(srv.url, tenant, [{ labels: { job: 'load' }, lines }])).status).toBe(204);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await srv?.stop();
    removeDir(dir);
  });

  it('query_timeout answers 504 with Loki text', async () => {
    const r = await call(srv.url, '/loki/api/v1/query_range' + q(HEAVY), { tenant: 'slow' });
    expect([r.status, r.body]).toEqual([504, 'request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed']);
  });

  it('past querier.max_concurrent queries queue; past the queue bound: 429 too many outstanding requests', async () => {
    const rs = await Promise.all(Array.from({ length: 4 }, () => call(srv.url, '/loki/api/v1/query_range' + q(HEAVY), { tenant: 'load' })));
    // 1 running + 1 queued; every further concurrent request is refused
    const refused = rs.filter((r) => r.status === 429);
    for (const r of refused) expect(r.body).toBe('too many outstanding requests');
    expect(rs.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    expect(refused.length).toBeGreaterThanOrEqual(1);
  });
});

describe('basic auth, bearer token and TLS', () => {
  let srv: TestServer;
  let dir: string;
  const ca = readFileSync(join(FIX, 'test-cert.pem'));
  const get = (path: string, auth?: string): Promise<{ status: number; body: string; www?: string }> =>
    new Promise((resolve, reject) => {
      const u = new URL(srv.url + path);
      const req = httpsRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, ca, headers: auth ? { Authorization: auth } : {} }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body, www: res.headers['www-authenticate'] as string | undefined }));
      });
      req.on('error', reject);
      req.end();
    });
  beforeAll(async () => {
    dir = tempDataDir();
    writeFileSync(join(dir, 'pw'), 's3cret\n');
    writeFileSync(join(dir, 'token'), 'tok-123\n');
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, `server:
  http_tls_config:
    cert_file: ${join(FIX, 'test-cert.pem')}
    key_file: ${join(FIX, 'test-key.pem')}
  http_auth:
    basic:
      username: admin
      password_file: ${join(dir, 'pw')}
    bearer_token_file: ${join(dir, 'token')}
`);
    srv = await startTestServer({ configFile: cfg, dataDir: join(dir, 'data') });
  }, 90_000);
  afterAll(async () => {
    await srv?.stop();
    removeDir(dir);
  });

  it('serves https and asks for credentials with WWW-Authenticate', async () => {
    expect(srv.url.startsWith('https://')).toBe(true);
    const r = await get('/loki/api/v1/labels');
    expect([r.status, r.body]).toEqual([401, 'Unauthorized\n']);
    expect(r.www).toContain('Basic realm="bramble"');
    expect((await get('/loki/api/v1/labels', 'Basic ' + Buffer.from('admin:wrong').toString('base64'))).status).toBe(401);
    expect((await get('/loki/api/v1/labels', 'Basic ' + Buffer.from('admin:s3cret').toString('base64'))).status).toBe(200);
    expect((await get('/loki/api/v1/labels', 'Bearer tok-123')).status).toBe(200);
    expect((await get('/loki/api/v1/labels', 'Bearer nope')).status).toBe(401);
    expect((await get('/ready')).status).toBe(200);
  });
});
