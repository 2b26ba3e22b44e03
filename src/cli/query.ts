// `bramble query '<logql>'`: a logcli-like client for any Loki-compatible server. Log queries
// are paged past the server's per-request limit without gaps or repeats (pager.ts) and printed
// as `timestamp {labels} line`, raw lines or JSON lines; metric queries are printed as aligned
// tables. --tail follows new lines over the WebSocket tail endpoint, or by polling query_range
// when the server has no tail endpoint.
import WebSocket from 'ws';
import { parseExpr } from '../logql/syntax/parser.js';
import { labelsFromObject, labelsToString } from '../util/labels.js';
import { nowNs, rfc3339Nano } from '../util/time.js';
import { parseDurationMs } from '../config/units.js';
import { flag, flagBool, flagList, flagNumber, formatHelp, parseArgs, UsageError, type FlagSpec } from './args.js';
import { DEFAULT_RETRY, endpoint, LokiClient, parseTimeArg, sleep, type Endpoint } from './client.js';
import { Frontier, pageWindow, type LogEntry } from './pager.js';

const SPECS: FlagSpec[] = [
  { name: 'addr', arg: 'url', help: 'Server address (env LOKI_ADDR)', default: 'http://127.0.0.1:3100' },
  { name: 'tenant', arg: 'id', help: 'X-Scope-OrgID (env LOKI_ORG_ID)' },
  { name: 'org-id', arg: 'id', help: 'Same as --tenant (logcli name)' },
  { name: 'header', short: 'H', arg: '"Name: value"', repeat: true, help: 'Extra request header (repeatable)' },
  { name: 'since', arg: 'duration', help: 'Look back this far when --from is not given', default: '1h' },
  { name: 'from', arg: 'time', help: 'Start of the range, inclusive (RFC3339, a duration ago, Unix s/ns)' },
  { name: 'to', arg: 'time', help: 'End of the range, exclusive', default: 'now' },
  { name: 'limit', arg: 'n', help: 'Most log lines to print (0 = all in range)', default: '30' },
  { name: 'batch', arg: 'n', help: 'Lines per request when paging', default: '1000' },
  { name: 'forward', boolean: true, help: 'Oldest lines first (default newest first)' },
  { name: 'output', short: 'o', arg: 'default|raw|jsonl', help: 'Log line format', default: 'default' },
  { name: 'step', arg: 'duration', help: 'Metric query resolution (default: server picks, range/250)' },
  { name: 'instant', boolean: true, help: 'Metric query evaluated at --to only (an instant query)' },
  { name: 'tail', short: 't', boolean: true, help: 'Follow new lines (WebSocket /loki/api/v1/tail; polls query_range if absent)' },
  { name: 'delay-for', arg: 'seconds', help: 'With --tail: let the server wait this long for late lines', default: '0' },
  { name: 'help', short: 'h', boolean: true, help: 'Show this help' },
];

export function queryHelp(): string {
  return formatHelp(
    "bramble query '<logql>' [flags]",
    'Runs a LogQL query against a Loki-compatible server (Bramble by default) and prints the result:\n' +
    'log lines as `timestamp {labels} line` (or --output raw / jsonl), metric queries as a table.',
    SPECS,
    "Examples:\n  bramble query '{service_name=\"api\"} |= \"error\"' --since 24h --limit 100\n" +
    "  bramble query 'sum by (detected_level) (count_over_time({job=\"nginx\"}[5m]))' --since 6h\n" +
    "  bramble query '{job=\"nginx\"}' --tail -o raw",
  );
}

type Out = { write(s: string): unknown };

function mergedLabels(e: LogEntry): Record<string, string> {
  if (!e.sm.length && !e.parsed) return e.labels;
  const m: Record<string, string> = { ...e.labels };
  for (const l of e.sm) m[l.name] = l.value;
  if (e.parsed) Object.assign(m, e.parsed);
  return m;
}

export function formatEntry(e: LogEntry, output: string): string {
  if (output === 'raw') return e.line + '\n';
  if (output === 'jsonl') {
    const o: Record<string, unknown> = { timestamp: rfc3339Nano(e.tsNs), ts: e.tsNs.toString(), labels: e.labels };
    if (e.sm.length) o.structuredMetadata = Object.fromEntries(e.sm.map((l) => [l.name, l.value]));
    if (e.parsed) o.parsed = e.parsed;
    o.line = e.line;
    return JSON.stringify(o) + '\n';
  }
  return `${rfc3339Nano(e.tsNs)} ${labelsToString(labelsFromObject(mergedLabels(e)))} ${e.line}\n`;
}

