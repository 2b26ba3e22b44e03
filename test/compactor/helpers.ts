// Helpers for compactor tests: an in-process server with a small, explicit config and a fresh
// data directory; JSON pushes; query helpers; direct index access.
import { defaultConfig, type Config } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import pino from 'pino';
import { tempDataDir } from '../helpers/server.js';

export async function startInProcess(tune: (c: Config) => void = () => {}, dataDir = tempDataDir('bramble-compactor-')): Promise<RunningServer & { dataDir: string; logs: string[] }> {
  const c = defaultConfig();
  c.pathPrefix = dataDir;
  c.server.httpListenAddress = '127.0.0.1';
  c.server.httpListenPort = 0;
  c.querier.workers = 1;
  c.compactor.compactionIntervalMs = 3_600_000; // tests call compactor.run() themselves
  c.compactor.retentionDeleteDelayMs = 0;
  c.limits.rejectOldSamples = false;
  c.patternIngester.enabled = false;
  tune(c);
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void logs.push(s) });
  const srv = await startServer(c, { logger });
  return Object.assign(srv, { dataDir, logs });
}

export async function push(url: string, labels: Record<string, string>, entries: [bigint, string][], tenant?: string): Promise<Response> {
  const body = JSON.stringify({ streams: [{ stream: labels, values: entries.map(([t, l]) => [String(t), l]) }] });
  return fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json', ...(tenant ? { 'X-Scope-OrgID': tenant } : {}) }, body });
}

export async function flush(url: string): Promise<void> {
  const r = await fetch(`${url}/flush`, { method: 'POST' });
  if (r.status !== 204) throw new Error(`flush: ${r.status}`);
}

/** All lines of a log query (forward), as [ts, line]. */
export async function queryLines(url: string, q: string, startNs: bigint, endNs: bigint): Promise<{ status: number; lines: [string, string][]; body: string }> {
  const u = `${url}/loki/api/v1/query_range?query=${encodeURIComponent(q)}&start=${startNs}&end=${endNs}&limit=5000&direction=forward`;
  const r = await fetch(u);
  const body = await r.text();
  if (r.status !== 200) return { status: r.status, lines: [], body };
  const j = JSON.parse(body) as { data: { result: { values: [string, string][] }[] } };
  const lines = j.data.result.flatMap((s) => s.values);
  lines.sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : BigInt(a[0]) > BigInt(b[0]) ? 1 : 0));
  return { status: 200, lines, body };
}

export const MS = 1_000_000n;
export const nowNs = (): bigint => BigInt(Date.now()) * MS;
