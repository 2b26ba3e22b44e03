// The background compactor (Loki's compactor, in-process): every compaction_interval it
// (1) unlinks chunk files whose removal from the index is older than retention_delete_delay,
// (2) with retention_enabled, drops chunks past their stream's retention period (a chunk is
//     expired only when its newest entry is, as Loki does), then applies due delete requests
//     by rewriting the affected chunks without the matching entries,
// (3) enforces the disk cap (retention_max_disk_bytes / _percent, a Bramble extension after
//     loki#5659) by dropping the chunks with the oldest data first,
// (4) merges each stream's small chunks (many small flushes) into chunks near the target size.
// Every index change is one SQLite transaction (IndexDb.swapChunks) made after the new chunk
// file is fsynced and renamed; old files are only unlinked later, so a SIGKILL at any point
// leaves either the old or the new chunks indexed, never both. Files the index does not know
// (a write interrupted before its transaction) are removed at start by cleanOrphans().
import { readdirSync, statfsSync, statSync, unlinkSync, type Dirent } from 'node:fs';
import { unlink as unlinkAsync } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import type { Ingester, Logger } from '../head/ingester.js';
import type { ChunkRow, NewChunk } from '../index/index-db.js';
import { readChunkFooter } from '../chunk/chunk-file.js';
import { parseLabelsString } from '../util/labels.js';
import { dayOf } from '../util/time.js';
import { CompiledDelete } from './deletion.js';
import { RetentionRules } from './retention.js';
import { rewriteChunks } from './rewrite.js';

/** Files unlinked at once on the thread pool (it has 4 threads, shared with every other file operation). */
const UNLINK_BATCH = 4;

export interface CompactorMetrics {
  runs: number;
  runFailures: number;
  lastRunMs: number;
  chunksDeleted: { retention: number; disk_cap: number; delete_request: number };
  chunksMerged: number;
  chunksWritten: number;
  filesRemoved: number;
  deleteRequestsProcessed: number;
  diskUsedBytes: number;
  diskCapBytes: number;
}

export interface RunReport {
  retentionDropped: number;
  diskCapDropped: number;
  deleteRequests: number;
  deleteRewritten: number;
  merged: { inputs: number; outputs: number };
  filesRemoved: number;
  ms: number;
}

let nameSeq = 0;

export class Compactor {
  readonly metrics: CompactorMetrics = {
    runs: 0, runFailures: 0, lastRunMs: 0, chunksDeleted: { retention: 0, disk_cap: 0, delete_request: 0 },
    chunksMerged: 0, chunksWritten: 0, filesRemoved: 0, deleteRequestsProcessed: 0, diskUsedBytes: 0, diskCapBytes: 0,
  };
  private readonly rules: RetentionRules;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RunReport> | null = null;
  private stopped = false;

