// Ingest-side protections with Loki's texts: the tenant ingestion rate limiter (distributor,
// 429 "ingestion rate limit exceeded ..."), the per-stream rate limit and the active stream
// limit (ingester; texts built here, enforced in src/head/ingester.ts).
import type { LimitsConfig } from '../config/config.js';
import { formatByteSize, TokenBucket } from './rate.js';

const MIB = 1 << 20;

/** Loki re-reads a tenant's limits into its limiter at most every 10s (dskit RateLimiter). */
const RECHECK_MS = 10_000;

interface TenantBucket {
  bucket: TokenBucket;
  recheckAt: number;
}

/** Distributor's per-tenant token bucket (ingestion_rate_mb / ingestion_burst_size_mb). */
export class IngestionRateLimiter {
  private readonly buckets = new Map<string, TenantBucket>();

  constructor(private readonly limitsFor: (tenant: string) => LimitsConfig) {}

  private bucketOf(tenant: string, nowMs: number): TokenBucket {
    let b = this.buckets.get(tenant);
    if (!b) {
      const l = this.limitsFor(tenant);
      b = { bucket: new TokenBucket(l.ingestionRateMB * MIB, l.ingestionBurstSizeMB * MIB, nowMs), recheckAt: nowMs + RECHECK_MS };
      this.buckets.set(tenant, b);
    } else if (nowMs >= b.recheckAt) {
      const l = this.limitsFor(tenant);
      b.bucket.update(nowMs, l.ingestionRateMB * MIB, l.ingestionBurstSizeMB * MIB);
      b.recheckAt = nowMs + RECHECK_MS;
    }
    return b.bucket;
  }

  /**
   * Takes `bytes` from the tenant's bucket, or returns Loki's 429 text without taking anything
   * (the whole request is then refused).
   */
  admit(tenant: string, lines: number, bytes: number, nowMs = Date.now()): string | null {
    const b = this.bucketOf(tenant, nowMs);
    if (b.allowN(nowMs, bytes)) return null;
    return rateLimitedMessage(tenant, Math.trunc(b.rate), lines, bytes);
  }
}

export function rateLimitedMessage(tenant: string, limitBytesPerSec: number, lines: number, bytes: number): string {
  return `ingestion rate limit exceeded for user ${tenant} (limit: ${limitBytesPerSec} bytes/sec) while attempting to ingest '${lines}' lines totaling '${bytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased`;
}

export function streamLimitMessage(labels: string, tenant: string): string {
  return `maximum active stream limit exceeded when trying to create stream ${labels}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: '${tenant}'`;
}

export function streamRateLimitMessage(limitBytesPerSec: number, labels: string, bytes: number): string {
  return `Per stream rate limit exceeded (limit: ${formatByteSize(limitBytesPerSec)}/sec) while attempting to ingest for stream '${labels}' totaling ${formatByteSize(bytes)}, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased`;
}

/**
 * Loki's ingester stream limit: the smaller non-zero of max_streams_per_user (local) and
 * max_global_streams_per_user (one ingester, replication factor 1: the global limit as is);
 * both 0 = unlimited.
 */
export function maxActiveStreams(l: LimitsConfig): number {
  const local = l.maxStreamsPerUser;
  const global = l.maxGlobalStreamsPerUser;
  const v = local === 0 || (global !== 0 && local > global) ? global : local;
  return v <= 0 ? Infinity : v;
}

/** What the ingester asks about a tenant when it creates or feeds a stream. */
export interface IngesterLimits {
  maxActiveStreams(tenant: string): number;
  /** bytes/s and burst bytes for each stream of the tenant */
  perStreamRate(tenant: string): { limit: number; burst: number };
}

export function ingesterLimitsFrom(limitsFor: (tenant: string) => LimitsConfig): IngesterLimits {
  return {
    maxActiveStreams: (t) => maxActiveStreams(limitsFor(t)),
    perStreamRate: (t) => {
      const l = limitsFor(t);
      return { limit: l.perStreamRateLimitBytes, burst: l.perStreamRateLimitBurstBytes };
    },
  };
}
