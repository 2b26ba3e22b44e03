// Live tail: GET /loki/api/v1/tail over WebSocket, as Loki's querier serves it (pkg/querier/tail,
// pkg/loghttp/tail.go, pkg/ingester/tailer.go). Parameters are checked before the upgrade (400
// plain text); after it the connection first gets the newest `limit` entries since `start`
// (oldest first, like Loki's reversed historic iterator), then every newly pushed entry that
// matches the selector and survives the query's pipeline, once `delay_for` seconds have passed
// since its timestamp. Frames are Loki's JSON: one `streams` element per entry, `dropped_entries`
// after a slow client made us drop, top-level `encodingFlags` with categorize-labels. A ping goes
// out every second; failures close with 1011 and the error text.
//
// Cost when nobody tails: one Map lookup per pushed entry. Per tailer and entry: a cached
// matcher verdict per stream, then the compiled pipeline (built once per stream), on the main
// thread; everything a tailer holds is bounded (pending entries, dropped records, stream cache).
import websocketPlugin from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { parseExpr } from '../logql/syntax/index.js';
import type { LogSelectorExpr } from '../logql/ast.js';
import { compilePipeline, type Pipeline, type StreamPipeline } from '../logql/pipeline/index.js';
import { compileMatchers, matchesLabels } from '../query/matchers.js';
import { checkQueryLength, param, parseBounds, parseLimit, ParamError, type Params } from '../query/params.js';
import type { StreamRecord } from '../head/stream-head.js';
import type { WalEntry } from '../wal/record.js';
import { labelsToObject, type Labels } from '../util/labels.js';
import { nsString, splitNs } from '../chunk/block-reader.js';
import { nowNs } from '../util/time.js';
import { wantsCategorized } from './query.routes.js';
import { errorStatus, sendError } from './errors.js';
import { requestParams } from './params.js';
import type { Services } from './services.js';
import { tenantOf } from './tenant.js';

/** Loki's maxDelayForInTailing. */
const MAX_DELAY_FOR_S = 5;
/** Loki's maxEntriesPerTailResponse. */
export const MAX_ENTRIES_PER_FRAME = 100;
/** Loki's maxDroppedEntriesPerTailResponse. */
export const MAX_DROPPED_PER_FRAME = 1000;
/** Entries a tailer holds waiting for delay_for or for the socket; more are dropped and reported. */
export const MAX_PENDING_ENTRIES = 10_000;
/** Bytes queued in the socket beyond which the client counts as slow (Loki: 10 buffered frames). */
export const MAX_SOCKET_BUFFERED = 1 << 20;
/** Per-tailer cache of stream verdicts/pipelines; cleared when it grows past this. */
const MAX_STREAM_CACHE = 50_000;
const PING_MS = 1000;
/** How often held entries (delay_for, future timestamps, slow socket) are looked at again. */
const RECHECK_MS = 100;

export interface TailRequest {
  query: string;
  selector: LogSelectorExpr | null;
  /** the parse result was a metric query: Loki rejects it after the upgrade */
  metric: boolean;
  limit: number;
  startNs: bigint;
  delayForS: number;
}

/** Loki's ParseTailQuery: query, limit, bounds (start), delay_for; errors are 400 before upgrade. */
export function parseTailRequest(p: Params, now: bigint): TailRequest {
  const query = param(p, 'query');
  const expr = parseExpr(query);
  const limit = parseLimit(p);
  const { start } = parseBounds(p, now);
  const d = param(p, 'delay_for');
  let delayForS = 0;
  if (d !== '') {
    if (!/^[+-]?\d+$/.test(d)) throw new ParamError(`strconv.Atoi: parsing ${JSON.stringify(d)}: invalid syntax`);
    delayForS = Number(d);
    if (delayForS < 0 || delayForS > 0xffffffff) throw new ParamError(`delay_for value ${d} is out of range [0, 4294967295]`);
  }
  if (delayForS > MAX_DELAY_FOR_S) throw new ParamError(`delay_for can't be greater than ${MAX_DELAY_FOR_S}`);
  return { query, selector: expr.kind === 'logSelector' ? expr : null, metric: expr.kind !== 'logSelector', limit, startNs: start, delayForS };
}

/** dskit httpgrpc error text, as Loki's close frames carry it. */
function grpcText(status: number, msg: string): string {
  return `rpc error: code = Code(${status}) desc = ${msg}`;
}

