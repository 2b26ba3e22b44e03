// Log deletion requests (Loki's pkg/compactor/deletion): validation and storage of requests
// made through /loki/api/v1/delete, the list shape GET returns, cancellation rules, and the
// per-entry test the compactor applies when it rewrites affected chunks. Requests live in the
// index database (delete_requests), one row per shard when a filtered request is split by
// compactor.delete_max_interval, as Loki stores them.
import { randomBytes } from 'node:crypto';
import type { LogSelectorExpr } from '../logql/ast.js';
import { compilePipeline } from '../logql/pipeline/index.js';
import { parseLogSelector } from '../logql/syntax/index.js';
import type { DeleteRequestRow, IndexDb } from '../index/index-db.js';
import { compileMatchers, matchesLabels } from '../query/matchers.js';
import type { Labels } from '../util/labels.js';
import type { KeepFn } from './rewrite.js';

export const DELETION_NOT_AVAILABLE = 'deletion is not available for this tenant';

export class DeleteRequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'DeleteRequestError';
  }
}

/** Loki's parseDeletionQuery: any parse problem is reported as one fixed text. */
export function parseDeletionQuery(query: string): LogSelectorExpr {
  try {
    return parseLogSelector(query, false);
  } catch {
    throw new DeleteRequestError(400, 'invalid query expression');
  }
}

/** Loki's parseTime for delete params: RFC3339, or exactly 10 digits of unix seconds; '' = now. */
export function parseDeleteTime(v: string | undefined, nowMs: number): number | null {
  if (v === undefined || v === '') return nowMs;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  if (v.length !== 10) return null;
  const n = Number(v);
  if (!Number.isFinite(n)) return null;
  return Math.round(n * 1000);
}

/** Validates an add request (Loki's AddDeleteRequestHandler order) and stores it. Returns the id. */
export function addDeleteRequest(
  db: IndexDb,
  tenant: string,
  params: { query?: string; start?: string; end?: string; max_interval?: string },
  opts: { maxIntervalMs: number; nowMs: number },
): string {
  const query = params.query ?? '';
  if (query.length === 0) throw new DeleteRequestError(400, 'query not set');
  const expr = parseDeletionQuery(query);
  if (!params.start) throw new DeleteRequestError(400, 'start time not set');
  const start = parseDeleteTime(params.start, opts.nowMs);
  if (start === null) throw new DeleteRequestError(400, 'invalid start time: require unix seconds or RFC3339 format');
  const end = parseDeleteTime(params.end, opts.nowMs);
  if (end === null) throw new DeleteRequestError(400, 'invalid end time: require unix seconds or RFC3339 format');
  if (end > opts.nowMs) throw new DeleteRequestError(400, 'deletes in the future are not allowed');
  if (start >= end) throw new DeleteRequestError(400, "start time can't be greater than or equal to end time");
  let shardMs = 0;
  if (expr.pipeline.length > 0) {
    shardMs = opts.maxIntervalMs;
    const mi = params.max_interval;
    if (mi) {
      const v = parseGoDurationMs(mi);
      if (v === null || v < 1000) throw new DeleteRequestError(400, "invalid max_interval: valid time units are 's', 'm', 'h'");
      if (v > opts.maxIntervalMs && opts.maxIntervalMs !== 0) throw new DeleteRequestError(400, `max_interval can't be greater than ${goDuration(opts.maxIntervalMs)}`);
      if (v > end - start) throw new DeleteRequestError(400, `max_interval can't be greater than the interval to be deleted (${goDuration(end - start)})`);
      shardMs = v;
    }
  }
  const requestId = randomBytes(4).toString('hex');
  const rows: DeleteRequestRow[] = [];
  const base = { requestId, tenant, query, createdAtMs: opts.nowMs, status: 'received' };
  if (shardMs === 0 || shardMs >= end - start) {
    rows.push({ ...base, seq: 0, startMs: start, endMs: end });
  } else {
    // Shards overlap by their boundaries, as Loki's (end not inclusive) split does.
    let seq = 0;
    for (let s = start; s < end; s += shardMs) rows.push({ ...base, seq: seq++, startMs: s, endMs: Math.min(s + shardMs, end) });
  }
  db.addDeleteRequests(rows);
  return requestId;
}

