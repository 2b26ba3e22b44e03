// Starts the Bramble server under test for the benchmark: compiled JavaScript (tsc into
// .tmp/bench-dist, so the figures carry no TypeScript loader) or the sources via tsx, on
// 127.0.0.1:0 with a fresh data dir and the peer benchmark's limits. `pi` mode constrains it
// the way a Raspberry Pi would: one core (taskset -c 0) and a 512 MiB memory cap, enforced by a
// cgroup v2 group when one can be created, else by --max-old-space-size plus an RSS watchdog
// (the caller samples RSS and calls `overCap`). Stopped by PID only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerOptions {
  root: string;
  /** run src/main.ts through tsx instead of compiled JS */
  tsx: boolean;
  pi: boolean;
  /** memory cap in bytes for pi mode */
  memCap: number;
  /** write a V8 CPU profile of the server (whole run) into this directory */
  profileDir?: string;
  /** Loki-style YAML to run with instead of the peer benchmark's (bench/soak.ts) */
  configYaml?: string;
  log: (msg: string) => void;
}

export interface BenchServer {
  url: string;
  pid: number;
  dataDir: string;
  workDir: string;
  /** how the pi constraints were applied, or '' */
  constraints: string;
  /** cgroup v2 directory when one enforces the cap */
  cgroup: string | null;
  logFile: string;
  workers: number | null;
  /** scan kernels the server loaded: 'native' (the addon) or 'typescript' (fallback) */
  kernels: string | null;
  exited: Promise<number | null>;
  proc: ChildProcess;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
  /** cgroup v2 OOM kills observed so far (0 without a cgroup) */
  oomKills(): number;
  cleanup(keep: boolean): void;
}

/** Limits and settings the peer Loki ran with (peer-figures.md "Loki configuration"). */
const CONFIG_YAML = `auth_enabled: false
pattern_ingester:
  enabled: false
limits_config:
  reject_old_samples: false
  ingestion_rate_mb: 1024
  ingestion_burst_size_mb: 1024
  per_stream_rate_limit: 512MB
  per_stream_rate_limit_burst: 1024MB
  max_entries_limit_per_query: 100000
  max_query_series: 100000
  query_timeout: 5m
`;

