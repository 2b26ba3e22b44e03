// The peer benchmark's workload (see ../shared/peer-figures.md, "The workload"): 128 streams
// (16 loghub jobs x 8 hosts) fed from the loghub *_2k.log files with seeded, skewed stream
// weights and seeded perturbation of digits and hex tokens, a needle every 100,000 lines, unique
// evenly spaced timestamps over the 2 hours ending 60 s ago, and protobuf+snappy batches that
// close at >= 1 MiB of line bytes, built per sender (sender k owns streams with index % 4 == k)
// before the timed ingest starts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePushRequestSnappy } from '../src/push/index.js';

export const NEEDLE = 'needle-7f3a9c';
const NEEDLE_SUFFIX = ' ' + NEEDLE;
export const NEEDLE_EVERY = 100_000;
export const NEEDLE_AT = 50_000;
export const HOSTS = 8;
export const SENDERS = 4;
export const BATCH_LINE_BYTES = 1 << 20;
const NAMESPACES = ['prod', 'staging', 'infra', 'data'] as const;

/** Small, fast, seedable PRNG (mulberry32): the same seed gives the same workload everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
}

export interface LoghubJob {
  job: string;
  /** raw lines (trailing CR removed, empty lines dropped) */
  lines: string[];
  /** the same lines as UTF-8 bytes */
  bytes: Buffer[];
}

export function loghubDir(root: string): string {
  return join(root, '../shared/data/loghub');
}

/** The 16 loghub systems, alphabetical by job name (android, apache, bgl, ...). */
export function loadLoghub(dir: string): LoghubJob[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('_2k.log'));
  } catch (e) {
    throw new Error(`cannot read the loghub corpus in ${dir} (${(e as Error).message}); it ships in ../shared/data/loghub`);
  }
  if (files.length === 0) throw new Error(`no *_2k.log files in ${dir}`);
  const jobs = files.map((f) => {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.length > 0);
    return { job: f.slice(0, -'_2k.log'.length).toLowerCase(), lines, bytes: lines.map((l) => Buffer.from(l, 'utf8')) };
  });
  jobs.sort((a, b) => (a.job < b.job ? -1 : a.job > b.job ? 1 : 0));
  return jobs;
}

export interface StreamDef {
  index: number;
  job: string;
  host: string;
  namespace: string;
  /** label string as sent, names sorted */
  labels: string;
  jobIndex: number;
  hostIndex: number;
}

export function streamDefs(jobs: LoghubJob[]): StreamDef[] {
  const out: StreamDef[] = [];
  jobs.forEach((j, jobIndex) => {
    for (let h = 0; h < HOSTS; h++) {
      const host = `node-${String(h + 1).padStart(2, '0')}`;
      const namespace = NAMESPACES[jobIndex % 4]!;
      out.push({ index: out.length, job: j.job, host, namespace, jobIndex, hostIndex: h, labels: `{host="${host}", job="${j.job}", namespace="${namespace}"}` });
    }
  });
  return out;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLowerHex = (c: number): boolean => c >= 97 && c <= 102;
const isUpperHex = (c: number): boolean => c >= 65 && c <= 70;
const isAlnum = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const HEX_LOWER = Buffer.from('0123456789abcdef');
const HEX_UPPER = Buffer.from('0123456789ABCDEF');

/**
 * Perturbs `b` in place (lengths unchanged): a word made only of hex characters, at least 6
 * long, holding a digit and a letter, is fully randomised (letters keep their case); every other
 * run of >= 3 digits keeps its leading half and gets random trailing digits, except 4-digit
 * years 19xx/20xx, which are kept.
 */
export function perturb(b: Buffer, rng: Rng): void {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (!isAlnum(c)) {
      i++;
      continue;
    }
    // one word: maximal run of [A-Za-z0-9_]
    let j = i;
    let hexOnly = true;
    let digits = 0;
    let upper = false;
    while (j < n && isAlnum(b[j]!)) {
      const d = b[j]!;
      if (isDigit(d)) digits++;
      else if (isUpperHex(d)) upper = true;
      else if (!isLowerHex(d)) hexOnly = false;
      j++;
    }
    if (hexOnly && j - i >= 6 && digits > 0 && digits < j - i) {
      const alphabet = upper ? HEX_UPPER : HEX_LOWER;
      for (let k = i; k < j; k++) b[k] = alphabet[rng.u32() & 15]!;
    } else if (digits >= 3) {
      let k = i;
      while (k < j) {
        if (!isDigit(b[k]!)) {
          k++;
          continue;
        }
        let e = k;
        while (e < j && isDigit(b[e]!)) e++;
        const len = e - k;
        const year = len === 4 && ((b[k] === 49 && b[k + 1] === 57) || (b[k] === 50 && b[k + 1] === 48));
        if (len >= 3 && !year) {
          for (let p = k + (len >> 1); p < e; p++) b[p] = 48 + (rng.u32() % 10);
        }
        k = e;
      }
    }
    i = j;
  }
}

export interface Needle {
  labels: string;
  tsNs: bigint;
  line: string;
}

export interface Workload {
  streams: StreamDef[];
  lines: number;
  rawBytes: number;
  /** first and last entry timestamps (ns) */
  firstNs: bigint;
  lastNs: bigint;
  needles: Needle[];
  /** snappy bodies per sender, in send order */
  bodies: Buffer[][];
  pushes: number;
  wireBytes: number;
  linesByJob: Map<string, number>;
  /** hadoop lines matching q2's `error|fail(ed)?` */
  q2Matches: number;
  /** infra lines in q4's window [last - 15 min, last) */
  q4Lines: number;
  seed: number;
  buildSeconds: number;
}

