// Throughput figure for `bramble export`: N loghub lines (4 streams, structured metadata) pushed into
// server A, then exported to server B with bin/bramble.js (needs `npm run build`).
// Usage: node bench/cli-export.mjs [lines=100000] [loghub file=HDFS_2k.log]
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const ROOT = '/work/main';
function server() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-exp-'));
  const p = spawn(process.execPath, [join(ROOT, 'dist/main.js'), '-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0', `-common.path-prefix=${dir}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((res) => { let b = ''; p.stdout.on('data', (d) => { b += d; const m = /listening on http:\/\/[^:]+:(\d+)/.exec(b); if (m) res({ p, url: `http://127.0.0.1:${m[1]}` }); }); });
}
const N = Number(process.argv[2] ?? 100000);
const lines = readFileSync('/work/shared/data/loghub/' + (process.argv[3] ?? 'HDFS_2k.log'), 'utf8').split('\n').filter(Boolean);
const A = await server(); const B = await server();
const base = BigInt(Date.now() - 3_600_000) * 1_000_000n;
for (let off = 0; off < N; off += 10000) {
  const streams = [0, 1, 2, 3].map((k) => ({ stream: { job: 'bench', shard: String(k) }, values: [] }));
  for (let i = off; i < Math.min(N, off + 10000); i++) streams[i % 4].values.push([(base + BigInt(i) * 1_000_000n).toString(), lines[i % lines.length], { trace_id: 't' + (i % 100) }]);
  const r = await fetch(A.url + '/loki/api/v1/push', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streams }) });
  if (r.status !== 204) throw new Error(await r.text());
}
const t0 = Date.now();
const e = spawn(process.execPath, [join(ROOT, 'bin/bramble.js'), 'export', '--source', A.url, '--to', B.url, '--query', '{job="bench"}', '--start', '2h', '--checkpoint', join(tmpdir(), `bench-cp-${process.pid}.json`)], { stdio: ['ignore', 'inherit', 'pipe'] });
let err = ''; e.stderr.on('data', (d) => (err += d));
await new Promise((r) => e.on('close', r));
console.log(err.trim().split('\n').slice(-2).join('\n'));
console.log(`wall ${(Date.now() - t0) / 1000}s`);
A.p.kill('SIGTERM'); B.p.kill('SIGTERM');
