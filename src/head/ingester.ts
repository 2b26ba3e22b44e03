// The ingester: takes validated pushes, enforces Loki's per-stream rules (exact duplicate of the
// last entry dropped, out-of-order window), writes them to the WAL (acknowledged after fsync),
// keeps them in per-stream heads, and flushes heads to chunk files + the SQLite index when they
// are big, old or idle. On start it rebuilds heads by replaying the WAL records not yet in chunks.
import { join } from 'node:path';
import { unlink } from 'node:fs/promises';
import { IndexDb } from '../index/index-db.js';
import { Wal } from '../wal/wal.js';
import { decodePushRecord, encodePushBodyRecord, encodePushRecord, walEntries, type PushBody, type WalEntry, type WalStream } from '../wal/record.js';
import { levelSmSize, type EntryBatch } from '../push/batch.js';
import { writeChunkFileAsync } from '../chunk/chunk-file.js';
import type { BlockData, BlockInfo } from '../chunk/block.js';
import { fingerprint, labelsKey, labelsToString, parseLabelsString, type Labels } from '../util/labels.js';
import { dayOf, goTimeString, rfc3339 } from '../util/time.js';
import { StreamHead, type StreamRecord } from './stream-head.js';
import { TokenBucket } from '../limits/rate.js';
import { streamLimitMessage, streamRateLimitMessage, type IngesterLimits } from '../limits/ingest.js';
import { structuredMetadataSize } from '../push/index.js';
import { LogEntry, entryMs, entryRem, lineLength, msOf, nsOf, remOf, sameLine } from '../push/entry.js';
import { BufferPool } from '../util/buffer-pool.js';

/** chunk files a flush writes at once (libuv's pool has 4 threads; one stays free for the WAL) */
const FLUSH_WRITERS = 3;

/**
 * Longest stretch (ms) of a push's store (its per-entry rules, then adding entries to heads)
 * before it waits for a loop turn between streams, when its caller gives it turns. A warm 1 MiB
 * push stores in well under this; the server's first pushes (cold code, dozens of new streams,
 * each with fresh block memory) took 40-60 ms in one go.
 */
export const STORE_SLICE_MS = 8;

/** Loop turns a push may wait for between slices of its store (util/loop-turns.ts). */
export interface StoreTurns {
  next(): Promise<void>;
}

export interface IngestStream {
  labels: Labels;
  labelsString: string;
  entries: WalEntry[];
  /** the entries as columns (push/batch.ts; `entries` then makes objects of them when read) */
  readonly batch?: EntryBatch | undefined;
}

export interface IngesterOptions {
  dataDir: string;
  blockSize: number;
  chunkTargetSize: number;
  maxChunkAgeMs: number;
  chunkIdlePeriodMs: number;
  walSegmentSize: number;
  /** active stream limit and per-stream rate limit (none = unlimited) */
  limits?: IngesterLimits;
  /**
   * Memory cap for all heads (bytes; 0/undefined = none): from 3/4 of it the biggest heads are
   * flushed early, down to half the cap, and above it pushes wait (waitForHeadRoom;
   * ingester.max_head_bytes).
   */
  maxHeadBytes?: number;
  /** called after every flush run (the server reclaims the freed heads' memory) */
  afterFlush?: () => void;
  /** STORE_SLICE_MS unless set (tests: 0 waits for a turn before every stream's rules and every append but the first) */
  storeSliceMs?: number;
}

interface EntryObserver {
  fn: (s: StreamRecord, e: WalEntry) => void;
  wants: (tenant: string) => boolean;
  wantsStream: (s: StreamRecord) => boolean;
}

export interface IngesterMetrics {
  linesIngested: number;
  bytesIngested: number;
  chunksFlushed: number;
  chunkBytesFlushed: number;
  duplicatesDropped: number;
  outOfOrderRejected: number;
  streamLimitRejected: number;
  rateLimitedEntries: number;
  /** pushes under way right now (waiting for head room or for their WAL write): ingest is not quiet */
  pushesInFlight: number;
}

export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/** The newest timestamp a stream ever accepted (head or chunks): where its out-of-order window ends. */
function highestAccepted(stream: StreamRecord): bigint {
  const h = stream.head.highestTs;
  return stream.flushedMaxTs !== null && stream.flushedMaxTs > h ? stream.flushedMaxTs : h;
}

