// Shared helpers for the client-compatibility tests: JSON pushes, Loki queries and a WebSocket
// tail client (the `ws` package, as Grafana's backend and logcli use gorilla/websocket).
import WebSocket from 'ws';

export interface PushEntry {
  ts: bigint;
  line: string;
  sm?: Record<string, string>;
}

export async function pushJson(url: string, labels: Record<string, string>, entries: PushEntry[], headers: Record<string, string> = {}): Promise<void> {
  const body = {
    streams: [{ stream: labels, values: entries.map((e) => (e.sm ? [e.ts.toString(), e.line, e.sm] : [e.ts.toString(), e.line])) }],
  };
  const r = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (r.status !== 204) throw new Error(`push failed: ${r.status} ${(await r.text()).slice(0, 500)}`);
}

export async function getJson(url: string, path: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(`${url}${path}?${new URLSearchParams(params)}`, { headers });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain-text error bodies stay strings
  }
  return { status: r.status, body, headers: r.headers };
}

export function nowNsBig(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

export interface TailFrame {
  streams: { stream: Record<string, string>; values: [string, string, Record<string, Record<string, string>>?][] }[];
  dropped_entries?: { timestamp: string; labels?: Record<string, string> }[];
  encodingFlags?: string[];
}

/** A tail connection that collects frames, pings and the close code/reason. */
export class TailClient {
  readonly frames: TailFrame[] = [];
  readonly raw: string[] = [];
  pings = 0;
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const s = d.toString();
      this.raw.push(s);
      this.frames.push(JSON.parse(s) as TailFrame);
      this.wake();
    });
    ws.on('ping', () => {
      this.pings++;
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static open(url: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<TailClient> {
    const wsUrl = url.replace(/^http/, 'ws') + '/loki/api/v1/tail?' + new URLSearchParams(params);
    const ws = new WebSocket(wsUrl, { headers });
    const c = new TailClient(ws);
    return new Promise((res, rej) => {
      ws.once('open', () => res(c));
      ws.once('unexpected-response', (_req, resp) => {
        let body = '';
        resp.on('data', (d: Buffer) => (body += d.toString()));
        resp.on('end', () => rej(Object.assign(new Error(`HTTP ${resp.statusCode}: ${body}`), { status: resp.statusCode, body })));
      });
      ws.once('error', rej);
    });
  }

  /** Entries received so far, flattened in arrival order. */
  entries(): { labels: Record<string, string>; ts: string; line: string; extra?: Record<string, Record<string, string>> }[] {
    const out = [];
    for (const f of this.frames) for (const s of f.streams) for (const v of s.values) out.push({ labels: s.stream, ts: v[0], line: v[1], extra: v[2] });
    return out;
  }

  /** Waits until `pred` holds (checked on every message/ping/close) or fails after `ms`. */
  async until(pred: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.raw).slice(0, 2000)}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  close(): void {
    this.ws.close(1000);
  }
}
