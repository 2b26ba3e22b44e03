// Bramble's typed configuration: embedded defaults (no file needed), then a Loki-style YAML file
// (`-config.file`), then Loki-named command-line flags. Built once at start, validated, frozen.
// Key names follow Loki's config reference so a Loki user's knowledge carries over.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { parseBytes, parseDurationMs } from './units.js';

export interface LimitsConfig {
  ingestionRateMB: number;
  ingestionBurstSizeMB: number;
  perStreamRateLimitBytes: number;
  perStreamRateLimitBurstBytes: number;
  maxLineSize: number; // bytes, 0 = unlimited
  maxLineSizeTruncate: boolean;
  maxLabelNamesPerSeries: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  rejectOldSamples: boolean;
  rejectOldSamplesMaxAgeMs: number;
  creationGracePeriodMs: number;
  allowStructuredMetadata: boolean;
  maxStructuredMetadataSize: number;
  maxStructuredMetadataEntriesCount: number;
  maxGlobalStreamsPerUser: number;
  maxStreamsPerUser: number;
  maxEntriesLimitPerQuery: number;
  maxQuerySeries: number;
  /** Loki's max_query_bytes_read: bytes a query may read by the index's count (0 = unlimited) */
  maxQueryBytesRead: number;
  maxQueryLengthMs: number;
  maxQueryLookbackMs: number;
  maxQueryRangeMs: number;
  queryTimeoutMs: number;
  maxConcurrentTailRequests: number;
  volumeEnabled: boolean;
  volumeMaxSeries: number;
  discoverServiceName: string[];
  discoverLogLevels: boolean;
  logLevelFields: string[];
  incrementDuplicateTimestamp: boolean;
  retentionPeriodMs: number;
  /** per-stream retention rules (Loki's retention_stream): highest priority wins, then the shortest period */
  retentionStream: { selector: string; priority: number; periodMs: number }[];
  /** Loki's deletion_mode: disabled, filter-only or filter-and-delete */
  deletionMode: string;
}

/** Background compactor (src/compactor): merging, retention, delete requests, disk cap. */
export interface CompactorConfig {
  compactionIntervalMs: number;
  retentionEnabled: boolean;
  /** how long files removed from the index stay on disk (in-flight queries may still read them) */
  retentionDeleteDelayMs: number;
  deleteRequestCancelPeriodMs: number;
  deleteMaxIntervalMs: number;
  /** Bramble extension (loki#5659): cap on the data directory's bytes (0 = none) */
  retentionMaxDiskBytes: number;
  /** Bramble extension: cap on the data volume's used percentage (0 = none) */
  retentionMaxDiskPercent: number;
  /** merge a stream's small chunks into chunks near ingester.chunk_target_size */
  mergeEnabled: boolean;
}

export interface IngesterConfig {
  chunkTargetSize: number; // compressed bytes
  chunkBlockSize: number; // uncompressed bytes per block
  chunkIdlePeriodMs: number;
  maxChunkAgeMs: number;
  flushCheckPeriodMs: number;
  /** Bramble extension: memory cap for all in-memory heads; above it the biggest are flushed early (0 = none) */
  maxHeadBytes: number;
}

/** TLS for the HTTP listener (Loki's server.http_tls_config). */
export interface HttpTlsConfig {
  certFile: string;
  keyFile: string;
  clientCaFile: string;
  /** Go tls.ClientAuthType names: NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert */
  clientAuthType: string;
}

/** Bramble extension: HTTP basic auth and/or a bearer token in front of the API. */
export interface HttpAuthConfig {
  basicUsername: string;
  basicPasswordFile: string;
  bearerTokenFile: string;
}

