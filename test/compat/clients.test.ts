// Pushes as real clients send them, read back through query_range:
// - Alloy loki.write (internal/component/common/loki/client: batch.go labelsMapToString skips
//   `__` labels, encode.go gogo proto + golang/snappy, shards.go send(): User-Agent
//   "Alloy/<ver> (<os>; <deploy mode>)", Content-Type application/x-protobuf, Content-Encoding
//   snappy, X-Scope-OrgID only with a tenant), byte for byte including Go's header order;
// - Promtail (Loki's clients/pkg/promtail/client before its removal, same as clients/pkg/util):
//   User-Agent promtail/<ver>, Content-Type application/x-protobuf, no Content-Encoding;
// - the Docker driver (clients/cmd/docker-driver: clients/pkg/util client, docker labels);
// - gzip-compressed JSON and the legacy /api/prom/push JSON v0 body;
// - the npm clients winston-loki (protobuf+snappy and JSON) and pino-loki.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import winston from 'winston';
import LokiTransport from 'winston-loki';
import pino from 'pino';
import { pinoLoki } from 'pino-loki';
import snappyjs from 'snappyjs';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { getJson, nowNsBig } from './helpers.js';
import { goHttpRequest, goLabelsString, goMarshalPushRequest, goSnappyEncode, sendRaw, type GoStream } from './go-wire.js';

let srv: TestServer;
let mt: TestServer; // auth_enabled: tenants from X-Scope-OrgID

beforeAll(async () => {
  [srv, mt] = await Promise.all([startTestServer(), startTestServer({ args: ['-auth.enabled=true'] })]);
});

afterAll(async () => {
  await Promise.all([srv?.stop(), mt?.stop()]);
  if (srv) removeDir(srv.dataDir);
  if (mt) removeDir(mt.dataDir);
});

interface Got {
  labels: Record<string, string>;
  ts: string;
  line: string;
  extra?: { structuredMetadata?: Record<string, string>; parsed?: Record<string, string> };
}

/** All entries of `query` in the last hour, oldest first, categorized (stream labels + metadata). */
async function readBack(url: string, query: string, headers: Record<string, string> = {}): Promise<Got[]> {
  const r = await getJson(url, '/loki/api/v1/query_range', { query, direction: 'forward', limit: '1000', start: String(nowNsBig() - 3_600_000_000_000n), end: String(nowNsBig() + 60_000_000_000n) }, { 'X-Loki-Response-Encoding-Flags': 'categorize-labels', ...headers });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const out: Got[] = [];
  for (const s of r.body.data.result) for (const v of s.values) out.push({ labels: s.stream, ts: v[0], line: v[1], extra: v[2] });
  out.sort((a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : BigInt(a.ts) > BigInt(b.ts) ? 1 : 0));
  return out;
}

