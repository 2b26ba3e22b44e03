// Times label-API calls from a process of its own: the bench's main process holds the whole
// workload (hundreds of MiB), and its garbage collections landed inside 1 ms calls as 10-20 ms
// "server" latencies. This client holds nothing: what it times is the server and the loopback.
// It uses node:http with one kept-alive connection, and warms up (200 untimed calls) so that its
// own code is compiled before it times anything.
// Usage: node bench/label-client.mjs URL CALLS  → prints {"status":..,"first":<body text>,"ms":[..]}
// (the first warm-up call's body is returned for the caller's checks)
import http from 'node:http';

const [url, callsArg] = process.argv.slice(2);
if (!url || url === '--help') {
  process.stdout.write('node bench/label-client.mjs URL CALLS: warm-up GETs of URL, then CALLS timed ones; prints JSON\n');
  process.exit(url ? 0 : 2);
}
const calls = Number(callsArg ?? 50);
const WARMUP = 200;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get() {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const ms = [];
let first = '';
let status = 200;
for (let i = 0; i < WARMUP + calls; i++) {
  const t0 = performance.now();
  const r = await get();
  const dt = performance.now() - t0;
  if (r.status !== 200) {
    status = r.status;
    first = r.text;
    break;
  }
  if (i === 0) first = r.text;
  if (i >= WARMUP) ms.push(dt);
}
agent.destroy();
process.stdout.write(JSON.stringify({ status, first, ms }));
