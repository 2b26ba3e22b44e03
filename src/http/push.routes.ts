// POST /loki/api/v1/push (JSON or protobuf+snappy, optional gzip/deflate) and the legacy
// /api/prom/push: decode, validate with Loki's rules and texts, append through the ingester
// (acknowledged with 204 only once the WAL fsync covering it is done).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeLegacyPushBody, decodePushBody, validatePush, PushError, type PushLimits, type PushStream, DEFAULT_PUSH_LIMITS } from '../push/index.js';
import { patternKey } from './drilldown.routes.js';
import { nowNs } from '../util/time.js';
import { HttpError, sendError } from './errors.js';
import type { Services } from './services.js';
import { pushTenantOf } from './tenant.js';
import type { LimitsConfig } from '../config/config.js';
import { BufferPool } from '../util/buffer-pool.js';
import { releaseBody } from './body.js';
import { RequestArena } from '../util/request-arena.js';
import { LoopTurns } from '../util/loop-turns.js';
import type { PushBody } from '../wal/record.js';

const pushLimitsCache = new WeakMap<LimitsConfig, PushLimits>();

/** The push validation limits for a tenant's limits (cached: the validator keys caches on it). */
export function pushLimitsOf(l: LimitsConfig): PushLimits {
  let p = pushLimitsCache.get(l);
  if (!p) {
    p = pushLimitsFromConfig(l);
    pushLimitsCache.set(l, p);
  }
  return p;
}

export function pushLimitsFrom(s: Services): PushLimits {
  return pushLimitsOf(s.config.limits);
}

function pushLimitsFromConfig(l: LimitsConfig): PushLimits {
  return {
    ...DEFAULT_PUSH_LIMITS,
    rejectOldSamples: l.rejectOldSamples,
    rejectOldSamplesMaxAgeNs: BigInt(l.rejectOldSamplesMaxAgeMs) * 1_000_000n,
    creationGracePeriodNs: BigInt(l.creationGracePeriodMs) * 1_000_000n,
    maxLineSize: l.maxLineSize,
    maxLineSizeTruncate: l.maxLineSizeTruncate,
    maxLabelNamesPerSeries: l.maxLabelNamesPerSeries,
    maxLabelNameLength: l.maxLabelNameLength,
    maxLabelValueLength: l.maxLabelValueLength,
    allowStructuredMetadata: l.allowStructuredMetadata,
    maxStructuredMetadataSize: l.maxStructuredMetadataSize,
    maxStructuredMetadataEntriesCount: l.maxStructuredMetadataEntriesCount,
    discoverServiceName: l.discoverServiceName,
    discoverLogLevels: l.discoverLogLevels,
    logLevelFields: l.logLevelFields,
  };
}

/** Loki's pattern ingester sees every validated entry (exact duplicates included). */
function observePatterns(s: Services, tenant: string, streams: PushStream[]): void {
  const miner = s.patterns!;
  for (const st of streams) {
    const key = patternKey(tenant, st.labelsString);
    for (const e of st.entries) {
      let level = 'unknown';
      for (const l of e.structuredMetadata) if (l.name === 'detected_level') level = l.value;
      miner.observe(key, e.tsNs, e.line, level);
    }
  }
}

export function registerPushRoutes(app: FastifyInstance, s: Services): void {
  // decompressed protobuf bodies (a few MiB each, needed for milliseconds): reused, see BufferPool
  const bodies = new BufferPool(4);
  // Decoding, validating and storing a 1 MiB push are each some 10-30 ms of CPU: each takes a
  // loop turn of its own, so queries, label calls and timers interleave with a stream of pushes
  // instead of waiting behind several of them run back to back (pushes that arrive together
  // ran their steps in one poll or check phase).
  const turns = new LoopTurns();
  const handle = async (req: FastifyRequest, legacy: boolean): Promise<{ status: number; body?: string }> => {
    let raw: Buffer | null = null;
    const bodyBuffer = (n: number): Buffer => (raw = bodies.acquire(n));
    const arena = new RequestArena();
    const r = await handleBody(req, legacy, bodyBuffer, arena);
    // only once the push returned (stored, or refused): no entry or WAL write refers to them any
    // more (the WAL logs the request body itself; entries point into the decompressed one and
    // the arena's columns). After an exception they are left to the GC: a failed write might
    // still hold them.
    if (raw !== null) bodies.release(raw);
    arena.release();
    releaseBody(req.body);
    return r;
  };
  const handleBody = async (req: FastifyRequest, legacy: boolean, bodyBuffer: (n: number) => Buffer, arena: RequestArena): Promise<{ status: number; body?: string }> => {
    let pushBody: PushBody | undefined;
    const onProtobufBody = (snappy: Buffer, raw: Buffer): void => { pushBody = { snappy, raw, arena }; };
    const tenant = pushTenantOf(req, s.config.authEnabled);
    const tenantLimits = s.limits.get(tenant);
    const limits = pushLimitsOf(tenantLimits);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const ct = req.headers['content-type'];
    const ce = req.headers['content-encoding'];
    const opts = { maxDecompressedBytes: s.config.distributor.maxDecompressedBytes, discoverServiceName: tenantLimits.discoverServiceName, bodyBuffer, arena, onProtobufBody };
    await turns.next();
    const streams = legacy ? decodeLegacyPushBody(body, ct, ce, opts) : decodePushBody(body, ct, ce, opts);
    await turns.next();
    const v = validatePush(streams, tenant, limits, nowNs());
    // Nothing valid left: the grouped validation errors (or 204 when every stream was empty).
    if (v.accepted.length === 0) {
      if (v.error) throw new HttpError(v.error.status, v.error.message, true);
      return { status: 204 };
    }
    // Tenant ingestion rate: over the limit, the whole request is refused (valid streams too).
    const rateLimited = s.ingestLimiter.admit(tenant, v.lines, v.bytes);
    if (rateLimited !== null) throw new HttpError(429, rateLimited, true);
    if (s.patterns) observePatterns(s, tenant, v.accepted);
    await s.ingester.waitForHeadRoom();
    await turns.next();
    // the store itself waits for further turns when it runs long (cold start, many streams)
    const r = await s.ingester.push(tenant, v.accepted, pushBody, turns);
    s.ingester.flushFull();
    // As in Loki's distributor, an ingester error wins over the collected validation errors.
    if (r) throw new HttpError(r.status, r.message, true);
    if (v.error) throw new HttpError(v.error.status, v.error.message, true);
    return { status: 204 };
  };
  for (const [path, legacy] of [['/loki/api/v1/push', false], ['/api/prom/push', true]] as const) {
    app.post(path, { bodyLimit: s.config.server.bodyLimitBytes }, async (req, reply) => {
      s.metrics.pushes++;
      try {
        const r = await handle(req, legacy);
        return reply.code(r.status).send();
      } catch (e) {
        s.metrics.pushErrors++;
        if (e instanceof PushError) return sendError(reply, new HttpError(e.status, e.message, true));
        if (e instanceof HttpError) return sendError(reply, e);
        req.log.error({ err: (e as Error).message }, 'push failed');
        return sendError(reply, new HttpError(500, (e as Error).message, true));
      }
    });
  }
}
