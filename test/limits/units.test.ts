// Unit tests for the limits building blocks: Go-semantics token buckets, datasize formatting,
// Loki's texts, the stream-limit arithmetic, the overrides file parser, dskit tenant ID rules,
// the query admission queue and the 413 text selection.
import { describe, expect, it } from 'vitest';
import { formatByteSize, TokenBucket } from '../../src/limits/rate.js';
import { IngestionRateLimiter, maxActiveStreams, rateLimitedMessage, streamLimitMessage, streamRateLimitMessage } from '../../src/limits/ingest.js';
import { parseOverrides } from '../../src/limits/overrides.js';
import { defaultLimits } from '../../src/config/config.js';
import { parseSingleTenantId, parseTenantIds, tenantIdError } from '../../src/http/tenant.js';
import { QueryScheduler, TooManyOutstandingError } from '../../src/limits/scheduler.js';
import { authorized } from '../../src/limits/auth.js';
import { isQueuedPath, pushBodyTooLarge } from '../../src/limits/http.js';
import type { FastifyRequest } from 'fastify';

describe('TokenBucket (golang.org/x/time/rate semantics)', () => {
  it('starts full, refuses n > burst, refills at the rate', () => {
    const b = new TokenBucket(100, 200, 0);
    expect(b.allowN(0, 201)).toBe(false);
    expect(b.allowN(0, 150)).toBe(true);
    expect(b.allowN(0, 51)).toBe(false); // 50 left
    expect(b.allowN(0, 50)).toBe(true);
    expect(b.allowN(500, 51)).toBe(false); // +50 after 0.5s
    expect(b.allowN(500, 50)).toBe(true);
    expect(b.allowN(100_000, 200)).toBe(true); // capped at burst
    expect(b.allowN(100_000, 1)).toBe(false);
  });
  it('a refused request takes nothing', () => {
    const b = new TokenBucket(0, 10, 0);
    expect(b.allowN(0, 11)).toBe(false);
    expect(b.allowN(0, 10)).toBe(true);
    expect(b.allowN(10_000, 1)).toBe(false); // limit 0: never refills
  });
  it('update keeps accrued tokens, capped at the new burst', () => {
    const b = new TokenBucket(10, 100, 0);
    b.update(0, 10, 20);
    expect(b.allowN(0, 21)).toBe(false);
    expect(b.allowN(0, 20)).toBe(true);
  });
});

describe('formatByteSize (c2h5oh/datasize String)', () => {
  it.each([[0, '0B'], [1, '1B'], [1023, '1023B'], [1024, '1KB'], [1536, '1536B'], [3 * 1024 * 1024, '3MB'], [15 << 20, '15MB'], [1 << 30, '1GB'], [2048, '2KB']])('%d → %s', (n, s) => {
    expect(formatByteSize(n)).toBe(s);
  });
});

describe('Loki texts', () => {
  it('rate limited', () => {
    expect(rateLimitedMessage('t', 4194304, 3, 120)).toBe(
      "ingestion rate limit exceeded for user t (limit: 4194304 bytes/sec) while attempting to ingest '3' lines totaling '120' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased",
    );
  });
  it('stream limit', () => {
    expect(streamLimitMessage('{a="b"}', 't')).toBe(
      "maximum active stream limit exceeded when trying to create stream {a=\"b\"}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: 't'",
    );
  });
  it('per-stream rate limit', () => {
    expect(streamRateLimitMessage(3 << 20, '{a="b"}', 100)).toBe(
      "Per stream rate limit exceeded (limit: 3MB/sec) while attempting to ingest for stream '{a=\"b\"}' totaling 100B, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased",
    );
  });
  it('tenant rate limiter reports the truncated limit and does not consume on refusal', () => {
    const l = { ...defaultLimits(), ingestionRateMB: 0.001, ingestionBurstSizeMB: 0.001 };
    const r = new IngestionRateLimiter(() => l);
    expect(r.admit('t', 1, 1000, 0)).toBeNull();
    expect(r.admit('t', 2, 100, 0)).toBe(rateLimitedMessage('t', 1048, 2, 100));
    expect(r.admit('t', 1, 48, 0)).toBeNull();
  });
});

