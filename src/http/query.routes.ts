// /loki/api/v1/query_range and /loki/api/v1/query (GET and POST): parse parameters and LogQL,
// run log queries (streams) or metric queries (matrix/vector/scalar) through the query engine
// with Loki's limits, timeout and client-disconnect cancellation, and answer in Loki's JSON.
// With querier.multi_tenant_queries_enabled, X-Scope-OrgID `a|b` queries every tenant named.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseExpr } from '../logql/syntax/index.js';
import type { Expr, SampleExpr } from '../logql/ast.js';
import { alignRangeGrid, encodeQueryValue } from '../logql/eval/index.js';
import { checkQueryLength, parseInstantQuery, parseRangeQuery, ParamError } from '../query/params.js';
import { nowNs } from '../util/time.js';
import { encodeStats, encodeStreams } from './encode.js';
import { errorStatus, HttpError, sendError } from './errors.js';
import { requestParams } from './params.js';
import type { Services } from './services.js';
import { LoopTurns } from '../util/loop-turns.js';
import { readTenants } from './tenant.js';
import { CancelledError } from '../worker/pool.js';
import { validateQuery } from '../query/validate.js';
import { emptyStats, ibytes, splitTenantMatchers } from '../query/engine.js';
import type { LabelMatcher } from '../logql/ast.js';
import type { LimitsConfig } from '../config/config.js';

const TIMEOUT_TEXT = 'request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed';

export function wantsCategorized(req: FastifyRequest): boolean {
  const h = req.headers['x-loki-response-encoding-flags'];
  const v = Array.isArray(h) ? h.join(',') : h ?? '';
  return v.split(',').some((f) => f.trim() === 'categorize-labels');
}

/** An AbortSignal that fires on query timeout or when the client goes away. */
export function querySignal(req: FastifyRequest, timeoutMs: number): { signal: AbortSignal; done: () => void; timedOut: () => boolean } {
  const ac = new AbortController();
  let timedOut = false;
  const timer = timeoutMs > 0 ? setTimeout(() => { timedOut = true; ac.abort('timeout'); }, timeoutMs) : null;
  const onClose = (): void => {
    if (!req.raw.complete || req.raw.destroyed) ac.abort('client closed');
  };
  req.raw.socket?.on('close', onClose);
  return {
    signal: ac.signal,
    done: () => {
      if (timer) clearTimeout(timer);
      req.raw.socket?.off('close', onClose);
    },
    timedOut: () => timedOut,
  };
}

/** Parses LogQL and builds its pipelines once, so stage errors surface as 400 before scanning. */
export function parseQueryExpr(q: string): Expr {
  const e = parseExpr(q);
  validateQuery(e);
  return e;
}

function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

/** Loki's NewEmptyResponse for a query skipped by max_query_lookback. */
function emptyResult(resultType: 'streams' | 'matrix' | 'vector'): unknown {
  return { status: 'success', data: { resultType, result: [], stats: encodeStats(emptyStats()) } };
}

/** The query limits of several tenants: the smallest positive value of each (0 = unlimited). */
function combinedLimits(s: Services, tenants: string[]): LimitsConfig {
  const base = s.limits.get(tenants[0]!);
  const min = (pick: (l: LimitsConfig) => number): number => s.limits.smallestPositive(tenants, pick);
  return {
    ...base,
    queryTimeoutMs: min((l) => l.queryTimeoutMs),
    maxQueryLookbackMs: min((l) => l.maxQueryLookbackMs),
    maxQueryLengthMs: min((l) => l.maxQueryLengthMs),
    maxEntriesLimitPerQuery: min((l) => l.maxEntriesLimitPerQuery),
    maxQuerySeries: min((l) => l.maxQuerySeries),
    maxQueryBytesRead: min((l) => l.maxQueryBytesRead),
  };
}

