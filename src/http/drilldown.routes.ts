// Endpoints Grafana Logs Drilldown calls: /patterns (mined at ingest by the pattern miner),
// /detected_fields and /detected_field/<name>/values (over the newest `line_limit` entries of the
// query), /detected_labels (over the streams in range). Parameters are validated like query_range.
// With querier.multi_tenant_queries_enabled, X-Scope-OrgID `a|b` spans the tenants as Loki does.
import type { FastifyInstance } from 'fastify';
import { parseExpr } from '../logql/syntax/index.js';
import type { LogSelectorExpr } from '../logql/ast.js';
import { detectFields, detectFieldValues, type FieldEntry } from '../drilldown/fields/detected.js';
import { detectLabels } from '../drilldown/labels.js';
import { parseRangeQuery, param, ParamError, type Params } from '../query/params.js';
import { nowNs } from '../util/time.js';
import { readRoute, sendJson, type ReadHandler } from './route.js';
import type { Services } from './services.js';

function selector(q: string): LogSelectorExpr {
  const e = parseExpr(q);
  if (e.kind !== 'logSelector') throw new ParamError('only log selector is supported');
  return e;
}

function intParam(p: Params, names: string[], def: number): number {
  for (const n of names) {
    const v = param(p, n);
    if (v === '') continue;
    if (!/^\d+$/.test(v)) throw new ParamError(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  }
  return def;
}

export function registerDrilldownRoutes(app: FastifyInstance, s: Services): void {
  const json = sendJson;
  const route = (url: string, h: ReadHandler): void => readRoute(app, s.config.authEnabled, url, h, s.config.querier.multiTenantQueriesEnabled);

  /** The newest `line_limit` entries of the query, newest first, with labels split by origin. */
  const sampleEntries = async (tenants: string[], p: Params): Promise<FieldEntry[]> => {
    const rp = parseRangeQuery(p, nowNs());
    const sel = selector(rp.query);
    const lineLimit = intParam(p, ['line_limit'], 100);
    const r = await s.engine.logQueryTenants(tenants, sel, { start: rp.start, end: rp.end, limit: lineLimit, direction: 'backward', interval: 0n, categorize: true });
    const flat: { tsMs: number; tsRem: number; e: FieldEntry }[] = [];
    for (const st of r.streams) {
      for (const e of st.entries) {
        const c = e.categorized!;
        flat.push({ tsMs: e.tsMs, tsRem: e.tsRem, e: { line: e.line, streamLabels: c.stream, structuredMetadata: c.structuredMetadata, parsed: c.parsed.length ? c.parsed : undefined } });
      }
    }
    flat.sort((a, b) => b.tsMs - a.tsMs || b.tsRem - a.tsRem);
    return flat.map((x) => x.e);
  };

  route('/loki/api/v1/detected_fields', async (_req, reply, _tenant, p, tenants) => {
    const limit = intParam(p, ['limit', 'field_limit'], 1000);
    return json(reply, detectFields(await sampleEntries(tenants, p), limit));
  });

  route('/loki/api/v1/detected_field/:name/values', async (req, reply, _tenant, p, tenants) => {
    const limit = intParam(p, ['limit', 'field_limit'], 1000);
    return json(reply, detectFieldValues(await sampleEntries(tenants, p), (req.params as { name: string }).name, limit));
  });

  route('/loki/api/v1/detected_labels', (_req, reply, _tenant, p, tenants) => {
    const rp = parseRangeQuery(p, nowNs());
    const matchers = rp.query ? selector(rp.query).matchers : [];
    const r = detectLabels(tenants.flatMap((t) => s.engine.selectStreams(t, matchers, rp.start, rp.end).map((st) => st.labels)));
    // Several tenants: Loki merges the per-tenant sketches and sorts by cardinality.
    if (tenants.length > 1) r.detectedLabels?.sort((a, b) => a.cardinality - b.cardinality);
    return json(reply, r);
  });

  route('/loki/api/v1/patterns', (_req, reply, _tenant, p, tenants) => {
    const rp = parseRangeQuery(p, nowNs());
    const sel = selector(rp.query);
    const keys = new Set<string>();
    for (const tenant of tenants) {
      for (const st of s.engine.selectStreams(tenant, sel.matchers, rp.start, rp.end)) keys.add(patternKey(tenant, st.labelsString));
    }
    const data = s.patterns ? s.patterns.query(keys, rp.start, rp.end, rp.step) : [];
    return json(reply, { status: 'success', data });
  });
}

/** Pattern miner stream key: tenant + label string. */
export function patternKey(tenant: string, labelsString: string): string {
  return tenant + '\x00' + labelsString;
}
