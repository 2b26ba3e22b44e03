// bramble export / import / query and the bramble.forward mirror, end to end: real servers
// (test/helpers/server.ts), the CLI run as a child process, answers compared with query_range.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, ROOT, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';

interface Run { code: number | null; stdout: string; stderr: string }

interface Proc { done: Promise<Run>; kill: (sig: NodeJS.Signals) => void; stdout: () => string }

/** Runs the CLI as a child process (src via tsx, or bin/bramble.js which needs dist/). */
function cliProc(args: string[], opts: { bin?: boolean } = {}): Proc {
  const argv = opts.bin ? [join(ROOT, 'bin/bramble.js'), ...args] : ['--import', 'tsx', join(ROOT, 'src/main.ts'), ...args];
  const p = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    done: new Promise((res) => p.on('close', (code) => res({ code, stdout, stderr }))),
    kill: (sig) => {
      if (p.exitCode === null) process.kill(p.pid!, sig);
    },
    stdout: () => stdout,
  };
}

function cli(args: string[], opts: { bin?: boolean } = {}): Promise<Run> {
  return cliProc(args, opts).done;
}

const BASE = (BigInt(Date.now()) - 600_000n) * 1_000_000n + 123_456n; // 10 min ago, odd ns
const STEP = 20_000_000n; // 20 ms
const PER_STREAM = 120;
const APPS = ['alpha', 'beta', 'gamma'];
const TOTAL = PER_STREAM * APPS.length;
const START = (BASE - 1_000_000_000n).toString();
const END = (BASE + 5_000_000_000n).toString();

/** 3 streams x 120 entries; 3 entries per stream share each timestamp; structured metadata on most. */
function pushBody(job: string, tsBase = BASE): string {
  const streams = APPS.map((app) => ({
    stream: { job, app },
    values: Array.from({ length: PER_STREAM }, (_, i) => {
      const ts = (tsBase + BigInt(Math.floor(i / 3)) * STEP).toString();
      const line = `level=${i % 4 === 0 ? 'error' : 'info'} app=${app} n=${i} msg="héllo ${'x'.repeat(i % 17)}"`;
      return i % 5 === 4 ? [ts, line] : [ts, line, { trace_id: `t${i}`, user: `u${i % 3}` }];
    }),
  }));
  return JSON.stringify({ streams });
}

async function push(url: string, body: string): Promise<void> {
  const r = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(r.status, await r.text()).toBe(204);
}

