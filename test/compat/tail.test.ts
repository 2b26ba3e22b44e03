// Live tail over a real WebSocket client (`ws`), against a real server process: parameter errors
// before the upgrade, the initial batch, live entries through the query's pipeline, Loki's frame
// shape with and without categorize-labels, delay_for, pings, and the per-tenant tail limit.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { nowNsBig, pushJson, TailClient } from './helpers.js';

let srv: TestServer;
const opened: TailClient[] = [];

/** Opens a tail that is closed after the test whatever happens (the server counts open tails). */
async function tail(params: Record<string, string>, headers: Record<string, string> = {}): Promise<TailClient> {
  const c = await TailClient.open(srv.url, params, headers);
  opened.push(c);
  return c;
}

afterEach(async () => {
  for (const c of opened.splice(0)) c.close();
  await new Promise((r) => setTimeout(r, 100));
});

beforeAll(async () => {
  srv = await startTestServer();
});

afterAll(async () => {
  await srv?.stop();
  if (srv) removeDir(srv.dataDir);
});

async function expectHttpError(params: Record<string, string>, status: number, body: string): Promise<void> {
  const err = (await tail(params).then(
    (c) => {
      c.close();
      throw new Error('upgrade unexpectedly succeeded');
    },
    (e: unknown) => e,
  )) as { status: number; body: string };
  expect(err.status).toBe(status);
  expect(err.body).toBe(body);
}

describe('tail parameters (checked before the upgrade)', () => {
  it('rejects delay_for above 5 with Loki\'s text', async () => {
    await expectHttpError({ query: '{app="x"}', delay_for: '6' }, 400, "delay_for can't be greater than 5");
  });
  it('rejects a non-numeric delay_for, a bad limit and a parse error', async () => {
    await expectHttpError({ query: '{app="x"}', delay_for: 'fw' }, 400, 'strconv.Atoi: parsing "fw": invalid syntax');
    await expectHttpError({ query: '{app="x"}', limit: '0' }, 400, 'limit must be a positive value');
    // the same text /query_range gives for the same query
    const qr = await fetch(`${srv.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="x"')}`);
    expect(qr.status).toBe(400);
    await expectHttpError({ query: '{app="x"' }, 400, await qr.text());
  });
  it('answers a plain GET (no upgrade) with 400 as gorilla/websocket does', async () => {
    const r = await fetch(`${srv.url}/loki/api/v1/tail?query=${encodeURIComponent('{app="x"}')}`);
    expect(r.status).toBe(400);
    expect(await r.text()).toBe('Bad Request\n');
  });
  it('closes a metric query with 1011 after the upgrade, as Loki\'s querier does', async () => {
    const c = await tail({ query: 'count_over_time({app="x"}[1m])' });
    await c.until(() => c.closed !== null, 5000, 'close');
    expect(c.closed).toEqual({ code: 1011, reason: 'only log selector is supported' });
  });
});