/** Every stream selector of a query with the extra time its range and offset reach back. */
function querySelectors(e: Expr): { matchers: LabelMatcher[]; rangeNs: bigint; offsetNs: bigint }[] {
  if (e.kind === 'logSelector') return [{ matchers: e.matchers, rangeNs: 0n, offsetNs: 0n }];
  const out: { matchers: LabelMatcher[]; rangeNs: bigint; offsetNs: bigint }[] = [];
  const visit = (n: unknown): void => {
    if (n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const o = n as { kind?: string };
    if (o.kind === 'logRange') {
      const r = n as { selector: { matchers: LabelMatcher[] }; rangeNs: bigint; offsetNs: bigint };
      out.push({ matchers: r.selector.matchers, rangeNs: r.rangeNs, offsetNs: r.offsetNs });
      return;
    }
    for (const v of Object.values(o)) visit(v);
  };
  visit(e);
  return out;
}

/**
 * Loki's max_query_bytes_read (querySizeLimiter): the bytes the index says the query's
 * selectors would read over its range, checked before any scan; 400 when over.
 */
function checkQueryBytesRead(s: Services, tenants: string[], e: Expr, start: bigint, end: bigint, limit: number): void {
  if (limit <= 0) return;
  let total = 0;
  for (const sel of querySelectors(e)) {
    const from = start - sel.rangeNs - sel.offsetNs;
    const through = end - sel.offsetNs;
    const picked = tenants.length > 1 ? splitTenantMatchers(tenants, sel.matchers) : { tenants, matchers: sel.matchers };
    for (const t of picked.tenants) {
      for (const st of s.engine.selectStreams(t, picked.matchers, from, through)) {
        total += s.ingester.index.chunkTotals(st.id, from, through).lineBytes;
        for (const b of s.ingester.memInfos(st, from, through)) total += b.lineBytes;
      }
    }
  }
  if (total > limit) {
    throw new HttpError(400, `the query would read too many bytes (query: ${ibytes(total)}, limit: ${ibytes(limit)}); consider adding more specific stream selectors or reduce the time range of the query`);
  }
}

export function registerQueryRoutes(app: FastifyInstance, s: Services): void {
  // A query's start (parse, stream selection, snapshots, scan dispatch) runs in a loop turn of
  // its own: a dashboard's queries arrive together, and their starts ran back to back in one
  // poll phase (at a server's start, with cold code and scan threads to spawn, 20-40 ms).
  const turns = new LoopTurns();
  const run = async (req: FastifyRequest, reply: FastifyReply, instant: boolean): Promise<FastifyReply> => {
    const started = Date.now();
    s.metrics.queries++;
    let sig: ReturnType<typeof querySignal> | null = null;
    try {
      await turns.next();
      // Several tenants (querier.multi_tenant_queries_enabled): Loki applies the smallest
      // positive value of each query limit among them.
      const tenants = readTenants(req, s.config.authEnabled, s.config.querier.multiTenantQueriesEnabled);
      const limits = tenants.length === 1 ? s.limits.get(tenants[0]!) : combinedLimits(s, tenants);
      sig = querySignal(req, limits.queryTimeoutMs);
      const p = requestParams(req);
      const now = nowNs();
      const categorize = wantsCategorized(req);
      // max_query_lookback: the frontend clamps start; a range entirely before it is empty.
      const minStart = limits.maxQueryLookbackMs > 0 ? now - BigInt(limits.maxQueryLookbackMs) * 1_000_000n : null;
      let body: unknown;
      if (!instant) {
        const rp = parseRangeQuery(p, now);
        const expr = parseQueryExpr(rp.query);
        if (minStart !== null && rp.requestEnd < minStart) {
          return sendJson(reply, emptyResult(expr.kind === 'logSelector' ? 'streams' : 'matrix'));
        }
        let requestStart = rp.requestStart;
        if (minStart !== null && rp.start < minStart) {
          rp.start = minStart;
          requestStart = minStart;
        }
        checkQueryLength(requestStart, rp.requestEnd, limits.maxQueryLengthMs);
        checkQueryBytesRead(s, tenants, expr, rp.start, rp.end, limits.maxQueryBytesRead);
        if (expr.kind === 'logSelector') {
          if (rp.limit > limits.maxEntriesLimitPerQuery && limits.maxEntriesLimitPerQuery > 0) {
            throw new ParamError(`max entries limit per query exceeded, limit > max_entries_limit_per_query (${rp.limit} > ${limits.maxEntriesLimitPerQuery})`);
          }
          const r = await s.engine.logQueryTenants(tenants, expr, { start: rp.start, end: rp.end, limit: rp.limit, direction: rp.direction, interval: rp.interval, categorize }, sig.signal);
          const data: Record<string, unknown> = { resultType: 'streams' };
          if (categorize) data.encodingFlags = ['categorize-labels'];
          data.result = encodeStreams(r.streams, categorize);
          data.stats = encodeStats(r.stats);
          body = { status: 'success', data };
        } else {
          const r = await s.engine.metricQuery(tenants, expr as SampleExpr, alignRangeGrid({ startNs: rp.start, endNs: rp.end, stepNs: rp.step }), false, sig.signal, limits.maxQuerySeries);
          const data = encodeQueryValue(r.value) as Record<string, unknown>;
          data.stats = encodeStats(r.stats);
          body = { status: 'success', data };
        }
      } else {
        const ip = parseInstantQuery(p, now);
        const expr = parseQueryExpr(ip.query);
        if (expr.kind === 'logSelector') {
          throw new ParamError('log queries are not supported as an instant query type, please change your query to a range query type');
        }
        if (minStart !== null && ip.time < minStart) return sendJson(reply, emptyResult('vector'));
        checkQueryBytesRead(s, tenants, expr, ip.time, ip.time, limits.maxQueryBytesRead);
        const r = await s.engine.metricQuery(tenants, expr as SampleExpr, { startNs: ip.time, endNs: ip.time, stepNs: 0n }, true, sig.signal, limits.maxQuerySeries);
        const data = encodeQueryValue(r.value) as Record<string, unknown>;
        data.stats = encodeStats(r.stats);
        body = { status: 'success', data };
      }
      s.metrics.queryDurationSum += (Date.now() - started) / 1000;
      return sendJson(reply, body);
    } catch (e) {
      s.metrics.queryErrors++;
      if (sig && (e instanceof CancelledError || sig.signal.aborted)) {
        if (sig.timedOut()) return sendError(reply, new HttpError(504, TIMEOUT_TEXT));
        return sendError(reply, new HttpError(499, 'the request was cancelled by the client'));
      }
      const failed = errorStatus(e);
      if (failed.status >= 500) {
        const hint = /chunk \S+\.chk/.test(failed.message) ? '; the named chunk file is damaged: stop the server and run `bramble repair` (src/compactor/repair.ts)' : '';
        req.log.error({ component: 'query', err: failed.message }, `query failed${hint}`);
      }
      return sendError(reply, e);
    } finally {
      sig?.done();
    }
  };

  for (const method of ['GET', 'POST'] as const) {
    app.route({ method, url: '/loki/api/v1/query_range', handler: (req, reply) => run(req, reply, false) });
    app.route({ method, url: '/loki/api/v1/query', handler: (req, reply) => run(req, reply, true) });
  }
}
