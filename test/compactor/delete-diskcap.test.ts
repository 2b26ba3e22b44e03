// Deletion API (Loki's /loki/api/v1/delete semantics and texts) and the disk cap.
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir } from '../helpers/server.js';
import { flush, MS, nowNs, push, queryLines, startInProcess } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function server(tune?: Parameters<typeof startInProcess>[0]) {
  const s = await startInProcess(tune);
  cleanups.push(async () => {
    await s.close();
    removeDir(s.dataDir);
  });
  return s;
}
const del = (url: string, method: string, qs: string): Promise<Response> => fetch(`${url}/loki/api/v1/delete?${qs}`, { method });

describe('delete API', () => {
  it('answers 404 when retention is not enabled (routes absent, as Loki)', async () => {
    const s = await server();
    const r = await del(s.url, 'POST', 'query={a="b"}&start=1700000000');
    expect(r.status).toBe(404);
  });

  it('403 when deletion_mode is disabled', async () => {
    const s = await server((c) => {
      c.compactor.retentionEnabled = true;
      c.limits.deletionMode = 'disabled';
    });
    const r = await del(s.url, 'GET', '');
    expect(r.status).toBe(403);
    expect(await r.text()).toBe('deletion is not available for this tenant\n');
  });

  it('validates like Loki, lists, cancels, and processes after the cancel period', async () => {
    const s = await server((c) => {
      c.compactor.retentionEnabled = true;
      c.compactor.deleteRequestCancelPeriodMs = 60_000;
      c.compactor.mergeEnabled = false;
    });
    const cases: [string, string][] = [
      ['start=1700000000', 'query not set'],
      ['query={a=', 'invalid query expression'],
      ['query={a="b"}', 'start time not set'],
      ['query={a="b"}&start=17000', 'invalid start time: require unix seconds or RFC3339 format'],
      ['query={a="b"}&start=1700000000&end=x', 'invalid end time: require unix seconds or RFC3339 format'],
      ['query={a="b"}&start=1700000000&end=9999999999', 'deletes in the future are not allowed'],
      ['query={a="b"}&start=1700000000&end=1700000000', "start time can't be greater than or equal to end time"],
    ];
    for (const [qs, msg] of cases) {
      const r = await del(s.url, 'POST', qs);
      expect([r.status, await r.text()]).toEqual([400, msg + '\n']);
    }
    const now = nowNs();
    const t0 = now - 600_000n * MS;
    const entries: [bigint, string][] = [];
    for (let i = 0; i < 200; i++) entries.push([t0 + BigInt(i) * 1000n * MS, i % 4 === 0 ? `secret token=${i}` : `ordinary line ${i}`]);
    await push(s.url, { app: 'd' }, entries);
    await push(s.url, { app: 'other' }, [[t0, 'secret token=other stream']]);
    await flush(s.url);
    const startS = Number((t0 - 1000n * MS) / 1_000_000_000n);
    const endS = Math.floor(Date.now() / 1000) - 1;
    const r1 = await del(s.url, 'POST', `query=${encodeURIComponent('{app="d"} |= "secret"')}&start=${startS}&end=${endS}`);
    expect(r1.status).toBe(204);
    const id = r1.headers.get('x-delete-request-id')!;
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    const r2 = await del(s.url, 'PUT', `query=${encodeURIComponent('{app="other"}')}&start=${startS}`);
    expect(r2.status).toBe(204);
    const id2 = r2.headers.get('x-delete-request-id')!;
    const list = (await (await del(s.url, 'GET', '')).json()) as Record<string, unknown>[];
    expect(list.map((r) => r.request_id).sort()).toEqual([id, id2].sort());
    expect(Object.keys(list[0]!).sort()).toEqual(['created_at', 'end_time', 'query', 'request_id', 'start_time', 'status', 'user_id']);
    expect(list.find((r) => r.request_id === id)).toMatchObject({ start_time: startS, end_time: endS, query: '{app="d"} |= "secret"', status: 'received', user_id: '' });
    // cancel the second one; unknown ids are 404
    expect((await del(s.url, 'DELETE', `request_id=${id2}`)).status).toBe(204);
    const nf = await del(s.url, 'DELETE', 'request_id=nope');
    expect([nf.status, await nf.text()]).toEqual([404, 'could not find delete request with given id\n']);
    // before the cancel period nothing happens
    await s.services.compactor.run();
    expect((await queryLines(s.url, '{app="d"}', t0 - MS, now)).lines.length).toBe(200);
    // after it, the request is processed
    const rep = await s.services.compactor.run(Date.now() + 61_000);
    expect(rep.deleteRequests).toBe(1);
    const left = await queryLines(s.url, '{app="d"}', t0 - MS, now);
    expect(left.lines.length).toBe(150);
    expect(left.lines.every((l) => !l[1].includes('secret'))).toBe(true);
    expect((await queryLines(s.url, '{app="other"}', t0 - MS, now)).lines.length).toBe(1);
    const after = (await (await del(s.url, 'GET', '')).json()) as Record<string, unknown>[];
    expect(after).toHaveLength(1);
    expect(after[0]!.status).toBe('processed');
    const late = await del(s.url, 'DELETE', `request_id=${id}`);
    expect([late.status, await late.text()]).toEqual([400, 'deletion of request which is in process or already processed is not allowed\n']);
  });

  it('a selector-only request drops whole chunks inside the range', async () => {
    const s = await server((c) => {
      c.compactor.retentionEnabled = true;
      c.compactor.deleteRequestCancelPeriodMs = 0;
      c.compactor.mergeEnabled = false;
    });
    const t0 = nowNs() - 600_000n * MS;
    await push(s.url, { app: 'w' }, [[t0, 'a'], [t0 + MS, 'b']]);
    await flush(s.url);
    const startS = Number(t0 / 1_000_000_000n) - 1;
    expect((await del(s.url, 'POST', `query={app="w"}&start=${startS}`)).status).toBe(204);
    await s.services.compactor.run(Date.now() + 1000);
    expect(s.services.ingester.index.allChunks()).toHaveLength(0);
    expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/bramble_compactor_chunks_deleted_total\{reason="delete_request"\} 1/);
  });
});

