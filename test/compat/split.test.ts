// Grafana (querySplitting.ts) and Loki's own frontend split long ranges into sub-ranges and merge
// the answers. This checks that splitting is invisible here: a log query over [start, end) split
// into N pieces and concatenated per stream equals the single query (both directions, with a
// pipeline), and a metric range query split on step-aligned boundaries gives the same matrix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { getJson, pushJson } from './helpers.js';

let srv: TestServer;
const SEC = 1_000_000_000n;
const MIN = 60n * SEC;
// two hours ending on a half hour at least 10 minutes ago (inside the ingester's window)
const E = (((BigInt(Date.now()) * 1_000_000n) - 10n * MIN) / (30n * MIN)) * 30n * MIN;
const S = E - 120n * MIN;
const LEVELS = ['info', 'warn', 'error', 'debug'];

beforeAll(async () => {
  srv = await startTestServer();
  // 3 streams, irregular spacing (some entries exactly on split boundaries), same-timestamp pairs
  for (let s = 0; s < 3; s++) {
    const entries = [];
    let t = S + BigInt(s) * 7n * SEC;
    for (let i = 0; t < E + 5n * MIN; i++) {
      entries.push({ ts: t, line: `level=${LEVELS[(i + s) % 4]} i=${i} bytes=${(i * 37) % 1000} stream=${s}` });
      if (i % 11 === 0) entries.push({ ts: t, line: `level=info same-ts twin of ${i} stream=${s}` });
      t += BigInt(13 + ((i * 7 + s) % 29)) * SEC;
      if (i % 50 === 0) t = ((t + 30n * MIN) / (30n * MIN)) * 30n * MIN; // lands on a split boundary
    }
    await pushJson(srv.url, { app: 'split', shard: String(s) }, entries);
  }
});

afterAll(async () => {
  await srv?.stop();
  if (srv) removeDir(srv.dataDir);
});

type Streams = Map<string, [string, string][]>;

async function logRange(query: string, start: bigint, end: bigint, direction: string): Promise<Streams> {
  const r = await getJson(srv.url, '/loki/api/v1/query_range', { query, start: String(start), end: String(end), limit: '5000', direction });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const out: Streams = new Map();
  for (const s of r.body.data.result) {
    const k = JSON.stringify(s.stream);
    out.set(k, [...(out.get(k) ?? []), ...s.values]);
  }
  return out;
}

function bounds(n: number): bigint[] {
  const b: bigint[] = [];
  for (let i = 0; i <= n; i++) b.push(S + ((E - S) * BigInt(i)) / BigInt(n));
  return b;
}

describe('log queries split by time', () => {
  for (const direction of ['forward', 'backward']) {
    for (const query of ['{app="split"}', '{app="split"} |= "level" | logfmt | bytes > 300 | line_format "{{.level}} {{.i}}"']) {
      it(`${direction}: ${query}`, async () => {
        const whole = await logRange(query, S, E, direction);
        let total = 0;
        for (const v of whole.values()) total += v.length;
        expect(total).toBeGreaterThan(200);
        expect(total).toBeLessThan(5000); // below the limit, so pieces cannot be cut short
        if (query === '{app="split"}') {
          // entries sit exactly on the 2- and 4-way split points (end-exclusive pieces must not lose them)
          const all = new Set([...whole.values()].flat().map((v) => v[0]));
          expect(bounds(4).slice(1, -1).some((b) => all.has(String(b)))).toBe(true);
        }
        for (const n of [2, 4, 7]) {
          const b = bounds(n);
          const pieces = await Promise.all(b.slice(0, -1).map((from, i) => logRange(query, from, b[i + 1]!, direction)));
          if (direction === 'backward') pieces.reverse();
          const merged: Streams = new Map();
          for (const p of pieces) for (const [k, v] of p) merged.set(k, [...(merged.get(k) ?? []), ...v]);
          expect(new Set(merged.keys())).toEqual(new Set(whole.keys()));
          for (const [k, v] of whole) expect(merged.get(k), `${k} split in ${n}`).toEqual(v);
        }
      });
    }
  }
});

describe('metric queries split by time', () => {
  const queries = [
    'sum by (level) (count_over_time({app="split"} | logfmt [5m]))',
    'sum by (shard) (rate({app="split"}[2m]))',
    'bytes_over_time({app="split"}[90s])',
    'sum(sum_over_time({app="split"} | logfmt | unwrap bytes [10m]))',
  ];
  const step = 60n * SEC;
  async function matrix(query: string, start: bigint, end: bigint): Promise<Map<string, [number, string][]>> {
    const r = await getJson(srv.url, '/loki/api/v1/query_range', { query, start: String(start), end: String(end), step: '60' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data.resultType).toBe('matrix');
    return new Map(r.body.data.result.map((s: any) => [JSON.stringify(s.metric), s.values]));
  }
  for (const query of queries) {
    it(query, async () => {
      const whole = await matrix(query, S, E);
      expect(whole.size).toBeGreaterThan(0);
      for (const k of [7, 30]) {
        // step-aligned pieces [from, from + (k-1)*step], the next one starting a step later
        const merged = new Map<string, [number, string][]>();
        for (let from = S; from <= E; from += BigInt(k) * step) {
          let to = from + BigInt(k - 1) * step;
          if (to > E) to = E;
          for (const [m, v] of await matrix(query, from, to)) merged.set(m, [...(merged.get(m) ?? []), ...v]);
        }
        expect(new Set(merged.keys())).toEqual(new Set(whole.keys()));
        for (const [m, v] of whole) expect(merged.get(m), `${m} in pieces of ${k} steps`).toEqual(v);
      }
    });
  }
});