async function eventually<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Alloy loki.write', () => {
  const alloyUA = 'Alloy/v1.11.3 (linux; helm)';
  const t0 = nowNsBig() - 30_000_000_000n;
  // Alloy keeps discovery labels out of the pushed label string
  const labels = { __path__: '/var/log/app.log', __meta_kubernetes_pod_uid: 'x', job: 'integrations/app', namespace: 'shop', pod: 'web-7d9f', filename: '/var/log/pods/shop_web/0.log', quote: 'say "hi"\t\\ ünï' };
  const streams = (): GoStream[] => [
    {
      labels: goLabelsString(labels, (n) => n.startsWith('__')),
      entries: [
        { ts: t0, line: 'level=info msg="GET /cart 200" duration=12ms', structuredMetadata: [['trace_id', '4bf92f3577b34da6'], ['pod_uid', 'a-b-c']] },
        { ts: t0 + 1_000_000_000n, line: 'level=error msg="db timeout"' }, // whole seconds: nanos omitted in the Timestamp
        { ts: t0 + 1_000_000_001n, line: '' }, // empty line: field omitted entirely
        { ts: t0 + 2_000_000_000n, line: 'línea ünïcödé ✓ \u2028' },
      ],
    },
    { labels: goLabelsString({ job: 'integrations/other', level: 'warn' }, (n) => n.startsWith('__')), entries: [{ ts: t0 + 5n, line: 'x'.repeat(3000) + 'tail' }] },
  ];

  it('builds the label string as Alloy does', () => {
    expect(streams()[0]!.labels).toBe('{filename="/var/log/pods/shop_web/0.log", job="integrations/app", namespace="shop", pod="web-7d9f", quote="say \\"hi\\"\\t\\\\ ünï"}');
  });

  it('accepts the exact request bytes (single tenant: no X-Scope-OrgID) and stores every field', async () => {
    const proto = goMarshalPushRequest(streams());
    const body = goSnappyEncode(proto);
    // our Go snappy output must be valid snappy for any decoder
    expect(Buffer.from(snappyjs.uncompress(body))).toEqual(proto);
    const req = goHttpRequest(`${srv.url}/loki/api/v1/push`, alloyUA, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' }, body);
    expect(req.subarray(0, req.indexOf('\r\n\r\n')).toString()).toBe(
      `POST /loki/api/v1/push HTTP/1.1\r\nHost: ${new URL(srv.url).host}\r\nUser-Agent: ${alloyUA}\r\nContent-Length: ${body.length}\r\nContent-Encoding: snappy\r\nContent-Type: application/x-protobuf\r\nAccept-Encoding: gzip`,
    );
    const r = await sendRaw(srv.url, req);
    expect(r.status, r.raw).toBe(204);
    const got = await readBack(srv.url, '{job="integrations/app"}');
    expect(got.map((g) => [g.ts, g.line])).toEqual([
      [String(t0), 'level=info msg="GET /cart 200" duration=12ms'],
      [String(t0 + 1_000_000_000n), 'level=error msg="db timeout"'],
      [String(t0 + 1_000_000_001n), ''],
      [String(t0 + 2_000_000_000n), 'línea ünïcödé ✓ \u2028'],
    ]);
    expect(got[0]!.labels).toEqual({ filename: '/var/log/pods/shop_web/0.log', job: 'integrations/app', namespace: 'shop', pod: 'web-7d9f', quote: 'say "hi"\t\\ ünï', service_name: 'integrations/app' });
    expect(got[0]!.extra?.structuredMetadata).toEqual({ detected_level: 'info', pod_uid: 'a-b-c', trace_id: '4bf92f3577b34da6' });
    expect(got[1]!.extra?.structuredMetadata).toEqual({ detected_level: 'error' });
    const other = await readBack(srv.url, '{job="integrations/other"}');
    expect(other.map((g) => g.line)).toEqual(['x'.repeat(3000) + 'tail']);
    // a `level` stream label is used as-is for detected_level
    expect(other[0]!.extra?.structuredMetadata).toEqual({ detected_level: 'warn' });
  });

  it('with a tenant, X-Scope-OrgID (canonicalised X-Scope-Orgid) routes the push to that tenant', async () => {
    const s = [{ labels: '{job="tenant-check"}', entries: [{ ts: t0, line: 'for team-a only' }] }];
    const body = goSnappyEncode(goMarshalPushRequest(s));
    const req = goHttpRequest(`${mt.url}/loki/api/v1/push`, alloyUA, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Scope-OrgID': 'team-a' }, body);
    expect(req.toString('latin1')).toContain('\r\nX-Scope-Orgid: team-a\r\n');
    const r = await sendRaw(mt.url, req);
    expect(r.status, r.raw).toBe(204);
    expect((await readBack(mt.url, '{job="tenant-check"}', { 'X-Scope-OrgID': 'team-a' })).map((g) => g.line)).toEqual(['for team-a only']);
    expect(await readBack(mt.url, '{job="tenant-check"}', { 'X-Scope-OrgID': 'team-b' })).toEqual([]);
    // and without the header, Loki's 401
    const noTenant = await sendRaw(mt.url, goHttpRequest(`${mt.url}/loki/api/v1/push`, alloyUA, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' }, body));
    expect(noTenant.status).toBe(401);
    expect(noTenant.body).toBe('no org id\n');
  });

  it('a batch bigger than one snappy block (64 KiB) round-trips', async () => {
    const t = nowNsBig() - 20_000_000_000n;
    const entries = Array.from({ length: 1500 }, (_, i) => ({ ts: t + BigInt(i) * 1000n, line: `ts=${i} level=debug caller=server.go:${i % 97} msg="request served" path=/api/v1/items/${i * 7919 % 10007}` }));
    const proto = goMarshalPushRequest([{ labels: '{job="big-batch"}', entries }]);
    expect(proto.length).toBeGreaterThan(65536);
    const r = await sendRaw(srv.url, goHttpRequest(`${srv.url}/loki/api/v1/push`, alloyUA, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' }, goSnappyEncode(proto)));
    expect(r.status, r.raw).toBe(204);
    const got = await readBack(srv.url, '{job="big-batch"}');
    expect(got.length).toBe(1000); // the query limit
    expect(got[999]!.line).toBe(entries[999]!.line);
    const count = await getJson(srv.url, '/loki/api/v1/query', { query: 'sum(count_over_time({job="big-batch"}[1h]))', time: String(nowNsBig()) });
    expect(count.body.data.result[0].value[1]).toBe('1500');
  });
});

describe('Promtail and the Docker driver (clients/pkg/util client)', () => {
  it('Promtail: protobuf + snappy with no Content-Encoding header', async () => {
    const t = nowNsBig() - 10_000_000_000n;
    const body = goSnappyEncode(goMarshalPushRequest([{
      labels: goLabelsString({ __tenant_id__: 'ignored', job: 'varlogs', host: 'pi4', filename: '/var/log/syslog' }, (n) => n === '__tenant_id__'),
      entries: [{ ts: t, line: 'Nov 29 00:00:01 pi4 systemd[1]: Started Daily apt upgrade.' }, { ts: t + 7n, line: 'Nov 29 00:00:02 pi4 CRON[123]: (root) CMD (run-parts)' }],
    }]));
    const req = goHttpRequest(`${srv.url}/loki/api/v1/push`, 'promtail/3.5.1', { 'Content-Type': 'application/x-protobuf' }, body);
    expect(req.toString('latin1')).not.toContain('Content-Encoding');
    const r = await sendRaw(srv.url, req);
    expect(r.status, r.raw).toBe(204);
    const got = await readBack(srv.url, '{job="varlogs"}');
    expect(got.map((g) => g.line)).toEqual(['Nov 29 00:00:01 pi4 systemd[1]: Started Daily apt upgrade.', 'Nov 29 00:00:02 pi4 CRON[123]: (root) CMD (run-parts)']);
    expect(got[1]!.ts).toBe(String(t + 7n));
    expect(got[0]!.labels).toEqual({ filename: '/var/log/syslog', host: 'pi4', job: 'varlogs', service_name: 'varlogs' });
  });

  it('Docker driver: container labels, stdout/stderr source', async () => {
    const t = nowNsBig() - 5_000_000_000n;
    const id = 'f3c1b2a4d5e6'.padEnd(64, '0');
    const base = { compose_project: 'shop', compose_service: 'web', container_name: 'shop-web-1', filename: `/var/lib/docker/containers/${id}/${id}-json.log`, host: 'pi4' };
    const body = goSnappyEncode(goMarshalPushRequest([
      { labels: goLabelsString({ ...base, source: 'stdout' }, (n) => n === '__tenant_id__'), entries: [{ ts: t, line: '172.18.0.1 - - [29/Nov/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 612' }] },
      { labels: goLabelsString({ ...base, source: 'stderr' }, (n) => n === '__tenant_id__'), entries: [{ ts: t + 1n, line: '2026/11/29 00:00:01 [warn] 1#1: upstream slow' }] },
    ]));
    const r = await sendRaw(srv.url, goHttpRequest(`${srv.url}/loki/api/v1/push`, 'promtail/3.5.1', { 'Content-Type': 'application/x-protobuf' }, body));
    expect(r.status, r.raw).toBe(204);
    const got = await readBack(srv.url, '{container_name="shop-web-1"}');
    expect(got.map((g) => g.labels.source)).toEqual(['stdout', 'stderr']);
    // service_name comes from the first present label of Loki's discovery list: container_name
    expect(got[0]!.labels.service_name).toBe('shop-web-1');
    expect(got[1]!.extra?.structuredMetadata).toEqual({ detected_level: 'warn' });
  });
});

describe('JSON pushes', () => {
  it('gzip-compressed JSON (Content-Encoding: gzip)', async () => {
    const t = nowNsBig() - 3_000_000_000n;
    const json = JSON.stringify({ streams: [{ stream: { job: 'gz' }, values: [[String(t), 'compressed one'], [String(t + 1n), 'compressed two', { user: 'u1' }]] }] });
    const r = await fetch(`${srv.url}/loki/api/v1/push`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body: gzipSync(json) });
    expect(r.status, await r.clone().text()).toBe(204);
    const got = await readBack(srv.url, '{job="gz"}');
    expect(got.map((g) => g.line)).toEqual(['compressed one', 'compressed two']);
    expect(got[1]!.extra?.structuredMetadata).toEqual({ detected_level: 'unknown', user: 'u1' });
  });

  it('legacy /api/prom/push with the v0 JSON body', async () => {
    const t = new Date(Date.now() - 2000);
    const body = { streams: [{ labels: '{job="legacy", env="old"}', entries: [{ ts: t.toISOString(), line: 'from an old client' }] }] };
    const r = await fetch(`${srv.url}/api/prom/push`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.status, await r.clone().text()).toBe(204);
    const got = await readBack(srv.url, '{job="legacy"}');
    expect(got.map((g) => [g.line, g.labels.env])).toEqual([['from an old client', 'old']]);
    expect(got[0]!.ts).toBe(String(BigInt(t.getTime()) * 1_000_000n));
  });
});

describe('npm clients', () => {
  it('winston-loki over protobuf + snappy (native snappy) and over JSON', async () => {
    for (const json of [false, true]) {
      const app = json ? 'winston-json' : 'winston-proto';
      const errors: unknown[] = [];
      const transport = new LokiTransport({ host: srv.url, labels: { app }, json, batching: true, interval: 0.2, gracefulShutdown: false, onConnectionError: (e) => errors.push(e) });
      const logger = winston.createLogger({ level: 'debug', transports: [transport] });
      logger.info('user logged in', { labels: { component: 'auth' } });
      logger.error('payment failed');
      logger.debug('cache miss');
      await transport.flush();
      const got = await eventually(() => readBack(srv.url, `{app="${app}"}`), (g) => g.length >= 3);
      expect(errors).toEqual([]);
      // winston-loki's default format appends the remaining meta as JSON
      expect(got.map((g) => g.line).sort()).toEqual(['cache miss {"level":"debug"}', 'payment failed {"level":"error"}', 'user logged in {"level":"info"}']);
      const byLine = new Map(got.map((g) => [g.line.slice(0, g.line.indexOf(' {')), g]));
      expect(byLine.get('user logged in')!.labels).toMatchObject({ app, level: 'info', component: 'auth' });
      expect(byLine.get('payment failed')!.labels.level).toBe('error');
      // the JSON variant also sends {"level": ...} as structured metadata; it collides with the
      // `level` stream label, so Loki's labels builder reports it as level_extracted
      expect(byLine.get('payment failed')!.extra?.structuredMetadata).toEqual(json ? { detected_level: 'error', level_extracted: 'error' } : { detected_level: 'error' });
      await transport.close();
      logger.close();
    }
  });

  it('pino-loki (JSON, structured metadata from a meta key)', async () => {
    const stream = pinoLoki({ host: srv.url, labels: { app: 'pino' }, batching: false, structuredMetaKey: 'meta' });
    const logger = pino({ base: { hostname: 'pi4' } }, stream);
    logger.info({ meta: { trace_id: 'abc123' }, user: 'u9' }, 'order placed');
    logger.warn('stock low');
    const got = await eventually(() => readBack(srv.url, '{app="pino"}'), (g) => g.length >= 2);
    expect(got.length).toBe(2);
    const placed = got.find((g) => g.line.includes('order placed'))!;
    expect(JSON.parse(placed.line)).toMatchObject({ msg: 'order placed', user: 'u9' });
    expect(placed.labels).toMatchObject({ app: 'pino', hostname: 'pi4', level: 'info' });
    expect(placed.extra?.structuredMetadata).toMatchObject({ trace_id: 'abc123', detected_level: 'info' });
    expect(got.find((g) => g.line.includes('stock low'))!.labels.level).toBe('warning');
    stream.end();
  });
});
