// Label and index APIs answered from the stream registry and SQLite index (no chunk scans):
// /labels, /label/<name>/values, /series, /index/stats, /index/volume, /index/volume_range.
import type { FastifyInstance } from 'fastify';
import { parseExpr } from '../logql/syntax/index.js';
import type { LabelMatcher } from '../logql/ast.js';
import { formatPromDuration } from '../config/units.js';
import { parseBounds, parseLimit, parseSecondsOrDuration, param, ParamError, type Params } from '../query/params.js';
import type { StreamRecord } from '../head/stream-head.js';
import { nowNs } from '../util/time.js';
import { labelsToObject, type Labels } from '../util/labels.js';
import { readRoute, sendJson, type ReadHandler } from './route.js';
import { paramList } from './params.js';
import { TENANT_LABEL } from '../query/engine.js';
import type { Services } from './services.js';

function selectorMatchers(q: string): LabelMatcher[] {
  const e = parseExpr(q);
  if (e.kind !== 'logSelector') throw new ParamError('only label matchers are supported');
  if (e.pipeline.length) throw new ParamError('only label matchers are supported');
  return e.matchers;
}

export function registerLabelRoutes(app: FastifyInstance, s: Services): void {
  const lookback = s.config.limits.maxQueryLookbackMs;
  const metadataBounds = (p: Params): { start: bigint; end: bigint } => {
    const b = parseBounds(p, nowNs());
    if (b.end < b.start) throw new ParamError(`this data is no longer available, it is past now - max_query_lookback (${formatPromDuration(lookback)})`);
    return b;
  };
  /** Streams of every tenant read (several only with querier.multi_tenant_queries_enabled). */
  const streamsFor = (tenants: string[], p: Params, start: bigint, end: bigint): StreamRecord[] => {
    const q = param(p, 'query');
    const matchers = q ? selectorMatchers(q) : [];
    return tenants.flatMap((t) => s.engine.selectStreams(t, matchers, start, end, true));
  };
  const json = sendJson;
  const multiTenant = s.config.querier.multiTenantQueriesEnabled;
  const route = (url: string, h: ReadHandler): void => readRoute(app, s.config.authEnabled, url, h, multiTenant);

  route('/loki/api/v1/labels', (_req, reply, _tenant, p, tenants) => {
    const { start, end } = metadataBounds(p);
    const names = new Set<string>();
    for (const st of streamsFor(tenants, p, start, end)) for (const l of st.labels) names.add(l.name);
    // Loki's multi-tenant querier adds its tenant label to the names of several tenants.
    if (tenants.length > 1) names.add(TENANT_LABEL);
    const data = [...names].sort();
    return json(reply, data.length ? { status: 'success', data } : { status: 'success' });
  });

  route('/loki/api/v1/label/:name/values', (req, reply, _tenant, p, tenants) => {
    const { start, end } = metadataBounds(p);
    const name = (req.params as { name: string }).name;
    // The multi-tenant querier answers `__tenant_id__` values with the tenants asked for.
    if (multiTenant && name === TENANT_LABEL) return json(reply, { status: 'success', data: tenants });
    const values = new Set<string>();
    for (const st of streamsFor(tenants, p, start, end)) for (const l of st.labels) if (l.name === name) values.add(l.value);
    const data = [...values].sort();
    return json(reply, data.length ? { status: 'success', data } : { status: 'success' });
  });

  route('/loki/api/v1/series', (_req, reply, _tenant, p, tenants) => {
    const { start, end } = metadataBounds(p);
    const sets = paramList(p, 'match[]', 'match').map(selectorMatchers);
    const data: Record<string, string>[] = [];
    for (const tenant of tenants) {
      const seen = new Map<number, Labels>();
      for (const ms of sets.length ? sets : [[]]) {
        for (const st of s.engine.selectStreams(tenant, ms, start, end)) seen.set(st.id, st.labels);
      }
      for (const labels of seen.values()) {
        const o = labelsToObject(labels);
        // Several tenants: each series names its tenant unless it has a __tenant_id__ of its own.
        if (tenants.length > 1 && !o[TENANT_LABEL]) o[TENANT_LABEL] = tenant;
        data.push(o);
      }
    }
    return json(reply, { status: 'success', data });
  });

  route('/loki/api/v1/index/stats', (_req, reply, _tenant, p, tenants) => {
    const { start, end } = metadataBounds(p);
    const q = param(p, 'query');
    const e = parseExpr(q);
    const matchers = e.kind === 'logSelector' ? e.matchers : [];
    let streams = 0, chunks = 0, bytes = 0, entries = 0;
    for (const st of tenants.flatMap((t) => s.engine.selectStreams(t, matchers, start, end))) {
      streams++;
      const mem = s.ingester.memInfos(st, start, end);
      const t = s.ingester.index.chunkTotals(st.id, start, end);
      chunks += t.chunks;
      bytes += t.lineBytes;
      entries += t.entries;
      if (mem.length) chunks++;
      for (const b of mem) {
        bytes += b.lineBytes;
        entries += b.entries;
      }
    }
    return json(reply, { streams, chunks, bytes, entries });
  });

  const volume = (p: Params, tenants: string[], range: boolean): unknown => {
    const { start, end } = parseBounds(p, nowNs());
    if (end < start) throw new ParamError('end timestamp must not be before or equal to start time');
    let step = 0n;
    if (range) {
      const st = param(p, 'step');
      step = st === '' ? BigInt(Math.max(Math.floor(Number(end - start) / 1e9 / 250), 1)) * 1_000_000_000n : parseSecondsOrDuration(st);
      if (step <= 0n) throw new ParamError('zero or negative query resolution step widths are not accepted. Try a positive integer');
      if ((end - start) / step > 11000n) throw new ParamError('exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter');
    }
    let limit = 100;
    if (param(p, 'limit') !== '' && param(p, 'limit') !== '0') limit = parseLimit(p);
    limit = Math.min(limit, s.config.limits.volumeMaxSeries);
    const matchers = selectorMatchers(param(p, 'query'));
    const aggregateBy = param(p, 'aggregateBy') || 'series';
    if (aggregateBy !== 'series' && aggregateBy !== 'labels') throw new ParamError('invalid aggregation option');
    const targets = param(p, 'targetLabels').split(',').map((x) => x.trim()).filter(Boolean);
    const groupNames = targets.length ? targets : [...new Set(matchers.map((m) => m.name))];
    const nb = range ? Number((end - start + step - 1n) / step) || 1 : 1;
    const series = new Map<string, { metric: Record<string, string>; values: number[] }>();
    const valuesOf = (metric: Record<string, string>): number[] => {
      const key = JSON.stringify(metric);
      let g = series.get(key);
      if (!g) {
        g = { metric, values: new Array(nb).fill(0) };
        series.set(key, g);
      }
      return g.values;
    };
    // a timestamp's bucket
    const bucket = (ts: bigint): number => {
      if (!range) return 0;
      const b = ts < start ? 0 : Number((ts - start) / step);
      return b >= nb ? nb - 1 : b;
    };
    for (const st of tenants.flatMap((t) => s.engine.selectStreams(t, matchers, start, end))) {
      const metrics: Record<string, string>[] = [];
      if (aggregateBy === 'labels') {
        for (const l of st.labels) if (!targets.length || targets.includes(l.name)) metrics.push({ [l.name]: '' });
      } else {
        const m: Record<string, string> = {};
        for (const l of st.labels) if (groupNames.includes(l.name)) m[l.name] = l.value;
        metrics.push(m);
      }
      // the stream's series, looked up once it has bytes in range
      let groups: number[][] | null = null;
      // Bytes per bucket from block metadata (volume is an estimate in Loki as well): a block's
      // or chunk's bytes are spread over the buckets its time range overlaps.
      const spread = (minTs: bigint, maxTs: bigint, lineBytes: number): void => {
        groups ??= metrics.map(valuesOf);
        const b0 = bucket(minTs);
        const b1 = bucket(maxTs);
        const share = Math.max(1, Math.round(lineBytes / (b1 - b0 + 1)));
        for (let b = b0; b <= b1; b++) for (const values of groups) values[b]! += share;
      };
      for (const info of s.ingester.memInfos(st, start, end)) spread(info.minTs, info.maxTs, info.lineBytes);
      for (const [minTs, maxTs, lineBytes] of s.ingester.index.chunkSpans(st.id, start, end)) spread(minTs, maxTs, Number(lineBytes));
    }
    const list = [...series.values()].map((g) => ({ ...g, total: g.values.reduce((a, b) => a + b, 0) }));
    list.sort((a, b) => b.total - a.total);
    const top = list.slice(0, limit);
    const endS = Number(end / 1_000_000n) / 1000;
    if (!range) {
      return { status: 'success', data: { resultType: 'vector', result: top.map((g) => ({ metric: g.metric, value: [endS, String(g.total)] })) } };
    }
    return {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: top.map((g) => ({
          metric: g.metric,
          values: g.values.flatMap((v, i) => {
            if (v === 0) return [];
            const bEnd = start + step * BigInt(i + 1);
            const ts = bEnd >= end ? endS : Number(bEnd / 1_000_000n - 1n) / 1000;
            return [[ts, String(v)]];
          }),
        })),
      },
    };
  };
  route('/loki/api/v1/index/volume', (_req, reply, _tenant, p, tenants) => json(reply, volume(p, tenants, false)));
  route('/loki/api/v1/index/volume_range', (_req, reply, _tenant, p, tenants) => json(reply, volume(p, tenants, true)));
}
