// HTTP client for Loki-compatible servers used by the CLI (export/import/query): base-URL
// handling (basic auth in the URL becomes an Authorization header), tenant header, JSON GETs of
// the query API and protobuf+snappy pushes, both retried on 429/5xx/network errors with
// exponential backoff (honouring Retry-After). Other 4xx fail at once with the server's text.
import { parseTimestamp } from '../query/params.js';
import { parseDurationMs } from '../config/units.js';
import { nowNs } from '../util/time.js';

export class HttpStatusError extends Error {
  constructor(readonly status: number, readonly body: string, readonly url: string) {
    super(`${url}: HTTP ${status}: ${body.trim() || '(empty body)'}`);
    this.name = 'HttpStatusError';
  }
}

export interface RetryPolicy {
  /** total attempts including the first */
  attempts: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** called before each wait; for progress/logging */
  onRetry?: (err: Error, attempt: number, waitMs: number) => void;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 10, minBackoffMs: 500, maxBackoffMs: 30_000 };

export interface Endpoint {
  /** base URL without credentials and without trailing slash */
  base: string;
  headers: Record<string, string>;
}

/** Parses a server URL: strips `user:pass@` into Authorization, adds X-Scope-OrgID and extra headers. */
export function endpoint(url: string, tenant: string | undefined, extraHeaders: string[] = []): Endpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`invalid URL "${url}" (expected e.g. http://127.0.0.1:3100)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`invalid URL "${url}": only http:// and https:// are supported`);
  const headers: Record<string, string> = {};
  if (u.username || u.password) {
    headers.authorization = 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
    u.username = '';
    u.password = '';
  }
  if (tenant) headers['x-scope-orgid'] = tenant;
  for (const h of extraHeaders) {
    const i = h.indexOf(':');
    if (i <= 0) throw new Error(`invalid header "${h}" (expected "Name: value")`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return { base: u.toString().replace(/\/+$/, ''), headers };
}

/** Push URL for a base URL or an explicit push URL. */
export function pushUrl(base: string): string {
  return /\/(push)$/.test(new URL(base).pathname) ? base : base + '/loki/api/v1/push';
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res, rej) => {
    if (signal?.aborted) return rej(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      res();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      rej(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function retryable(e: unknown): boolean {
  if (e instanceof HttpStatusError) return e.status === 429 || e.status >= 500;
  return e instanceof Error && e.name !== 'AbortError' && !(e instanceof SyntaxError);
}

function retryAfterMs(e: unknown): number {
  return e instanceof RetryAfter ? e.ms : 0;
}

class RetryAfter extends HttpStatusError {
  constructor(status: number, body: string, url: string, readonly ms: number) {
    super(status, body, url);
  }
}

/** Runs `fn` with retries on 429/5xx/network errors. */
export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  let backoff = policy.minBackoffMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (signal?.aborted || attempt >= policy.attempts || !retryable(e)) throw e;
      const wait = Math.max(retryAfterMs(e), backoff * (0.75 + Math.random() * 0.5));
      policy.onRetry?.(e as Error, attempt, wait);
      await sleep(wait, signal);
      backoff = Math.min(policy.maxBackoffMs, backoff * 2);
    }
  }
}

async function check(res: Response, url: string): Promise<Response> {
  if (res.ok) return res;
  const body = await res.text().catch(() => '');
  const ra = res.headers.get('retry-after');
  const raMs = ra && /^\d+$/.test(ra) ? Number(ra) * 1000 : 0;
  if (raMs) throw new RetryAfter(res.status, body, url, Math.min(raMs, 60_000));
  throw new HttpStatusError(res.status, body, url);
}

function describeNetworkError(e: unknown, url: string): Error {
  if (e instanceof HttpStatusError || (e instanceof Error && e.name === 'AbortError')) return e as Error;
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (e as Error).message;
  const err = new Error(`${url}: cannot connect (${why}); is the server running and the URL right?`);
  return err;
}

export class LokiClient {
  constructor(readonly ep: Endpoint, readonly retry: RetryPolicy = DEFAULT_RETRY, readonly signal?: AbortSignal) {}

  /** GET a query-API path (`/loki/api/v1/...`) and parse the JSON answer. */
  async getJson<T = unknown>(path: string, params: Record<string, string>, extraHeaders: Record<string, string> = {}): Promise<T> {
    const url = `${this.ep.base}${path}?${new URLSearchParams(params)}`;
    return withRetry(async () => {
      let res: Response;
      try {
        res = await fetch(url, { headers: { ...this.ep.headers, ...extraHeaders }, signal: this.signal });
      } catch (e) {
        throw describeNetworkError(e, `${this.ep.base}${path}`);
      }
      await check(res, `${this.ep.base}${path}`);
      return (await res.json()) as T;
    }, this.retry, this.signal);
  }

  /** POST a protobuf+snappy push body. */
  async push(body: Buffer): Promise<void> {
    const url = pushUrl(this.ep.base);
    await withRetry(async () => {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { ...this.ep.headers, 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'user-agent': 'bramble-cli' },
          body: new Uint8Array(body) as Uint8Array<ArrayBuffer>,
          signal: this.signal,
        });
      } catch (e) {
        throw describeNetworkError(e, url);
      }
      await check(res, url);
      await res.arrayBuffer().catch(() => undefined);
    }, this.retry, this.signal);
  }
}

/**
 * CLI time value → ns: `now`, a relative duration meaning "that long ago" (`24h`, `30m`, `7d`,
 * `1h30m`), RFC3339 (`2024-05-01T12:00:00Z`, fractional seconds kept to the ns), Unix seconds
 * (<= 10 digits, may have a fraction) or Unix nanoseconds.
 */
export function parseTimeArg(v: string, name: string, now = nowNs()): bigint {
  const s = v.trim();
  if (s === 'now') return now;
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w|y))+$/.test(s)) return now - BigInt(Math.round(parseDurationMs(s) * 1e6));
  try {
    return parseTimestamp(s, now);
  } catch {
    throw new Error(`--${name}: cannot parse "${v}" as a time (use RFC3339 like 2024-05-01T12:00:00Z, a duration ago like 24h, Unix seconds, or "now")`);
  }
}
