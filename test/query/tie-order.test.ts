// End to end: at equal timestamps Loki returns entries of the stream with the smaller
// labels.StableHash first in both directions (iter.lessAscending/lessDescending), so `limit`
// cuts ties the same way; one stream's equal-timestamp entries keep push order (reversed when
// backward). Streams here are pushed in the opposite order of their hashes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { stableLabelsHash } from '../../src/util/xxhash.js';
import { labelsFromObject } from '../../src/util/labels.js';

// recent enough for the default reject_old_samples
const TS = String(BigInt(Date.now() - 60_000) * 1_000_000n + 5005n);
const A = { app: 'api', cluster: 'eu-1', namespace: 'prod' };
const W = { app: 'web', cluster: 'eu-1', namespace: 'prod' };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  const body = {
    streams: [
      { stream: A, values: [[TS, 'from api 1'], [TS, 'from api 2']] },
      { stream: W, values: [[TS, 'from web']] },
    ],
  };
  const r = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status).toBe(204);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

async function lines(direction: string, limit: number): Promise<string[]> {
  const q = new URLSearchParams({ query: '{namespace="prod"}', start: TS, end: String(BigInt(TS) + 1n), limit: String(limit), direction });
  const j = (await (await fetch(`${server.url}/loki/api/v1/query_range?${q}`)).json()) as { data: { result: { values: [string, string][] }[] } };
  return j.data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
}

describe('ties across streams', () => {
  it('the web stream (service_name added) has the smaller hash', () => {
    const h = (o: Record<string, string>) => stableLabelsHash(labelsFromObject({ ...o, service_name: o.app! }));
    expect(h(W) < h(A)).toBe(true);
  });
  it('limit 1 keeps the smaller-hash stream in both directions', async () => {
    expect(await lines('forward', 1)).toEqual(['from web']);
    expect(await lines('backward', 1)).toEqual(['from web']);
  });
  it('limit 2 then takes the first (forward) or last (backward) pushed entry of the other stream', async () => {
    expect(await lines('forward', 2)).toEqual(['from api 1', 'from web']);
    expect(await lines('backward', 2)).toEqual(['from api 2', 'from web']);
  });
});
