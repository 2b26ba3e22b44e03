// Token buckets with the semantics of Go's golang.org/x/time/rate.Limiter, which Loki uses for
// the tenant ingestion rate (distributor) and the per-stream rate (ingester): the bucket starts
// full, refills at `limit` tokens (bytes) per second up to `burst`, and a request of n tokens is
// allowed only when n tokens are there right now (n > burst is never allowed).

export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private limit: number,
    private burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  get rate(): number {
    return this.limit;
  }

  get burstSize(): number {
    return this.burst;
  }

  private advance(nowMs: number): void {
    if (nowMs > this.lastMs) {
      const t = this.tokens + ((nowMs - this.lastMs) / 1000) * this.limit;
      this.tokens = t > this.burst ? this.burst : t;
      this.lastMs = nowMs;
    }
  }

  /** Would n tokens be available now? (no side effect beyond refilling) */
  canTake(nowMs: number, n: number): boolean {
    if (this.limit === Infinity) return true;
    if (n > this.burst) return false;
    this.advance(nowMs);
    return this.tokens >= n;
  }

  /** Go's AllowN: takes n tokens when they are available. */
  allowN(nowMs: number, n: number): boolean {
    if (!this.canTake(nowMs, n)) return false;
    if (this.limit !== Infinity) this.tokens -= n;
    return true;
  }

  /** SetLimitAt + SetBurstAt: tokens accrued so far are kept (capped at the new burst). */
  update(nowMs: number, limit: number, burst: number): void {
    if (limit === this.limit && burst === this.burst) return;
    this.advance(nowMs);
    this.limit = limit;
    this.burst = burst;
    if (this.tokens > burst) this.tokens = burst;
  }
}

const UNITS: [bigint, string][] = [
  [1n << 60n, 'EB'],
  [1n << 50n, 'PB'],
  [1n << 40n, 'TB'],
  [1n << 30n, 'GB'],
  [1n << 20n, 'MB'],
  [1n << 10n, 'KB'],
];

/** c2h5oh/datasize ByteSize.String() (Loki's flagext.ByteSize): largest exact binary unit, else bytes. */
export function formatByteSize(n: number): string {
  if (!Number.isFinite(n) || n < 0) n = 0;
  const b = BigInt(Math.floor(n));
  if (b === 0n) return '0B';
  for (const [size, unit] of UNITS) if (b % size === 0n) return `${b / size}${unit}`;
  return `${b}B`;
}
