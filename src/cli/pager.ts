// Pages through a log query over query_range without gaps or duplicates. Loki caps each answer
// at `limit` entries, so a window [start, end) is read as a series of requests: forward, the next
// request starts at the last timestamp T of a full page (end stays exclusive); backward, the next
// ends at T+1. Entries at T may thus come back twice, so a per-stream frontier (the stream's last
// timestamp and the entries already seen at it) drops repeats. The frontier is small (streams
// at the cursor only) and serializable, which is what export's checkpoint file stores.
import { createHash } from 'node:crypto';
import { labelsFromObject, labelsToString, type Labels } from '../util/labels.js';
import type { LokiClient } from './client.js';

export interface LogEntry {
  /** stream labels in Prometheus text form (also the stream's identity) */
  stream: string;
  labels: Record<string, string>;
  tsNs: bigint;
  line: string;
  /** structured metadata, sorted by name (empty when none) */
  sm: Labels;
  /** labels extracted by the query's parsers (categorize-labels only); not stored data */
  parsed?: Record<string, string>;
}

interface StreamFrontier {
  ts: bigint;
  /** entries seen at `ts` (this run) */
  seen: LogEntry[];
  /** digests of entries seen at `ts` in an earlier run (from a checkpoint) */
  digests?: Set<string>;
}

export interface FrontierJson {
  [stream: string]: { ts: string; seen: string[] };
}

function entryDigest(line: string, sm: Labels): string {
  const h = createHash('sha256');
  h.update(line);
  for (const l of sm) h.update(`\x00${l.name}\x00${l.value}`);
  return h.digest('base64url').slice(0, 22);
}

function sameEntry(a: LogEntry, b: LogEntry): boolean {
  if (a.line !== b.line || a.sm.length !== b.sm.length) return false;
  for (let i = 0; i < a.sm.length; i++) if (a.sm[i]!.name !== b.sm[i]!.name || a.sm[i]!.value !== b.sm[i]!.value) return false;
  return true;
}

/** Per-stream record of what has been delivered, for one direction of travel. */
export class Frontier {
  private readonly streams = new Map<string, StreamFrontier>();

  constructor(readonly direction: 'forward' | 'backward') {}

  /** true if the entry is new (and records it); false if it was delivered already. */
  admit(e: LogEntry): boolean {
    const f = this.streams.get(e.stream);
    if (!f) {
      this.streams.set(e.stream, { ts: e.tsNs, seen: [e] });
      return true;
    }
    const ahead = this.direction === 'forward' ? e.tsNs > f.ts : e.tsNs < f.ts;
    if (ahead) {
      f.ts = e.tsNs;
      f.seen = [e];
      f.digests = undefined;
      return true;
    }
    if (e.tsNs !== f.ts) return false;
    for (const s of f.seen) if (sameEntry(s, e)) return false;
    if (f.digests?.has(entryDigest(e.line, e.sm))) return false;
    f.seen.push(e);
    return true;
  }

  /** Drops streams entirely behind `cursor` (they can no longer see repeats). */
  prune(cursor: bigint): void {
    for (const [k, f] of this.streams) {
      if (this.direction === 'forward' ? f.ts < cursor : f.ts > cursor) this.streams.delete(k);
    }
  }

  get size(): number {
    return this.streams.size;
  }

  toJSON(): FrontierJson {
    const out: FrontierJson = {};
    for (const [k, f] of this.streams) {
      const seen = f.seen.map((e) => entryDigest(e.line, e.sm));
      if (f.digests) seen.push(...f.digests);
      out[k] = { ts: f.ts.toString(), seen };
    }
    return out;
  }

  static fromJSON(direction: 'forward' | 'backward', j: FrontierJson): Frontier {
    const f = new Frontier(direction);
    for (const [k, v] of Object.entries(j)) f.streams.set(k, { ts: BigInt(v.ts), seen: [], digests: new Set(v.seen) });
    return f;
  }
}

interface StreamsResponse {
  status: string;
  data: {
    resultType: string;
    encodingFlags?: string[];
    result: Array<{ stream: Record<string, string>; values: Array<[string, string, { structuredMetadata?: Record<string, string>; parsed?: Record<string, string> }?]> }>;
  };
}

export interface Page {
  /** new entries in delivery order */
  entries: LogEntry[];
  /** raw number of entries the server returned */
  returned: number;
  /** true when the server separated structured metadata (categorize-labels honoured) */
  categorized: boolean;
}

export class NotLogQueryError extends Error {}