export interface DeleteRequestView {
  request_id: string;
  start_time: number;
  end_time: number;
  query: string;
  status: string;
  created_at: number;
  user_id: string;
}

/** GET's answer: shards merged per request (status "received", "processed" or "N% Complete"), oldest first. */
export function listDeleteRequests(db: IndexDb, tenant: string): DeleteRequestView[] {
  const byId = new Map<string, DeleteRequestRow[]>();
  for (const r of db.deleteRequests(tenant)) {
    let l = byId.get(r.requestId);
    if (!l) byId.set(r.requestId, (l = []));
    l.push(r);
  }
  const out: DeleteRequestView[] = [];
  for (const [id, shards] of byId) {
    let start = Infinity;
    let end = 0;
    let processed = 0;
    for (const s of shards) {
      if (s.startMs < start) start = s.startMs;
      if (s.endMs > end) end = s.endMs;
      if (s.status === 'processed') processed++;
    }
    const status = processed === 0 ? 'received' : processed === shards.length ? 'processed' : `${Math.trunc((processed / shards.length) * 100)}% Complete`;
    out.push({ request_id: id, start_time: start / 1000, end_time: end / 1000, query: shards[0]!.query, status, created_at: shards[0]!.createdAtMs / 1000, user_id: '' });
  }
  out.sort((a, b) => a.created_at - b.created_at);
  return out;
}

/** Loki's CancelDeleteRequestHandler rules. */
export function cancelDeleteRequest(db: IndexDb, tenant: string, requestId: string, force: boolean, opts: { cancelPeriodMs: number; nowMs: number }): void {
  const shards = db.deleteRequests(tenant).filter((r) => r.requestId === requestId);
  if (shards.length === 0) throw new DeleteRequestError(404, 'could not find delete request with given id');
  const first = shards[0]!;
  if (first.status === 'processed') throw new DeleteRequestError(400, 'deletion of request which is in process or already processed is not allowed');
  const partial = shards.some((s) => s.status !== 'received');
  if ((partial || first.createdAtMs + opts.cancelPeriodMs < opts.nowMs) && !force) {
    throw new DeleteRequestError(
      400,
      `Cancellation of partially completed delete request or delete request past the deadline of ${goDuration(opts.cancelPeriodMs)} since its creation is not allowed. To force, use the ?force query parameter`,
    );
  }
  db.removeDeleteRequest(tenant, requestId);
}

/** A compiled request shard: which streams it touches and which entries it removes. */
export class CompiledDelete {
  readonly startNs: bigint;
  readonly endNs: bigint;
  /** true when the query has no pipeline: every entry of a matching stream in range goes */
  readonly wholeStreams: boolean;
  private readonly matchers;
  private readonly pipeline;

  constructor(readonly row: DeleteRequestRow) {
    const expr = parseDeletionQuery(row.query);
    this.matchers = compileMatchers(expr.matchers);
    this.pipeline = expr.pipeline.length ? compilePipeline(expr.pipeline) : null;
    this.wholeStreams = this.pipeline === null;
    this.startNs = BigInt(row.startMs) * 1_000_000n;
    this.endNs = BigInt(row.endMs) * 1_000_000n;
  }

  matchesStream(labels: Labels): boolean {
    return matchesLabels(this.matchers, labels);
  }

  /** Keep-function for one stream (false = the entry is deleted). */
  keepFn(labels: Labels): KeepFn {
    const sp = this.pipeline?.forStream(labels) ?? null;
    const { startNs, endNs } = this;
    return (ts, line, sm) => {
      if (ts < startNs || ts > endNs) return true;
      if (sp === null) return false;
      return !sp.process(ts, line, sm);
    };
  }
}

// ------------------------------------------------------------------ Go duration helpers

function parseGoDurationMs(s: string): number | null {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * unit[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === s.length && s.length > 0 ? total : null;
}

/** Go's time.Duration.String() for whole milliseconds. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = '';
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h) out += `${h}h`;
  if (h || m) out += `${m}m`;
  if (ms < 1000) return `${ms}ms`;
  out += `${s}s`;
  return out;
}