describe('tail data', () => {
  it('sends the newest `limit` entries since start first, oldest first, one stream element per entry', async () => {
    const base = nowNsBig() - 60_000_000_000n;
    const entries = Array.from({ length: 5 }, (_, i) => ({ ts: base + BigInt(i) * 1_000_000_000n, line: `hist ${i}` }));
    await pushJson(srv.url, { app: 'hist', env: 'test' }, entries);
    const c = await tail({ query: '{app="hist"}', limit: '3', start: String(base - 1_000_000_000n) });
    await c.until(() => c.entries().length >= 3, 5000, 'initial batch');
    const got = c.entries();
    expect(got.map((e) => e.line)).toEqual(['hist 2', 'hist 3', 'hist 4']);
    expect(got.map((e) => e.ts)).toEqual([entries[2]!.ts, entries[3]!.ts, entries[4]!.ts].map(String));
    // Loki's tailer appends one stream per entry; without categorize-labels no encodingFlags key
    expect(c.frames[0]!.streams.length).toBe(3);
    expect(c.frames[0]!.streams[0]!.stream).toEqual({ app: 'hist', detected_level: 'unknown', env: 'test', service_name: 'hist' });
    expect(Object.keys(c.frames[0]!)).toEqual(['streams']);
    expect(c.frames[0]!.streams[0]!.values[0]!.length).toBe(2);
    c.close();
  });

  it('streams new entries through the pipeline (filters, parsers, line_format)', async () => {
    const c = await tail({ query: '{app="live"} |= "req" | logfmt | status >= 500 | line_format "{{.method}} {{.status}}"' });
    await new Promise((r) => setTimeout(r, 200));
    const t = nowNsBig();
    await pushJson(srv.url, { app: 'live' }, [
      { ts: t, line: 'req method=GET status=200' },
      { ts: t + 1n, line: 'req method=POST status=503' },
      { ts: t + 2n, line: 'other method=PUT status=500' },
    ]);
    await pushJson(srv.url, { app: 'unrelated' }, [{ ts: t, line: 'req method=GET status=500' }]);
    await pushJson(srv.url, { app: 'live' }, [{ ts: t + 3n, line: 'req method=DELETE status=502' }]);
    await c.until(() => c.entries().length >= 2, 5000, 'live entries');
    await new Promise((r) => setTimeout(r, 300));
    const got = c.entries();
    expect(got.map((e) => e.line)).toEqual(['POST 503', 'DELETE 502']);
    expect(got[0]!.ts).toBe(String(t + 1n));
    // without categorize-labels, parsed labels are part of the stream labels
    expect(got[0]!.labels).toEqual({ app: 'live', detected_level: 'unknown', method: 'POST', service_name: 'live', status: '503' });
    c.close();
  });

  it('with categorize-labels: stream labels only, 3-tuples, top-level encodingFlags last', async () => {
    const c = await tail({ query: '{app="cat"} | logfmt' }, { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    await new Promise((r) => setTimeout(r, 200));
    const t = nowNsBig();
    await pushJson(srv.url, { app: 'cat' }, [
      { ts: t, line: 'level=error msg=boom', sm: { trace_id: 'abc' } },
      { ts: t + 1n, line: 'plain words' },
    ]);
    await c.until(() => c.entries().length >= 2, 5000, 'categorized entries');
    const [a, b] = c.entries();
    expect(a!.labels).toEqual({ app: 'cat', service_name: 'cat' });
    expect(a!.extra).toEqual({ structuredMetadata: { detected_level: 'error', trace_id: 'abc' }, parsed: { level: 'error', msg: 'boom' } });
    expect(b!.extra).toEqual({ structuredMetadata: { detected_level: 'unknown' } });
    expect(Object.keys(c.frames[0]!)).toEqual(['streams', 'encodingFlags']);
    expect(c.frames[0]!.encodingFlags).toEqual(['categorize-labels']);
    c.close();
  });

  it('holds entries for delay_for seconds after their timestamp', async () => {
    const c = await tail({ query: '{app="delayed"}', delay_for: '2' });
    await new Promise((r) => setTimeout(r, 200));
    const pushedAt = Date.now();
    await pushJson(srv.url, { app: 'delayed' }, [{ ts: BigInt(pushedAt) * 1_000_000n, line: 'late' }]);
    await c.until(() => c.entries().length >= 1, 6000, 'delayed entry');
    const waited = Date.now() - pushedAt;
    expect(waited).toBeGreaterThanOrEqual(1900);
    expect(waited).toBeLessThan(5500); // generous: CI machines are shared
    c.close();
  });

  it('pings every second', async () => {
    const c = await tail({ query: '{app="quiet"}' });
    const t0 = Date.now();
    await c.until(() => c.pings >= 2, 5000, 'two pings');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    c.close();
  });
});

describe('tail limits', () => {
  it('allows max_concurrent_tail_requests (10) per tenant, then closes with Loki\'s 1011 message', async () => {
    const open: TailClient[] = [];
    try {
      for (let i = 0; i < 10; i++) open.push(await tail({ query: `{app="many${i}"}` }));
      const extra = await tail({ query: '{app="one-too-many"}' });
      await extra.until(() => extra.closed !== null, 5000, 'close of the 11th tail');
      expect(extra.closed).toEqual({
        code: 1011,
        reason: 'rpc error: code = Code(400) desc = max concurrent tail requests limit exceeded, count > limit (11 > 10)',
      });
      // the ten others are still served (pings keep coming)
      const p = open[9]!.pings;
      await open[9]!.until(() => open[9]!.pings > p, 3000, 'ping on a live tail');
      expect(open.every((c) => c.closed === null)).toBe(true);
    } finally {
      for (const c of open) c.close();
    }
    // once closed, a new tail is admitted again
    await new Promise((r) => setTimeout(r, 300));
    const again = await tail({ query: '{app="after"}' });
    await again.until(() => again.pings >= 1, 3000, 'ping after the limit freed up');
    expect(again.closed).toBeNull();
    again.close();
  });
});
