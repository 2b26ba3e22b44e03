// Query admission as Loki's query frontend queue does it: at most querier.max_concurrent queries
// run at once; the rest wait in per-tenant FIFO queues served round-robin (one tenant cannot
// starve the others), each bounded by frontend.max_outstanding_per_tenant; beyond that the
// request is refused with 429 "too many outstanding requests". A waiter whose client goes away
// leaves the queue.

export class TooManyOutstandingError extends Error {
  readonly status = 429;
  constructor() {
    super('too many outstanding requests');
    this.name = 'TooManyOutstandingError';
  }
}

interface Waiter {
  grant: () => void;
}

export class QueryScheduler {
  private running = 0;
  /** performance.now() when the last running query ended (running dropped to 0) */
  private idleAt = -Infinity;
  private readonly queues = new Map<string, Waiter[]>();
  /** tenants with waiters, in round-robin order */
  private readonly order: string[] = [];

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxOutstandingPerTenant: number,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  /** Milliseconds since the last query ended: 0 while one runs, Infinity before the first. */
  quietMs(): number {
    return this.running > 0 ? 0 : performance.now() - this.idleAt;
  }

  queued(tenant?: string): number {
    if (tenant !== undefined) return this.queues.get(tenant)?.length ?? 0;
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /**
   * Resolves with a release function once the query may run. Rejects with
   * TooManyOutstandingError when the tenant's queue is full, or with the signal's reason when
   * it aborts while waiting.
   */
  acquire(tenant: string, signal?: AbortSignal): Promise<() => void> {
    if (this.running < this.maxConcurrent && this.order.length === 0) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    let q = this.queues.get(tenant);
    if ((q?.length ?? 0) >= this.maxOutstandingPerTenant) return Promise.reject(new TooManyOutstandingError());
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        this.remove(tenant, w);
        reject(signal!.reason);
      };
      const w: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (!q) {
        q = [];
        this.queues.set(tenant, q);
        this.order.push(tenant);
      }
      q.push(w);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.running--;
      this.dispatch();
      if (this.running === 0) this.idleAt = performance.now();
    };
  }

  private remove(tenant: string, w: Waiter): void {
    const q = this.queues.get(tenant);
    if (!q) return;
    const i = q.indexOf(w);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) this.dropTenant(tenant);
  }

  private dropTenant(tenant: string): void {
    this.queues.delete(tenant);
    const i = this.order.indexOf(tenant);
    if (i >= 0) this.order.splice(i, 1);
  }

  private dispatch(): void {
    while (this.running < this.maxConcurrent && this.order.length > 0) {
      const tenant = this.order.shift()!;
      const q = this.queues.get(tenant)!;
      const w = q.shift()!;
      if (q.length === 0) this.queues.delete(tenant);
      else this.order.push(tenant);
      this.running++;
      w.grant();
    }
  }
}