interface TailEntry {
  tsNs: bigint;
  line: string;
  /** result labels (full set, or stream labels only with categorize-labels) */
  labels: Labels;
  structuredMetadata?: Labels;
  parsed?: Labels;
}

/** One WebSocket tail connection. */
export class Tailer {
  private readonly pipeline: Pipeline;
  private readonly matchers;
  /** stream id -> its pipeline, or null when the selector does not match it */
  private readonly streams = new Map<number, StreamPipeline | null>();
  private pending: TailEntry[] = [];
  private dropped: { tsNs: bigint; labels: Labels }[] = [];
  /** historic entries already sent, to skip live copies pushed while the history was read */
  private historic: Set<string> | null = new Set();
  private live = false;
  private closed = false;
  private flushScheduled = false;
  private recheck: NodeJS.Timeout | null = null;
  private readonly delayNs: bigint;
  sentFrames = 0;

  constructor(
    readonly tenant: string,
    readonly selector: LogSelectorExpr,
    readonly delayForS: number,
    readonly categorize: boolean,
    private readonly ws: WebSocket,
  ) {
    this.pipeline = compilePipeline(selector.pipeline);
    this.matchers = compileMatchers(selector.matchers);
    this.delayNs = BigInt(delayForS) * 1_000_000_000n;
  }

  /** The pipeline of a stream this tail selects (cached by stream id), or null. */
  private streamPipeline(stream: StreamRecord): StreamPipeline | null {
    let sp = this.streams.get(stream.id);
    if (sp === undefined) {
      if (this.streams.size >= MAX_STREAM_CACHE) this.streams.clear();
      sp = matchesLabels(this.matchers, stream.labels) ? this.pipeline.forStream(stream.labels) : null;
      this.streams.set(stream.id, sp);
    }
    return sp;
  }

  /** Does this tail select the stream (its entries are then offered)? */
  wants(stream: StreamRecord): boolean {
    return !this.closed && this.streamPipeline(stream) !== null;
  }

  /** Observer path: called for every accepted entry of the streams it wants. */
  offer(stream: StreamRecord, e: WalEntry): void {
    if (this.closed) return;
    const sp = this.streamPipeline(stream);
    if (sp === null) return;
    if (!sp.process(e.tsNs, e.line, e.structuredMetadata)) return;
    let entry: TailEntry;
    if (this.categorize) {
      const c = sp.categorized();
      entry = { tsNs: e.tsNs, line: sp.line, labels: c.stream, structuredMetadata: c.structuredMetadata, parsed: c.parsed };
    } else {
      entry = { tsNs: e.tsNs, line: sp.line, labels: sp.labels() };
    }
    if (this.historic !== null && this.historic.size > 0 && this.historic.has(entryKey(entry))) return;
    if (this.pending.length >= MAX_PENDING_ENTRIES) {
      this.drop(entry);
      return;
    }
    this.pending.push(entry);
    if (this.live) this.scheduleFlush();
  }

  /** Sends the initial batch (oldest first) and switches to live streaming. */
  startLive(history: TailEntry[]): void {
    if (this.closed) return;
    for (const h of history) this.historic!.add(entryKey(h));
    // Live entries that arrived while the history was read and are part of it were skipped in
    // offer(); earlier ones were queued before the set was filled: drop those copies now.
    if (this.historic!.size > 0) this.pending = this.pending.filter((e) => !this.historic!.has(entryKey(e)));
    for (let i = 0; i < history.length; i += MAX_ENTRIES_PER_FRAME) this.send(history.slice(i, i + MAX_ENTRIES_PER_FRAME));
    this.historic = null;
    this.live = true;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Sends every pending entry whose time (+ delay_for) has come, in timestamp order. */
  flush(): void {
    if (this.closed || !this.live || this.pending.length === 0) return;
    const cutoff = nowNs() - this.delayNs;
    let ready: TailEntry[];
    let held: TailEntry[] = [];
    if (this.delayNs === 0n && this.pending.every((e) => e.tsNs <= cutoff)) {
      ready = this.pending;
    } else {
      ready = [];
      for (const e of this.pending) (e.tsNs <= cutoff ? ready : held).push(e);
    }
    this.pending = held;
    if (ready.length > 0) {
      ready.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
      for (let i = 0; i < ready.length; i += MAX_ENTRIES_PER_FRAME) {
        const frame = ready.slice(i, i + MAX_ENTRIES_PER_FRAME);
        // A client that does not keep up: drop (and report later) instead of queueing without bound.
        if (this.ws.bufferedAmount > MAX_SOCKET_BUFFERED) {
          for (const e of frame) this.drop(e);
          continue;
        }
        this.send(frame);
      }
    }
    if (this.pending.length > 0 && this.recheck === null && !this.closed) {
      this.recheck = setTimeout(() => {
        this.recheck = null;
        this.flush();
      }, RECHECK_MS);
    }
  }

  private drop(e: TailEntry): void {
    if (this.dropped.length < MAX_DROPPED_PER_FRAME) this.dropped.push({ tsNs: e.tsNs, labels: e.labels });
  }

  private send(entries: TailEntry[]): void {
    if (entries.length === 0 || this.closed) return;
    this.ws.send(encodeTailFrame(entries, this.dropped, this.categorize));
    this.dropped = [];
    this.sentFrames++;
  }

  close(code?: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.recheck) clearTimeout(this.recheck);
    this.recheck = null;
    this.pending = [];
    if (code !== undefined && this.ws.readyState === this.ws.OPEN) this.ws.close(code, truncateReason(reason ?? ''));
  }

