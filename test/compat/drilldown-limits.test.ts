// /loki/api/v1/drilldown-limits as Loki's tenantLimitsHandler(true) answers it, with the keys and
// value formats Grafana Logs Drilldown reads (src/services/datasourceTypes.ts LokiConfig).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let cfgDir: string;

beforeAll(async () => {
  cfgDir = tempDataDir('bramble-ddl-');
  const cfg = join(cfgDir, 'loki.yaml');
  writeFileSync(cfg, 'limits_config:\n  max_query_series: 700\n  query_timeout: 2m\n  retention_period: 744h\npattern_ingester:\n  enabled: true\n');
  srv = await startTestServer({ configFile: cfg });
});

afterAll(async () => {
  await srv?.stop();
  if (srv) removeDir(srv.dataDir);
  removeDir(cfgDir);
});

describe('drilldown-limits', () => {
  it('needs X-Scope-OrgID even with auth disabled (the route is outside Loki\'s auth middleware)', async () => {
    const r = await fetch(`${srv.url}/loki/api/v1/drilldown-limits`);
    expect(r.status).toBe(401);
    expect(await r.text()).toBe('no org id\n');
  });

  it('publishes the allow-listed limits, pattern_ingester_enabled and the version', async () => {
    const r = await fetch(`${srv.url}/loki/api/v1/drilldown-limits`, { headers: { 'X-Scope-OrgID': 'fake' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    const text = await r.text();
    expect(text.endsWith('}\n')).toBe(true);
    const body = JSON.parse(text);
    expect(Object.keys(body)).toEqual(['limits', 'pattern_ingester_enabled', 'version']);
    expect(body.pattern_ingester_enabled).toBe(true);
    const build = await (await fetch(`${srv.url}/loki/api/v1/status/buildinfo`)).json();
    expect(body.version).toBe(build.version);
    const l = body.limits;
    // Go's json encodes map keys sorted
    expect(Object.keys(l)).toEqual([...Object.keys(l)].sort());
    expect(Object.keys(l)).toEqual([
      'discover_log_levels', 'discover_service_name', 'log_level_fields', 'max_entries_limit_per_query', 'max_line_size_truncate',
      'max_query_bytes_read', 'max_query_length', 'max_query_lookback', 'max_query_range', 'max_query_series',
      'metric_aggregation_enabled', 'otlp_config', 'pattern_persistence_enabled', 'query_timeout', 'retention_period',
      'volume_enabled', 'volume_max_series',
    ]);
    expect(l).toMatchObject({
      discover_log_levels: true,
      max_entries_limit_per_query: 5000,
      max_line_size_truncate: false,
      max_query_bytes_read: '0B',
      max_query_length: '30d1h',
      max_query_lookback: '0s',
      max_query_range: '0s',
      max_query_series: 700,
      query_timeout: '2m',
      retention_period: '31d',
      volume_enabled: true,
      volume_max_series: 1000,
    });
    expect(l.discover_service_name).toContain('service');
    expect(l.log_level_fields).toContain('level');
    expect(l.otlp_config.resource_attributes.attributes_config[0].action).toBe('index_label');
    expect(l.otlp_config.resource_attributes.attributes_config[0].attributes).toContain('service.name');
  });
});
