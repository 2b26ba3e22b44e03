// Tailer unit tests with a stand-in socket: slow-client dropping reported as Loki's
// dropped_entries, the bounded pending queue, history/live de-duplication, frame splitting at
// 100 entries, and tail parameter parsing.
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { encodeTailFrame, MAX_DROPPED_PER_FRAME, MAX_ENTRIES_PER_FRAME, MAX_PENDING_ENTRIES, MAX_SOCKET_BUFFERED, parseTailRequest, Tailer } from '../../src/http/tail.routes.js';
import { parseExpr } from '../../src/logql/syntax/index.js';
import type { LogSelectorExpr } from '../../src/logql/ast.js';
import type { StreamRecord } from '../../src/head/stream-head.js';

class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  closedWith: [number, string] | null = null;
  send(s: string): void {
    this.sent.push(s);
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
    this.readyState = 3;
  }
  frames(): any[] {
    return this.sent.map((s) => JSON.parse(s));
  }
}

const stream = (id: number, labels: Record<string, string>): StreamRecord =>
  ({ id, tenant: 'fake', labels: Object.entries(labels).map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : 1)) }) as unknown as StreamRecord;

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function mk(q: string, ws: FakeSocket, delay = 0, categorize = false): Tailer {
  return new Tailer('fake', parseExpr(q) as LogSelectorExpr, delay, categorize, ws as unknown as WebSocket);
}

const T0 = BigInt(Date.now() - 10_000) * 1_000_000n;

describe('Tailer', () => {
  it('drops entries while the socket is backed up and reports them with the next frame', async () => {
    const ws = new FakeSocket();
    const t = mk('{app="a"}', ws);
    t.startLive([]);
    const s = stream(1, { app: 'a' });
    ws.bufferedAmount = MAX_SOCKET_BUFFERED + 1;
    t.offer(s, { tsNs: T0, line: 'one', structuredMetadata: [] });
    t.offer(s, { tsNs: T0 + 1n, line: 'two', structuredMetadata: [] });
    await tick();
    expect(ws.sent).toHaveLength(0);
    ws.bufferedAmount = 0;
    t.offer(s, { tsNs: T0 + 2n, line: 'three', structuredMetadata: [] });
    await tick();
    const [f] = ws.frames();
    expect(f.streams).toEqual([{ stream: { app: 'a' }, values: [[String(T0 + 2n), 'three']] }]);
    expect(f.dropped_entries).toEqual([
      { timestamp: String(T0), labels: { app: 'a' } },
      { timestamp: String(T0 + 1n), labels: { app: 'a' } },
    ]);
    expect(Object.keys(f)).toEqual(['streams', 'dropped_entries']);
    // reported once only
    t.offer(s, { tsNs: T0 + 3n, line: 'four', structuredMetadata: [] });
    await tick();
    expect(ws.frames()[1].dropped_entries).toBeUndefined();
  });

  it('bounds what it holds: pending entries and dropped records', async () => {
    const ws = new FakeSocket();
    const t = mk('{app="a"}', ws, 5);
    t.startLive([]);
    const s = stream(1, { app: 'a' });
    const future = BigInt(Date.now() + 60_000) * 1_000_000n;
    for (let i = 0; i < MAX_PENDING_ENTRIES + MAX_DROPPED_PER_FRAME + 50; i++) t.offer(s, { tsNs: future + BigInt(i), line: 'x' + i, structuredMetadata: [] });
    t.flush();
    expect(ws.sent).toHaveLength(0);
    expect(t.pendingCount).toBe(MAX_PENDING_ENTRIES);
    t.close();
    expect(t.pendingCount).toBe(0);
    // the next frame after pressure carries at most MAX_DROPPED_PER_FRAME records
    const ws2 = new FakeSocket();
    const t2 = mk('{app="a"}', ws2);
    t2.startLive([]);
    ws2.bufferedAmount = MAX_SOCKET_BUFFERED + 1;
    for (let i = 0; i < MAX_DROPPED_PER_FRAME + 500; i++) t2.offer(s, { tsNs: T0 + BigInt(i), line: 'y' + i, structuredMetadata: [] });
    await tick();
    ws2.bufferedAmount = 0;
    t2.offer(s, { tsNs: T0 + 10_000n, line: 'z', structuredMetadata: [] });
    await tick();
    expect(ws2.frames()[0].dropped_entries).toHaveLength(MAX_DROPPED_PER_FRAME);
  });

  it('splits into frames of at most 100 entries, in timestamp order', async () => {
    const ws = new FakeSocket();
    const t = mk('{app="a"}', ws);
    t.startLive([]);
    const s = stream(1, { app: 'a' });
    for (let i = 249; i >= 0; i--) t.offer(s, { tsNs: T0 + BigInt(i), line: 'l' + i, structuredMetadata: [] });
    await tick();
    const frames = ws.frames();
    expect(frames.map((f) => f.streams.length)).toEqual([MAX_ENTRIES_PER_FRAME, MAX_ENTRIES_PER_FRAME, 50]);
    const lines = frames.flatMap((f) => f.streams.map((x: any) => x.values[0][1]));
    expect(lines).toEqual(Array.from({ length: 250 }, (_, i) => 'l' + i));
  });

  it('skips live copies of entries already sent in the initial batch, and queues live entries until then', async () => {
    const ws = new FakeSocket();
    const t = mk('{app="a"}', ws);
    const s = stream(1, { app: 'a' });
    // pushed while the history was being read: one is also in the history
    t.offer(s, { tsNs: T0 + 5n, line: 'both', structuredMetadata: [] });
    t.offer(s, { tsNs: T0 + 6n, line: 'live only', structuredMetadata: [] });
    await tick();
    expect(ws.sent).toHaveLength(0);
    t.startLive([
      { tsNs: T0, line: 'old', labels: [{ name: 'app', value: 'a' }] },
      { tsNs: T0 + 5n, line: 'both', labels: [{ name: 'app', value: 'a' }] },
    ]);
    await tick();
    const lines = ws.frames().flatMap((f) => f.streams.map((x: any) => x.values[0][1]));
    expect(lines).toEqual(['old', 'both', 'live only']);
  });

  it('ignores streams the selector does not match and entries the pipeline filters out', async () => {
    const ws = new FakeSocket();
    const t = mk('{app="a", env=~"p.*"} != "debug"', ws);
    t.startLive([]);
    t.offer(stream(1, { app: 'a', env: 'prod' }), { tsNs: T0, line: 'keep', structuredMetadata: [] });
    t.offer(stream(1, { app: 'a', env: 'prod' }), { tsNs: T0 + 1n, line: 'a debug line', structuredMetadata: [] });
    t.offer(stream(2, { app: 'a', env: 'dev' }), { tsNs: T0 + 2n, line: 'other env', structuredMetadata: [] });
    t.offer(stream(3, { app: 'b', env: 'prod' }), { tsNs: T0 + 3n, line: 'other app', structuredMetadata: [] });
    await tick();
    expect(ws.frames().flatMap((f) => f.streams.map((x: any) => x.values[0][1]))).toEqual(['keep']);
  });

  it('closes with the given code and stops sending', async () => {
    const ws = new FakeSocket();
    const t = mk('{app="a"}', ws);
    t.startLive([]);
    t.close(1011, 'reached tail max duration limit');
    expect(ws.closedWith).toEqual([1011, 'reached tail max duration limit']);
    t.offer(stream(1, { app: 'a' }), { tsNs: T0, line: 'late', structuredMetadata: [] });
    await tick();
    expect(ws.sent).toHaveLength(0);
  });
});

