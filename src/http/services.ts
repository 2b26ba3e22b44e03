// The shared services every route group receives (no globals): config, ingester, query engine.
import type { Config } from '../config/config.js';
import type { Ingester } from '../head/ingester.js';
import type { QueryEngine } from '../query/engine.js';
import type { WorkerPool } from '../worker/pool.js';
import type { PatternMiner } from '../drilldown/patterns/miner.js';
import type { Compactor } from '../compactor/compactor.js';
import type { Forwarder } from '../forward/forwarder.js';
import type { TenantLimits } from '../limits/overrides.js';
import type { IngestionRateLimiter } from '../limits/ingest.js';
import type { QueryScheduler } from '../limits/scheduler.js';

export interface Services {
  config: Config;
  ingester: Ingester;
  engine: QueryEngine;
  pool: WorkerPool;
  /** null when pattern_ingester.enabled is false */
  patterns: PatternMiner | null;
  /** retention, deletion, disk cap, chunk merging (src/compactor) */
  compactor: Compactor;
  startedAt: number;
  /** bramble.forward mirror to a remote Loki; null/absent when off */
  forwarder?: Forwarder | null;
  /** per-tenant limits (limits_config + runtime_config overrides) */
  limits: TenantLimits;
  /** tenant ingestion rate (distributor) */
  ingestLimiter: IngestionRateLimiter;
  /** query admission (querier.max_concurrent, frontend queue) */
  scheduler: QueryScheduler;
  metrics: { queries: number; queryErrors: number; queryDurationSum: number; pushes: number; pushErrors: number; mallocTrimSeconds: number; forcedGcs: number; incrementalGcs: number; forcedGcSeconds: number };
}
