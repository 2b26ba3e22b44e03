// Event-loop stall finder: reads a V8 CPU profile of the server (`npm run bench:soak --
// --profile DIR` writes one) and lists the longest busy stretches of the main thread, the
// tasks that held the event loop, with the functions that took their time. A stretch is a run
// of samples that are not "(idle)"; runs separated by less than --gap ms of idle are joined,
// as a timer that falls due meanwhile still waits for both. A busy stretch can hold several
// loop turns, so with --log (the server's log, written with BRAMBLE_STALL_LOG_MS set, as
// `npm run bench:soak -- --profile DIR` does) it lists the stalls the server itself saw instead,
// each with the samples of its own time span. `node --import tsx bench/stalls.ts --help`.
import { readFileSync } from 'node:fs';

const HELP = `node --import tsx bench/stalls.ts <file.cpuprofile> [options]

Lists the main thread's longest busy stretches (event-loop stalls) in a V8 CPU profile, each
with its start (seconds into the profile), length, and the functions with the most samples in
it (inclusive: a function counts once per sample it is on the stack of).

  --min MS      list stretches at least this long (default 30)
  --gap MS      join stretches separated by less idle than this (default 0.5)
  --from S      only stretches starting at or after S seconds (default 0)
  --to S        only stretches starting before S seconds (default: the end)
  --top N       functions listed per stretch (default 8)
  --log FILE    the server's log: list the stalls it logged ("event loop stalled", written
                with BRAMBLE_STALL_LOG_MS=N; the soak's --profile sets 30) rather than busy
                stretches; --min, --from and --to apply to them too
  --all-frames  list node: and library frames too, not only the server's own and V8's
  --help        this text
`;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Options {
  file: string;
  minMs: number;
  gapMs: number;
  fromS: number;
  toS: number;
  top: number;
  allFrames: boolean;
  log: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { file: '', minMs: 30, gapMs: 0.5, fromS: 0, toS: Infinity, top: 8, allFrames: false, log: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a} needs a number ≥ 0, got ${JSON.stringify(argv[i])}`);
      return n;
    };
    switch (a) {
      case '--help': case '-h': process.stdout.write(HELP); process.exit(0); break;
      case '--min': o.minMs = num(); break;
      case '--gap': o.gapMs = num(); break;
      case '--from': o.fromS = num(); break;
      case '--to': o.toS = num(); break;
      case '--top': o.top = Math.max(1, Math.floor(num())); break;
      case '--all-frames': o.allFrames = true; break;
      case '--log': o.log = argv[++i] ?? null; break;
      default:
        if (a.startsWith('-') || o.file) throw new Error(`unknown argument ${a} (see --help)`);
        o.file = a;
    }
  }
  if (!o.file) throw new Error('give a .cpuprofile file (see --help)');
  return o;
}

interface Stretch {
  first: number;
  last: number;
  startUs: number;
  endUs: number;
  ms: number;
  /** for a logged stall: how the main thread spent it, from the log line */
  note?: string;
}

function frameName(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/(src|bench-dist|dist|bench|node_modules)\//, '$1/');
  return `${name} ${file}:${f.lineNumber + 1}`;
}

interface LoggedStall {
  stalledMs: number;
  monoUs: number;
  gcMs?: number;
  runMs?: number;
  waitMs?: number;
  majorFaults?: number;
}

/** "GC 9.4 ms; on a CPU 7.5, waiting for one 21.9, blocked 0.8 ms" (the tick's span, stall + 10 ms). */
function describeLogged(x: LoggedStall): string {
  const parts: string[] = [];
  if (typeof x.gcMs === 'number') parts.push(`GC ${x.gcMs} ms`);
  if (typeof x.runMs === 'number' && typeof x.waitMs === 'number') {
    const blocked = Math.max(0, x.stalledMs + 10 - x.runMs - x.waitMs);
    parts.push(`on a CPU ${x.runMs}, waiting for one ${x.waitMs}, blocked ${blocked.toFixed(1)} ms of ${(x.stalledMs + 10).toFixed(1)}`);
  }
  if (x.majorFaults) parts.push(`${x.majorFaults} major faults`);
  return parts.join('; ');
}

/** The "event loop stalled" lines of a server log (pino JSON, one object per line). */
function readStalls(file: string): LoggedStall[] {
  const out: LoggedStall[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"event loop stalled"')) continue;
    try {
      const o = JSON.parse(line) as Partial<LoggedStall>;
      if (typeof o.stalledMs === 'number' && typeof o.monoUs === 'number') out.push(o as LoggedStall);
    } catch {
      /* not a log object */
    }
  }
  return out;
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const p = JSON.parse(readFileSync(o.file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));

  // Sample times (µs since the profile's start).
  const t = new Float64Array(p.samples.length);
  let acc = 0;
  for (let i = 0; i < p.samples.length; i++) {
    acc += p.timeDeltas[i] ?? 0;
    t[i] = acc;
  }
  /** index of the first sample at or after `us` */
  const sampleAt = (us: number): number => {
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t[mid]! < us) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  let list: Stretch[];
  let what: string;
  if (o.log) {
    // A stall the server logged ended at monoUs (the profile's clock) and began stalledMs plus
    // one timer tick (10 ms) before at the earliest.
    list = readStalls(o.log)
      .map((x) => {
        const endUs = x.monoUs - p.startTime;
        const startUs = endUs - (x.stalledMs + 10) * 1000;
        return { first: sampleAt(startUs), last: sampleAt(endUs) - 1, startUs, endUs, ms: x.stalledMs, note: describeLogged(x) };
      })
      .filter((s) => s.ms >= o.minMs && s.startUs >= 0 && s.endUs <= t[t.length - 1]! && s.startUs / 1e6 >= o.fromS && s.startUs / 1e6 < o.toS)
      .sort((a, b) => b.ms - a.ms);
    what = `logged stalls ≥ ${o.minMs} ms (their span includes one 10 ms timer tick)`;
  } else {
    // Busy stretches, joined over short idle gaps. A sample's time is when it was taken; it
    // stands for the interval up to the next sample.
    const stretches: Stretch[] = [];
    let cur: Stretch | null = null;
    for (let i = 0; i < p.samples.length; i++) {
      const end = i + 1 < t.length ? t[i + 1]! : t[i]!;
      if (idle.has(p.samples[i]!)) continue;
      if (cur && t[i]! - cur.endUs <= o.gapMs * 1000) {
        cur.last = i;
        cur.endUs = end;
        cur.ms = (end - cur.startUs) / 1000;
      } else {
        if (cur) stretches.push(cur);
        cur = { first: i, last: i, startUs: t[i]!, endUs: end, ms: (end - t[i]!) / 1000 };
      }
    }
    if (cur) stretches.push(cur);
    list = stretches
      .filter((s) => s.ms >= o.minMs && s.startUs / 1e6 >= o.fromS && s.startUs / 1e6 < o.toS)
      .sort((a, b) => b.ms - a.ms);
    what = `busy stretches ≥ ${o.minMs} ms`;
  }
  const totalS = (p.endTime - p.startTime) / 1e6;
  process.stdout.write(`${o.file}: ${totalS.toFixed(1)} s, ${p.samples.length} samples; ${list.length} ${what}\n`);
  // the server's own code (src/, or its compiled copy) and V8's entries (GC, program), not Node's or libraries'
  const ours = (f: CallFrame): boolean => o.allFrames || f.url === '' || !(f.url.startsWith('node:') || f.url.includes('/node_modules/'));
  for (const s of list) {
    const counts = new Map<string, number>();
    const self = new Map<string, number>();
    let n = 0;
    let idleN = 0;
    for (let i = s.first; i <= s.last; i++) {
      const id = p.samples[i]!;
      if (idle.has(id)) {
        idleN++;
        continue;
      }
      n++;
      const leafName = frameName(byId.get(id)!.callFrame);
      self.set(leafName, (self.get(leafName) ?? 0) + 1);
      const seen = new Set<string>();
      for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
        const f = byId.get(x)!.callFrame;
        if (f.functionName === '(root)' || !ours(f)) continue;
        const name = frameName(f);
        if (seen.has(name)) continue;
        seen.add(name);
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
    const fmt = (m: Map<string, number>): string =>
      [...m].sort((a, b) => b[1] - a[1]).slice(0, o.top).map(([k, v]) => `    ${String(v).padStart(5)}  ${k}`).join('\n');
    process.stdout.write(
      `\n${(s.startUs / 1e6).toFixed(2)} s: ${s.ms.toFixed(1)} ms, ${n} busy samples, ${idleN} idle\n` +
        (s.note ? `  ${s.note}\n` : '') +
        `  on the stack:\n${fmt(counts)}\n  self:\n${fmt(self)}\n`,
    );
  }
}

main();