  constructor(
    private readonly config: Config,
    private readonly ingester: Ingester,
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {
    this.rules = new RetentionRules(config.limits);
  }

  /** true while a compaction run is under way */
  get isRunning(): boolean {
    return this.running !== null;
  }

  get deletionEnabled(): boolean {
    return this.config.compactor.retentionEnabled && this.config.limits.deletionMode !== 'disabled';
  }

  private get index() {
    return this.ingester.index;
  }

  /** Start-up work (before any flush can run): finish interrupted deletions, remove orphans. */
  recover(): { filesRemoved: number; orphansRemoved: number } {
    const filesRemoved = this.removeAllPending();
    const orphansRemoved = this.cleanOrphans();
    return { filesRemoved, orphansRemoved };
  }

  start(): void {
    const tick = (): void => {
      this.timer = null;
      if (this.stopped) return;
      void this.run()
        .catch(() => {})
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.config.compactor.compactionIntervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.config.compactor.compactionIntervalMs).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running.catch(() => {});
  }

  /** One compaction pass (runs are serialized). */
  run(now = Date.now()): Promise<RunReport> {
    const prev = this.running ?? Promise.resolve(null);
    const next = prev.catch(() => null).then(() => this.runOnce(now));
    this.running = next;
    void next.finally(() => {
      if (this.running === next) this.running = null;
    }).catch(() => {});
    return next;
  }

  private async runOnce(now: number): Promise<RunReport> {
    const started = Date.now();
    const rep: RunReport = { retentionDropped: 0, diskCapDropped: 0, deleteRequests: 0, deleteRewritten: 0, merged: { inputs: 0, outputs: 0 }, filesRemoved: 0, ms: 0 };
    try {
      rep.filesRemoved = await this.removePendingAsync(now);
      if (this.config.compactor.retentionEnabled) {
        rep.retentionDropped = this.applyRetention(now);
        if (this.deletionEnabled) await this.applyDeleteRequests(now, rep);
      }
      rep.diskCapDropped = this.enforceDiskCap(now);
      if (this.config.compactor.mergeEnabled && !this.stopped) await this.mergeSmallChunks(now, rep);
      rep.ms = Date.now() - started;
      this.metrics.runs++;
      this.metrics.lastRunMs = rep.ms;
      if (rep.retentionDropped || rep.diskCapDropped || rep.deleteRequests || rep.merged.inputs || rep.filesRemoved) {
        this.log.info({ component: 'compactor', ...rep }, 'compaction finished');
      }
      return rep;
    } catch (e) {
      this.metrics.runFailures++;
      this.log.error({ component: 'compactor', err: (e as Error).message }, 'compaction failed; will retry next interval');
      throw e;
    }
  }

  // ---------------------------------------------------------------- index swaps

  private deleteAt(now: number): number {
    return now + this.config.compactor.retentionDeleteDelayMs;
  }

  /** Removes chunk rows (files go to pending deletion) and keeps the ingester's ranges in step. */
  private swap(oldIds: number[], added: { streamId: number; chunk: NewChunk }[], now: number): boolean {
    const r = this.index.swapChunks(oldIds, added, this.deleteAt(now));
    for (const [sid, range] of r.ranges) this.ingester.setFlushedRange(sid, range.minTs, range.maxTs);
    return r.ok;
  }

  /** Unlinks every file waiting for deletion, due or not (synchronously: start-up, before serving); returns how many went. */
  private removeAllPending(): number {
    const due = this.index.pendingDeletes(Infinity, true);
    const outcomes: (Error | null)[] = [];
    for (const p of due) {
      try {
        unlinkSync(p.path);
        outcomes.push(null);
      } catch (e) {
        outcomes.push(e as Error);
      }
    }
    return this.settleRemovals(due, outcomes);
  }

  /**
   * removeAllPending for a running server, for the files that are due: the unlinks run on the thread pool, UNLINK_BATCH at a
   * time, and the index forgets the removed files in one transaction. Done synchronously, the
   * unlinks of one interval's merges (hundreds of small files, each with its own index update)
   * stalled the event loop 65-134 ms a minute in the soak (compaction every minute there).
   */
  private async removePendingAsync(now: number): Promise<number> {
    const due = this.index.pendingDeletes(now);
    const outcomes: (Error | null)[] = [];
    for (let i = 0; i < due.length; i += UNLINK_BATCH) {
      const rs = await Promise.allSettled(due.slice(i, i + UNLINK_BATCH).map((p) => unlinkAsync(p.path)));
      for (const r of rs) outcomes.push(r.status === 'fulfilled' ? null : (r.reason as Error));
    }
    return this.settleRemovals(due, outcomes);
  }

  /** Forgets the files that are gone (removed now, or already: ENOENT); the rest stay pending. */
  private settleRemovals(due: { path: string }[], outcomes: (Error | null)[]): number {
    const gone: string[] = [];
    let n = 0;
    due.forEach((p, i) => {
      const e = outcomes[i];
      if (!e) n++;
      else if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn({ component: 'compactor', path: p.path, err: e.message }, 'cannot remove chunk file; will retry');
        return;
      }
      gone.push(p.path);
    });
    this.index.donePendingDeletes(gone);
    this.metrics.filesRemoved += n;
    return n;
  }

  // ---------------------------------------------------------------- retention

  private applyRetention(now: number): number {
    if (!this.rules.active) return 0;
    let dropped = 0;
    for (const s of this.index.loadStreams()) {
      if (s.maxTs === null) continue;
      const period = this.rules.periodFor(parseLabelsString(s.labels));
      if (period <= 0) continue;
      const cutoff = BigInt(now - period) * 1_000_000n;
      if (s.minTs !== null && s.minTs >= cutoff) continue;
      const expired = this.index.streamChunks(s.id).filter((c) => c.maxTs < cutoff);
      if (expired.length === 0) continue;
      if (this.swap(expired.map((c) => c.id), [], now)) dropped += expired.length;
    }
    this.metrics.chunksDeleted.retention += dropped;
    return dropped;
  }