/** Per-entry error the ingester reports (Loki's "entry with timestamp ... ignored" form). */
export class IngestRejection {
  constructor(readonly status: number, readonly message: string) {}
}

export class Ingester {
  readonly index: IndexDb;
  readonly wal: Wal;
  private readonly streams = new Map<string, Map<string, StreamRecord>>(); // tenant -> key -> stream
  private readonly byId = new Map<number, StreamRecord>();
  private flushSeq = 0;
  /** WAL record buffers (a few MiB per push, needed until written): reused, see BufferPool. */
  private readonly records = new BufferPool(4);
  private readonly recordBuffer = (n: number): Buffer => this.records.acquire(n);
  private flushing: Promise<void> | null = null;

  /** true while a flush (periodic, cap or requested) is under way */
  get isFlushing(): boolean {
    return this.flushing !== null;
  }
  /**
   * The push whose store runs over several loop turns (resolved when it is done), or null.
   * Other pushes wait for it before their own checks: a stream's order, duplicate and rate checks
   * read its head, which must hold every earlier push's entries. So no record is appended
   * meanwhile either, and its record stays in the WAL's newest segment, which truncation keeps.
   */
  private storing: { done: Promise<void> } | null = null;
  /** listeners told about every accepted entry (pattern mining, tail) */
  private readonly observers: EntryObserver[] = [];
  readonly metrics: IngesterMetrics = { linesIngested: 0, bytesIngested: 0, chunksFlushed: 0, chunkBytesFlushed: 0, duplicatesDropped: 0, outOfOrderRejected: 0, streamLimitRejected: 0, rateLimitedEntries: 0, pushesInFlight: 0 };
  /** per-stream token buckets (Loki's StreamRateLimiter), limits re-read every 10s */
  private readonly streamRates = new WeakMap<StreamRecord, { bucket: TokenBucket; recheckAt: number }>();

  constructor(private readonly opts: IngesterOptions, private readonly log: Logger) {
    this.index = new IndexDb(join(opts.dataDir, 'index.db'));
    this.wal = new Wal(join(opts.dataDir, 'wal'), opts.walSegmentSize);
  }

  /**
   * Calls `fn` with every acknowledged entry of a tenant for which `wants(tenant)` is true at that
   * moment (default: always). Entries handed over are detached from the request body, which
   * decodes their line to a string: without the check, an idle tail registry made every ingested
   * line a JS string (0.6 CPU-s/GiB, and most of the main heap's garbage).
   */
  onEntry(fn: (s: StreamRecord, e: WalEntry) => void, wants: (tenant: string) => boolean = () => true, wantsStream: (s: StreamRecord) => boolean = () => true): void {
    this.observers.push({ fn, wants, wantsStream });
  }

  private observersFor(tenant: string): EntryObserver[] | null {
    let out: EntryObserver[] | null = null;
    for (const o of this.observers) if (o.wants(tenant)) (out ??= []).push(o);
    return out;
  }

  /**
   * Of a tenant's observers, those that want this stream's entries (null: none). Entries of
   * streams nobody wants stay byte ranges of the request: a live tail of one app must not decode
   * every line of every stream to a string.
   */
  private streamObservers(obs: EntryObserver[], s: StreamRecord): EntryObserver[] | null {
    let out: EntryObserver[] | null = null;
    for (const o of obs) if (o.wantsStream(s)) (out ??= []).push(o);
    return out;
  }

