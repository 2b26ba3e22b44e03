// GET /loki/api/v1/drilldown-limits: the tenant's published limits, whether the pattern
// ingester runs, and the version, which Grafana Logs Drilldown reads once per data source
// (logs-drilldown src/services/datasource.ts getConfig) to decide e.g. whether to show patterns.
// Reproduces Loki's tenantLimitsHandler(forDrilldown=true) (pkg/loki/config_handler.go): the
// tenant comes from the X-Scope-OrgID header itself (the route sits outside Loki's auth
// middleware, so even with auth disabled a request without it gets 401 "no org id"); limits are
// the allow-listed keys of Loki's default tenant_limits_allow_publish, JSON-encoded as Go does
// (map keys sorted, durations as Prometheus strings, byte sizes as datasize strings).
import type { FastifyInstance } from 'fastify';
import type { LimitsConfig } from '../config/config.js';
import { formatPromDuration } from '../config/units.js';
import { BUILD_INFO } from './ops.routes.js';
import type { Services } from './services.js';

/** Loki's distributor.otlp.default_resource_attributes_as_index_labels. */
const OTLP_DEFAULT_INDEX_LABELS = [
  'service.name', 'service.namespace', 'service.instance.id', 'deployment.environment', 'deployment.environment.name',
  'cloud.region', 'cloud.availability_zone', 'k8s.cluster.name', 'k8s.namespace.name', 'k8s.pod.name',
  'k8s.container.name', 'container.name', 'k8s.replicaset.name', 'k8s.deployment.name', 'k8s.statefulset.name',
  'k8s.daemonset.name', 'k8s.cronjob.name', 'k8s.job.name',
];

/** The published limit keys (Loki's default tenant_limits_allow_publish), in Go's sorted map order. */
export function publishedLimits(l: LimitsConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    discover_log_levels: l.discoverLogLevels,
    discover_service_name: l.discoverServiceName,
    log_level_fields: l.logLevelFields,
    max_entries_limit_per_query: l.maxEntriesLimitPerQuery,
    max_line_size_truncate: l.maxLineSizeTruncate,
    // Bramble has no bytes-read limit: Loki's default 0 prints as datasize's "0B"
    max_query_bytes_read: '0B',
    max_query_length: formatPromDuration(l.maxQueryLengthMs),
    max_query_lookback: formatPromDuration(l.maxQueryLookbackMs),
    max_query_range: formatPromDuration(l.maxQueryRangeMs),
    max_query_series: l.maxQuerySeries,
    metric_aggregation_enabled: false,
    otlp_config: { resource_attributes: { attributes_config: [{ action: 'index_label', attributes: OTLP_DEFAULT_INDEX_LABELS }] } },
    pattern_persistence_enabled: false,
    query_timeout: formatPromDuration(l.queryTimeoutMs),
    retention_period: formatPromDuration(l.retentionPeriodMs),
  };
  // retention_stream is omitempty in Loki's JSON
  const rs = l.retentionStream ?? [];
  if (rs.length) out.retention_stream = rs.map((r) => ({ period: formatPromDuration(r.periodMs), priority: r.priority, selector: r.selector }));
  out.volume_enabled = l.volumeEnabled;
  out.volume_max_series = l.volumeMaxSeries;
  return out;
}

export function registerDrilldownLimitsRoutes(app: FastifyInstance, s: Services): void {
  app.get('/loki/api/v1/drilldown-limits', async (req, reply) => {
    const h = req.headers['x-scope-orgid'];
    const tenant = (Array.isArray(h) ? h[0] : h) ?? '';
    if (tenant === '') {
      return reply.code(401).type('text/plain; charset=utf-8').header('X-Content-Type-Options', 'nosniff').send('no org id\n');
    }
    const body = {
      limits: publishedLimits(s.limits.get(tenant)),
      pattern_ingester_enabled: s.config.patternIngester.enabled,
      version: BUILD_INFO.version,
    };
    // a Buffer keeps Fastify from appending a charset: Loki sends plain application/json
    return reply.header('Content-Type', 'application/json').send(Buffer.from(JSON.stringify(body) + '\n'));
  });
}