describe('maxActiveStreams (Loki minNonZero of local and global)', () => {
  const l = (local: number, global: number) => ({ ...defaultLimits(), maxStreamsPerUser: local, maxGlobalStreamsPerUser: global });
  it('picks the smaller non-zero; both zero = unlimited', () => {
    expect(maxActiveStreams(l(0, 5000))).toBe(5000);
    expect(maxActiveStreams(l(10, 5000))).toBe(10);
    expect(maxActiveStreams(l(10, 0))).toBe(10);
    expect(maxActiveStreams(l(6000, 5000))).toBe(5000);
    expect(maxActiveStreams(l(0, 0))).toBe(Infinity);
  });
});

describe('runtime config overrides', () => {
  it('overlays per-tenant keys on the defaults with config-file parsing', () => {
    const { tenants, unknownKeys } = parseOverrides(
      'overrides:\n  a:\n    ingestion_rate_mb: 10\n    max_query_lookback: 2h\n    max_line_size: 1KB\n    some_future_key: 1\n  "b": {}\n',
      defaultLimits(),
    );
    expect(tenants.get('a')!.ingestionRateMB).toBe(10);
    expect(tenants.get('a')!.maxQueryLookbackMs).toBe(7_200_000);
    expect(tenants.get('a')!.maxLineSize).toBe(1000);
    expect(tenants.get('a')!.maxGlobalStreamsPerUser).toBe(5000);
    expect(tenants.get('b')!.ingestionRateMB).toBe(4);
    expect(unknownKeys).toEqual(['overrides.a.some_future_key']);
  });
  it('rejects bad values with the key named', () => {
    expect(() => parseOverrides('overrides:\n  a:\n    ingestion_rate_mb: lots\n', defaultLimits())).toThrow(/overrides\.a\.ingestion_rate_mb/);
    expect(() => parseOverrides('overrides: [1]\n', defaultLimits())).toThrow(/mapping/);
  });
  it('no overrides section = no tenants', () => {
    expect(parseOverrides('configs: {}\n', defaultLimits()).tenants.size).toBe(0);
  });
});

describe('tenant IDs (dskit rules)', () => {
  it('validates characters, length and dot names', () => {
    expect(tenantIdError("abc-_.*'()!09AZ")).toBeNull();
    expect(tenantIdError('a/b')).toBe("tenant ID 'a/b' contains unsupported character '/'");
    expect(tenantIdError('x'.repeat(151))).toBe('tenant ID is too long: max 150 characters');
    expect(tenantIdError('..')).toBe("tenant ID is '.' or '..'");
  });
  it('multi-tenant IDs are sorted and de-duplicated; a single-tenant reader refuses several', () => {
    expect(parseTenantIds('b|a|b')).toEqual(['a', 'b']);
    expect(parseTenantIds('a:k=v|c')).toEqual(['a', 'c']);
    expect(parseSingleTenantId('a|a')).toBe('a');
    expect(() => parseSingleTenantId('a|b')).toThrow('multiple org IDs present');
  });
});

