// Main-thread cost of live tail on the push path: offers loghub-like lines to the tail registry's
// per-tailer code (selector check, pipeline, frame building) with a stand-in socket, and prints
// ns per pushed entry for 0, 1 and 10 tailers and a few query shapes. The ingester calls this for
// every accepted entry, so it bounds how much tailing slows ingestion.
//   node --import tsx bench/tail.ts [--entries N]
import { performance } from 'node:perf_hooks';
import type { WebSocket } from 'ws';
import { Tailer } from '../src/http/tail.routes.js';
import { parseExpr } from '../src/logql/syntax/index.js';
import type { LogSelectorExpr } from '../src/logql/ast.js';
import type { StreamRecord } from '../src/head/stream-head.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('node --import tsx bench/tail.ts [--entries N]\n\nns per pushed entry spent in live-tail code for 0, 1 and 10 tailers (default 200000 entries).');
  process.exit(0);
}
const ei = args.indexOf('--entries');
const N = ei >= 0 ? Number(args[ei + 1]) : 200_000;
if (!Number.isInteger(N) || N <= 0) {
  console.error('--entries needs a positive integer');
  process.exit(2);
}

class NullSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  bytes = 0;
  send(s: string): void {
    this.bytes += s.length;
  }
  close(): void {}
}

const LEVELS = ['info', 'info', 'warn', 'error', 'debug'];
const streams: StreamRecord[] = Array.from({ length: 20 }, (_, i) => ({
  id: i, tenant: 'fake',
  labels: [{ name: 'app', value: i < 10 ? 'api' : 'db' }, { name: 'pod', value: `p${i}` }],
}) as unknown as StreamRecord);
const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
const entries = Array.from({ length: N }, (_, i) => ({
  tsNs: t0 + BigInt(i) * 1000n,
  line: `ts=2026-11-29T00:00:${String(i % 60).padStart(2, '0')}Z level=${LEVELS[i % 5]} caller=handler.go:${i % 300} msg="request served" path=/api/v1/items/${i % 997} status=${i % 17 ? 200 : 500} dur=${i % 90}ms`,
  structuredMetadata: [],
}));

async function run(label: string, query: string | null, tailers: number): Promise<void> {
  const ts: Tailer[] = [];
  const socks: NullSocket[] = [];
  for (let i = 0; i < tailers; i++) {
    const s = new NullSocket();
    const t = new Tailer('fake', parseExpr(query!) as LogSelectorExpr, 0, false, s as unknown as WebSocket);
    t.startLive([]);
    ts.push(t);
    socks.push(s);
  }
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const st = streams[i % streams.length]!;
    for (const t of ts) t.offer(st, entries[i]!);
    // the ingester pushes in batches; let queued frames go out every 1000 entries
    if (i % 1000 === 999) for (const t of ts) t.flush();
  }
  for (const t of ts) t.flush();
  const ms = performance.now() - start;
  const sent = socks.reduce((a, s) => a + s.bytes, 0);
  console.log(`${label.padEnd(48)} ${((ms * 1e6) / N).toFixed(0).padStart(6)} ns/entry  ${(sent / 1e6).toFixed(1)} MB of frames`);
  for (const t of ts) t.close();
}

console.log(`${N} entries over ${streams.length} streams`);
await run('no tailers', null, 0);
await run('1 tailer {app="api"}', '{app="api"}', 1);
await run('1 tailer {app="api"} |= "status=500"', '{app="api"} |= "status=500"', 1);
await run('1 tailer {app="api"} | logfmt | level="error"', '{app="api"} | logfmt | level="error"', 1);
await run('10 tailers {app="db"} | logfmt | level="error"', '{app="db"} | logfmt | level="error"', 10);