/** A /metrics text as series name (with labels, as written) → value; comments and blank lines skipped. */
export function parseMetrics(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

/** Compiles src/ into .tmp/bench-dist (type errors elsewhere do not stop the emit). */
export function buildServer(root: string, log: (m: string) => void): string {
  const out = join(root, '.tmp/bench-dist');
  const tsc = join(root, 'node_modules/.bin/tsc');
  log(`compiling the server with tsc into ${out} ...`);
  const t0 = performance.now();
  const r = spawnSync(tsc, ['-p', join(root, 'tsconfig.json'), '--outDir', out, '--sourceMap', 'false', '--noEmitOnError', 'false'], { cwd: root, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ${tsc}: ${r.error.message} (run npm install first)`);
  const entry = join(out, 'main.js');
  if (!existsSync(entry)) throw new Error(`tsc produced no ${entry}:\n${r.stdout}${r.stderr}`);
  if (r.status !== 0) log(`tsc reported type errors (emitted anyway):\n${r.stdout.split('\n').slice(0, 5).join('\n')}`);
  log(`compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return entry;
}

function hasTaskset(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

/** A cgroup v2 child group with memory.max, or null when the hierarchy is not v2 or not writable. */
function makeCgroup(cap: number, log: (m: string) => void): string | null {
  const base = '/sys/fs/cgroup';
  try {
    const controllers = readFileSync(join(base, 'cgroup.controllers'), 'utf8');
    if (!controllers.split(/\s+/).includes('memory')) return null;
    const self = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    const parent = join(base, self ? self.slice(3).trim() : '');
    const dir = join(parent, `bramble-bench-${process.pid}`);
    mkdirSync(dir);
    try {
      writeFileSync(join(dir, 'memory.max'), String(cap));
      try {
        writeFileSync(join(dir, 'memory.swap.max'), '0');
      } catch {
        /* no swap accounting */
      }
      return dir;
    } catch (e) {
      rmdirSync(dir);
      throw e;
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') log(`cgroup v2 memory group not available (${(e as Error).message}); using --max-old-space-size and an RSS watchdog`);
    return null;
  }
}

export async function startBenchServer(o: ServerOptions, entry: string | null): Promise<BenchServer> {
  const workDir = mkdtempSync(join(tmpdir(), 'bramble-bench-'));
  const dataDir = join(workDir, 'data');
  const configFile = join(workDir, 'loki.yaml');
  writeFileSync(configFile, o.configYaml ?? CONFIG_YAML);
  const logFile = join(workDir, 'server.log');
  const nodeArgs: string[] = [];
  let cmd = process.execPath;
  let cgroup: string | null = null;
  const notes: string[] = [];
  if (o.pi) {
    cgroup = makeCgroup(o.memCap, o.log);
    if (cgroup) notes.push(`cgroup v2 memory.max=${o.memCap / 2 ** 20} MiB`);
    else {
      // Leave room for worker heaps, buffers and native memory under the RSS cap.
      const heapMiB = Math.floor((o.memCap / 2 ** 20) * 0.6);
      nodeArgs.push(`--max-old-space-size=${heapMiB}`);
      notes.push(`--max-old-space-size=${heapMiB} + RSS watchdog at ${o.memCap / 2 ** 20} MiB`);
    }
  }
  // Same allocator and heap settings as `npm start` and the Docker image (see package.json);
  // BENCH_MALLOC=default leaves glibc's and V8's own, to compare.
  const defaults = process.env.BENCH_MALLOC === 'default';
  if (!defaults) nodeArgs.push('--max-semi-space-size=2', '--heap-growing-percent=50');
  if (o.profileDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.profileDir}`);
  // BENCH_NODE_FLAGS: extra V8/Node flags for the server (e.g. --trace-gc with --keep, to read
  // the collections in server.log), space-separated.
  if (process.env.BENCH_NODE_FLAGS) nodeArgs.push(...process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean));
  const app = o.tsx ? ['--import', 'tsx', join(o.root, 'src/main.ts')] : [entry!];
  const flags = ['-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0', `-common.path-prefix=${dataDir}`, `-config.file=${configFile}`];
  let args = [...nodeArgs, ...app, ...flags];
  if (o.pi) {
    if (hasTaskset()) {
      args = ['-c', '0', cmd, ...args];
      cmd = 'taskset';
      notes.unshift('taskset -c 0');
    } else notes.unshift('taskset unavailable: NOT pinned to one core');
  }
  const proc = spawn(cmd, args, { cwd: o.root, stdio: ['ignore', 'pipe', 'pipe'], env: defaults ? { ...process.env } : { MALLOC_MMAP_THRESHOLD_: '131072', ...process.env } });
  if (cgroup) {
    try {
      writeFileSync(join(cgroup, 'cgroup.procs'), String(proc.pid));
    } catch (e) {
      o.log(`could not move the server into ${cgroup}: ${(e as Error).message}`);
    }
  }
  const logStream = createWriteStream(logFile);
  const tail: string[] = [];
  const exited = new Promise<number | null>((res) => proc.on('exit', (code, sig) => res(code ?? (sig ? 128 : null))));
  let workers: number | null = null;
  let kernels: string | null = null;
  const url = await new Promise<string>((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`server did not start in 60 s; log: ${logFile}\n${tail.join('\n')}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      logStream.write(d);
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        tail.push(line);
        if (tail.length > 20) tail.shift();
        const m = /listening on http:\/\/([^:"]+):(\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          const w = /"workers":(\d+)/.exec(line);
          workers = w ? Number(w[1]) : null;
          const k = /"kernels":"(\w+)"/.exec(line);
          kernels = k ? k[1]! : null;
          res(`http://127.0.0.1:${m[2]}`);
        }
      }
      if (buf.length > 1 << 20) buf = '';
    });
    proc.stderr!.on('data', (d: Buffer) => {
      logStream.write(d);
      tail.push(d.toString().trimEnd());
      if (tail.length > 20) tail.shift();
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code} before listening; log: ${logFile}\n${tail.join('\n')}`));
    });
  });
  const killOnExit = (): void => {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGKILL');
  };
  process.on('exit', killOnExit);
  return {
    url, pid: proc.pid!, dataDir, workDir, logFile, proc, exited, workers, kernels, cgroup,
    constraints: notes.join(', '),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGTERM');
      const t = setTimeout(() => killOnExit(), 120_000);
      const code = await exited;
      clearTimeout(t);
      logStream.end();
      return code;
    },
    async kill() {
      killOnExit();
      await exited;
      logStream.end();
    },
    oomKills() {
      if (!cgroup) return 0;
      try {
        const m = /oom_kill (\d+)/.exec(readFileSync(join(cgroup, 'memory.events'), 'utf8'));
        return m ? Number(m[1]) : 0;
      } catch {
        return 0;
      }
    },
    cleanup(keep: boolean) {
      process.off('exit', killOnExit);
      if (cgroup) {
        try {
          rmdirSync(cgroup);
        } catch {
          /* still has processes or already gone */
        }
      }
      if (!keep) rmSync(workDir, { recursive: true, force: true });
    },
  };
}
