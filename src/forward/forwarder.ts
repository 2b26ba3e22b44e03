// Mirrors every entry the ingester accepts to a remote Loki (`bramble.forward` config), off the
// push path: entries are appended to a bounded in-memory queue (per remote tenant and stream)
// and a single background sender pushes them as protobuf+snappy batches of ~batch_size, retrying
// 429/5xx/network errors with exponential backoff. A local push is never delayed or failed by
// forwarding: when the queue is full, or a batch exhausts its retries or is refused with 4xx,
// its entries are dropped, counted (bramble_forward_dropped_entries_total{reason}) and logged.
// The queue lives in memory only: entries not yet sent when the process dies are not mirrored.
import type { Logger } from 'pino';
import type { ForwardConfig } from '../config/config.js';
import { encodePushRequestSnappy } from '../push/index.js';
import type { Labels } from '../util/labels.js';

interface QEntry { tsNs: bigint; line: string; structuredMetadata: Labels }

interface Pending {
  /** remote tenant ('' = no X-Scope-OrgID) */
  tenant: string;
  streams: Map<string, QEntry[]>;
  bytes: number;
  entries: number;
}

type DropReason = 'queue_full' | 'rejected' | 'retries_exhausted' | 'shutdown';

function entrySize(line: string, sm: Labels): number {
  let n = line.length + 24;
  for (const l of sm) n += l.name.length + l.value.length + 8;
  return n;
}

export class Forwarder {
  private readonly url: string;
  /** batches being filled, one per remote tenant, sent oldest first */
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private running = false;
  private closed = false;
  private lastDropLog = 0;
  private dropsSinceLog = 0;
  private readonly abort = new AbortController();
  readonly metrics = {
    sentEntries: 0, sentBytes: 0, sentBatches: 0, retries: 0,
    dropped: { queue_full: 0, rejected: 0, retries_exhausted: 0, shutdown: 0 } as Record<DropReason, number>,
  };

  constructor(private readonly cfg: ForwardConfig, private readonly authEnabled: boolean, private readonly log: Logger) {
    this.url = /\/push$/.test(new URL(cfg.url).pathname) ? cfg.url : cfg.url.replace(/\/+$/, '') + '/loki/api/v1/push';
  }

