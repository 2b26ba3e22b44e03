// The engine behind `bramble export` and `bramble import`: reads a log query out of one
// Loki-compatible server with query_range (forward, time windows, paged without gaps or
// duplicates by pager.ts) and pushes it into another as protobuf+snappy batches of ~1 MiB,
// keeping exact ns timestamps, stream labels and structured metadata (categorize-labels).
// Batches are rate-limited; pushes and reads retry 429/5xx with backoff. After every push a
// checkpoint (cursor + per-stream frontier) is written atomically, so an interrupted run resumes
// with --resume exactly where it stopped; SIGINT finishes the batch in flight before stopping.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { encodePushRequestSnappy } from '../push/index.js';
import type { Labels } from '../util/labels.js';
import { rfc3339Nano } from '../util/time.js';
import { HttpStatusError, LokiClient, sleep, type Endpoint, type RetryPolicy } from './client.js';
import { Frontier, leadingSelector, pageWindow, type FrontierJson, type LogEntry } from './pager.js';
import { fmtBytes, fmtDuration, Progress } from './progress.js';

export interface TransferOptions {
  command: 'export' | 'import';
  source: Endpoint;
  dest: Endpoint;
  query: string;
  startNs: bigint;
  endNs: bigint;
  windowNs: bigint;
  pageSize: number;
  batchBytes: number;
  /** bytes per second, 0 = unlimited */
  rateBytes: number;
  checkpointPath: string;
  resume: boolean;
  skipRejected: boolean;
  quiet: boolean;
  retry: RetryPolicy;
  stderr: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  /** set to request a graceful stop (SIGINT): the batch in flight is pushed and checkpointed */
  stop: { requested: boolean };
}

export interface TransferSummary {
  lines: number;
  bytes: number;
  pushes: number;
  streams: number;
  retries: number;
  rejectedBatches: number;
  rejectedLines: number;
  seconds: number;
  interrupted: boolean;
  resumedFrom?: bigint;
}

interface Checkpoint {
  version: 1;
  command: string;
  source: string;
  dest: string;
  query: string;
  start: string;
  end: string;
  /** every entry before this timestamp has been pushed */
  cursor: string;
  /** streams at the cursor: last pushed timestamp and digests of the entries pushed at it */
  frontier: FrontierJson;
  lines: number;
  bytes: number;
  updatedAt: string;
}

function loadCheckpoint(o: TransferOptions): Checkpoint | null {
  if (!existsSync(o.checkpointPath)) {
    if (o.resume) o.stderr.write(`${o.command}: no checkpoint at ${o.checkpointPath}; starting from the beginning\n`);
    return null;
  }
  if (!o.resume) {
    throw new Error(
      `checkpoint ${o.checkpointPath} exists from an earlier run: pass --resume to continue it, ` +
      `or delete the file (or choose another --checkpoint) to start over`,
    );
  }
  let cp: Checkpoint;
  try {
    cp = JSON.parse(readFileSync(o.checkpointPath, 'utf8')) as Checkpoint;
  } catch (e) {
    throw new Error(`cannot read checkpoint ${o.checkpointPath}: ${(e as Error).message}`);
  }
  const mismatch: string[] = [];
  if (cp.version !== 1) mismatch.push(`version ${cp.version}`);
  if (cp.source !== o.source.base) mismatch.push(`source ${cp.source}`);
  if (cp.dest !== o.dest.base) mismatch.push(`destination ${cp.dest}`);
  if (cp.query !== o.query) mismatch.push(`query ${cp.query}`);
  if (BigInt(cp.start) !== o.startNs) mismatch.push(`start ${rfc3339Nano(BigInt(cp.start))}`);
  if (mismatch.length) {
    throw new Error(
      `checkpoint ${o.checkpointPath} belongs to a different ${o.command} (${mismatch.join(', ')}); ` +
      `rerun with the same --query/--source/--to/--from, or delete the checkpoint`,
    );
  }
  return cp;
}

function saveCheckpoint(path: string, cp: Checkpoint): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(cp));
  renameSync(tmp, path);
}

function entryBytes(e: LogEntry): number {
  let n = Buffer.byteLength(e.line) + 16;
  for (const l of e.sm) n += l.name.length + l.value.length + 4;
  return n;
}

