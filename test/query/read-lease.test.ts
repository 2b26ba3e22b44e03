// Queries read head blocks under a read lease (chunk/read-leases.ts): the lease is closed once
// no worker reads the query's snapshots, whether the query answered, failed or was cancelled;
// and while pushes keep cutting blocks into memory that queries have just read, every query
// still answers exactly what was pushed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLeases } from '../../src/chunk/read-leases.js';
import { removeDir } from '../helpers/server.js';
import { push, queryLines, startInProcess } from '../compactor/helpers.js';

const T0 = BigInt(Date.now() - 600_000) * 1_000_000n;
type Srv = Awaited<ReturnType<typeof startInProcess>>;
let srv: Srv;

beforeAll(async () => {
  srv = await startInProcess((c) => {
    c.ingester.chunkBlockSize = 4096; // a cut every few pushes: memory is reused all the time
    c.querier.maxResultBytes = 1024 * 1024;
  });
}, 60_000);
afterAll(async () => {
  await srv?.close();
  if (srv) removeDir(srv.dataDir);
});

async function leasesClosed(): Promise<void> {
  for (let i = 0; i < 200 && readLeases.openCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(readLeases.openCount).toBe(0);
}

const line = (k: number, i: number): string => `batch ${k} line ${i} ${'abcdefgh'.repeat((k + i) % 9)}`;

describe('read leases of queries', () => {
  it('every query answers exactly what was pushed while pushes reuse the memory queries read', async () => {
    const want: string[] = [];
    for (let k = 0; k < 30; k++) {
      const entries: [bigint, string][] = Array.from({ length: 40 }, (_, i) => [T0 + BigInt(k * 1000 + i) * 1000n, line(k, i)]);
      const seenBefore = want.length;
      // a query over everything so far, running while the next push is stored
      const [q, p] = await Promise.all([
        queryLines(srv.url, '{job="lease"}', T0, T0 + 10n ** 12n),
        push(srv.url, { job: 'lease' }, entries),
      ]);
      expect(p.status).toBe(204);
      expect(q.status, q.body).toBe(200);
      // it saw a prefix of the pushes, each line exact
      const got = q.lines.map((l) => l[1]);
      expect(got.length).toBeGreaterThanOrEqual(seenBefore);
      expect(got).toEqual([...want, ...entries.map((e) => e[1])].slice(0, got.length));
      for (const e of entries) want.push(e[1]);
      const m = await fetch(`${srv.url}/loki/api/v1/query?query=${encodeURIComponent('sum(count_over_time({job="lease"}[1h]))')}&time=${(T0 + 10n ** 12n) / 1_000_000_000n}`);
      expect(m.status, await m.clone().text()).toBe(200);
    }
    const all = await queryLines(srv.url, '{job="lease"}', T0, T0 + 10n ** 12n);
    expect(all.lines.map((l) => l[1])).toEqual(want);
    await leasesClosed();
  });

  it('closes the lease of a query that failed (result too large) and of one whose client went away', async () => {
    const big: [bigint, string][] = Array.from({ length: 6000 }, (_, i) => [T0 + 10n ** 11n + BigInt(i) * 1000n, `big ${i} ${'q'.repeat(300)}`]);
    expect((await push(srv.url, { job: 'big' }, big)).status).toBe(204);
    const tooLarge = await queryLines(srv.url, '{job="big"}', T0, T0 + 10n ** 12n);
    expect(tooLarge.status).not.toBe(200);
    await leasesClosed();
    for (let i = 0; i < 5; i++) {
      const ac = new AbortController();
      const r = fetch(`${srv.url}/loki/api/v1/query_range?query=${encodeURIComponent('{job="big"} |~ "9.*9"')}&start=${T0}&end=${T0 + 10n ** 12n}&limit=10`, { signal: ac.signal }).catch(() => null);
      setTimeout(() => ac.abort(), i);
      await r;
    }
    await leasesClosed();
  });
});