export interface Config {
  server: { httpListenAddress: string; httpListenPort: number; logLevel: string; bodyLimitBytes: number; gracefulShutdownMs: number; tls: HttpTlsConfig; httpAuth: HttpAuthConfig };
  /** Loki's distributor.max_decompressed_size (bytes) */
  distributor: { maxDecompressedBytes: number };
  /** Loki's runtime_config: per-tenant `overrides:` file, re-read every period */
  runtimeConfig: { file: string; periodMs: number };
  /** Loki's frontend.max_outstanding_per_tenant: queued queries per tenant before 429 */
  frontend: { maxOutstandingPerTenant: number };
  pathPrefix: string;
  authEnabled: boolean;
  limits: LimitsConfig;
  ingester: IngesterConfig;
  compactor: CompactorConfig;
  wal: { enabled: boolean; dir: string; segmentSize: number };
  /**
   * multiTenantQueriesEnabled: querier.multi_tenant_queries_enabled (X-Scope-OrgID `a|b` on reads);
   * maxResultBytes: bramble.query.max_result_bytes, memory budget of one query's results (0 = off)
   */
  querier: { workers: number; workerIdleMs: number; maxConcurrent: number; tailMaxDurationMs: number; multiTenantQueriesEnabled: boolean; maxResultBytes: number };
  patternIngester: { enabled: boolean };
  /** `bramble.forward`: mirror every accepted push to a remote Loki (src/forward) */
  forward: ForwardConfig;
  /** where the config came from, for /config and logs */
  source: { file?: string };
}

export interface ForwardConfig {
  /** remote Loki base URL or push URL; empty = forwarding off */
  url: string;
  /** X-Scope-OrgID for the remote; empty = the pushing tenant when auth is on, none otherwise */
  tenant: string;
  headers: Record<string, string>;
  /** bytes of pushes waiting to be sent before new ones are dropped */
  queueBytes: number;
  /** push body target size (uncompressed) */
  batchBytes: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** attempts per batch on 429/5xx/network errors before it is dropped */
  maxRetries: number;
  timeoutMs: number;
}

export const DEFAULT_SERVICE_NAME_LABELS = [
  'service', 'app', 'application', 'app_name', 'name', 'app_kubernetes_io_name', 'container', 'container_name',
  'k8s_container_name', 'component', 'workload', 'job', 'k8s_job_name',
];

export const DEFAULT_LOG_LEVEL_FIELDS = [
  'level', 'LEVEL', 'Level', 'log.level', 'severity', 'SEVERITY', 'Severity', 'SeverityText', 'lvl', 'LVL', 'Lvl',
  'severity_text', 'Severity_Text', 'SEVERITY_TEXT',
];

export function defaultLimits(): LimitsConfig {
  return {
    ingestionRateMB: 4,
    ingestionBurstSizeMB: 6,
    perStreamRateLimitBytes: 3 * 1024 * 1024,
    perStreamRateLimitBurstBytes: 15 * 1024 * 1024,
    maxLineSize: 256_000,
    maxLineSizeTruncate: false,
    maxLabelNamesPerSeries: 15,
    maxLabelNameLength: 1024,
    maxLabelValueLength: 2048,
    rejectOldSamples: true,
    rejectOldSamplesMaxAgeMs: 7 * 86_400_000,
    creationGracePeriodMs: 10 * 60_000,
    allowStructuredMetadata: true,
    maxStructuredMetadataSize: 64 * 1024,
    maxStructuredMetadataEntriesCount: 128,
    maxGlobalStreamsPerUser: 5000,
    maxStreamsPerUser: 0,
    maxEntriesLimitPerQuery: 5000,
    maxQuerySeries: 500,
    maxQueryBytesRead: 0,
    maxQueryLengthMs: 721 * 3_600_000,
    maxQueryLookbackMs: 0,
    maxQueryRangeMs: 0,
    queryTimeoutMs: 60_000,
    maxConcurrentTailRequests: 10,
    volumeEnabled: true,
    volumeMaxSeries: 1000,
    discoverServiceName: [...DEFAULT_SERVICE_NAME_LABELS],
    discoverLogLevels: true,
    logLevelFields: [...DEFAULT_LOG_LEVEL_FIELDS],
    incrementDuplicateTimestamp: false,
    retentionPeriodMs: 0,
    retentionStream: [],
    deletionMode: 'filter-and-delete',
  };
}