describe('disk cap', () => {
  it('deletes the oldest chunks until the data directory is under retention_max_disk_bytes; pushes keep working', async () => {
    let capBytes = 0;
    const s = await server((c) => {
      c.compactor.mergeEnabled = false;
      c.compactor.retentionMaxDiskBytes = 1; // set below once the baseline is known
      capBytes = 1;
    });
    const t0 = nowNs() - 3_600_000n * MS;
    let seed = 1;
    const rnd = (): string => {
      let out = '';
      for (let i = 0; i < 40; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        out += String.fromCharCode(48 + (seed % 75));
      }
      return out;
    };
    for (let k = 0; k < 10; k++) {
      const e: [bigint, string][] = [];
      for (let i = 0; i < 500; i++) e.push([t0 + BigInt(k * 100_000 + i) * MS, `chunk ${k} ${rnd()}`]);
      await push(s.url, { app: 'cap' }, e);
      await flush(s.url);
    }
    const comp = s.services.compactor;
    const chunkBytes = s.services.ingester.index.chunkBytes().indexed;
    const usage = comp.diskUsage();
    const other = usage.used - chunkBytes;
    // allow roughly 4 of the 10 chunks
    capBytes = other + Math.floor(chunkBytes * 0.45);
    (s.services.config.compactor as { retentionMaxDiskBytes: number }).retentionMaxDiskBytes = capBytes;
    const rep = await comp.run();
    expect(rep.diskCapDropped).toBeGreaterThanOrEqual(5);
    const rows = s.services.ingester.index.allChunks();
    expect(rows.length).toBe(10 - rep.diskCapDropped);
    expect(comp.diskUsage().used).toBeLessThanOrEqual(capBytes);
    // the oldest went first
    const q = await queryLines(s.url, '{app="cap"}', t0 - MS, nowNs());
    const firstChunk = Number(/chunk (\d+)/.exec(q.lines[0]![1])![1]);
    expect(firstChunk).toBe(rep.diskCapDropped);
    const m = await (await fetch(`${s.url}/metrics`)).text();
    expect(m).toMatch(new RegExp(`bramble_disk_cap_bytes ${capBytes}\\b`));
    expect(m).toMatch(/bramble_disk_used_bytes \d+/);
    expect(m).toMatch(new RegExp(`bramble_compactor_chunks_deleted_total\\{reason="disk_cap"\\} ${rep.diskCapDropped}`));
    expect((await push(s.url, { app: 'cap' }, [[nowNs(), 'still accepted']])).status).toBe(204);
  });
});