function hint(e: HttpStatusError): string {
  const b = e.body;
  if (/too old|reject_old_samples|older than/i.test(b)) {
    return 'the destination refuses old samples: set limits_config.reject_old_samples: false (or raise reject_old_samples_max_age) there';
  }
  if (/too far behind|out of order/i.test(b)) return 'the destination already holds newer entries for these streams (out-of-order window)';
  if (/max entry size|line too long/i.test(b)) return 'the destination refuses long lines: raise limits_config.max_line_size there (or pass --skip-rejected)';
  if (/structured metadata/i.test(b)) return 'the destination does not accept structured metadata: set limits_config.allow_structured_metadata: true there';
  if (e.status === 401 || e.status === 403) return 'check credentials (user:password@ in the URL, or --header "Authorization: ...") and --tenant';
  if (/no org id|X-Scope-OrgID/i.test(b)) return 'the destination runs multi-tenant: pass --tenant';
  return 'pass --skip-rejected to log rejected batches and continue';
}

export async function runTransfer(o: TransferOptions): Promise<TransferSummary> {
  const t0 = Date.now();
  let retries = 0;
  const retry: RetryPolicy = {
    ...o.retry,
    onRetry: (err, attempt, waitMs) => {
      retries++;
      o.stderr.write(`${o.stderr.isTTY ? '\n' : ''}${o.command}: ${err.message.split('\n')[0]}; retry ${attempt} in ${(waitMs / 1000).toFixed(1)}s\n`);
    },
  };
  const src = new LokiClient(o.source, retry);
  const dst = new LokiClient(o.dest, retry);
  const cp = loadCheckpoint(o);
  const frontier = cp ? Frontier.fromJSON('forward', cp.frontier) : new Frontier('forward');
  const committed = cp ? Frontier.fromJSON('forward', cp.frontier) : new Frontier('forward');
  let cursor = cp ? BigInt(cp.cursor) : o.startNs;
  let lines = cp?.lines ?? 0;
  let bytes = cp?.bytes ?? 0;
  const startLines = lines;
  const startBytes = bytes;
  if (cp) o.stderr.write(`${o.command}: resuming from ${rfc3339Nano(cursor)} (${lines.toLocaleString('en-US')} lines already done)\n`);

  // Size estimate for the progress bar (entries in the range), if the source answers index/stats.
  let totalEntries = NaN;
  const sel = leadingSelector(o.query);
  if (sel && !o.quiet) {
    try {
      const st = await new LokiClient(o.source, { attempts: 1, minBackoffMs: 0, maxBackoffMs: 0 }).getJson<{ entries?: number }>(
        '/loki/api/v1/index/stats', { query: sel, start: o.startNs.toString(), end: o.endNs.toString() },
      );
      if (typeof st.entries === 'number' && st.entries > 0) totalEntries = st.entries;
    } catch {
      // no estimate: fall back to the share of the time range covered
    }
  }
  const span = Number(o.endNs - o.startNs) || 1;
  const fraction = (): number => (Number.isFinite(totalEntries) ? Math.min(0.999, lines / totalEntries) : Number(cursor - o.startNs) / span);
  const progress = new Progress(o.stderr, !o.quiet, o.command, lines);
  progress.setStartFraction(fraction());

  const streamsSeen = new Set<string>();
  let pushes = 0;
  let rejectedBatches = 0;
  let rejectedLines = 0;
  let rejected = false;
  let warnedUncategorized = false;
  let batch = new Map<string, { labels: string; entries: { tsNs: bigint; line: string; structuredMetadata: Labels }[] }>();
  let batchList: LogEntry[] = [];
  let batchBytes = 0;
  let nextFree = Date.now();
  let lastSave = 0;

  const checkpoint = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - lastSave < 2000) return;
    lastSave = now;
    committed.prune(cursor);
    saveCheckpoint(o.checkpointPath, {
      version: 1, command: o.command, source: o.source.base, dest: o.dest.base, query: o.query,
      start: o.startNs.toString(), end: o.endNs.toString(), cursor: cursor.toString(), frontier: committed.toJSON(),
      lines, bytes, updatedAt: new Date().toISOString(),
    });
  };

  /** Pushes the batch; afterwards every entry before `after` is at the destination. */
  const flush = async (after: bigint): Promise<void> => {
    if (batchList.length === 0) {
      cursor = after;
      checkpoint(false);
      return;
    }
    const body = encodePushRequestSnappy([...batch.values()]);
    if (o.rateBytes > 0) {
      const now = Date.now();
      const at = Math.max(now, nextFree);
      nextFree = at + (batchBytes / o.rateBytes) * 1000;
      if (at > now) await sleep(at - now);
    }
    try {
      await dst.push(body);
      pushes++;
    } catch (e) {
      if (!(e instanceof HttpStatusError) || e.status === 429 || e.status >= 500 || !o.skipRejected) {
        if (e instanceof HttpStatusError && e.status !== 429 && e.status < 500) {
          const msg = e.message.length > 800 ? `${e.message.slice(0, 800)}...` : e.message;
          throw new Error(`${msg}\nhint: ${hint(e)}; then rerun with --resume (checkpoint ${o.checkpointPath})`);
        }
        throw e;
      }
      rejectedBatches++;
      rejectedLines += batchList.length;
      rejected = true;
      o.stderr.write(`${o.stderr.isTTY ? '\n' : ''}${o.command}: batch of ${batchList.length} lines (${rfc3339Nano(batchList[0]!.tsNs)} .. ${rfc3339Nano(batchList[batchList.length - 1]!.tsNs)}) rejected: ${e.body.trim().split('\n').slice(0, 3).join(' | ')}\n`);
    }
    for (const e of batchList) committed.admit(e);
    if (!rejected) {
      lines += batchList.length;
      bytes += batchBytes;
    }
    rejected = false;
    cursor = after;
    batch = new Map();
    batchList = [];
    batchBytes = 0;
    checkpoint(true);
    progress.update({ lines, bytes, fraction: fraction() });
  };

  let interrupted = false;
  const windowStart = (c: bigint): bigint => o.startNs + ((c - o.startNs) / o.windowNs) * o.windowNs;
  outer: for (let ws = windowStart(cursor); ws < o.endNs; ws += o.windowNs) {
    const we = ws + o.windowNs < o.endNs ? ws + o.windowNs : o.endNs;
    const from = cursor > ws ? cursor : ws;
    for await (const pw of pageWindow(src, o.query, ws, we, 'forward', o.pageSize, frontier, from)) {
      if (!pw.categorized && !warnedUncategorized && pw.entries.length) {
        warnedUncategorized = true;
        o.stderr.write(`${o.command}: the source ignores categorize-labels (Loki < 3.0?): structured metadata cannot be told apart and is copied as stream labels\n`);
      }
      const es = pw.entries;
      for (let i = 0; i < es.length; i++) {
        const e = es[i]!;
        streamsSeen.add(e.stream);
        let s = batch.get(e.stream);
        if (!s) {
          s = { labels: e.stream, entries: [] };
          batch.set(e.stream, s);
        }
        s.entries.push({ tsNs: e.tsNs, line: e.line, structuredMetadata: e.sm });
        batchList.push(e);
        batchBytes += entryBytes(e);
        if (batchBytes >= o.batchBytes) {
          await flush(i + 1 < es.length ? es[i + 1]!.tsNs : pw.cursor);
          if (o.stop.requested) {
            interrupted = true;
            break outer;
          }
        }
      }
      if (batchList.length === 0) {
        cursor = pw.cursor;
        checkpoint(false);
      }
      progress.update({ lines: lines + batchList.length, bytes: bytes + batchBytes, fraction: fraction() });
      if (o.stop.requested) {
        await flush(pw.cursor);
        interrupted = true;
        break outer;
      }
    }
  }
  if (!interrupted) {
    await flush(o.endNs);
    rmSync(o.checkpointPath, { force: true });
  } else {
    checkpoint(true);
  }
  progress.update({ lines, bytes, fraction: interrupted ? fraction() : 1 }, true);
  progress.done();
  const seconds = (Date.now() - t0) / 1000;
  const summary: TransferSummary = {
    lines: lines - startLines, bytes: bytes - startBytes, pushes, streams: streamsSeen.size, retries, rejectedBatches, rejectedLines, seconds, interrupted,
  };
  if (cp) summary.resumedFrom = BigInt(cp.cursor);
  return summary;
}

export function formatSummary(command: string, s: TransferSummary, checkpointPath: string): string {
  const rate = s.seconds > 0 ? Math.round(s.lines / s.seconds) : 0;
  let out = `${command} ${s.interrupted ? 'interrupted' : 'done'}: ${s.lines.toLocaleString('en-US')} lines, ${fmtBytes(s.bytes)} ` +
    `from ${s.streams} streams in ${fmtDuration(s.seconds)} (${rate.toLocaleString('en-US')} lines/s, ${s.pushes} pushes, ${s.retries} retries` +
    `${s.rejectedBatches ? `, ${s.rejectedBatches} batches with ${s.rejectedLines.toLocaleString('en-US')} lines rejected` : ''})`;
  if (s.resumedFrom !== undefined) out += `; resumed from ${rfc3339Nano(s.resumedFrom)}`;
  if (s.interrupted) out += `\nprogress saved in ${checkpointPath}: run the same command with --resume to continue`;
  return out + '\n';
}
