// Linux /proc and filesystem probes for the benchmark: a process's CPU seconds (utime+stime of
// all its threads), VmRSS/VmHWM, whole-machine busy CPU seconds (/proc/stat), an RSS sampler,
// and allocated bytes on disk under a directory.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

let ticks = 0;
function clockTicks(): number {
  if (ticks === 0) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of a process (every thread, worker_threads included), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields after "(comm) ": state=0, ..., utime=11, stime=12
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

export interface MemInfo {
  rss: number;
  hwm: number;
}

export function memInfo(pid: number): MemInfo {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => {
    const i = status.indexOf(k + ':');
    if (i < 0) return 0;
    return parseInt(status.slice(i + k.length + 1).trimStart(), 10) * 1024;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Busy CPU seconds of the whole machine (all CPUs, everything but idle and iowait). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = v[0]! + v[1]! + v[2]! + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0);
  return busy / clockTicks();
}

/** This process's own CPU seconds (the load client). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Samples VmRSS every `everyMs`; `onSample` may throw nothing, it is only told. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  peak = 0;
  /** peak since the last startWindow() (one query's, inside a phase) */
  windowPeak = 0;
  samples = 0;
  constructor(
    private readonly pid: number,
    private readonly everyMs = 200,
    private readonly onSample?: (rss: number) => void,
  ) {}
  start(): this {
    this.stop();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
    return this;
  }
  /** Resets the peak (a new phase starts). */
  reset(): void {
    this.peak = 0;
    this.samples = 0;
  }
  /** Starts a window inside the phase (the phase peak goes on). */
  startWindow(): void {
    this.windowPeak = 0;
  }
  sample(): number {
    let rss = 0;
    try {
      rss = memInfo(this.pid).rss;
    } catch {
      return 0; // process gone
    }
    this.samples++;
    if (rss > this.peak) this.peak = rss;
    if (rss > this.windowPeak) this.windowPeak = rss;
    this.onSample?.(rss);
    return rss;
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Allocated bytes (st_blocks x 512) of every file under `path` (0 if it does not exist). */
export function diskBytes(path: string): number {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.blocks * 512;
  let n = 0;
  for (const e of readdirSync(path)) n += diskBytes(join(path, e));
  return n;
}

export interface DiskBreakdown {
  chunks: number;
  index: number;
  wal: number;
  other: number;
  total: number;
}

/** Data dir split the way the peer figures report it: chunks, index (SQLite files), WAL, rest. */
export function diskBreakdown(dataDir: string): DiskBreakdown {
  const out: DiskBreakdown = { chunks: 0, index: 0, wal: 0, other: 0, total: 0 };
  let names: string[] = [];
  try {
    names = readdirSync(dataDir);
  } catch {
    return out;
  }
  for (const name of names) {
    const n = diskBytes(join(dataDir, name));
    if (name === 'chunks') out.chunks += n;
    else if (name === 'wal') out.wal += n;
    else if (name.startsWith('index')) out.index += n;
    else out.other += n;
    out.total += n;
  }
  return out;
}
