// Bounded query memory: a server with a small result budget (bramble.query.max_result_bytes)
// rejects log and metric queries whose scan results would exceed it with a 400 and a clear
// message, cancels the rest of their scans, keeps answering small queries, and keeps the series
// limit (max_query_series) on metric results. Also go-humanize IBytes formatting of the limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';
import { ibytes } from '../../src/query/engine.js';

const enc = encodeURIComponent;
const TOO_LARGE = 'the query result would hold too many bytes (limit: 64 KiB); consider adding more specific stream selectors, a line filter or a smaller limit, or reduce the time range of the query';

describe('query memory budget', () => {
  let srv: TestServer;
  let dir: string;
  const t0 = BigInt(Date.now() - 120_000) * 1_000_000n;
  const range = `&start=${t0 - 1_000_000_000n}&end=${t0 + 100_000_000_000n}`;

  beforeAll(async () => {
    dir = tempDataDir();
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, `bramble:
  query:
    max_result_bytes: 64KiB
limits_config:
  max_query_series: 100
  max_entries_limit_per_query: 100000
querier:
  scan_workers: 2
`);
    srv = await startTestServer({ configFile: cfg, dataDir: join(dir, 'data') });
    // 1000 lines of ~300 bytes (~300 KB) in two streams, each line with a unique id.
    const pad = 'x'.repeat(280);
    const streams = ['a', 'b'].map((host, h) => ({
      stream: { job: 'big', host },
      values: Array.from({ length: 500 }, (_, i) => [String(t0 + BigInt(i) * 100_000_000n + BigInt(h)), `id=${h * 500 + i} ${pad}`]),
    }));
    const r = await fetch(srv.url + '/loki/api/v1/push', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ streams }) });
    expect(r.status).toBe(204);
  }, 90_000);
  afterAll(async () => {
    await srv?.stop();
    removeDir(dir);
  });

  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const r = await fetch(srv.url + path);
    return { status: r.status, body: await r.text() };
  };

  it('a log query whose results exceed the budget is a 400 with the budget named', async () => {
    const big = await get(`/loki/api/v1/query_range?query=${enc('{job="big"}')}${range}&limit=1000`);
    expect([big.status, big.body]).toEqual([400, TOO_LARGE]);
    // A line filter or a smaller limit brings it under the budget.
    // (each scan partition keeps up to `limit` entries, so 2 x 50 x ~380 bytes are held here)
    const small = await get(`/loki/api/v1/query_range?query=${enc('{job="big"}')}${range}&limit=50`);
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body).data.result.flatMap((s: { values: unknown[] }) => s.values)).toHaveLength(50);
    const filtered = await get(`/loki/api/v1/query_range?query=${enc('{job="big"} |~ "id=1[0-9] "')}${range}&limit=1000`);
    expect(filtered.status).toBe(200);
    expect(JSON.parse(filtered.body).data.result.flatMap((s: { values: unknown[] }) => s.values)).toHaveLength(10);
  });

  it('after heads are flushed to chunks, the same holds', async () => {
    expect((await fetch(srv.url + '/flush', { method: 'POST' })).status).toBe(204);
    const big = await get(`/loki/api/v1/query_range?query=${enc('{job="big"}')}${range}&limit=1000`);
    expect([big.status, big.body]).toEqual([400, TOO_LARGE]);
    expect((await get(`/loki/api/v1/query_range?query=${enc('{job="big"}')}${range}&limit=50`)).status).toBe(200);
  });

  it('metric queries: many series x steps exceed the budget; aggregated ones do not; the series limit still applies', async () => {
    // 1000 series (one per id) x 101 steps x 9 bytes is far over 64 KiB.
    const q = 'count_over_time({job="big"} | regexp "id=(?P<id>[0-9]+)" [10s])';
    const big = await get(`/loki/api/v1/query_range?query=${enc(q)}${range}&step=1`);
    expect([big.status, big.body]).toEqual([400, TOO_LARGE]);
    const sum = await get(`/loki/api/v1/query_range?query=${enc(`sum(${q})`)}${range}&step=1`);
    expect(sum.status).toBe(200);
    const total = await get(`/loki/api/v1/query?query=${enc('sum(count_over_time({job="big"}[5m]))')}&time=${t0 / 1_000_000_000n + 100n}`);
    expect(JSON.parse(total.body).data.result[0].value[1]).toBe('1000');
    // Within the budget (200 series x 1 step) but over max_query_series (100): Loki's series limit answer.
    const few = await get(`/loki/api/v1/query?query=${enc('count_over_time({job="big"} |~ "id=[12][0-9][0-9] " | regexp "id=(?P<id>[0-9]+)" [5m])')}&time=${t0 / 1_000_000_000n + 100n}`);
    expect(few.status).toBe(400);
    expect(few.body).toMatch(/^maximum number of series \(100\) reached for a single query/);
  });

  it('the server keeps answering after rejected queries', async () => {
    const r = await get(`/loki/api/v1/labels`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).data).toContain('job');
  });

  it('IBytes formats sizes as go-humanize does', () => {
    expect([ibytes(5), ibytes(1023), ibytes(1536), ibytes(65536), ibytes(128 * 2 ** 20), ibytes(1.5 * 2 ** 30)]).toEqual(['5 B', '1023 B', '1.5 KiB', '64 KiB', '128 MiB', '1.5 GiB']);
  });
});