/** One query_range request, entries merged across streams into time order. */
export async function fetchPage(
  client: LokiClient, query: string, startNs: bigint, endNs: bigint, direction: 'forward' | 'backward', limit: number,
): Promise<Page> {
  const body = await client.getJson<StreamsResponse>(
    '/loki/api/v1/query_range',
    { query, start: startNs.toString(), end: endNs.toString(), direction, limit: String(limit) },
    { 'x-loki-response-encoding-flags': 'categorize-labels' },
  );
  if (body.data?.resultType !== 'streams') throw new NotLogQueryError(`expected a log query (resultType streams), the server answered ${body.data?.resultType}`);
  const categorized = (body.data.encodingFlags ?? []).includes('categorize-labels');
  const out: LogEntry[] = [];
  const streamText = new Map<string, string>();
  for (const r of body.data.result) {
    const labels = r.stream;
    const sig = JSON.stringify(labels);
    let text = streamText.get(sig);
    if (text === undefined) {
      text = labelsToString(labelsFromObject(labels));
      streamText.set(sig, text);
    }
    for (const v of r.values) {
      const meta = v[2];
      const e: LogEntry = {
        stream: text, labels, tsNs: BigInt(v[0]), line: v[1],
        sm: meta?.structuredMetadata ? labelsFromObject(meta.structuredMetadata) : [],
      };
      if (meta?.parsed) e.parsed = meta.parsed;
      out.push(e);
    }
  }
  const fwd = direction === 'forward';
  out.sort((a, b) => (a.tsNs === b.tsNs ? (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0) : (a.tsNs < b.tsNs) === fwd ? -1 : 1));
  return { entries: out, returned: out.length, categorized };
}

/** Extracts the stream selector `{...}` that starts a LogQL log query. */
export function leadingSelector(q: string): string | null {
  const s = q.trimStart();
  if (s[0] !== '{') return null;
  let quote = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === '`') quote = c;
    else if (c === '}') return s.slice(0, i + 1);
  }
  return null;
}

/**
 * Every entry at exactly `tsNs`, for when more than `limit` entries share one timestamp: the
 * streams present then (series API) are queried one at a time over [ts, ts+1).
 */
async function readTimestamp(client: LokiClient, query: string, tsNs: bigint, limit: number): Promise<LogEntry[]> {
  const sel = leadingSelector(query);
  const tooMany = (what: string): Error => new Error(
    `more than ${limit} entries ${what} share the timestamp ${tsNs} ns, so query_range cannot page past it; ` +
    `raise --page-size (up to the server's limits_config.max_entries_limit_per_query)`,
  );
  if (!sel) throw tooMany('');
  const rest = query.trimStart().slice(sel.length);
  const series = await client.getJson<{ data: Record<string, string>[] }>('/loki/api/v1/series', { 'match[]': sel, start: tsNs.toString(), end: (tsNs + 1n).toString() });
  const out: LogEntry[] = [];
  for (const labels of series.data ?? []) {
    const exact = labelsToString(labelsFromObject(labels));
    const page = await fetchPage(client, exact + rest, tsNs, tsNs + 1n, 'forward', limit);
    if (page.returned >= limit) throw tooMany(`of stream ${exact}`);
    out.push(...page.entries);
  }
  return out;
}

export interface PagedWindow {
  entries: LogEntry[];
  /** where reading continues: all entries before it (in travel order) have been delivered */
  cursor: bigint;
  /** the window [start, end) is exhausted */
  done: boolean;
  categorized: boolean;
}

/**
 * Reads [start, end) page by page in `direction`, starting at `cursor` (start for forward, end
 * for backward), yielding only entries the frontier has not seen.
 */
export async function* pageWindow(
  client: LokiClient, query: string, startNs: bigint, endNs: bigint, direction: 'forward' | 'backward', limit: number,
  frontier: Frontier, cursor?: bigint,
): AsyncGenerator<PagedWindow> {
  const fwd = direction === 'forward';
  let cur = cursor ?? (fwd ? startNs : endNs);
  for (;;) {
    if (fwd ? cur >= endNs : cur <= startNs) {
      yield { entries: [], cursor: fwd ? endNs : startNs, done: true, categorized: true };
      return;
    }
    const page = fwd ? await fetchPage(client, query, cur, endNs, direction, limit) : await fetchPage(client, query, startNs, cur, direction, limit);
    const fresh: LogEntry[] = [];
    for (const e of page.entries) if (frontier.admit(e)) fresh.push(e);
    if (page.returned < limit) {
      yield { entries: fresh, cursor: fwd ? endNs : startNs, done: true, categorized: page.categorized };
      return;
    }
    const last = page.entries[page.entries.length - 1]!.tsNs;
    const next = fwd ? last : last + 1n;
    if (next === cur) {
      // A full page of one timestamp: read that nanosecond stream by stream, then step past it.
      for (const e of await readTimestamp(client, query, last, limit)) if (frontier.admit(e)) fresh.push(e);
      cur = fwd ? last + 1n : last;
      yield { entries: fresh, cursor: cur, done: false, categorized: page.categorized };
      continue;
    }
    cur = next;
    yield { entries: fresh, cursor: cur, done: false, categorized: page.categorized };
  }
}
