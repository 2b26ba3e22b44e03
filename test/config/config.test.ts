import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig, parseFlags } from '../../src/config/config.js';
import { formatGoDuration, formatPromDuration, parseBytes, parseDurationMs } from '../../src/config/units.js';
import { removeDir, tempDataDir } from '../helpers/server.js';

describe('config', () => {
  it('has Loki-like embedded defaults: port 3100 on all interfaces, data in ./data, auth off', () => {
    const c = defaultConfig();
    expect(c.server.httpListenPort).toBe(3100);
    expect(c.server.httpListenAddress).toBe('0.0.0.0');
    expect(c.pathPrefix).toBe('./data');
    expect(c.authEnabled).toBe(false);
    expect(c.limits.maxQuerySeries).toBe(500);
    expect(c.limits.maxEntriesLimitPerQuery).toBe(5000);
  });

  it('reads Loki YAML keys, then lets flags override them', () => {
    const dir = tempDataDir();
    const file = join(dir, 'loki.yaml');
    writeFileSync(file, [
      'auth_enabled: true',
      'server:', '  http_listen_port: 3200',
      'common:', '  path_prefix: /var/lib/x',
      'limits_config:', '  max_line_size: 1MB', '  reject_old_samples_max_age: 2w', '  max_query_series: 10',
      'ingester:', '  chunk_target_size: 2MiB', '  max_chunk_age: 1h30m',
      'schema_config:', '  configs: []',
    ].join('\n'));
    const { config, ignoredKeys } = loadConfig(parseFlags([`-config.file=${file}`, '-server.http-listen-port', '0', '-common.path-prefix=/tmp/y']));
    expect(config.authEnabled).toBe(true);
    expect(config.server.httpListenPort).toBe(0);
    expect(config.pathPrefix).toBe('/tmp/y');
    expect(config.limits.maxLineSize).toBe(1_000_000);
    expect(config.limits.rejectOldSamplesMaxAgeMs).toBe(14 * 86_400_000);
    expect(config.limits.maxQuerySeries).toBe(10);
    expect(config.ingester.chunkTargetSize).toBe(2 * 1024 * 1024);
    expect(config.ingester.maxChunkAgeMs).toBe(90 * 60_000);
    expect(ignoredKeys).toEqual(['schema_config.configs']);
    removeDir(dir);
  });

  it('rejects unknown flags and bad values with a message a person can act on', () => {
    expect(() => parseFlags(['-no.such-flag=1'])).toThrow('flag provided but not defined: -no.such-flag');
    expect(() => loadConfig(parseFlags(['-server.http-listen-port=70000']))).toThrow(/0-65535/);
    expect(parseFlags(['-auth.enabled']).overrides).toEqual([['auth_enabled', 'true']]);
    expect(parseFlags(['--help']).help).toBe(true);
  });

  it('parses and prints durations and sizes as Go/Prometheus do', () => {
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(parseDurationMs('7d')).toBe(604_800_000);
    expect(parseBytes('256KB')).toBe(256_000);
    expect(parseBytes('1.5MiB')).toBe(1_572_864);
    expect(formatGoDuration(1_795_134_899_000)).toBe('498648h34m59s');
    expect(formatPromDuration(721 * 3_600_000)).toBe('30d1h');
    expect(formatPromDuration(604_800_000)).toBe('1w');
    expect(formatPromDuration(0)).toBe('0s');
  });
});