  /** Loads the index and replays the WAL. */
  start(): void {
    for (const row of this.index.loadStreams()) {
      const labels = parseLabelsString(row.labels);
      const rec: StreamRecord = {
        id: row.id, tenant: row.tenant, fingerprint: row.fingerprint, labels, labelsString: row.labels,
        flushedMinTs: row.minTs, flushedMaxTs: row.maxTs, flushedPos: row.flushedPos, head: new StreamHead(this.opts.blockSize),
      };
      this.tenantStreams(row.tenant).set(labelsKey(labels), rec);
      this.byId.set(rec.id, rec);
    }
    const started = Date.now();
    let replayedEntries = 0;
    const stats = this.wal.replay((payload, pos) => {
      const rec = decodePushRecord(payload);
      for (const s of rec.streams) {
        const labels = parseLabelsString(s.labels);
        const stream = this.getOrCreateStream(rec.tenant, labels, s.labels);
        if (pos <= stream.flushedPos) continue;
        const now = Date.now();
        for (const e of s.entries) {
          if (this.isDuplicate(stream, e)) continue;
          stream.head.appendEntry(e, pos, now);
          replayedEntries++;
          const all = this.observersFor(rec.tenant);
          const obs = all === null ? null : this.streamObservers(all, stream);
          if (obs !== null) {
            if (e instanceof LogEntry) e.detach(); // observers may keep it; not the WAL segment
            for (const o of obs) o.fn(stream, e);
          }
        }
      }
    });
    for (const t of stats.truncated) {
      this.log.warn({ component: 'wal', ...t }, `WAL ${t.segment}: dropped ${t.droppedBytes} bytes after offset ${t.offset} (${t.reason}); those pushes were never acknowledged`);
    }
    this.log.info({ component: 'wal', records: stats.records, entries: replayedEntries, segments: stats.segments, ms: Date.now() - started }, 'WAL replay finished');
  }

  private tenantStreams(tenant: string): Map<string, StreamRecord> {
    let m = this.streams.get(tenant);
    if (!m) {
      m = new Map();
      this.streams.set(tenant, m);
    }
    return m;
  }

  private getOrCreateStream(tenant: string, labels: Labels, labelsString?: string): StreamRecord {
    const m = this.tenantStreams(tenant);
    const key = labelsKey(labels);
    let s = m.get(key);
    if (!s) {
      const str = labelsString ?? labelsToString(labels);
      const fp = fingerprint(labels);
      const id = this.index.createStream(tenant, fp, str, labels);
      s = { id, tenant, fingerprint: fp, labels, labelsString: str, flushedMinTs: null, flushedMaxTs: null, flushedPos: -1, head: new StreamHead(this.opts.blockSize) };
      m.set(key, s);
      this.byId.set(id, s);
    }
    return s;
  }

  /** Undoes the creation of streams whose index transaction failed (their heads are empty). */
  private forgetStreams(list: StreamRecord[]): void {
    this.index.rollback();
    for (const s of list) {
      this.streams.get(s.tenant)?.delete(labelsKey(s.labels));
      this.byId.delete(s.id);
    }
  }

  private isDuplicate(stream: StreamRecord, e: WalEntry): boolean {
    const h = stream.head;
    return h.lastMs === entryMs(e) && h.lastRem === entryRem(e) && h.isLastLine(e);
  }