  /** Queues one accepted entry (called synchronously from the ingester; never throws, never blocks). */
  add(localTenant: string, labels: string, e: QEntry): void {
    if (this.closed) return;
    const size = entrySize(e.line, e.structuredMetadata) + labels.length;
    if (this.queuedBytes + size > this.cfg.queueBytes) {
      this.drop('queue_full', 1);
      return;
    }
    const tenant = this.cfg.tenant || (this.authEnabled ? localTenant : '');
    let p: Pending | undefined = this.queue[this.queue.length - 1];
    if (!p || p.tenant !== tenant || p.bytes >= this.cfg.batchBytes) {
      p = undefined;
      // Join an open batch of this tenant if there is one that still has room.
      for (let i = this.queue.length - 1; i >= Math.max(0, this.queue.length - 4); i--) {
        const q = this.queue[i]!;
        if (q.tenant === tenant && q.bytes < this.cfg.batchBytes) {
          p = q;
          break;
        }
      }
      if (!p) {
        p = { tenant, streams: new Map(), bytes: 0, entries: 0 };
        this.queue.push(p);
      }
    }
    let list = p.streams.get(labels);
    if (!list) {
      list = [];
      p.streams.set(labels, list);
    }
    list.push(e);
    p.bytes += size;
    p.entries++;
    this.queuedBytes += size;
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.run());
    }
  }

  private drop(reason: DropReason, n: number, detail?: string): void {
    this.metrics.dropped[reason] += n;
    this.dropsSinceLog += n;
    const now = Date.now();
    if (detail || now - this.lastDropLog > 10_000) {
      this.log.warn({ component: 'forward', reason, dropped: this.dropsSinceLog, url: this.url, detail }, `forward: dropped ${this.dropsSinceLog} entries (${reason})`);
      this.lastDropLog = now;
      this.dropsSinceLog = 0;
    }
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        // The batch at the head is sent once it is full or nothing else is coming right now.
        const p = this.queue[0];
        if (!p) break;
        if (p.bytes < this.cfg.batchBytes && this.queue.length === 1 && !this.closed) {
          // Let concurrent pushes join this batch for one macrotask turn.
          await new Promise<void>((res) => setImmediate(res));
        }
        this.queue.shift();
        await this.send(p);
        this.queuedBytes -= p.bytes;
      }
    } finally {
      this.running = false;
      if (this.queue.length && !this.closed) {
        this.running = true;
        setImmediate(() => void this.run());
      }
    }
  }

  private async send(p: Pending): Promise<void> {
    const body = encodePushRequestSnappy([...p.streams].map(([labels, entries]) => ({ labels, entries })));
    const headers: Record<string, string> = { ...this.cfg.headers, 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'user-agent': 'bramble-forward' };
    if (p.tenant) headers['x-scope-orgid'] = p.tenant;
    let backoff = this.cfg.minBackoffMs;
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let text = '';
      try {
        const res = await fetch(this.url, {
          method: 'POST', headers, body: new Uint8Array(body) as Uint8Array<ArrayBuffer>,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.cfg.timeoutMs)]),
        });
        status = res.status;
        text = res.ok ? '' : await res.text().catch(() => '');
        if (res.ok) await res.arrayBuffer().catch(() => undefined);
      } catch (e) {
        if (this.abort.signal.aborted) {
          this.drop('shutdown', p.entries);
          return;
        }
        text = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      }
      if (status >= 200 && status < 300) {
        this.metrics.sentEntries += p.entries;
        this.metrics.sentBytes += body.length;
        this.metrics.sentBatches++;
        return;
      }
      if (status >= 400 && status < 500 && status !== 429) {
        this.drop('rejected', p.entries, `HTTP ${status}: ${text.trim().slice(0, 500)}`);
        return;
      }
      if (attempt >= this.cfg.maxRetries || this.closed) {
        this.drop(this.closed ? 'shutdown' : 'retries_exhausted', p.entries, status ? `HTTP ${status}: ${text.trim().slice(0, 500)}` : text);
        return;
      }
      this.metrics.retries++;
      if (attempt === 1) this.log.warn({ component: 'forward', url: this.url, status, err: text.trim().slice(0, 200) }, 'forward: push failed; retrying with backoff');
      await new Promise<void>((res) => {
        const onAbort = (): void => { clearTimeout(t); res(); };
        const t = setTimeout(() => { this.abort.signal.removeEventListener('abort', onAbort); res(); }, backoff * (0.75 + Math.random() * 0.5));
        this.abort.signal.addEventListener('abort', onAbort, { once: true });
      });
      backoff = Math.min(this.cfg.maxBackoffMs, backoff * 2);
    }
  }

  get queueBytes(): number {
    return this.queuedBytes;
  }

  /** Stops accepting entries and tries to send what is queued for up to `graceMs`. */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + graceMs;
    while ((this.running || this.queue.length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.abort.abort();
    let left = 0;
    for (const p of this.queue.splice(0)) left += p.entries;
    if (left) this.drop('shutdown', left, 'queue not drained at shutdown');
  }

  metricsText(): string {
    const m = this.metrics;
    const lines = [
      '# HELP bramble_forward_sent_entries_total Entries mirrored to bramble.forward.url.',
      '# TYPE bramble_forward_sent_entries_total counter',
      `bramble_forward_sent_entries_total ${m.sentEntries}`,
      '# HELP bramble_forward_sent_bytes_total Compressed push bytes sent to bramble.forward.url.',
      '# TYPE bramble_forward_sent_bytes_total counter',
      `bramble_forward_sent_bytes_total ${m.sentBytes}`,
      '# HELP bramble_forward_retries_total Forward pushes retried after 429/5xx/network errors.',
      '# TYPE bramble_forward_retries_total counter',
      `bramble_forward_retries_total ${m.retries}`,
      '# HELP bramble_forward_dropped_entries_total Entries not mirrored, by reason.',
      '# TYPE bramble_forward_dropped_entries_total counter',
    ];
    for (const [r, n] of Object.entries(m.dropped)) lines.push(`bramble_forward_dropped_entries_total{reason="${r}"} ${n}`);
    lines.push(
      '# HELP bramble_forward_queue_bytes Bytes of entries waiting to be mirrored.',
      '# TYPE bramble_forward_queue_bytes gauge',
      `bramble_forward_queue_bytes ${this.queuedBytes}`,
    );
    return lines.join('\n') + '\n';
  }
}