  /** entries held (waiting for delay_for, a future timestamp or the initial batch) */
  get pendingCount(): number {
    return this.pending.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function entryKey(e: TailEntry): string {
  let k = e.tsNs.toString() + '\x00' + e.line;
  for (const l of e.labels) k += '\x00' + l.name + '\x01' + l.value;
  return k;
}

/** A close frame's reason is at most 123 bytes. */
function truncateReason(s: string): string {
  if (Buffer.byteLength(s) <= 123) return s;
  let out = s.slice(0, 123);
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/** Loki's EncodeTailResult: streams (one element per entry), dropped_entries, encodingFlags. */
export function encodeTailFrame(entries: TailEntry[], dropped: { tsNs: bigint; labels: Labels }[], categorize: boolean): string {
  const streams = entries.map((e) => {
    const [ms, rem] = splitNs(e.tsNs);
    const ts = nsString(ms, rem);
    if (!categorize) return { stream: labelsToObject(e.labels), values: [[ts, e.line]] };
    const extra: Record<string, Record<string, string>> = {};
    if (e.structuredMetadata && e.structuredMetadata.length) extra.structuredMetadata = labelsToObject(e.structuredMetadata);
    if (e.parsed && e.parsed.length) extra.parsed = labelsToObject(e.parsed);
    return { stream: labelsToObject(e.labels), values: [[ts, e.line, extra]] };
  });
  const frame: Record<string, unknown> = { streams };
  if (dropped.length > 0) {
    frame.dropped_entries = dropped.map((d) => {
      const [ms, rem] = splitNs(d.tsNs);
      const o: Record<string, unknown> = { timestamp: nsString(ms, rem) };
      if (d.labels.length) o.labels = labelsToObject(d.labels);
      return o;
    });
  }
  if (categorize) frame.encodingFlags = ['categorize-labels'];
  return JSON.stringify(frame);
}

/** Active tailers per tenant, fed by the ingester's entry observer. */
export class TailRegistry {
  private readonly byTenant = new Map<string, Set<Tailer>>();

  constructor(s: Services) {
    s.ingester.onEntry(
      (stream, e) => {
        const set = this.byTenant.get(stream.tenant);
        if (set === undefined) return;
        for (const t of set) t.offer(stream, e);
      },
      (tenant) => (this.byTenant.get(tenant)?.size ?? 0) > 0,
      (stream) => {
        const set = this.byTenant.get(stream.tenant);
        if (set !== undefined) for (const t of set) if (t.wants(stream)) return true;
        return false;
      },
    );
  }

  count(tenant: string): number {
    return this.byTenant.get(tenant)?.size ?? 0;
  }

  add(t: Tailer): void {
    let set = this.byTenant.get(t.tenant);
    if (!set) {
      set = new Set();
      this.byTenant.set(t.tenant, set);
    }
    set.add(t);
  }

  remove(t: Tailer): void {
    const set = this.byTenant.get(t.tenant);
    if (!set) return;
    set.delete(t);
    if (set.size === 0) this.byTenant.delete(t.tenant);
  }

  all(): Tailer[] {
    return [...this.byTenant.values()].flatMap((s) => [...s]);
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    tailRequest?: TailRequest;
    tailTenant?: string;
  }
}

export function registerTailRoutes(app: FastifyInstance, s: Services): void {
  const registry = new TailRegistry(s);
  // limits_config.max_concurrent_tail_requests / querier.tail_max_duration (Loki's defaults: 10, 1h)
  const maxConcurrent = (tenant: string): number => s.limits.get(tenant).maxConcurrentTailRequests;
  const maxDurationMs = (): number => s.config.querier.tailMaxDurationMs;

  // Encapsulated: the websocket plugin's hooks then wrap only this route, not the whole API.
  app.register(async (child) => {
    await child.register(websocketPlugin, { options: { maxPayload: 64 * 1024 } });
    child.route({
      method: 'GET',
      url: '/loki/api/v1/tail',
      // Parameter errors answer as plain HTTP before any upgrade, as Loki's handler does.
      preValidation: async (req: FastifyRequest, reply: FastifyReply) => {
        try {
          req.tailTenant = tenantOf(req, s.config.authEnabled);
          req.tailRequest = parseTailRequest(requestParams(req), nowNs());
        } catch (e) {
          const { status, message } = errorStatus(e);
          return sendError(reply, Object.assign(new Error(message), { status: status === 401 ? 401 : 400 }));
        }
        if (!req.ws) {
          // gorilla/websocket's answer to a plain GET
          return reply.code(400).header('Sec-Websocket-Version', '13').type('text/plain; charset=utf-8').header('X-Content-Type-Options', 'nosniff').send('Bad Request\n');
        }
        return undefined;
      },
      handler: (_req, reply) => reply.code(400).send('Bad Request\n'),
      wsHandler: async (ws: WebSocket, req: FastifyRequest) => {
        const tr = req.tailRequest!;
        const tenant = req.tailTenant!;
        const log = req.log;
        const closeWithError = (msg: string): void => {
          if (ws.readyState === ws.OPEN) ws.close(1011, truncateReason(msg));
        };
        // Loki's Querier.Tail: tail limit, then query validation, then the tail itself.
        const limit = maxConcurrent(tenant);
        const active = registry.count(tenant);
        if (active >= limit) {
          closeWithError(grpcText(400, `max concurrent tail requests limit exceeded, count > limit (${active + 1} > ${limit})`));
          return;
        }
        if (tr.metric || !tr.selector) {
          closeWithError('only log selector is supported');
          return;
        }
        const now = nowNs();
        try {
          checkQueryLength(tr.startNs, now, s.limits.get(tenant).maxQueryLengthMs);
        } catch (e) {
          closeWithError(grpcText(400, (e as Error).message));
          return;
        }
        let tailer: Tailer;
        try {
          tailer = new Tailer(tenant, tr.selector, tr.delayForS, wantsCategorized(req), ws);
        } catch (e) {
          closeWithError((e as Error).message);
          return;
        }
        registry.add(tailer);
        log.info({ tenant, query: tr.query }, 'starting to tail logs');
        const ping = setInterval(() => {
          if (ws.readyState === ws.OPEN) ws.ping();
        }, PING_MS);
        const maxTimer = setTimeout(() => {
          tailer.close(1011, 'reached tail max duration limit');
        }, maxDurationMs());
        const end = (): void => {
          clearInterval(ping);
          clearTimeout(maxTimer);
          tailer.close();
          registry.remove(tailer);
        };
        ws.on('close', () => {
          end();
          log.info({ tenant, query: tr.query }, 'ended tailing logs');
        });
        ws.on('error', (err) => {
          log.warn({ tenant, err: err.message }, 'tail websocket error');
          end();
        });
        ws.on('message', () => {
          // Clients send nothing meaningful; Loki only reads to notice the close.
        });
        // The initial batch: newest `limit` entries in [start, now), sent oldest first.
        try {
          const r = await s.engine.logQuery(
            tenant, tr.selector,
            { start: tr.startNs, end: now, limit: tr.limit, direction: 'backward', interval: 0n, categorize: tailer.categorize },
          );
          const history: TailEntry[] = [];
          for (const st of r.streams) {
            for (const e of st.entries) {
              const tsNs = BigInt(e.tsMs) * 1_000_000n + BigInt(e.tsRem);
              const c = e.categorized;
              history.push(tailer.categorize && c
                ? { tsNs, line: e.line, labels: st.labels, structuredMetadata: c.structuredMetadata, parsed: c.parsed }
                : { tsNs, line: e.line, labels: st.labels });
            }
          }
          history.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
          tailer.startLive(history);
        } catch (e) {
          log.error({ tenant, err: (e as Error).message }, 'tail: reading the initial entries failed');
          tailer.close(1011, (e as Error).message);
        }
      },
    });
  });
}