export function defaultConfig(): Config {
  return {
    server: {
      httpListenAddress: '0.0.0.0', httpListenPort: 3100, logLevel: 'info', bodyLimitBytes: 100 * 1024 * 1024, gracefulShutdownMs: 30_000,
      tls: { certFile: '', keyFile: '', clientCaFile: '', clientAuthType: '' },
      httpAuth: { basicUsername: '', basicPasswordFile: '', bearerTokenFile: '' },
    },
    distributor: { maxDecompressedBytes: 5000 * 1024 * 1024 },
    runtimeConfig: { file: '', periodMs: 10_000 },
    frontend: { maxOutstandingPerTenant: 2048 },
    pathPrefix: './data',
    authEnabled: false,
    limits: defaultLimits(),
    ingester: {
      chunkTargetSize: 1_572_864,
      chunkBlockSize: 262_144,
      chunkIdlePeriodMs: 30 * 60_000,
      maxChunkAgeMs: 2 * 3_600_000,
      flushCheckPeriodMs: 30_000,
      maxHeadBytes: 64 * 1024 * 1024,
    },
    compactor: {
      compactionIntervalMs: 10 * 60_000,
      retentionEnabled: false,
      retentionDeleteDelayMs: 2 * 60_000,
      deleteRequestCancelPeriodMs: 24 * 3_600_000,
      deleteMaxIntervalMs: 24 * 3_600_000,
      retentionMaxDiskBytes: 0,
      retentionMaxDiskPercent: 0,
      mergeEnabled: true,
    },
    wal: { enabled: true, dir: '', segmentSize: 64 * 1024 * 1024 },
    querier: { workers: Math.max(1, availableParallelism()), workerIdleMs: 120_000, maxConcurrent: 8, tailMaxDurationMs: 3_600_000, multiTenantQueriesEnabled: false, maxResultBytes: 128 * 1024 * 1024 },
    // Loki's default: pattern mining off (it costs ingest CPU); Logs Drilldown users enable it.
    patternIngester: { enabled: false },
    forward: {
      url: '', tenant: '', headers: {}, queueBytes: 64 * 1024 * 1024, batchBytes: 1024 * 1024,
      minBackoffMs: 500, maxBackoffMs: 30_000, maxRetries: 10, timeoutMs: 10_000,
    },
    source: {},
  };
}

type Setter = (c: Config, v: unknown) => void;