  // ---------------------------------------------------------------- delete requests

  private async applyDeleteRequests(now: number, rep: RunReport): Promise<void> {
    const due = this.index.deleteRequests().filter((r) => r.status === 'received' && r.createdAtMs + this.config.compactor.deleteRequestCancelPeriodMs <= now);
    if (due.length === 0) return;
    // Entries still in memory heads must be in chunks before the request is marked processed.
    await this.ingester.flush(true);
    const streams = this.index.loadStreams();
    for (const row of due) {
      if (this.stopped) return;
      let del: CompiledDelete;
      try {
        del = new CompiledDelete(row);
      } catch {
        this.index.markDeleteRequestProcessed(row.tenant, row.requestId, row.seq);
        continue;
      }
      for (const s of streams) {
        if (s.tenant !== row.tenant || s.maxTs === null) continue;
        const labels = parseLabelsString(s.labels);
        if (!del.matchesStream(labels)) continue;
        for (const c of this.index.streamChunks(s.id)) {
          if (c.maxTs < del.startNs || c.minTs > del.endNs) continue;
          if (del.wholeStreams && c.minTs >= del.startNs && c.maxTs <= del.endNs) {
            if (this.swap([c.id], [], now)) this.metrics.chunksDeleted.delete_request++;
            continue;
          }
          const path = this.newChunkPath(s.tenant, s.fingerprint, c.minTs);
          const res = await rewriteChunks([c.path], { path, tenant: s.tenant, labels: s.labels }, this.config.ingester.chunkBlockSize, del.keepFn(labels), { onlyIfChanged: true });
          if (res.removed === 0) continue;
          const added = res.summary ? [{ streamId: s.id, chunk: toNewChunk(res.summary) }] : [];
          if (this.swap([c.id], added, now)) {
            rep.deleteRewritten++;
            if (!res.summary) this.metrics.chunksDeleted.delete_request++;
            else this.metrics.chunksWritten++;
          } else if (res.summary) {
            unlinkQuiet(res.summary.path);
          }
        }
      }
      this.index.markDeleteRequestProcessed(row.tenant, row.requestId, row.seq);
      this.metrics.deleteRequestsProcessed++;
      rep.deleteRequests++;
      this.log.info({ component: 'compactor', request_id: row.requestId, tenant: row.tenant, query: row.query }, 'delete request processed');
    }
  }

  // ---------------------------------------------------------------- disk cap

  /** Bytes the data directory uses now (indexed chunks, WAL, index database; not files pending removal). */
  diskUsage(): { used: number; cap: number; excess: number } {
    const cfg = this.config.compactor;
    const { indexed, pending } = this.index.chunkBytes();
    let other = this.ingester.wal.diskBytes();
    for (const f of ['index.db', 'index.db-wal', 'index.db-shm']) {
      try {
        other += statSync(join(this.dataDir, f)).size;
      } catch { /* absent */ }
    }
    const used = indexed + other;
    let cap = Infinity;
    if (cfg.retentionMaxDiskBytes > 0) cap = cfg.retentionMaxDiskBytes;
    if (cfg.retentionMaxDiskPercent > 0) {
      const st = statfsSync(this.dataDir);
      const total = Number(st.blocks) * Number(st.bsize);
      const volUsed = (Number(st.blocks) - Number(st.bfree)) * Number(st.bsize) - pending;
      const volCap = (total * cfg.retentionMaxDiskPercent) / 100;
      cap = Math.min(cap, Math.max(0, used - (volUsed - volCap)));
    }
    this.metrics.diskUsedBytes = used + pending;
    this.metrics.diskCapBytes = cap === Infinity ? 0 : Math.floor(cap);
    return { used, cap, excess: cap === Infinity ? 0 : used - cap };
  }