describe('QueryScheduler', () => {
  it('runs max_concurrent at once, queues the rest per tenant, 429 past the bound', async () => {
    const s = new QueryScheduler(1, 2);
    const r1 = await s.acquire('a');
    const order: string[] = [];
    const p2 = s.acquire('a').then((r) => { order.push('a2'); return r; });
    const p3 = s.acquire('a').then((r) => { order.push('a3'); return r; });
    await expect(s.acquire('a')).rejects.toBeInstanceOf(TooManyOutstandingError);
    const p4 = s.acquire('b').then((r) => { order.push('b1'); return r; });
    expect(s.queued()).toBe(3);
    r1();
    (await p2)();
    (await p4)();
    (await p3)();
    // round robin: a, then b, then a again
    expect(order).toEqual(['a2', 'b1', 'a3']);
    expect(s.inFlight).toBe(0);
  });
  it('a waiter whose client leaves gives up its place', async () => {
    const s = new QueryScheduler(1, 5);
    const r1 = await s.acquire('a');
    const ac = new AbortController();
    const p = s.acquire('a', ac.signal);
    ac.abort(new Error('gone'));
    await expect(p).rejects.toThrow('gone');
    expect(s.queued()).toBe(0);
    r1();
    expect(s.inFlight).toBe(0);
  });
  it('tells how long no query has run (the reclaimer trims then)', async () => {
    const s = new QueryScheduler(2, 5);
    expect(s.quietMs()).toBe(Infinity);
    const r1 = await s.acquire('a');
    const r2 = await s.acquire('b');
    expect(s.quietMs()).toBe(0);
    r1();
    expect(s.quietMs()).toBe(0); // one still runs
    await new Promise((r) => setTimeout(r, 30));
    r2();
    r2(); // a second release changes nothing
    const q = s.quietMs();
    expect(q).toBeGreaterThanOrEqual(0);
    expect(q).toBeLessThan(25);
    await new Promise((r) => setTimeout(r, 30));
    expect(s.quietMs()).toBeGreaterThanOrEqual(25);
  });
});

describe('basic / bearer credentials', () => {
  const cred = { basic: { username: 'u', password: 'p:w' }, bearer: 'tok' };
  it('accepts the right ones only', () => {
    const basic = (s: string) => 'Basic ' + Buffer.from(s).toString('base64');
    expect(authorized(basic('u:p:w'), cred)).toBe(true);
    expect(authorized(basic('u:p'), cred)).toBe(false);
    expect(authorized(basic('x:p:w'), cred)).toBe(false);
    expect(authorized('Bearer tok', cred)).toBe(true);
    expect(authorized('bearer tok', cred)).toBe(true);
    expect(authorized('Bearer tok2', cred)).toBe(false);
    expect(authorized(undefined, cred)).toBe(false);
    expect(authorized('Bearer tok', { basic: null, bearer: null })).toBe(false);
  });
});

describe('push body too large', () => {
  const req = (h: Record<string, string>) => ({ headers: h }) as unknown as FastifyRequest;
  it('reports Content-Length for protobuf, max+1 for JSON or unknown length', () => {
    expect(pushBodyTooLarge(req({ 'content-type': 'application/x-protobuf', 'content-length': '5000' }), 1000).message).toBe('request body too large: message size too large than max (5000 vs 1000)');
    expect(pushBodyTooLarge(req({ 'content-type': 'application/json', 'content-length': '5000' }), 1000).message).toBe('request body too large: message size too large than max (1001 vs 1000)');
    expect(pushBodyTooLarge(req({ 'content-type': 'application/x-protobuf' }), 1000).message).toBe('request body too large: message size too large than max (1001 vs 1000)');
    expect(pushBodyTooLarge(req({ 'content-type': 'application/x-protobuf' }), 1000).status).toBe(413);
  });
  it('bad encoding or missing content type are reported first, as Loki reads headers before the body', () => {
    const e = pushBodyTooLarge(req({ 'content-type': 'application/json', 'content-encoding': 'br' }), 1000);
    expect([e.status, e.message]).toEqual([400, 'Content-Encoding "br" not supported']);
    expect(pushBodyTooLarge(req({}), 1000).message).toBe('mime: no media type');
  });
  it('queues the query frontend paths only', () => {
    expect(isQueuedPath('/loki/api/v1/query_range')).toBe(true);
    expect(isQueuedPath('/loki/api/v1/label/job/values')).toBe(true);
    expect(isQueuedPath('/loki/api/v1/detected_field/x/values')).toBe(true);
    expect(isQueuedPath('/loki/api/v1/push')).toBe(false);
    expect(isQueuedPath('/ready')).toBe(false);
  });
});