async function range(url: string, query: string, extra: Record<string, string> = {}): Promise<unknown[]> {
  const q = new URLSearchParams({ query, start: START, end: END, limit: '5000', direction: 'forward', ...extra });
  const r = await fetch(`${url}/loki/api/v1/query_range?${q}`, { headers: { 'x-loki-response-encoding-flags': 'categorize-labels' } });
  expect(r.status).toBe(200);
  const j = (await r.json()) as { data: { result: { stream: unknown }[] } };
  return j.data.result.sort((a, b) => (JSON.stringify(a.stream) < JSON.stringify(b.stream) ? -1 : 1));
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function countValues(result: unknown[]): number {
  return (result as { values: unknown[] }[]).reduce((n, s) => n + s.values.length, 0);
}

async function waitFor(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const servers: TestServer[] = [];
const dirs: string[] = [];
let A: TestServer;
const SEL = '{job="cli"}';

beforeAll(async () => {
  A = await startTestServer();
  servers.push(A);
  await push(A.url, pushBody('cli'));
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const s of servers) removeDir(s.dataDir);
  for (const d of dirs) removeDir(d);
});

async function fresh(args: string[] = [], configFile?: string): Promise<TestServer> {
  const s = await startTestServer({ args, configFile });
  servers.push(s);
  return s;
}

function tmp(): string {
  const d = tempDataDir('bramble-cli-');
  dirs.push(d);
  return d;
}

describe('bramble export', () => {
  it('copies stream labels, structured metadata and ns timestamps exactly, across page and window boundaries', async () => {
    const B = await fresh();
    const cp = join(tmp(), 'cp.json');
    const r = await cli(['export', '--source', A.url, '--to', B.url, '--query', SEL, '--start', START, '--end', END,
      '--page-size', '7', '--window', '100ms', '--batch-size', '2KiB', '--checkpoint', cp]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/export done: 360 lines, .* from 3 streams/);
    expect(existsSync(cp)).toBe(false);
    const a = await range(A.url, SEL);
    expect(countValues(a)).toBe(TOTAL);
    const b = await range(B.url, SEL);
    expect(b).toEqual(a);
    // No entry was pushed twice (B merges identical entries at query time, so check what it received).
    expect(await metric(B.url, 'loki_distributor_lines_received_total')).toBe(TOTAL);
    expect(await metric(B.url, 'bramble_duplicates_dropped_total')).toBe(0);
    // Structured metadata really arrived as structured metadata (not as stream labels).
    const s0 = (b[0] as { stream: Record<string, string>; values: [string, string, { structuredMetadata?: Record<string, string> }][] });
    expect(Object.keys(s0.stream).sort()).toEqual(['app', 'job', 'service_name']);
    expect(s0.values.some((v) => v[2].structuredMetadata?.trace_id)).toBe(true);
  });

  it('resumes an interrupted export without gaps or duplicates', async () => {
    const B = await fresh();
    const cp = join(tmp(), 'cp.json');
    const args = ['export', '--source', A.url, '--to', B.url, '--query', SEL, '--start', START, '--end', END,
      '--page-size', '11', '--window', '150ms', '--batch-size', '1KiB', '--checkpoint', cp];
    // 10 KiB/s: the ~40 KiB export takes seconds; interrupt it (Ctrl-C) after its first pushes.
    const run = cliProc([...args, '--rate', '0.01']);
    await waitFor('first pushes', async () => (await metric(B.url, 'loki_distributor_lines_received_total')) > 0);
    run.kill('SIGINT');
    const r1 = await run.done;
    expect(r1.code, r1.stderr).toBe(130);
    expect(r1.stderr).toMatch(/export interrupted: .*\n.*--resume/);
    const partial = countValues(await range(B.url, SEL));
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(TOTAL);
    // Without --resume an existing checkpoint is refused rather than overwritten.
    const refused = await cli(args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pass --resume/);
    const r2 = await cli([...args, '--resume']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toMatch(/resuming from/);
    expect(existsSync(cp)).toBe(false);
    expect(await range(B.url, SEL)).toEqual(await range(A.url, SEL));
    expect(await metric(B.url, 'loki_distributor_lines_received_total')).toBe(TOTAL);
    expect(await metric(B.url, 'bramble_duplicates_dropped_total')).toBe(0);
  });

  it('stops with an actionable message when the destination refuses a batch, and resumes after the fix', async () => {
    const dir = tmp();
    const strict = join(dir, 'strict.yaml');
    writeFileSync(strict, 'limits_config:\n  max_line_size: 40\n');
    const B = await fresh([], strict);
    const cp = join(dir, 'cp.json');
    const r = await cli(['export', '--source', A.url, '--to', B.url, '--query', SEL, '--start', START, '--end', END, '--checkpoint', cp, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HTTP 400: .*max entry size '40' bytes exceeded[^]*hint: the destination refuses long lines: raise limits_config.max_line_size/);
    expect(r.stderr).toMatch(/--resume/);
    const skipped = await cli(['export', '--source', A.url, '--to', B.url, '--query', SEL, '--start', START, '--end', END, '--checkpoint', cp, '--quiet', '--resume', '--skip-rejected']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toMatch(/rejected/);
  });

  it('checks its arguments', async () => {
    const r = await cli(['export', '--source', A.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs --to <Loki URL>/);
    const t = await cli(['export', '--to', A.url, '--start', 'yesterday']);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/--start: cannot parse "yesterday"/);
    const u = await cli(['export', '--to', A.url, '--bogus']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/unknown flag --bogus/);
    const down = await cli(['export', '--source', 'http://127.0.0.1:9', '--to', A.url, '--retries', '1', '--quiet']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot connect .*is the server running/);
  });
});

describe('bramble import', () => {
  it('pulls history out of a Loki-compatible server into Bramble', async () => {
    const C = await fresh();
    const cp = join(tmp(), 'cp.json');
    const r = await cli(['import', '--from', A.url, '--to', C.url, '--query', SEL, '--from', START, '--to', END,
      '--page-size', '13', '--window', '250ms', '--checkpoint', cp]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/import done: 360 lines/);
    expect(await range(C.url, SEL)).toEqual(await range(A.url, SEL));
    expect(await metric(C.url, 'loki_distributor_lines_received_total')).toBe(TOTAL);
  });
});

describe('bramble.forward', () => {
  it('mirrors every accepted push to a remote Loki', async () => {
    const B = await fresh();
    const A2 = await fresh([`-bramble.forward-url=${B.url}`]);
    await push(A2.url, pushBody('fwd'));
    await waitFor('mirror', async () => countValues(await range(B.url, '{job="fwd"}')) === TOTAL);
    expect(await range(B.url, '{job="fwd"}')).toEqual(await range(A2.url, '{job="fwd"}'));
    await waitFor('sent counter', async () => (await metric(A2.url, 'bramble_forward_sent_entries_total')) === TOTAL);
    expect(await metric(A2.url, 'bramble_forward_dropped_entries_total{reason="queue_full"}')).toBe(0);
  });

  it('never fails or delays the local push when the remote is down; drops are counted', async () => {
    const dir = tmp();
    const cfg = join(dir, 'fwd.yaml');
    writeFileSync(cfg, 'bramble:\n  forward:\n    url: http://127.0.0.1:9\n    max_retries: 2\n    min_backoff: 10ms\n    headers:\n      Authorization: Bearer x\n');
    const A3 = await fresh([], cfg);
    const t0 = Date.now();
    await push(A3.url, pushBody('down'));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(countValues(await range(A3.url, '{job="down"}'))).toBe(TOTAL);
    await waitFor('drop counter', async () => (await metric(A3.url, 'bramble_forward_dropped_entries_total{reason="retries_exhausted"}')) === TOTAL);
    expect(await metric(A3.url, 'bramble_forward_retries_total')).toBeGreaterThan(0);
    expect(A3.logs.join('\n')).toMatch(/forward: dropped/);
  });
});

describe('bramble query', () => {
  it('prints log lines newest first, paging past --batch, in default, raw and jsonl formats', async () => {
    const r = await cli(['query', SEL, '--addr', A.url, '--from', START, '--to', END, '--limit', '50', '--batch', '7']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(50);
    expect(new Set(lines).size).toBe(50);
    expect(lines[0]).toMatch(/^\S+Z \{app="\w+", detected_level="\w+", job="cli", service_name="\w+"(, trace_id="t\d+", user="u\d")?\} level=\w+ app=\w+ n=119 /);
    const ts = lines.map((l) => l.split(' ')[0]!);
    expect([...ts].sort().reverse()).toEqual(ts);

    const raw = await cli(['query', SEL, '--addr', A.url, '--from', START, '--to', END, '--limit', '0', '--forward', '-o', 'raw', '--batch', '25']);
    const rl = raw.stdout.trim().split('\n');
    expect(rl).toHaveLength(TOTAL);
    expect(rl[0]).toMatch(/^level=error app=\w+ n=0 msg="héllo "$/);

    const js = await cli(['query', '{job="cli", app="beta"} | logfmt', '--addr', A.url, '--from', START, '--to', END, '--limit', '3', '--forward', '-o', 'jsonl']);
    const objs = js.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs).toHaveLength(3);
    expect(objs[0]).toMatchObject({ ts: BASE.toString(), labels: { app: 'beta', job: 'cli', service_name: 'beta' }, structuredMetadata: { trace_id: 't0', user: 'u0', detected_level: 'error' }, parsed: { level: 'error', n: '0' } });
  });

  it('prints metric queries as tables', async () => {
    const mid = (BASE + 2_000_000_000n).toString();
    const r = await cli(['query', 'sum by (app) (count_over_time({job="cli"}[10s]))', '--addr', A.url, '--instant', '--to', mid]);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^TIME\s+app\s+VALUE$/);
    expect(rows.slice(1).map((l) => l.split(/\s+/).slice(1))).toEqual([['alpha', '120'], ['beta', '120'], ['gamma', '120']]);
    const m = await cli(['query', 'sum by (app) (count_over_time({job="cli"}[1s]))', '--addr', A.url, '--from', START, '--to', END, '--step', '1s', '-o', 'jsonl']);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('--tail follows new lines', async () => {
    let pushed = false;
    const run = cliProc(['query', '{job="tail"}', '--addr', A.url, '--tail', '-o', 'raw']);
    // Push until the tail has shown a line (it connects asynchronously).
    const until = Date.now() + 20_000;
    let n = 0;
    while (!run.stdout().includes('tail line') && Date.now() < until) {
      const ts = (BigInt(Date.now()) * 1_000_000n).toString();
      await push(A.url, JSON.stringify({ streams: [{ stream: { job: 'tail' }, values: [[ts, `tail line ${n++}`]] }] }));
      pushed = true;
      await new Promise((r) => setTimeout(r, 300));
    }
    run.kill('SIGINT');
    const r = await run.done;
    expect(pushed).toBe(true);
    expect(r.stdout).toMatch(/^tail line \d+$/m);
    expect(r.code).toBe(0);
  });
});

describe('--help', () => {
  it.each([['--help'], ['serve', '--help'], ['export', '--help'], ['import', '--help'], ['query', '--help']])('bramble %s', async (...args) => {
    const r = await cli(args.filter(Boolean) as string[]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: bramble/);
  });

  it('bin/bramble.js runs the built CLI from dist/', async () => {
    const r = await cli(['export', '--help'], { bin: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: bramble export --to <loki URL>/);
    const q = await cli(['query', SEL, '--addr', A.url, '--from', START, '--to', END, '--limit', '2', '-o', 'raw'], { bin: true });
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout.trim().split('\n')).toHaveLength(2);
  });
});