const bool = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === '';
const num = (v: unknown): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got ${JSON.stringify(v)}`);
  return n;
};
const dur = (v: unknown): number => parseDurationMs(v as string | number);
const bytes = (v: unknown): number => parseBytes(v as string | number);
/** limits_config.retention_stream: [{selector, priority, period}] as in Loki's limits. */
function retentionStreams(v: unknown): LimitsConfig['retentionStream'] {
  if (!Array.isArray(v)) throw new Error('expected a list of {selector, priority, period}');
  return v.map((r, i) => {
    const o = (r ?? {}) as Record<string, unknown>;
    if (typeof o.selector !== 'string' || !o.selector) throw new Error(`entry ${i}: selector is required`);
    if (o.period === undefined) throw new Error(`entry ${i}: period is required`);
    return { selector: o.selector, priority: o.priority === undefined ? 0 : num(o.priority), periodMs: dur(o.period) };
  });
}
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : String(v).split(',').map((s) => s.trim()).filter(Boolean));

/** YAML path (Loki key names) → setter. Unknown keys are reported, not silently ignored. */
const YAML_KEYS: Record<string, Setter> = {
  'auth_enabled': (c, v) => { c.authEnabled = bool(v); },
  'server.http_listen_address': (c, v) => { c.server.httpListenAddress = String(v); },
  'server.http_listen_port': (c, v) => { c.server.httpListenPort = num(v); },
  'server.log_level': (c, v) => { c.server.logLevel = String(v); },
  'server.grpc_listen_port': () => {},
  'server.graceful_shutdown_timeout': (c, v) => { c.server.gracefulShutdownMs = dur(v); },
  'common.path_prefix': (c, v) => { c.pathPrefix = String(v); },
  'ingester.chunk_target_size': (c, v) => { c.ingester.chunkTargetSize = bytes(v); },
  'ingester.chunk_block_size': (c, v) => { c.ingester.chunkBlockSize = bytes(v); },
  'ingester.chunk_idle_period': (c, v) => { c.ingester.chunkIdlePeriodMs = dur(v); },
  'ingester.max_chunk_age': (c, v) => { c.ingester.maxChunkAgeMs = dur(v); },
  'ingester.flush_check_period': (c, v) => { c.ingester.flushCheckPeriodMs = dur(v); },
  'ingester.max_head_bytes': (c, v) => { c.ingester.maxHeadBytes = bytes(v); },
  'ingester.chunk_encoding': () => {},
  'ingester.wal.enabled': (c, v) => { c.wal.enabled = bool(v); },
  'ingester.wal.dir': (c, v) => { c.wal.dir = String(v); },
  'querier.max_concurrent': (c, v) => { c.querier.maxConcurrent = num(v); },
  'querier.tail_max_duration': (c, v) => { c.querier.tailMaxDurationMs = dur(v); },
  'querier.multi_tenant_queries_enabled': (c, v) => { c.querier.multiTenantQueriesEnabled = bool(v); },
  'bramble.query.max_result_bytes': (c, v) => { c.querier.maxResultBytes = bytes(v); },
  'frontend.max_outstanding_per_tenant': (c, v) => { c.frontend.maxOutstandingPerTenant = num(v); },
  'distributor.max_recv_msg_size': (c, v) => { c.server.bodyLimitBytes = bytes(v); },
  'distributor.max_decompressed_size': (c, v) => { c.distributor.maxDecompressedBytes = bytes(v); },
  'runtime_config.file': (c, v) => { c.runtimeConfig.file = String(v ?? ''); },
  'runtime_config.period': (c, v) => { c.runtimeConfig.periodMs = dur(v); },
  'server.http_tls_config.cert_file': (c, v) => { c.server.tls.certFile = String(v ?? ''); },
  'server.http_tls_config.key_file': (c, v) => { c.server.tls.keyFile = String(v ?? ''); },
  'server.http_tls_config.client_ca_file': (c, v) => { c.server.tls.clientCaFile = String(v ?? ''); },
  'server.http_tls_config.client_auth_type': (c, v) => { c.server.tls.clientAuthType = String(v ?? ''); },
  'server.http_auth.basic.username': (c, v) => { c.server.httpAuth.basicUsername = String(v ?? ''); },
  'server.http_auth.basic.password_file': (c, v) => { c.server.httpAuth.basicPasswordFile = String(v ?? ''); },
  'server.http_auth.bearer_token_file': (c, v) => { c.server.httpAuth.bearerTokenFile = String(v ?? ''); },
  'limits_config.ingestion_rate_strategy': (c, v) => {
    // One process is the only distributor, so "global" and "local" give the same limit.
    if (v !== 'global' && v !== 'local') throw new Error(`unknown ingestion rate strategy "${String(v)}" (global, local)`);
  },
  'querier.scan_workers': (c, v) => { c.querier.workers = Math.max(1, num(v)); },
  'querier.scan_worker_idle_timeout': (c, v) => { c.querier.workerIdleMs = dur(v); },
  'pattern_ingester.enabled': (c, v) => { c.patternIngester.enabled = bool(v); },
  'bramble.forward.url': (c, v) => { c.forward.url = String(v ?? ''); },
  'bramble.forward.tenant': (c, v) => { c.forward.tenant = String(v ?? ''); },
  'bramble.forward.headers': (c, v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a map of header names to values');
    c.forward.headers = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
  },
  'bramble.forward.queue_size': (c, v) => { c.forward.queueBytes = bytes(v); },
  'bramble.forward.batch_size': (c, v) => { c.forward.batchBytes = bytes(v); },
  'bramble.forward.min_backoff': (c, v) => { c.forward.minBackoffMs = dur(v); },
  'bramble.forward.max_backoff': (c, v) => { c.forward.maxBackoffMs = dur(v); },
  'bramble.forward.max_retries': (c, v) => { c.forward.maxRetries = num(v); },
  'bramble.forward.timeout': (c, v) => { c.forward.timeoutMs = dur(v); },
  'limits_config.ingestion_rate_mb': (c, v) => { c.limits.ingestionRateMB = num(v); },
  'limits_config.ingestion_burst_size_mb': (c, v) => { c.limits.ingestionBurstSizeMB = num(v); },
  'limits_config.per_stream_rate_limit': (c, v) => { c.limits.perStreamRateLimitBytes = bytes(v); },
  'limits_config.per_stream_rate_limit_burst': (c, v) => { c.limits.perStreamRateLimitBurstBytes = bytes(v); },
  'limits_config.max_line_size': (c, v) => { c.limits.maxLineSize = bytes(v); },
  'limits_config.max_line_size_truncate': (c, v) => { c.limits.maxLineSizeTruncate = bool(v); },
  'limits_config.max_label_names_per_series': (c, v) => { c.limits.maxLabelNamesPerSeries = num(v); },
  'limits_config.max_label_name_length': (c, v) => { c.limits.maxLabelNameLength = num(v); },
  'limits_config.max_label_value_length': (c, v) => { c.limits.maxLabelValueLength = num(v); },
  'limits_config.reject_old_samples': (c, v) => { c.limits.rejectOldSamples = bool(v); },
  'limits_config.reject_old_samples_max_age': (c, v) => { c.limits.rejectOldSamplesMaxAgeMs = dur(v); },
  'limits_config.creation_grace_period': (c, v) => { c.limits.creationGracePeriodMs = dur(v); },
  'limits_config.allow_structured_metadata': (c, v) => { c.limits.allowStructuredMetadata = bool(v); },
  'limits_config.max_structured_metadata_size': (c, v) => { c.limits.maxStructuredMetadataSize = bytes(v); },
  'limits_config.max_structured_metadata_entries_count': (c, v) => { c.limits.maxStructuredMetadataEntriesCount = num(v); },
  'limits_config.max_global_streams_per_user': (c, v) => { c.limits.maxGlobalStreamsPerUser = num(v); },
  'limits_config.max_streams_per_user': (c, v) => { c.limits.maxStreamsPerUser = num(v); },
  'limits_config.max_entries_limit_per_query': (c, v) => { c.limits.maxEntriesLimitPerQuery = num(v); },
  'limits_config.max_query_series': (c, v) => { c.limits.maxQuerySeries = num(v); },
  'limits_config.max_query_bytes_read': (c, v) => { c.limits.maxQueryBytesRead = bytes(v); },
  'limits_config.max_query_length': (c, v) => { c.limits.maxQueryLengthMs = dur(v); },
  'limits_config.max_query_lookback': (c, v) => { c.limits.maxQueryLookbackMs = dur(v); },
  'limits_config.max_query_range': (c, v) => { c.limits.maxQueryRangeMs = dur(v); },
  'limits_config.query_timeout': (c, v) => { c.limits.queryTimeoutMs = dur(v); },
  'limits_config.max_concurrent_tail_requests': (c, v) => { c.limits.maxConcurrentTailRequests = num(v); },
  'limits_config.volume_enabled': (c, v) => { c.limits.volumeEnabled = bool(v); },
  'limits_config.volume_max_series': (c, v) => { c.limits.volumeMaxSeries = num(v); },
  'limits_config.discover_service_name': (c, v) => { c.limits.discoverServiceName = strList(v); },
  'limits_config.discover_log_levels': (c, v) => { c.limits.discoverLogLevels = bool(v); },
  'limits_config.log_level_fields': (c, v) => { c.limits.logLevelFields = strList(v); },
  'limits_config.increment_duplicate_timestamp': (c, v) => { c.limits.incrementDuplicateTimestamp = bool(v); },
  'limits_config.retention_period': (c, v) => { c.limits.retentionPeriodMs = dur(v); },
  'limits_config.pattern_rate_threshold': () => {},
  'limits_config.retention_stream': (c, v) => { c.limits.retentionStream = retentionStreams(v); },
  'limits_config.deletion_mode': (c, v) => {
    const m = String(v);
    if (!['disabled', 'filter-only', 'filter-and-delete'].includes(m)) throw new Error(`unknown deletion mode "${m}" (disabled, filter-only, filter-and-delete)`);
    c.limits.deletionMode = m;
  },
  'compactor.compaction_interval': (c, v) => { c.compactor.compactionIntervalMs = dur(v); },
  'compactor.retention_enabled': (c, v) => { c.compactor.retentionEnabled = bool(v); },
  'compactor.retention_delete_delay': (c, v) => { c.compactor.retentionDeleteDelayMs = dur(v); },
  'compactor.delete_request_cancel_period': (c, v) => { c.compactor.deleteRequestCancelPeriodMs = dur(v); },
  'compactor.delete_max_interval': (c, v) => { c.compactor.deleteMaxIntervalMs = dur(v); },
  'compactor.retention_max_disk_bytes': (c, v) => { c.compactor.retentionMaxDiskBytes = bytes(v); },
  'compactor.retention_max_disk_percent': (c, v) => { c.compactor.retentionMaxDiskPercent = num(v); },
  'compactor.merge_enabled': (c, v) => { c.compactor.mergeEnabled = bool(v); },
  'compactor.working_directory': () => {},
  'compactor.delete_request_store': () => {},
  'compactor.retention_delete_worker_count': () => {},
};

/**
 * Applies a `limits_config`-shaped object (e.g. one tenant of the runtime config's `overrides:`)
 * onto `limits`, with the same key names and parsing as the main config. Returns unknown keys.
 */
export function applyLimitsTree(limits: LimitsConfig, tree: Record<string, unknown>): string[] {
  const holder = { limits } as unknown as Config;
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(tree)) {
    const setter = YAML_KEYS[`limits_config.${k}`];
    if (!setter) {
      unknown.push(k);
      continue;
    }
    try {
      setter(holder, v);
    } catch (e) {
      throw new Error(`${k}: ${(e as Error).message}`);
    }
  }
  return unknown;
}

/** Command-line flags (Loki names) → YAML path they set. */
const FLAGS: Record<string, { key: string; help: string; boolean?: boolean }> = {
  'server.http-listen-address': { key: 'server.http_listen_address', help: 'HTTP server listen address (default: all interfaces)' },
  'server.http-listen-port': { key: 'server.http_listen_port', help: 'HTTP server listen port; 0 picks a free port (default 3100)' },
  'server.graceful-shutdown-timeout': { key: 'server.graceful_shutdown_timeout', help: 'On shutdown, wait this long for requests under way before closing their connections (default 30s)' },
  'log.level': { key: 'server.log_level', help: 'Log level: debug, info, warn, error (default info)' },
  'common.path-prefix': { key: 'common.path_prefix', help: 'Data directory for WAL, chunks and index (default ./data)' },
  'auth.enabled': { key: 'auth_enabled', help: 'Require X-Scope-OrgID on every request (multi-tenant mode)', boolean: true },
  'ingester.chunk-target-size': { key: 'ingester.chunk_target_size', help: 'Compressed chunk size to aim for (default 1.5MiB)' },
  'ingester.chunks-block-size': { key: 'ingester.chunk_block_size', help: 'Uncompressed block size inside a chunk (default 256KiB)' },
  'ingester.chunks-idle-period': { key: 'ingester.chunk_idle_period', help: 'Flush a stream chunk after this long without writes (default 30m)' },
  'ingester.max-chunk-age': { key: 'ingester.max_chunk_age', help: 'Flush a chunk once it spans this long (default 2h)' },
  'ingester.flush-check-period': { key: 'ingester.flush_check_period', help: 'How often heads are checked for flushing (default 30s)' },
  'compactor.retention-enabled': { key: 'compactor.retention_enabled', help: 'Delete data past retention and serve the delete API (default false)', boolean: true },
  'compactor.compaction-interval': { key: 'compactor.compaction_interval', help: 'How often the compactor runs (default 10m)' },
  'compactor.retention-delete-delay': { key: 'compactor.retention_delete_delay', help: 'Delay before files dropped from the index are removed (default 2m)' },
  'compactor.delete-request-cancel-period': { key: 'compactor.delete_request_cancel_period', help: 'Time a delete request can be cancelled before it is processed (default 24h)' },
  'compactor.retention-max-disk-bytes': { key: 'compactor.retention_max_disk_bytes', help: 'Delete oldest chunks while the data directory exceeds this size (default 0 = off)' },
  'compactor.retention-max-disk-percent': { key: 'compactor.retention_max_disk_percent', help: 'Delete oldest chunks while the data volume is fuller than this percentage (default 0 = off)' },
  'store.retention': { key: 'limits_config.retention_period', help: 'Global retention period, e.g. 744h (default 0 = keep forever)' },
  'querier.scan-workers': { key: 'querier.scan_workers', help: 'Most worker threads that scan chunks (default: CPUs this process may use)' },
  'querier.scan-worker-idle-timeout': { key: 'querier.scan_worker_idle_timeout', help: 'Stop a scan worker after this long without work; started again on demand (default 2m, 0 = never)' },
  'pattern-ingester.enabled': { key: 'pattern_ingester.enabled', help: 'Mine log patterns at push time for /loki/api/v1/patterns (Logs Drilldown)', boolean: true },
  'querier.max-concurrent': { key: 'querier.max_concurrent', help: 'Queries run at once; more wait in a queue (default 8)' },
  'querier.multi-tenant-queries-enabled': { key: 'querier.multi_tenant_queries_enabled', help: 'When true, allow queries to span multiple tenants (X-Scope-OrgID a|b)' },
  'bramble.forward-url': { key: 'bramble.forward.url', help: 'Mirror every accepted push to this Loki URL (see bramble.forward in the README)' },
  'querier.max-outstanding-requests-per-tenant': { key: 'frontend.max_outstanding_per_tenant', help: 'Queued queries per tenant before 429 (default 2048)' },
  'distributor.max-recv-msg-size': { key: 'distributor.max_recv_msg_size', help: 'Largest push body accepted, bytes (default 100MiB)' },
  'runtime-config.file': { key: 'runtime_config.file', help: 'YAML file with per-tenant limit overrides (Loki\'s `overrides:` format)' },
  'runtime-config.reload-period': { key: 'runtime_config.period', help: 'How often the runtime config file is re-read (default 10s)' },
  'server.http-tls-cert-path': { key: 'server.http_tls_config.cert_file', help: 'TLS certificate (PEM) for the HTTP listener' },
  'server.http-tls-key-path': { key: 'server.http_tls_config.key_file', help: 'TLS private key (PEM) for the HTTP listener' },
};

export interface CliOptions {
  configFile?: string;
  printConfig: boolean;
  help: boolean;
  overrides: [string, string][];
}

/** Parses `-flag=value`, `-flag value`, `--flag=value` forms as Go's flag package does. */
export function parseFlags(argv: string[]): CliOptions {
  const out: CliOptions = { printConfig: false, help: false, overrides: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) throw new Error(`unexpected argument "${arg}" (flags look like -name=value; see --help)`);
    let name = arg.replace(/^--?/, '');
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (name === 'h' || name === 'help') { out.help = true; continue; }
    if (name === 'print-config-stderr') { out.printConfig = value === undefined || bool(value); continue; }
    if (name === 'config.expand-env') continue;
    const takeValue = (): string => {
      if (value !== undefined) return value;
      const next = argv[++i];
      if (next === undefined) throw new Error(`flag needs an argument: -${name}`);
      return next;
    };
    if (name === 'config.file') { out.configFile = takeValue(); continue; }
    const f = FLAGS[name];
    if (!f) throw new Error(`flag provided but not defined: -${name} (see --help)`);
    out.overrides.push([f.key, f.boolean && value === undefined ? 'true' : takeValue()]);
  }
  return out;
}

export function flagsHelp(): string {
  const lines = [
    'Usage: bramble [serve] [flags]',
    '',
    'Bramble is a Loki-compatible log store. With no flags it listens on :3100 and keeps data in ./data.',
    '',
    'Flags (Loki names):',
    '  -config.file=FILE             Loki-style YAML config (server, common, auth_enabled, limits_config, ingester)',
    '  -print-config-stderr          Print the effective config to stderr at start-up',
  ];
  for (const [name, f] of Object.entries(FLAGS)) lines.push(`  -${(name + (f.boolean ? '' : '=V')).padEnd(28)} ${f.help}`);
  lines.push('  -help                         Show this help');
  return lines.join('\n') + '\n';
}

function applyTree(c: Config, tree: unknown, prefix: string, unknown: string[]): void {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) return;
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${k}` : k;
    const setter = YAML_KEYS[path];
    if (setter) {
      try {
        setter(c, v);
      } catch (e) {
        throw new Error(`config key ${path}: ${(e as Error).message}`);
      }
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      applyTree(c, v, path, unknown);
    } else {
      unknown.push(path);
    }
  }
}