interface Sample { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }

/** Aligned text table of a matrix / vector / scalar answer. */
export function formatMetricTable(resultType: string, result: unknown): string {
  const rows: string[][] = [];
  let names: string[] = [];
  const time = (s: number): string => rfc3339Nano(BigInt(Math.round(s * 1000)) * 1_000_000n);
  if (resultType === 'scalar') {
    const [t, v] = result as [number, string];
    rows.push(['TIME', 'VALUE'], [time(t), v]);
  } else {
    const series = result as Sample[];
    const set = new Set<string>();
    for (const s of series) for (const k of Object.keys(s.metric)) set.add(k);
    names = [...set].sort();
    rows.push(['TIME', ...names, 'VALUE']);
    for (const s of series) {
      const pts = s.values ?? (s.value ? [s.value] : []);
      for (const [t, v] of pts) rows.push([time(t), ...names.map((n) => s.metric[n] ?? ''), v]);
    }
    if (series.length === 0) return '(no series)\n';
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

function isMetricQuery(q: string): boolean {
  try {
    return parseExpr(q).kind !== 'logSelector';
  } catch {
    return false; // let the server report the syntax error
  }
}

async function runLogQuery(client: LokiClient, q: string, startNs: bigint, endNs: bigint, forward: boolean, limit: number, batch: number, output: string, out: Out): Promise<number> {
  const dir = forward ? 'forward' : 'backward';
  const frontier = new Frontier(dir);
  let printed = 0;
  for await (const pw of pageWindow(client, q, startNs, endNs, dir, limit > 0 ? Math.min(batch, limit) : batch, frontier)) {
    for (const e of pw.entries) {
      if (limit > 0 && printed >= limit) return printed;
      out.write(formatEntry(e, output));
      printed++;
    }
    if (limit > 0 && printed >= limit) break;
  }
  return printed;
}

interface TailFrame {
  streams?: Array<{ stream: Record<string, string>; values: Array<[string, string, { structuredMetadata?: Record<string, string>; parsed?: Record<string, string> }?]> }>;
  dropped_entries?: Array<{ labels: Record<string, string>; timestamp: string }>;
}

/** Follows the WebSocket tail endpoint. Resolves false if the server has no such endpoint. */
function tailWebSocket(ep: Endpoint, q: string, startNs: bigint, limit: number, delayFor: number, output: string, out: Out, err: Out, signal: AbortSignal): Promise<boolean> {
  const u = new URL(ep.base + '/loki/api/v1/tail');
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.search = new URLSearchParams({ query: q, start: startNs.toString(), limit: String(limit), delay_for: String(delayFor) }).toString();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u, { headers: { ...ep.headers, 'x-loki-response-encoding-flags': 'categorize-labels' } });
    let opened = false;
    const onAbort = (): void => ws.close(1000);
    signal.addEventListener('abort', onAbort, { once: true });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        signal.removeEventListener('abort', onAbort);
        if (res.statusCode === 404 || res.statusCode === 405) resolve(false);
        else reject(new Error(`tail: HTTP ${res.statusCode}: ${body.trim()}`));
      });
    });
    ws.on('open', () => (opened = true));
    ws.on('message', (data: Buffer) => {
      const f = JSON.parse(data.toString()) as TailFrame;
      for (const s of f.streams ?? []) {
        const text = labelsToString(labelsFromObject(s.stream));
        for (const v of s.values) {
          const e: LogEntry = { stream: text, labels: s.stream, tsNs: BigInt(v[0]), line: v[1], sm: v[2]?.structuredMetadata ? labelsFromObject(v[2].structuredMetadata) : [] };
          if (v[2]?.parsed) e.parsed = v[2].parsed;
          out.write(formatEntry(e, output));
        }
      }
      for (const d of f.dropped_entries ?? []) err.write(`tail: server dropped an entry of ${labelsToString(labelsFromObject(d.labels))} at ${d.timestamp} (client too slow)\n`);
    });
    ws.on('close', (code, reason) => {
      signal.removeEventListener('abort', onAbort);
      if (!opened) return;
      if (code === 1000 || code === 1005 || signal.aborted) resolve(true);
      else reject(new Error(`tail closed by the server (${code}): ${reason.toString() || 'no reason given'}`));
    });
    ws.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      if (!opened) reject(new Error(`tail: cannot connect to ${ep.base} (${(e as Error).message})`));
    });
  });
}