/** Stream weights uniform in [0.25, 1.75]; returns cumulative sums for weighted picks. */
function cumulativeWeights(n: number, rng: Rng): Float64Array {
  const cum = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += 0.25 + 1.5 * rng.float();
    cum[i] = acc;
  }
  return cum;
}

function pick(cum: Float64Array, r: number): number {
  const x = r * cum[cum.length - 1]!;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Generates the workload for `targetBytes` raw line bytes. Pass 1 only walks the stream picks and
 * line lengths to count the lines (timestamps need the total); pass 2 replays the same picks,
 * perturbs the lines and builds the batches.
 */
export function buildWorkload(jobs: LoghubJob[], targetBytes: number, seed: number, endMs: number, progress?: (msg: string) => void): Workload {
  const t0 = performance.now();
  const streams = streamDefs(jobs);
  const nStreams = streams.length;
  const jobOf = streams.map((s) => jobs[s.jobIndex]!);
  const startCursor = (s: StreamDef): number => (251 * s.hostIndex) % jobs[s.jobIndex]!.lines.length;

  // pass 1: count lines
  let lines = 0;
  let rawBytes = 0;
  {
    const rng = new Rng(seed);
    const cum = cumulativeWeights(nStreams, rng);
    const cursor = streams.map(startCursor);
    while (rawBytes < targetBytes) {
      const si = pick(cum, rng.float());
      const j = jobOf[si]!;
      const c = cursor[si]!;
      rawBytes += j.bytes[c]!.length + (lines % NEEDLE_EVERY === NEEDLE_AT ? NEEDLE_SUFFIX.length : 0);
      cursor[si] = c + 1 === j.lines.length ? 0 : c + 1;
      lines++;
    }
  }
  const endNs = BigInt(endMs) * 1_000_000n;
  const spanNs = 7_200_000_000_000;
  const stepNs = Math.floor(spanNs / lines);
  const startNs = endNs - BigInt(spanNs);

  // pass 2: generate and batch
  const rng = new Rng(seed);
  const cum = cumulativeWeights(nStreams, rng);
  const prng = new Rng(seed ^ 0x9e3779b9);
  const cursor = streams.map(startCursor);
  const needles: Needle[] = [];
  const linesByJob = new Map<string, number>();
  const bodies: Buffer[][] = Array.from({ length: SENDERS }, () => []);
  type Pending = { byStream: Map<number, { tsNs: bigint; line: string }[]>; bytes: number };
  const pending: Pending[] = Array.from({ length: SENDERS }, () => ({ byStream: new Map(), bytes: 0 }));
  let wireBytes = 0;
  let pushes = 0;
  const close = (k: number): void => {
    const p = pending[k]!;
    if (p.byStream.size === 0) return;
    const body = encodePushRequestSnappy([...p.byStream].map(([si, entries]) => ({ labels: streams[si]!.labels, entries })));
    bodies[k]!.push(body);
    wireBytes += body.length;
    pushes++;
    p.byStream = new Map();
    p.bytes = 0;
  };
  const scratch = Buffer.alloc(64 * 1024);
  let raw2 = 0;
  let q2Matches = 0;
  let q4Lines = 0;
  const lastNs = startNs + BigInt((lines - 1) * stepNs);
  const q4From = lastNs - 900_000_000_000n;
  for (let i = 0; i < lines; i++) {
    const si = pick(cum, rng.float());
    const s = streams[si]!;
    const j = jobOf[si]!;
    const c = cursor[si]!;
    cursor[si] = c + 1 === j.lines.length ? 0 : c + 1;
    const src = j.bytes[c]!;
    const buf = src.length <= scratch.length ? scratch.subarray(0, src.length) : Buffer.alloc(src.length);
    src.copy(buf);
    perturb(buf, prng);
    let line = buf.toString('utf8');
    const tsNs = startNs + BigInt(i * stepNs);
    if (i % NEEDLE_EVERY === NEEDLE_AT) {
      line += NEEDLE_SUFFIX;
      needles.push({ labels: s.labels, tsNs, line });
    }
    const lineBytes = Buffer.byteLength(line);
    raw2 += lineBytes;
    linesByJob.set(s.job, (linesByJob.get(s.job) ?? 0) + 1);
    if (s.job === 'hadoop' && (line.includes('error') || line.includes('fail'))) q2Matches++;
    if (s.namespace === 'infra' && tsNs >= q4From && tsNs < lastNs) q4Lines++;
    const k = si % SENDERS;
    const p = pending[k]!;
    let list = p.byStream.get(si);
    if (!list) p.byStream.set(si, (list = []));
    list.push({ tsNs, line });
    p.bytes += lineBytes;
    if (p.bytes >= BATCH_LINE_BYTES) close(k);
    if (progress && i > 0 && i % 1_000_000 === 0) progress(`generated ${i.toLocaleString('en-US')} / ${lines.toLocaleString('en-US')} lines`);
  }
  for (let k = 0; k < SENDERS; k++) close(k);
  if (raw2 !== rawBytes) throw new Error(`workload generator bug: pass 1 counted ${rawBytes} bytes, pass 2 produced ${raw2}`);
  return {
    streams, lines, rawBytes, firstNs: startNs, lastNs, needles, bodies, pushes, wireBytes, linesByJob, q2Matches, q4Lines, seed,
    buildSeconds: (performance.now() - t0) / 1000,
  };
}