export interface LoadedConfig {
  config: Config;
  /** config keys found in the file that Bramble does not use (logged as a warning) */
  ignoredKeys: string[];
}

export function loadConfig(cli: CliOptions): LoadedConfig {
  const c = defaultConfig();
  const ignoredKeys: string[] = [];
  if (cli.configFile) {
    let text: string;
    try {
      text = readFileSync(cli.configFile, 'utf8');
    } catch (e) {
      throw new Error(`cannot read -config.file ${cli.configFile}: ${(e as Error).message}`);
    }
    applyTree(c, parseYaml(text) ?? {}, '', ignoredKeys);
    c.source.file = cli.configFile;
  }
  for (const [key, value] of cli.overrides) {
    try {
      YAML_KEYS[key]!(c, value);
    } catch (e) {
      throw new Error(`flag for ${key}: ${(e as Error).message}`);
    }
  }
  validateConfig(c);
  return { config: c, ignoredKeys };
}

export function validateConfig(c: Config): void {
  const p = c.server.httpListenPort;
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`server.http_listen_port must be 0-65535, got ${p}`);
  if (c.ingester.chunkBlockSize < 1024) throw new Error('ingester.chunk_block_size must be at least 1KiB');
  if (c.ingester.chunkTargetSize < c.ingester.chunkBlockSize / 8) throw new Error('ingester.chunk_target_size is too small');
  if (c.compactor.compactionIntervalMs <= 0) throw new Error('compactor.compaction_interval must be positive');
  if (c.compactor.retentionMaxDiskPercent < 0 || c.compactor.retentionMaxDiskPercent > 100) throw new Error('compactor.retention_max_disk_percent must be 0-100');
  if (!c.pathPrefix) throw new Error('common.path_prefix must not be empty');
  if (!!c.server.tls.certFile !== !!c.server.tls.keyFile) throw new Error('server.http_tls_config needs both cert_file and key_file');
  if (!!c.server.httpAuth.basicUsername !== !!c.server.httpAuth.basicPasswordFile) throw new Error('server.http_auth.basic needs both username and password_file');
  if (!Number.isInteger(c.querier.maxConcurrent) || c.querier.maxConcurrent < 1) throw new Error('querier.max_concurrent must be at least 1');
  if (c.runtimeConfig.periodMs <= 0) throw new Error('runtime_config.period must be positive');
  if (c.forward.url && !/^https?:\/\/[^/]/.test(c.forward.url)) throw new Error(`bramble.forward.url must be an http(s) URL, got "${c.forward.url}"`);
  if (c.forward.url && c.forward.queueBytes < c.forward.batchBytes) throw new Error('bramble.forward.queue_size must be at least bramble.forward.batch_size');
}