/** --tail without a tail endpoint: poll query_range forward every second. */
async function tailPolling(client: LokiClient, q: string, startNs: bigint, output: string, out: Out, signal: AbortSignal, pollMs = 1000): Promise<void> {
  const frontier = new Frontier('forward');
  let cursor = startNs;
  while (!signal.aborted) {
    const end = nowNs() + 1n;
    for await (const pw of pageWindow(client, q, cursor, end, 'forward', 1000, frontier)) {
      for (const e of pw.entries) out.write(formatEntry(e, output));
      if (pw.done) {
        // Keep re-reading the last second: lines can arrive a little after their timestamp.
        const last = end - 1_000_000_000n;
        cursor = last > cursor ? last : cursor;
        frontier.prune(cursor);
      }
    }
    try {
      await sleep(pollMs, signal);
    } catch {
      return;
    }
  }
}

export async function runQueryCommand(argv: string[], io: { stdout: Out; stderr: Out }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const a = parseArgs(argv, SPECS);
  if (flagBool(a, 'help')) {
    io.stdout.write(queryHelp());
    return 0;
  }
  if (a.positionals.length !== 1) throw new UsageError(a.positionals.length ? 'give exactly one query (quote it)' : "missing query, e.g. bramble query '{job=\"app\"}' (see --help)");
  const q = a.positionals[0]!;
  const output = flag(a, 'output') ?? 'default';
  if (!['default', 'raw', 'jsonl'].includes(output)) throw new UsageError(`--output must be default, raw or jsonl, got "${output}"`);
  const ep = endpoint(flag(a, 'addr') ?? env.LOKI_ADDR ?? 'http://127.0.0.1:3100', flag(a, 'tenant') ?? flag(a, 'org-id') ?? env.LOKI_ORG_ID, flagList(a, 'header'));
  const client = new LokiClient(ep, { ...DEFAULT_RETRY, attempts: 3 });
  const now = nowNs();
  let sinceMs: number;
  try {
    sinceMs = parseDurationMs(flag(a, 'since') ?? '1h');
  } catch (e) {
    throw new UsageError(`--since: ${(e as Error).message}`);
  }
  const endNs = parseTimeArg(flag(a, 'to') ?? 'now', 'to', now);
  const fromArg = flag(a, 'from');
  const startNs = fromArg !== undefined ? parseTimeArg(fromArg, 'from', now) : endNs - BigInt(Math.round(sinceMs * 1e6));
  const limit = flagNumber(a, 'limit', 30);
  const batch = Math.max(1, flagNumber(a, 'batch', 1000));

  if (flagBool(a, 'tail')) {
    if (isMetricQuery(q)) throw new UsageError('--tail works with log queries only');
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const delay = flagNumber(a, 'delay-for', 0);
      const ok = await tailWebSocket(ep, q, fromArg !== undefined ? startNs : now, limit, delay, output, io.stdout, io.stderr, ac.signal);
      if (!ok) {
        io.stderr.write(`tail: ${ep.base} has no /loki/api/v1/tail endpoint; polling query_range every second instead\n`);
        await tailPolling(client, q, fromArg !== undefined ? startNs : now, output, io.stdout, ac.signal);
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return 0;
  }

  if (isMetricQuery(q)) {
    const params: Record<string, string> = { query: q };
    let path = '/loki/api/v1/query_range';
    if (flagBool(a, 'instant')) {
      path = '/loki/api/v1/query';
      params.time = endNs.toString();
    } else {
      params.start = startNs.toString();
      params.end = endNs.toString();
      const step = flag(a, 'step');
      if (step) params.step = step;
    }
    const body = await client.getJson<{ data: { resultType: string; result: unknown } }>(path, params);
    if (output === 'jsonl') {
      const r = body.data.result;
      if (Array.isArray(r) && body.data.resultType !== 'scalar') for (const s of r) io.stdout.write(JSON.stringify(s) + '\n');
      else io.stdout.write(JSON.stringify(r) + '\n');
    } else {
      io.stdout.write(formatMetricTable(body.data.resultType, body.data.result));
    }
    return 0;
  }
  if (flagBool(a, 'instant')) throw new UsageError('--instant works with metric queries only (log queries are always range queries)');
  await runLogQuery(client, q, startNs, endNs, flagBool(a, 'forward'), limit, batch, output, io.stdout);
  return 0;
}