describe('encodeTailFrame', () => {
  it('writes keys in Loki\'s order and 3-tuples with categorize-labels', () => {
    const f = encodeTailFrame(
      [{ tsNs: 1700000000123456789n, line: 'l', labels: [{ name: 'a', value: '1' }], structuredMetadata: [], parsed: [{ name: 'p', value: 'v' }] }],
      [{ tsNs: 1700000000000000000n, labels: [{ name: 'a', value: '1' }] }],
      true,
    );
    expect(f).toBe('{"streams":[{"stream":{"a":"1"},"values":[["1700000000123456789","l",{"parsed":{"p":"v"}}]]}],"dropped_entries":[{"timestamp":"1700000000000000000","labels":{"a":"1"}}],"encodingFlags":["categorize-labels"]}');
  });
});

describe('parseTailRequest', () => {
  const now = 1_800_000_000_000_000_000n;
  it('defaults: limit 100, start = now - 1h, delay_for 0', () => {
    const r = parseTailRequest({ query: '{a="b"}' }, now);
    expect(r).toMatchObject({ limit: 100, startNs: now - 3_600_000_000_000n, delayForS: 0, metric: false });
  });
  it('accepts delay_for up to 5 and flags metric queries', () => {
    expect(parseTailRequest({ query: '{a="b"}', delay_for: '5' }, now).delayForS).toBe(5);
    expect(() => parseTailRequest({ query: '{a="b"}', delay_for: '6' }, now)).toThrow("delay_for can't be greater than 5");
    expect(() => parseTailRequest({ query: '{a="b"}', delay_for: '-1' }, now)).toThrow('delay_for value -1 is out of range [0, 4294967295]');
    expect(parseTailRequest({ query: 'rate({a="b"}[1m])' }, now).metric).toBe(true);
  });
});
