import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { alignedBuffer, mallocStats } from '../../src/native/index.js';
import { takesODirect } from '../helpers/fs.js';

describe('operational endpoints', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });

  it('logs the chosen port and answers /ready', async () => {
    expect(s.logs.some((l) => /listening on http:\/\/127\.0\.0\.1:\d+/.test(l))).toBe(true);
    const r = await fetch(s.url + '/ready');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('ready\n');
  });

  it('reports a Loki 3.x version Grafana accepts', async () => {
    const b = (await (await fetch(s.url + '/loki/api/v1/status/buildinfo')).json()) as { version: string };
    expect(b.version).toMatch(/^3\.\d+\.\d+$/);
  });

  it('passes Grafana\'s data source health check', async () => {
    const r = await fetch(s.url + '/loki/api/v1/query?query=vector(1)%2Bvector(1)&time=4000000000');
    expect(r.status).toBe(200);
    const body = (await r.json()) as { data: { resultType: string; result: { value: [number, string] }[] } };
    expect(body.data.resultType).toBe('vector');
    expect(body.data.result).toHaveLength(1);
    expect(body.data.result[0]!.value[1]).toBe('2');
  });

  it('exposes Prometheus metrics including the memory-chunks gauge the benchmark polls', async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    await fetch(s.url + '/loki/api/v1/push', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ streams: [{ stream: { job: 'm' }, values: [[String(now), 'one line']] }] }) });
    // a query reads the head under a read lease, closed when it answered
    const q = await fetch(`${s.url}/loki/api/v1/query_range?query=${encodeURIComponent('{job="m"}')}&start=${now - 1000n}&end=${now + 1000n}`);
    expect(((await q.json()) as { data: { result: unknown[] } }).data.result).toHaveLength(1);
    const text = await (await fetch(s.url + '/metrics')).text();
    expect(text).toMatch(/^loki_distributor_lines_received_total 1$/m);
    expect(text).toMatch(/^loki_ingester_memory_chunks 1$/m);
    expect(text).toMatch(/^bramble_wal_fsyncs_total [1-9]/m);
    // the WAL segment in use bypasses the page cache where the data dir's filesystem allows it
    expect(text).toMatch(new RegExp(`^bramble_wal_direct_io ${alignedBuffer(4096, 4096) && takesODirect(s.dataDir) ? 1 : 0}$`, 'm'));
    // the heads' memory and its cap (default 64 MiB), which the benchmark reports side by side
    expect(text).toMatch(/^bramble_head_bytes [1-9]/m);
    expect(text).toMatch(/^bramble_head_max_bytes 67108864$/m);
    // no query runs now: no read lease is open, and no retired memory waits for one
    expect(text).toMatch(/^bramble_read_leases_open 0$/m);
    expect(text).toMatch(/^bramble_forced_gc_incremental_total \d+$/m);
    expect(text).toMatch(/^bramble_read_lease_waiting_bytes 0$/m);
    expect((await fetch(s.url + '/flush', { method: 'POST' })).status).toBe(204);
    const after = await (await fetch(s.url + '/metrics')).text();
    expect(after).toMatch(/^loki_ingester_memory_chunks 0$/m);
    expect(after).toMatch(/^loki_ingester_chunks_flushed_total 1$/m);
    // glibc's arenas (the reclaimer's malloc_trim gives their free pages back), when mallinfo2 exists
    const heap = /^bramble_malloc_heap_bytes (\d+)$/m.exec(after);
    const free = /^bramble_malloc_free_bytes (\d+)$/m.exec(after);
    expect(heap === null).toBe(mallocStats() === null);
    if (heap) {
      expect(Number(heap[1])).toBeGreaterThan(0);
      expect(Number(free![1])).toBeLessThanOrEqual(Number(heap[1]));
      expect(after).toMatch(/^bramble_malloc_mmap_bytes \d+$/m);
    }
  });

  it('reports the main thread\'s garbage collections by kind, with the longest pause (the benchmark reports major ones during ingest)', async () => {
    const text = await (await fetch(s.url + '/metrics')).text();
    for (const kind of ['minor', 'major', 'incremental', 'weakcb']) {
      expect(text).toMatch(new RegExp(`^bramble_gc_collections_total\\{kind="${kind}"\\} \\d+$`, 'm'));
      expect(text).toMatch(new RegExp(`^bramble_gc_pause_seconds_total\\{kind="${kind}"\\} [0-9.e-]+$`, 'm'));
      const max = Number(new RegExp(`^bramble_gc_pause_max_seconds\\{kind="${kind}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      const sum = Number(new RegExp(`^bramble_gc_pause_seconds_total\\{kind="${kind}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(max).toBeGreaterThanOrEqual(0); // (NaN when missing)
      expect(max).toBeLessThanOrEqual(sum);
    }
  });

  it('reports the main event-loop lag since the previous scrape (the benchmark reads it around scans)', async () => {
    await fetch(s.url + '/metrics');
    await new Promise((r) => setTimeout(r, 100));
    const text = await (await fetch(s.url + '/metrics')).text();
    const max = Number(/^bramble_event_loop_lag_max_seconds (\S+)$/m.exec(text)?.[1]);
    const p99 = Number(/^bramble_event_loop_lag_p99_seconds (\S+)$/m.exec(text)?.[1]);
    expect(max).toBeGreaterThanOrEqual(0);
    expect(p99).toBeGreaterThanOrEqual(0);
    expect(p99).toBeLessThanOrEqual(max);
    // an idle server's loop is not blocked for a whole second
    expect(max).toBeLessThan(1);
  });

  it('answers unknown paths with Go\'s 404 text and /config with YAML', async () => {
    const r = await fetch(s.url + '/nope');
    expect(r.status).toBe(404);
    expect(await r.text()).toBe('404 page not found\n');
    const cfg = await (await fetch(s.url + '/config')).text();
    expect(cfg).toMatch(/httpListenPort: 0/);
  });

  it('prints --help and exits 0', async () => {
    const out = await new Promise<string>((res, rej) =>
      execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), '-help'], { cwd: ROOT }, (err, stdout) => (err ? rej(err) : res(stdout))),
    );
    expect(out).toMatch(/-config\.file=FILE/);
    expect(out).toMatch(/-server\.http-listen-port/);
  });
});