  /**
   * Appends validated streams. Returns when the accepted entries are durable in the WAL. Entries
   * refused by per-stream rules (out-of-order window, per-stream rate) and streams refused by the
   * active stream limit are dropped, the rest still written; as Loki's instance.Push does, the
   * returned IngestRejection describes the last stream of the request only (null if it went in).
   * `body`: the protobuf request the entries were decoded from, so the WAL can log it instead of
   * copying every line (record.ts, type 2). The streams a push creates are written to the index
   * in one transaction; when it fails, none of them is kept and the push throws.
   * `turns`: when given, the per-entry rules and adding the entries to heads wait for a loop
   * turn every STORE_SLICE_MS (between streams; new streams are created first, in one go), so a
   * big or cold push does not hold the event loop in one stretch.
   */
  async push(tenant: string, streams: IngestStream[], body?: PushBody, turns?: StoreTurns): Promise<IngestRejection | null> {
    while (this.storing !== null) {
      await this.storing.done;
      if (turns) await turns.next();
    }
    let started = performance.now();
    const sliceMs = this.opts.storeSliceMs ?? STORE_SLICE_MS;
    let record: Buffer | null = null;
    let durable: Promise<void> | null = null;
    const walStreams: WalStream[] = [];
    const targets: StreamRecord[] = [];
    // Loki's instance.Push reports what happened to the *last* stream of the request only.
    let lastError: IngestRejection | null = null;
    // the out-of-order window is whole milliseconds: the cutoff is (highest ms - this, same ns remainder)
    const maxBehindMs = Math.floor(this.opts.maxChunkAgeMs / 2);
    const limits = this.opts.limits;
    const maxStreams = limits ? limits.maxActiveStreams(tenant) : Infinity;
    let active = -1; // counted lazily, only when a stream (re)activates under a finite limit
    let now = Date.now();
    // Which stream each request stream goes to (null: refused by the active-stream limit); the
    // streams this push creates go into the index in one transaction, committed here, before
    // any wait for a turn (other index writes must not join it).
    const picked: (StreamRecord | null)[] = new Array<StreamRecord | null>(streams.length);
    let created: StreamRecord[] | null = null;
    try {
      for (let k = 0; k < streams.length; k++) {
        const ps = streams[k]!;
        let stream = this.streams.get(tenant)?.get(labelsKey(ps.labels));
        if (maxStreams !== Infinity && (stream === undefined || !isActive(stream))) {
          if (active < 0) active = this.activeStreams(tenant);
          if (active >= maxStreams) {
            picked[k] = null;
            continue;
          }
          active++;
        }
        if (stream === undefined) {
          if (created === null) {
            this.index.begin();
            created = [];
          }
          stream = this.getOrCreateStream(tenant, ps.labels, ps.labelsString);
          created.push(stream);
        }
        picked[k] = stream;
      }
      if (created !== null) this.index.commit();
    } catch (e) {
      if (created !== null) this.forgetStreams(created);
      throw e;
    }
    // From the first wait for a turn on, other pushes wait for this one (see `storing`).
    let storeDone: (() => void) | null = null;
    const nextTurn = async (t: StoreTurns): Promise<void> => {
      if (storeDone === null) {
        const done = new Promise<void>((resolve) => (storeDone = resolve));
        this.storing = { done };
      }
      await t.next();
      started = performance.now();
      now = Date.now();
    };
    try {
      // the per-entry rules, stream by stream
      for (let k = 0; k < streams.length; k++) {
        if (turns !== undefined && performance.now() - started >= sliceMs) await nextTurn(turns);
        const ps = streams[k]!;
        const stream = picked[k];
        if (!stream) {
          this.metrics.streamLimitRejected += ps.entries.length;
          lastError = new IngestRejection(429, streamLimitMessage(ps.labelsString, tenant));
          continue;
        }
        const h = stream.head;
        const batch = ps.batch;
        if (batch !== undefined && this.takesWholeBatch(stream, batch, maxBehindMs, limits ? this.streamRate(stream, tenant, limits, now) : null)) {
          lastError = null;
          walStreams.push({ labels: stream.labelsString, entries: [], batch });
          targets.push(stream);
          continue;
        }
        // null while every entry so far is accepted: then ps.entries is stored as it is (no copy)
        let accepted: WalEntry[] | null = null;
        const failed: { e: WalEntry; reason: string; rateLimited: boolean }[] = [];
        const rate = limits ? this.streamRate(stream, tenant, limits, now) : null;
        // Track the newest accepted ts and last entry inside this request too. Timestamps are
        // compared as (ms, ns remainder) numbers (entry.ts): no bigint per entry.
        const highest = highestAccepted(stream);
        let hiMs = msOf(highest);
        let hiRem = remOf(highest);
        let lastMs = h.lastMs;
        let lastRem = h.lastRem;
        let last: WalEntry | null = null; // last accepted entry of this request (null: the head's)
        const entries = ps.entries;
        // entrySize for the rate limit: the metadata size of a frozen list (detected_level only,
        // shared by consecutive entries) is counted once
        let sizedSm: Labels | null = null;
        let smBytes = 0;
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i]!;
          const ms = entryMs(e);
          const rem = entryRem(e);
          if (ms === lastMs && rem === lastRem && (last === null ? h.isLastLine(e) : sameLine(e, last))) {
            this.metrics.duplicatesDropped++;
            accepted ??= entries.slice(0, i);
            continue;
          }
          if (rate !== null) {
            const sm = e.structuredMetadata;
            if (sm !== sizedSm) {
              sizedSm = Object.isFrozen(sm) ? sm : null;
              smBytes = structuredMetadataSize(sm);
            }
            const size = lineLength(e) + smBytes; // entrySize(e)
            if (!rate.allowN(Date.now(), size)) {
              failed.push({ e, reason: streamRateLimitMessage(rate.rate, stream.labelsString, size), rateLimited: true });
              accepted ??= entries.slice(0, i);
              continue;
            }
          }
          // highest >= 0 and e older than highest - maxBehind (which is at most highest)
          const cutMs = hiMs - maxBehindMs;
          if (hiMs >= 0 && (ms < cutMs || (ms === cutMs && rem < hiRem))) {
            const cutoff = nsOf(cutMs, hiRem);
            failed.push({ e, reason: `entry too far behind, entry timestamp is: ${rfc3339(e.tsNs)}, oldest acceptable timestamp is: ${rfc3339(cutoff)}`, rateLimited: false });
            accepted ??= entries.slice(0, i);
            continue;
          }
          if (accepted !== null) accepted.push(e);
          if (ms > hiMs || (ms === hiMs && rem > hiRem)) {
            hiMs = ms;
            hiRem = rem;
          }
          lastMs = ms;
          lastRem = rem;
          last = e;
        }
        if (failed.length) {
          let msg = '';
          for (const f of failed) {
            if (f.rateLimited) this.metrics.rateLimitedEntries++;
            else this.metrics.outOfOrderRejected++;
          }
          for (const f of failed.slice(0, 10)) msg += `entry with timestamp ${goTimeString(f.e.tsNs)} ignored, reason: '${f.reason}',\n`;
          msg += `user '${tenant}', total ignored: ${failed.length} out of ${ps.entries.length} for stream: ${stream.labelsString}`;
          // The status follows the last failed entry: 429 for a rate limit, 400 for out of order.
          lastError = new IngestRejection(failed[failed.length - 1]!.rateLimited ? 429 : 400, msg);
        } else {
          lastError = null;
        }
        const acc = accepted ?? entries;
        if (acc.length) {
          walStreams.push({ labels: stream.labelsString, entries: acc });
          targets.push(stream);
        }
      }
      if (walStreams.length === 0) return lastError;
      const parts = body ? encodePushBodyRecord(tenant, walStreams, body) : null;
      record = parts === null ? encodePushRecord(tenant, walStreams, this.recordBuffer) : null;
      const appended = this.wal.append(parts ?? record!);
      durable = appended.durable;
      // awaited below, after the store: a failed write meanwhile is not an unhandled rejection
      durable.catch(() => {});
      for (let i = 0; i < walStreams.length; i++) {
        if (turns !== undefined && i > 0 && performance.now() - started >= sliceMs) await nextTurn(turns);
        const stream = targets[i]!;
        const ws = walStreams[i]!;
        if (ws.batch !== undefined) {
          this.metrics.bytesIngested += stream.head.appendBatch(ws.batch, appended.pos, now);
          this.metrics.linesIngested += ws.batch.n;
          continue;
        }
        this.metrics.bytesIngested += stream.head.appendEntries(ws.entries, appended.pos, now);
        this.metrics.linesIngested += ws.entries.length;
      }
    } finally {
      if (storeDone !== null) {
        this.storing = null;
        (storeDone as () => void)();
      }
    }
    this.metrics.pushesInFlight++;
    try {
      await durable!;
    } finally {
      this.metrics.pushesInFlight--;
      // written (or failed): the WAL no longer reads the record
      if (record !== null) this.records.release(record);
    }
    // Tail clients and the forwarder see an entry only once it is acknowledged (durable).
    const all = this.observersFor(tenant);
    if (all !== null) {
      for (let i = 0; i < walStreams.length; i++) {
        const obs = this.streamObservers(all, targets[i]!);
        if (obs === null) continue;
        for (const e of walEntries(walStreams[i]!)) {
          if (e instanceof LogEntry) e.detach(); // observers may keep it; not the request body
          for (const o of obs) o.fn(targets[i]!, e);
        }
      }
    }
    return lastError;
  }

  /**
   * push's per-entry rules for a stream held as columns, when they keep every entry: no exact
   * duplicate of the entry before, nothing behind the out-of-order window, and the stream's rate
   * allows all of it (then taken from the bucket at once, which is what one AllowN per entry at
   * the same instant takes). false when some entry would be dropped: the object path decides
   * entry by entry, and nothing was taken.
   */
  private takesWholeBatch(stream: StreamRecord, b: EntryBatch, maxBehindMs: number, rate: TokenBucket | null): boolean {
    const h = stream.head;
    const highest = highestAccepted(stream);
    let hiMs = msOf(highest);
    let hiRem = remOf(highest);
    let lastMs = h.lastMs;
    let lastRem = h.lastRem;
    const ms = b.ms;
    const rem = b.rem;
    const r = b.ranges;
    const lv = b.level;
    let size = 0;
    for (let i = 0; i < b.n; i++) {
      const m = ms[i]!;
      const q = rem[i]!;
      if (m === lastMs && q === lastRem && (i === 0 ? h.isLastLineRange(b.src, r[0]!, r[1]!) : b.sameLines(i, i - 1))) return false;
      const cutMs = hiMs - maxBehindMs;
      if (hiMs >= 0 && (m < cutMs || (m === cutMs && q < hiRem))) return false;
      if (m > hiMs || (m === hiMs && q > hiRem)) {
        hiMs = m;
        hiRem = q;
      }
      lastMs = m;
      lastRem = q;
      size += r[2 * i + 1]! - r[2 * i]! + levelSmSize(lv[i]!);
    }
    return rate === null || rate.allowN(Date.now(), size);
  }

  /** Streams of a tenant holding data in memory (Loki's in-memory streams, the limit's count). */
  activeStreams(tenant: string): number {
    const m = this.streams.get(tenant);
    if (!m) return 0;
    let n = 0;
    for (const s of m.values()) if (isActive(s)) n++;
    return n;
  }

  private streamRate(stream: StreamRecord, tenant: string, limits: IngesterLimits, now: number): TokenBucket {
    let r = this.streamRates.get(stream);
    if (!r) {
      const l = limits.perStreamRate(tenant);
      r = { bucket: new TokenBucket(l.limit, l.burst, now), recheckAt: now + 10_000 };
      this.streamRates.set(stream, r);
    } else if (now >= r.recheckAt) {
      const l = limits.perStreamRate(tenant);
      r.bucket.update(now, l.limit, l.burst);
      r.recheckAt = now + 10_000;
    }
    return r.bucket;
  }

  // ------------------------------------------------------------------ queries

  /** Streams of a tenant (all, or those accepted by `match`). */
  listStreams(tenant: string): StreamRecord[] {
    const m = this.streams.get(tenant);
    return m ? [...m.values()] : [];
  }

  /** Does the stream have data in [from, through]? (index range ∪ head range) */
  streamOverlaps(s: StreamRecord, fromNs: bigint, throughNs: bigint): boolean {
    if (s.flushedMinTs !== null && s.flushedMaxTs !== null && s.flushedMaxTs >= fromNs && s.flushedMinTs <= throughNs) return true;
    const h = s.head;
    if (!h.isEmpty && h.maxTs >= fromNs && h.minTs <= throughNs) return true;
    for (const b of h.flushing) if (b.info.maxTs >= fromNs && b.info.minTs <= throughNs) return true;
    return false;
  }

  /** The infos of a stream's in-memory blocks overlapping [from, through] (nothing exposed: see blockInfos). */
  memInfos(s: StreamRecord, fromNs: bigint, throughNs: bigint): BlockInfo[] {
    return s.head.blockInfos().filter((b) => b.maxTs >= fromNs && b.minTs <= throughNs);
  }

  /**
   * Chunk files and in-memory blocks of a stream overlapping [from, through]. `lease`: the
   * query's read lease (chunk/read-leases.ts) the memory stays unwritten for; without one the
   * blocks' memory is never reused.
   */
  sources(s: StreamRecord, fromNs: bigint, throughNs: bigint, lease?: number): { files: string[]; mem: BlockData[] } {
    const files = s.flushedMinTs === null ? [] : this.index.chunkPaths(s.id, fromNs, throughNs);
    const mem = s.head.snapshot(lease).filter((b) => b.info.maxTs >= fromNs && b.info.minTs <= throughNs);
    return { files, mem };
  }

  // ------------------------------------------------------------------ flushing

  /** Flushes heads that are full, old or idle (or all of them with `all`). */
  flush(all = false): Promise<void> {
    const run = async (): Promise<void> => {
      const now = Date.now();
      const due: StreamRecord[] = [];
      for (const s of this.byId.values()) {
        const h = s.head;
        if (h.isEmpty) continue;
        if (all || h.closedBytes >= this.opts.chunkTargetSize || now - h.startedAt >= this.opts.maxChunkAgeMs || now - h.lastAppendAt >= this.opts.chunkIdlePeriodMs) due.push(s);
      }
      await this.flushStreams(due);
      this.truncateWal();
    };
    return this.enqueueFlush(run);
  }

  /**
   * Runs `run` after every flush queued before it (flushes never overlap). A failed flush (e.g.
   * ENOSPC) must not poison the chain: the next one runs regardless, and the chain itself never
   * carries an unhandled rejection (which would end the process). Returns `run`'s outcome.
   */
  private enqueueFlush(run: () => Promise<void>): Promise<void> {
    const prev = this.flushing ?? Promise.resolve();
    const next = prev.catch(() => {}).then(run);
    const tracked: Promise<void> = next.then(
      () => {
        if (this.flushing === tracked) this.flushing = null;
        this.opts.afterFlush?.();
      },
      () => { if (this.flushing === tracked) this.flushing = null; },
    );
    this.flushing = tracked;
    return next;
  }

  /**
   * Flushes streams whose closed blocks already reach the chunk target, and the biggest heads
   * when all heads together pass 3/4 of maxHeadBytes (called after pushes).
   */
  flushFull(): void {
    const cap = this.opts.maxHeadBytes ?? 0;
    let total = 0;
    let full = false;
    for (const s of this.byId.values()) {
      if (s.head.closedBytes >= this.opts.chunkTargetSize) full = true;
      if (cap > 0) total += s.head.memoryBytes();
      else if (full) break;
    }
    this.headTotal = total;
    if (full) void this.flush().catch((e) => this.log.error({ component: 'flush', err: (e as Error).message }, 'chunk flush failed; will retry'));
    if (cap > 0 && total > cap * 0.75 && !this.capFlushQueued) this.flushBiggest(total, cap);
  }

  /** all heads' bytes as flushFull last counted them (only with maxHeadBytes) */
  private headTotal = 0;

  /**
   * Back-pressure for the head cap: while the heads hold more than maxHeadBytes, waits for the
   * flushes under way (the early flush flushFull queued at 3/4 of the cap among them) before a
   * push is stored, so a burst faster than chunk writing holds the pushes instead of memory.
   * Resolves at once under the cap or without one.
   */
  async waitForHeadRoom(): Promise<void> {
    const cap = this.opts.maxHeadBytes ?? 0;
    if (cap <= 0 || this.headTotal <= cap || this.flushing === null) return;
    this.metrics.pushesInFlight++;
    try {
      for (let i = 0; this.headTotal > cap && this.flushing !== null && i < 4; i++) {
        this.headWaits++;
        await this.flushing.catch(() => {});
        this.flushFull();
      }
    } finally {
      this.metrics.pushesInFlight--;
    }
  }

  /** Pushes that waited for waitForHeadRoom (for /metrics and tests). */
  headWaits = 0;

  private capFlushQueued = false;
  /** Count of early flushes forced by maxHeadBytes (for /metrics and tests). */
  capFlushes = 0;

  /** Flushes the biggest heads (not already being written) until the rest fits half the cap. */
  private flushBiggest(total: number, cap: number): void {
    const sized: { s: StreamRecord; bytes: number }[] = [];
    for (const s of this.byId.values()) {
      if (s.head.isEmpty) continue;
      sized.push({ s, bytes: s.head.memoryBytes() });
    }
    sized.sort((a, b) => b.bytes - a.bytes);
    const pick: StreamRecord[] = [];
    let rest = total;
    for (const x of sized) {
      if (rest <= cap * 0.5) break;
      pick.push(x.s);
      rest -= x.bytes;
    }
    if (pick.length === 0) return;
    this.capFlushQueued = true;
    this.capFlushes++;
    const run = async (): Promise<void> => {
      try {
        await this.flushStreams(pick);
        this.truncateWal();
      } finally {
        this.capFlushQueued = false;
      }
    };
    void this.enqueueFlush(run).catch((e) => this.log.error({ component: 'flush', err: (e as Error).message }, 'early chunk flush (max_head_bytes) failed; will retry'));
  }

  /**
   * Flushes `list`, FLUSH_WRITERS chunk files at a time: each file is written and fsynced on its
   * own, and one after another the fsyncs of a cap flush (tens of streams) kept pushes waiting
   * for head room 100-360 ms. After a failure no further file is started; the first error is
   * thrown once the ones under way are done.
   */
  private async flushStreams(list: StreamRecord[]): Promise<void> {
    let next = 0;
    const errors: unknown[] = []; // in the order they happened
    const writer = async (): Promise<void> => {
      while (errors.length === 0 && next < list.length) {
        const s = list[next++]!;
        if (s.head.isEmpty) continue;
        try {
          await this.flushStream(s);
        } catch (e) {
          errors.push(e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(FLUSH_WRITERS, list.length) }, writer));
    if (errors.length > 0) throw errors[0];
  }

  private async flushStream(s: StreamRecord): Promise<void> {
    // the open block's cut and those under way, off the event loop; then what came meanwhile
    // is cut by takeForFlush itself (in the same synchronous step as the check)
    s.head.cutBlock(false);
    while (s.head.cutsUnderWay > 0) await s.head.cutsSettled();
    const { blocks, lastPos, firstPos } = s.head.takeForFlush();
    if (blocks.length === 0) return;
    let minTs = blocks[0]!.info.minTs;
    for (const b of blocks) if (b.info.minTs < minTs) minTs = b.info.minTs;
    const path = join(this.opts.dataDir, 'chunks', encodeURIComponent(s.tenant), dayOf(minTs), `${s.fingerprint}-${minTs}-${++this.flushSeq}-${process.pid}.chk`);
    try {
      const summary = await writeChunkFileAsync(path, s.tenant, s.labelsString, blocks);
      this.index.addChunk(s.id, summary, lastPos);
      s.flushedPos = lastPos;
      if (s.flushedMinTs === null || summary.minTs < s.flushedMinTs) s.flushedMinTs = summary.minTs;
      if (s.flushedMaxTs === null || summary.maxTs > s.flushedMaxTs) s.flushedMaxTs = summary.maxTs;
      this.metrics.chunksFlushed++;
      this.metrics.chunkBytesFlushed += summary.bytes;
      s.head.flushDone(blocks);
      s.head.flushWritten(blocks);
    } catch (e) {
      // Put the blocks back so nothing is lost; the next flush retries. A half-written or
      // unindexed file would only hold disk space (e.g. after ENOSPC): remove it.
      void unlink(path + '.tmp').catch(() => {});
      void unlink(path).catch(() => {});
      s.head.flushDone(blocks);
      s.head.restoreAfterFailedFlush(blocks, firstPos);
      throw e;
    }
  }

  private truncateWal(): void {
    let minPos = this.wal.position();
    for (const s of this.byId.values()) {
      const h = s.head;
      if (!h.isEmpty && h.firstPos >= 0 && h.firstPos < minPos) minPos = h.firstPos;
    }
    this.wal.removeBefore(minPos);
  }

  /** The compactor changed a stream's chunks: update the time range served from the index. */
  setFlushedRange(streamId: number, minTs: bigint | null, maxTs: bigint | null): void {
    const s = this.byId.get(streamId);
    if (!s) return;
    s.flushedMinTs = minTs;
    s.flushedMaxTs = maxTs;
  }

  /** Number of heads holding unflushed data (Loki's loki_ingester_memory_chunks analogue). */
  memoryChunks(): number {
    let n = 0;
    for (const s of this.byId.values()) if (!s.head.isEmpty || s.head.flushing.length) n++;
    return n;
  }

  memoryBytes(): number {
    let n = 0;
    for (const s of this.byId.values()) n += s.head.memoryBytes();
    return n;
  }

  async close(): Promise<void> {
    await this.wal.sync();
    await this.flush(true);
    await this.wal.close();
    this.index.close();
  }
}

/** A stream counts against the active stream limit while it holds unflushed data. */
function isActive(s: StreamRecord): boolean {
  return !s.head.isEmpty || s.head.flushing.length > 0;
}
