// The promise that matters most: every push acknowledged with 204 survives a SIGKILL, exactly
// once; chunks and index survive a clean restart; the same batch pushed twice is stored once.
import { describe, expect, it } from 'vitest';
import { encodePushRequestSnappy } from '../../src/push/index.js';
import { removeDir, startTestServer, tempDataDir } from '../helpers/server.js';

const T0 = BigInt(Date.now() - 3_600_000) * 1_000_000n;

async function pushJson(url: string, streams: unknown): Promise<number> {
  const r = await fetch(url + '/loki/api/v1/push', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ streams }) });
  await r.arrayBuffer();
  return r.status;
}

async function queryAll(url: string, q: string, limit = 5000): Promise<{ stream: Record<string, string>; values: [string, string][] }[]> {
  const p = new URLSearchParams({ query: q, start: String(T0 - 1n), end: String(T0 + 10n ** 13n), limit: String(limit), direction: 'forward' });
  const r = await fetch(url + '/loki/api/v1/query_range?' + p);
  const text = await r.text();
  expect(r.status, text).toBe(200);
  return (JSON.parse(text) as { data: { result: { stream: Record<string, string>; values: [string, string][] }[] } }).data.result;
}

describe('durability', () => {
  it('finds every acknowledged line exactly once after SIGKILL', async () => {
    const dataDir = tempDataDir();
    const s1 = await startTestServer({ dataDir });
    const acked: string[] = [];
    // concurrent protobuf pushes, killed right after the last acknowledgement
    const pushes = [];
    for (let k = 0; k < 40; k++) {
      const entries = Array.from({ length: 50 }, (_, i) => ({ tsNs: T0 + BigInt(k * 1000 + i) * 1_000_000n, line: `push ${k} line ${i}` }));
      const body = encodePushRequestSnappy([{ labels: `{job="crash", shard="${k % 4}"}`, entries }]);
      pushes.push(
        fetch(s1.url + '/loki/api/v1/push', { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body }).then(async (r) => {
          await r.arrayBuffer();
          if (r.status === 204) for (const e of entries) acked.push(e.line);
        }),
      );
    }
    await Promise.all(pushes);
    await s1.kill();
    expect(acked.length).toBe(2000);
    const s2 = await startTestServer({ dataDir });
    const res = await queryAll(s2.url, '{job="crash"}');
    const lines = res.flatMap((s) => s.values.map((v) => v[1]));
    expect(lines.length).toBe(acked.length);
    expect(new Set(lines)).toEqual(new Set(acked));
    await s2.stop();
    removeDir(dataDir);
  });

  it('replays protobuf pushes with their labels, levels and metadata as they were answered before the kill', async () => {
    // Most protobuf pushes are logged as their request body (WAL record type 2); pushes with
    // other structured metadata, truncated lines or entries dropped as duplicates take the
    // other paths. Every query must answer the same before the SIGKILL and after replay.
    const dataDir = tempDataDir();
    const s1 = await startTestServer({ dataDir });
    const levels = ['level=error boom', 'WARN disk', 'info: ok', '{"level":"debug","m":1}', 'no level here'];
    const statuses: number[] = [];
    for (let k = 0; k < 12; k++) {
      const entries = Array.from({ length: 40 }, (_, i) => ({
        tsNs: T0 + BigInt(k * 1000 + i) * 1_000_000n,
        line: `${levels[(k + i) % levels.length]} #${k}.${i}`,
        structuredMetadata: k % 4 === 3 && i % 3 === 0 ? [{ name: 'trace_id', value: `t${i}` }] : undefined,
      }));
      if (k % 5 === 4) entries.push({ ...entries[entries.length - 1]! }); // a duplicate the ingester drops
      const body = encodePushRequestSnappy([
        { labels: `{job="replay", service_name="svc${k % 2}"}`, entries: entries.slice(0, 20) },
        { labels: `{job="replay", pod="p${k % 3}"}`, entries: entries.slice(20) },
        { labels: `{job="replay", service_name="svc${k % 2}"}`, entries: [{ tsNs: T0 + BigInt(k * 1000 + 999) * 1_000_000n, line: 'merged into the first stream' }] },
      ]);
      const r = await fetch(s1.url + '/loki/api/v1/push', { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body });
      await r.arrayBuffer();
      statuses.push(r.status);
    }
    expect(statuses.every((x) => x === 204)).toBe(true);
    const queries = ['{job="replay"}', '{job="replay"} | detected_level="error"', 'sum by (detected_level, service_name) (count_over_time({job="replay"}[1h]))', '{job="replay"} | trace_id=~"t.*"'];
    const answer = async (url: string): Promise<string[]> => Promise.all(queries.map(async (q) => {
      const p = new URLSearchParams({ query: q, start: String(T0 - 1n), end: String(T0 + 10n ** 13n), limit: '5000', direction: 'forward', step: '3600' });
      const r = await fetch(url + '/loki/api/v1/query_range?' + p);
      const j = (await r.json()) as { data: { result: unknown[] } };
      return JSON.stringify(j.data.result);
    }));
    const before = await answer(s1.url);
    expect(JSON.parse(before[1]!).length).toBeGreaterThan(0);
    expect(JSON.parse(before[3]!).length).toBeGreaterThan(0);
    await s1.kill();
    const s2 = await startTestServer({ dataDir });
    expect(await answer(s2.url)).toEqual(before);
    await s2.stop();
    removeDir(dataDir);
  });

  it('keeps chunks and index across a clean restart, and stores a repeated batch once', async () => {
    const dataDir = tempDataDir();
    const s1 = await startTestServer({ dataDir });
    const values = Array.from({ length: 300 }, (_, i) => [String(T0 + BigInt(i) * 1_000_000_000n), `hello ${i}`]);
    expect(await pushJson(s1.url, [{ stream: { app: 'restart' }, values }])).toBe(204);
    expect(await pushJson(s1.url, [{ stream: { app: 'restart' }, values: values.slice(299) }])).toBe(204); // exact duplicate of the last entry
    const flush = await fetch(s1.url + '/flush', { method: 'POST' });
    expect(flush.status).toBe(204);
    expect(await s1.stop()).toBe(0);
    const s2 = await startTestServer({ dataDir });
    const res = await queryAll(s2.url, '{app="restart"}');
    expect(res.flatMap((s) => s.values.map((v) => v[1]))).toEqual(values.map((v) => v[1]));
    const labels = (await (await fetch(`${s2.url}/loki/api/v1/labels?start=${T0}&end=${T0 + 10n ** 12n}`)).json()) as { data: string[] };
    expect(labels.data).toEqual(['app', 'service_name']);
    // the same whole batch again: nothing new is returned
    expect(await pushJson(s2.url, [{ stream: { app: 'restart' }, values }])).toBe(204);
    const again = await queryAll(s2.url, '{app="restart"}');
    expect(again.flatMap((s) => s.values).length).toBe(300);
    await s2.stop();
    removeDir(dataDir);
  });
});

