// Wires the whole server together: data directory, ingester (index + WAL + heads), scan worker
// pool, query engine and HTTP app. Used by main.ts and by tests that run a server in-process.
import type { Socket } from 'node:net';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pino from 'pino';
import type { Config } from './config/config.js';
import { Ingester } from './head/ingester.js';
import { QueryEngine } from './query/engine.js';
import { WorkerPool } from './worker/pool.js';
import { buildApp } from './http/app.js';
import type { Services } from './http/services.js';
import type { FastifyInstance } from 'fastify';
import { PatternMiner } from './drilldown/patterns/miner.js';
import { Forwarder } from './forward/forwarder.js';
import { Compactor } from './compactor/compactor.js';
import { TenantLimits } from './limits/overrides.js';
import { IngestionRateLimiter, ingesterLimitsFrom } from './limits/ingest.js';
import { QueryScheduler } from './limits/scheduler.js';
import { kernels } from './native/index.js';
import { Reclaimer } from './head/reclaim.js';
import { startStallWatch, stallThresholdFromEnv } from './util/stall-watch.js';

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(config: Config, opts: { logger?: pino.Logger } = {}): Promise<RunningServer> {
  const log = opts.logger ?? pino({ level: config.server.logLevel });
  const dataDir = resolve(config.pathPrefix);
  mkdirSync(dataDir, { recursive: true });
  const limits = new TenantLimits(config.limits, config.runtimeConfig.file, config.runtimeConfig.periodMs, log);
  limits.start();
  const ingester = new Ingester(
    {
      dataDir,
      blockSize: config.ingester.chunkBlockSize,
      chunkTargetSize: config.ingester.chunkTargetSize,
      maxChunkAgeMs: config.ingester.maxChunkAgeMs,
      chunkIdlePeriodMs: config.ingester.chunkIdlePeriodMs,
      maxHeadBytes: config.ingester.maxHeadBytes,
      walSegmentSize: config.wal.segmentSize,
      limits: ingesterLimitsFrom((t) => limits.get(t)),
      afterFlush: () => reclaimer.afterFlush(),
    },
    log,
  );
  let ready = false;
  ingester.start();
  // Finish deletions and drop leftovers of interrupted flushes/compactions before any new flush.
  const compactor = new Compactor(config, ingester, dataDir, log);
  compactor.recover();
  const pool = new WorkerPool(config.querier.workers, config.querier.workerIdleMs);
  const engine = new QueryEngine(ingester, pool, { maxQuerySeries: config.limits.maxQuerySeries, maxResultBytes: config.querier.maxResultBytes });
  const patterns = config.patternIngester.enabled ? new PatternMiner() : null;
  // bramble.forward: mirror accepted entries to a remote Loki (entries replayed from the WAL above are not re-sent).
  const forwarder = config.forward.url ? new Forwarder(config.forward, config.authEnabled, log) : null;
  if (forwarder) ingester.onEntry((st, e) => forwarder.add(st.tenant, st.labelsString, e));
  const services: Services = {
    config, ingester, engine, pool, patterns, compactor, startedAt: Date.now(),
    limits,
    ingestLimiter: new IngestionRateLimiter((t) => limits.get(t)),
    scheduler: new QueryScheduler(config.querier.maxConcurrent, config.frontend.maxOutstandingPerTenant),
    metrics: { queries: 0, queryErrors: 0, queryDurationSum: 0, pushes: 0, pushErrors: 0, mallocTrimSeconds: 0, forcedGcs: 0, incrementalGcs: 0, forcedGcSeconds: 0 },
    forwarder,
  };
  const reclaimer = new Reclaimer(() => ingester.metrics, services.metrics, {
    // a scan in the worker pool counts as a running query, whichever route started it
    queryQuietMs: () => (pool.busy > 0 ? 0 : services.scheduler.quietMs()),
  });
  const app = buildApp(services, log, () => ready);
  const flushTimer = setInterval(() => {
    ingester.flush().catch((e) => log.error({ component: 'flush', err: (e as Error).message }, 'periodic chunk flush failed; will retry'));
  }, Math.max(1000, config.ingester.flushCheckPeriodMs));
  flushTimer.unref();
  compactor.start();
  const pruneTimer = setInterval(() => patterns?.prune(), 60_000);
  pruneTimer.unref();
  reclaimer.start();
  const stallMs = stallThresholdFromEnv(process.env);
  const stopStallWatch = stallMs === null ? null : startStallWatch(stallMs, log, (fromMs, toMs) => ({
    // what was under way (a glibc trim holds the allocator's locks the event loop mallocs under)
    trim: reclaimer.trimDuring(fromMs, toMs),
    flushing: ingester.isFlushing,
    compacting: compactor.isRunning,
    scans: pool.busy,
    pushes: ingester.metrics.pushesInFlight,
  }));
  // Open connections, to close at shutdown those that never sent a request (clients keep spare
  // ones, or give up before sending): app.close() would wait for each to time out, over a
  // minute. Go's http.Server.Shutdown, Loki's, closes them too.
  const sockets = new Set<Socket>();
  app.server.on('connection', (c: Socket) => {
    sockets.add(c);
    c.once('close', () => sockets.delete(c));
  });
  await app.listen({ host: config.server.httpListenAddress, port: config.server.httpListenPort });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.server.httpListenPort;
  const host = config.server.httpListenAddress === '0.0.0.0' || config.server.httpListenAddress === '' ? '127.0.0.1' : config.server.httpListenAddress;
  ready = true;
  log.info({ dataDir, workers: pool.size, kernels: kernels.name }, `listening on ${config.server.tls.certFile ? 'https' : 'http'}://${config.server.httpListenAddress}:${port}`);
  let closing: Promise<void> | null = null;
  return {
    app, services, port,
    url: `${config.server.tls.certFile ? 'https' : 'http'}://${host}:${port}`,
    close() {
      closing ??= (async () => {
        ready = false;
        clearInterval(flushTimer);
        clearInterval(pruneTimer);
        reclaimer.stop();
        stopStallWatch?.();
        await compactor.stop();
        limits.stop();
        // Requests under way get server.graceful_shutdown_timeout to finish, then their
        // connections are closed (as Loki's -server.graceful-shutdown-timeout).
        const force = setTimeout(() => app.server.closeAllConnections(), config.server.gracefulShutdownMs);
        force.unref();
        const closed = app.close();
        for (const c of sockets) if (c.bytesRead === 0) c.destroy();
        await closed;
        clearTimeout(force);
        await ingester.close();
        await forwarder?.close();
        await pool.close();
      })();
      return closing;
    },
  };
}
