// Operational endpoints: /ready, /loki/api/v1/status/buildinfo, /metrics (Prometheus text),
// /config (YAML), /services, /flush (Loki's: returns once every head is a chunk on disk) and
// /loki/api/v1/format_query.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readLeases } from '../chunk/read-leases.js';
import type { FastifyInstance } from 'fastify';
import { stringify as toYaml } from 'yaml';
import { parseExpr, prettyPrint } from '../logql/syntax/index.js';
import { param } from '../query/params.js';
import { requestParams } from './params.js';
import type { Services } from './services.js';
import { mallocStats } from '../native/index.js';
import { GC_KINDS, GcCounter } from '../util/gc.js';

export const BUILD_INFO = {
  version: '3.5.0',
  revision: 'bramble-0.1.0',
  branch: 'HEAD',
  buildUser: 'bramble',
  buildDate: '2026-11-29T00:00:00Z',
  goVersion: 'node' + process.versions.node,
};

export function registerOpsRoutes(app: FastifyInstance, s: Services, isReady: () => boolean): void {
  // Event-loop delay of the main thread (what scans, merges and encoding cost every other request),
  // sampled every 10 ms; /metrics reports the window since the previous scrape and then resets it.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  // Main-thread V8 collections by kind, as Go's runtime metrics show Loki's GC.
  const gcs = new GcCounter();
  app.addHook('onClose', async () => {
    loopDelay.disable();
    gcs.stop();
  });
  app.get('/ready', async (_req, reply) => {
    if (!isReady()) return reply.code(503).type('text/plain; charset=utf-8').send('Ingester not ready: replaying WAL\n');
    return reply.type('text/plain; charset=utf-8').send('ready\n');
  });
  app.get('/loki/api/v1/status/buildinfo', async (_req, reply) => reply.send(BUILD_INFO));
  app.get('/services', async (_req, reply) =>
    reply.type('text/plain; charset=utf-8').send(['server', 'ingester', 'querier', 'distributor', 'compactor'].map((m) => `${m} => Running`).join('\n') + '\n'),
  );
  app.get('/config', async (_req, reply) => {
    const { source: _source, ...cfg } = s.config;
    return reply.type('text/plain; charset=utf-8').send(toYaml(cfg));
  });
  const flush = async (_req: unknown, reply: import('fastify').FastifyReply): Promise<unknown> => {
    await s.ingester.flush(true);
    return reply.code(204).send();
  };
  app.post('/flush', flush);
  app.get('/flush', flush);

  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/loki/api/v1/format_query',
      handler: async (req, reply) => {
        const q = param(requestParams(req), 'query');
        try {
          return reply.send({ status: 'success', data: prettyPrint(parseExpr(q)) });
        } catch (e) {
          return reply.code(400).send({ status: 'invalid-query', error: (e as Error).message });
        }
      },
    });
  }

  app.get('/metrics', async (_req, reply) => {
    const m = s.ingester.metrics;
    const w = s.ingester.wal.metrics;
    const mem = process.memoryUsage();
    // The histogram records whole sampling intervals; the lag is what exceeds the 10 ms period.
    const lagMax = loopDelay.count > 0 ? Math.max(0, loopDelay.max / 1e9 - 0.01) : 0;
    const lagP99 = loopDelay.count > 0 ? Math.max(0, loopDelay.percentile(99) / 1e9 - 0.01) : 0;
    loopDelay.reset();
    const lines = [
      '# HELP loki_distributor_lines_received_total Log lines accepted by push.',
      '# TYPE loki_distributor_lines_received_total counter',
      `loki_distributor_lines_received_total ${m.linesIngested}`,
      '# HELP loki_distributor_bytes_received_total Line bytes accepted by push.',
      '# TYPE loki_distributor_bytes_received_total counter',
      `loki_distributor_bytes_received_total ${m.bytesIngested}`,
      '# HELP bramble_wal_fsyncs_total WAL fsync calls (each covers a group of pushes).',
      '# TYPE bramble_wal_fsyncs_total counter',
      `bramble_wal_fsyncs_total ${w.fsyncs}`,
      '# HELP bramble_wal_bytes_written_total Bytes appended to the WAL.',
      '# TYPE bramble_wal_bytes_written_total counter',
      `bramble_wal_bytes_written_total ${w.bytesWritten}`,
      '# HELP bramble_wal_direct_io 1 while WAL segments are written with O_DIRECT (past the page cache), 0 when buffered.',
      '# TYPE bramble_wal_direct_io gauge',
      `bramble_wal_direct_io ${s.ingester.wal.directIO ? 1 : 0}`,
      '# HELP loki_ingester_chunks_flushed_total Chunks written to disk.',
      '# TYPE loki_ingester_chunks_flushed_total counter',
      `loki_ingester_chunks_flushed_total ${m.chunksFlushed}`,
      '# HELP bramble_chunk_bytes_flushed_total Chunk file bytes written.',
      '# TYPE bramble_chunk_bytes_flushed_total counter',
      `bramble_chunk_bytes_flushed_total ${m.chunkBytesFlushed}`,
      '# HELP loki_ingester_memory_chunks Streams with data held in memory (not yet in a chunk file).',
      '# TYPE loki_ingester_memory_chunks gauge',
      `loki_ingester_memory_chunks ${s.ingester.memoryChunks()}`,
      '# HELP bramble_head_bytes Bytes of log data held in memory heads.',
      '# TYPE bramble_head_bytes gauge',
      `bramble_head_bytes ${s.ingester.memoryBytes()}`,
      '# HELP bramble_read_leases_open Queries holding zero-copy snapshots of head memory (read leases).',
      '# TYPE bramble_read_leases_open gauge',
      `bramble_read_leases_open ${readLeases.openCount}`,
      '# HELP bramble_read_lease_waiting_bytes Head memory retired while a query could still read it, waiting for its read lease to close before it is reused.',
      '# TYPE bramble_read_lease_waiting_bytes gauge',
      `bramble_read_lease_waiting_bytes ${readLeases.waitingSize}`,
      '# HELP bramble_head_max_bytes ingester.max_head_bytes: above it pushes wait for flushes (0 = no cap).',
      '# TYPE bramble_head_max_bytes gauge',
      `bramble_head_max_bytes ${s.config.ingester.maxHeadBytes}`,
      '# HELP bramble_head_cap_waits_total Pushes held until a flush brought the heads back under ingester.max_head_bytes.',
      '# TYPE bramble_head_cap_waits_total counter',
      `bramble_head_cap_waits_total ${s.ingester.headWaits}`,
      '# HELP bramble_duplicates_dropped_total Entries identical to their stream\'s previous entry, dropped at push.',
      '# TYPE bramble_duplicates_dropped_total counter',
      `bramble_duplicates_dropped_total ${m.duplicatesDropped}`,
      '# HELP bramble_queries_total Query requests (query and query_range).',
      '# TYPE bramble_queries_total counter',
      `bramble_queries_total ${s.metrics.queries}`,
      '# HELP bramble_query_errors_total Query requests answered with an error.',
      '# TYPE bramble_query_errors_total counter',
      `bramble_query_errors_total ${s.metrics.queryErrors}`,
      '# HELP bramble_query_duration_seconds_sum Total seconds spent answering successful queries.',
      '# TYPE bramble_query_duration_seconds_sum counter',
      `bramble_query_duration_seconds_sum ${s.metrics.queryDurationSum}`,
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${mem.rss}`,
      '# HELP nodejs_heap_size_used_bytes Main-thread V8 heap in use.',
      '# TYPE nodejs_heap_size_used_bytes gauge',
      `nodejs_heap_size_used_bytes ${mem.heapUsed}`,
      '# HELP nodejs_heap_size_total_bytes Main-thread V8 heap reserved.',
      '# TYPE nodejs_heap_size_total_bytes gauge',
      `nodejs_heap_size_total_bytes ${mem.heapTotal}`,
      '# HELP nodejs_external_memory_bytes Memory held by Buffers, SharedArrayBuffers and native objects.',
      '# TYPE nodejs_external_memory_bytes gauge',
      `nodejs_external_memory_bytes ${mem.external}`,
      ...mallocLines(),
      '# HELP bramble_malloc_trim_seconds_total Time spent handing freed C heap pages back to the OS (malloc_trim every 5 s, on a thread-pool thread; put off while queries run).',
      '# TYPE bramble_malloc_trim_seconds_total counter',
      `bramble_malloc_trim_seconds_total ${s.metrics.mallocTrimSeconds}`,
      '# HELP bramble_forced_gc_total Full V8 collections the server asked for after flushes freed heads (every 16 MiB of chunks written): incremental while queries run (with the addon), else forced at once.',
      '# TYPE bramble_forced_gc_total counter',
      `bramble_forced_gc_total ${s.metrics.forcedGcs}`,
      '# HELP bramble_forced_gc_incremental_total Of bramble_forced_gc_total, the collections asked for incrementally (while queries run); the rest were forced at once.',
      '# TYPE bramble_forced_gc_incremental_total counter',
      `bramble_forced_gc_incremental_total ${s.metrics.incrementalGcs}`,
      '# HELP bramble_forced_gc_seconds_total Main-thread time spent in those collections when forced at once (an incremental one pauses later, in steps: see bramble_gc_pause_seconds_total).',
      '# TYPE bramble_forced_gc_seconds_total counter',
      `bramble_forced_gc_seconds_total ${s.metrics.forcedGcSeconds}`,
      '# HELP bramble_scan_workers_running Scan worker threads running now (started on demand, stopped when idle).',
      '# TYPE bramble_scan_workers_running gauge',
      `bramble_scan_workers_running ${s.pool.started}`,
      '# HELP bramble_scan_workers_heap_bytes Scan worker threads\' V8 heaps (reserved), as last reported.',
      '# TYPE bramble_scan_workers_heap_bytes gauge',
      `bramble_scan_workers_heap_bytes ${s.pool.memory().heapTotal}`,
      '# HELP bramble_scan_workers_external_bytes Scan worker threads\' external memory (buffers, shared blocks), as last reported.',
      '# TYPE bramble_scan_workers_external_bytes gauge',
      `bramble_scan_workers_external_bytes ${s.pool.memory().external}`,
      '# HELP bramble_event_loop_lag_max_seconds Largest main-thread event-loop delay since the previous /metrics scrape.',
      '# TYPE bramble_event_loop_lag_max_seconds gauge',
      `bramble_event_loop_lag_max_seconds ${lagMax}`,
      '# HELP bramble_event_loop_lag_p99_seconds 99th percentile main-thread event-loop delay since the previous /metrics scrape.',
      '# TYPE bramble_event_loop_lag_p99_seconds gauge',
      `bramble_event_loop_lag_p99_seconds ${lagP99}`,
      '# HELP bramble_gc_collections_total Garbage collections of the main thread\'s V8 heap, by kind.',
      '# TYPE bramble_gc_collections_total counter',
      ...GC_KINDS.map((kind) => `bramble_gc_collections_total{kind="${kind}"} ${gcs.count[kind]}`),
      '# HELP bramble_gc_pause_seconds_total Main-thread pause of those collections, by kind.',
      '# TYPE bramble_gc_pause_seconds_total counter',
      ...GC_KINDS.map((kind) => `bramble_gc_pause_seconds_total{kind="${kind}"} ${gcs.pauseS[kind]}`),
      '# HELP bramble_gc_pause_max_seconds Longest single main-thread pause of a collection since start, by kind.',
      '# TYPE bramble_gc_pause_max_seconds gauge',
      ...GC_KINDS.map((kind) => `bramble_gc_pause_max_seconds{kind="${kind}"} ${gcs.maxPauseS[kind]}`),
    ];
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(lines.join('\n') + '\n' + s.compactor.metricsText() + (s.forwarder?.metricsText() ?? ''));
  });
}

/** glibc's view of the C heap (absent without the addon or glibc ≥ 2.33). */
function mallocLines(): string[] {
  const m = mallocStats();
  if (!m) return [];
  return [
    '# HELP bramble_malloc_heap_bytes Bytes glibc\'s malloc arenas took from the OS (allocations below MALLOC_MMAP_THRESHOLD_).',
    '# TYPE bramble_malloc_heap_bytes gauge',
    `bramble_malloc_heap_bytes ${m.heapBytes}`,
    '# HELP bramble_malloc_free_bytes Free bytes inside the malloc arenas (pages already handed back by malloc_trim included).',
    '# TYPE bramble_malloc_free_bytes gauge',
    `bramble_malloc_free_bytes ${m.freeBytes}`,
    '# HELP bramble_malloc_mmap_bytes Bytes of allocations mmapped on their own (MALLOC_MMAP_THRESHOLD_ and above).',
    '# TYPE bramble_malloc_mmap_bytes gauge',
    `bramble_malloc_mmap_bytes ${m.mmapBytes}`,
  ];
}