  private enforceDiskCap(now: number): number {
    const cfg = this.config.compactor;
    if (cfg.retentionMaxDiskBytes <= 0 && cfg.retentionMaxDiskPercent <= 0) {
      this.diskUsage();
      return 0;
    }
    let { excess } = this.diskUsage();
    if (excess <= 0) return 0;
    let dropped = 0;
    while (excess > 0) {
      const batch = this.index.oldestChunks(256);
      if (batch.length === 0) break;
      const take: ChunkRow[] = [];
      for (const c of batch) {
        if (excess <= 0) break;
        take.push(c);
        excess -= c.bytes;
      }
      if (this.swap(take.map((c) => c.id), [], now)) dropped += take.length;
      // The index's own WAL grows with these transactions: fold it back, then measure again.
      try {
        this.index.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch { /* busy: measured as is */ }
      excess = this.diskUsage().excess;
    }
    this.metrics.chunksDeleted.disk_cap += dropped;
    const after = this.diskUsage();
    this.log.warn(
      { component: 'compactor', dropped, usedBytes: after.used, capBytes: after.cap },
      after.excess > 0 ? 'disk cap: no chunks left to delete; data directory is still over the cap (WAL and index are never deleted)' : 'disk cap reached: deleted the oldest chunks',
    );
    return dropped;
  }

  // ---------------------------------------------------------------- merging

  private async mergeSmallChunks(now: number, rep: RunReport): Promise<void> {
    const target = this.config.ingester.chunkTargetSize;
    const maxSpan = BigInt(this.config.ingester.maxChunkAgeMs) * 1_000_000n;
    for (const s of this.index.loadStreams()) {
      if (this.stopped) return;
      if (s.maxTs === null) continue;
      const rows = this.index.streamChunks(s.id);
      if (rows.length < 2) continue;
      const groups: ChunkRow[][] = [];
      let g: ChunkRow[] = [];
      let gBytes = 0;
      let gMin = 0n;
      let gMax = 0n;
      const close = (): void => {
        if (g.length >= 2) groups.push(g);
        g = [];
        gBytes = 0;
      };
      for (const c of rows) {
        if (c.bytes >= target / 2) {
          close();
          continue;
        }
        if (g.length > 0) {
          const min = c.minTs < gMin ? c.minTs : gMin;
          const max = c.maxTs > gMax ? c.maxTs : gMax;
          if (gBytes + c.bytes > target || max - min > maxSpan || dayOf(c.minTs) !== dayOf(gMin)) close();
        }
        if (g.length === 0) {
          gMin = c.minTs;
          gMax = c.maxTs;
        }
        g.push(c);
        gBytes += c.bytes;
        if (c.minTs < gMin) gMin = c.minTs;
        if (c.maxTs > gMax) gMax = c.maxTs;
      }
      close();
      for (const grp of groups) {
        if (this.stopped) return;
        const path = this.newChunkPath(s.tenant, s.fingerprint, grp[0]!.minTs);
        let res;
        try {
          res = await rewriteChunks(grp.map((c) => c.path), { path, tenant: s.tenant, labels: s.labels }, this.config.ingester.chunkBlockSize);
        } catch (e) {
          unlinkQuiet(path);
          unlinkQuiet(path + '.tmp');
          this.log.warn({ component: 'compactor', stream: s.labels, err: (e as Error).message }, 'merge skipped: a chunk could not be read (see `repair`)');
          continue;
        }
        if (!res.summary) continue;
        if (this.swap(grp.map((c) => c.id), [{ streamId: s.id, chunk: toNewChunk(res.summary) }], now)) {
          rep.merged.inputs += grp.length;
          rep.merged.outputs++;
          this.metrics.chunksMerged += grp.length;
          this.metrics.chunksWritten++;
        } else {
          unlinkQuiet(res.summary.path);
        }
      }
    }
  }

  private newChunkPath(tenant: string, fp: string, minTs: bigint): string {
    return join(this.dataDir, 'chunks', encodeURIComponent(tenant), dayOf(minTs), `${fp}-${minTs}-c${Date.now()}.${++nameSeq}-${process.pid}.chk`);
  }

  // ---------------------------------------------------------------- orphans

  /**
   * Removes chunk files the index does not know, left by a flush or compaction interrupted
   * before its index transaction (their data is still in the WAL or in the indexed chunks).
   * Only files whose stream the index knows are removed; anything else is left for `repair`.
   * Must run before the first flush of this process.
   */
  cleanOrphans(): number {
    const root = join(this.dataDir, 'chunks');
    const known = this.index.knownPaths();
    const streams = new Map<string, number>();
    for (const s of this.index.loadStreams()) streams.set(`${s.tenant}\u0000${s.labels}`, s.id);
    if (known.size > 0 && ![...known].some((p) => p.startsWith(root))) {
      this.log.warn({ component: 'compactor', dataDir: this.dataDir }, 'the index refers to chunk files outside this data directory; orphan clean-up skipped (run repair)');
      return 0;
    }
    let removed = 0;
    let kept = 0;
    for (const path of walkChunkFiles(root)) {
      if (path.endsWith('.tmp')) {
        unlinkQuiet(path);
        removed++;
        continue;
      }
      if (!path.endsWith('.chk') || known.has(path)) continue;
      let ok = false;
      try {
        const f = readChunkFooter(path);
        ok = streams.has(`${f.tenant}\u0000${f.labels}`);
      } catch { /* unreadable: leave it for repair */ }
      if (ok) {
        unlinkQuiet(path);
        removed++;
      } else {
        kept++;
      }
    }
    if (removed) this.log.info({ component: 'compactor', removed }, 'removed chunk files left by an interrupted flush or compaction');
    if (kept) this.log.warn({ component: 'compactor', files: kept }, 'chunk files not in the index and not removable automatically; run repair to index what is readable');
    return removed;
  }

  metricsText(): string {
    this.diskUsage();
    const m = this.metrics;
    const lines = [
      '# HELP bramble_disk_used_bytes Bytes the data directory uses (chunks, WAL, index).',
      '# TYPE bramble_disk_used_bytes gauge',
      `bramble_disk_used_bytes ${m.diskUsedBytes}`,
      '# HELP bramble_disk_cap_bytes Effective disk cap for the data directory (0 = no cap).',
      '# TYPE bramble_disk_cap_bytes gauge',
      `bramble_disk_cap_bytes ${m.diskCapBytes}`,
      '# HELP bramble_compactor_chunks_deleted_total Chunks removed by the compactor, by reason.',
      '# TYPE bramble_compactor_chunks_deleted_total counter',
      `bramble_compactor_chunks_deleted_total{reason="retention"} ${m.chunksDeleted.retention}`,
      `bramble_compactor_chunks_deleted_total{reason="disk_cap"} ${m.chunksDeleted.disk_cap}`,
      `bramble_compactor_chunks_deleted_total{reason="delete_request"} ${m.chunksDeleted.delete_request}`,
      '# HELP bramble_compactor_chunks_merged_total Small chunks merged into bigger ones.',
      '# TYPE bramble_compactor_chunks_merged_total counter',
      `bramble_compactor_chunks_merged_total ${m.chunksMerged}`,
      '# HELP bramble_compactor_runs_total Compaction passes finished.',
      '# TYPE bramble_compactor_runs_total counter',
      `bramble_compactor_runs_total ${m.runs}`,
      '# HELP bramble_compactor_run_failures_total Compaction passes that failed.',
      '# TYPE bramble_compactor_run_failures_total counter',
      `bramble_compactor_run_failures_total ${m.runFailures}`,
      '# HELP bramble_compactor_last_run_seconds Duration of the last compaction pass.',
      '# TYPE bramble_compactor_last_run_seconds gauge',
      `bramble_compactor_last_run_seconds ${m.lastRunMs / 1000}`,
      '# HELP loki_compactor_delete_requests_processed_total Delete request shards processed.',
      '# TYPE loki_compactor_delete_requests_processed_total counter',
      `loki_compactor_delete_requests_processed_total ${m.deleteRequestsProcessed}`,
    ];
    return lines.join('\n') + '\n';
  }
}

function toNewChunk(s: { minTs: bigint; maxTs: bigint; path: string; bytes: number; lineBytes: number; entries: number }): NewChunk {
  return { minTs: s.minTs, maxTs: s.maxTs, path: s.path, bytes: s.bytes, lineBytes: s.lineBytes, entries: s.entries };
}

export function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch { /* already gone */ }
}

/** Every file under the chunks directory (tenant/day/file). */
export function walkChunkFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(root);
  return out;
}

