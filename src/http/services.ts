// The shared services every route group receives (no globals): config, ingester, query engine.
import type { Config } from '../config/config.js';
import type { Ingester } from '../head/ingester.js';
import type { QueryEngine } from '../query/engine.js';
import type { WorkerPool } from '../worker/pool.js';

export interface Services {
  config: Config;
  ingester: Ingester;
  engine: QueryEngine;
  pool: WorkerPool;
  startedAt: number;
  metrics: { queries: number; queryErrors: number; queryDurationSum: number; pushes: number; pushErrors: number };
}
