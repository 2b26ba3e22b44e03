// `bramble export` and `bramble import`: flag tables, help texts and option checking around
// the transfer engine (transfer.ts). export reads a running Bramble and pushes into any Loki;
// import reads an existing Loki and pushes into a Bramble.
import { parseDurationMs, parseBytes } from '../config/units.js';
import { nowNs } from '../util/time.js';
import { flag, flagBool, flagList, flagNumber, formatHelp, parseArgs, UsageError, type FlagSpec } from './args.js';
import { DEFAULT_RETRY, endpoint, parseTimeArg } from './client.js';
import { formatSummary, runTransfer } from './transfer.js';

const DEFAULT_QUERY = '{service_name=~".+"}';
const LOCAL = 'http://127.0.0.1:3100';

function specs(cmd: 'export' | 'import'): FlagSpec[] {
  const exp = cmd === 'export';
  return [
    exp
      ? { repeat: true, name: 'to', arg: 'url|time', help: 'Destination Loki (base URL or push URL, e.g. https://user:key@logs.example.com); a time value instead sets the end of the range' }
      : { repeat: true, name: 'from', arg: 'url|time', help: 'Source Loki base URL (e.g. http://loki:3100); a time value instead sets the start of the range' },
    exp
      ? { name: 'source', arg: 'url', help: 'Bramble to read from', default: LOCAL }
      : { repeat: true, name: 'to', arg: 'url|time', help: 'Bramble to write into; a time value instead sets the end of the range', default: LOCAL },
    { name: 'query', short: 'q', arg: 'logql', help: 'Log query selecting what to copy (a pipeline may filter lines)', default: DEFAULT_QUERY },
    { name: 'start', arg: 'time', help: 'Start of the range, inclusive: RFC3339, a duration ago (24h, 7d), Unix s/ns', default: '7d' },
    { name: 'end', arg: 'time', help: 'End of the range, exclusive', default: 'now' },
    ...(exp ? [{ repeat: true, name: 'from', arg: 'time', help: 'Same as --start' }] : []),
    { name: 'tenant', arg: 'id', help: 'X-Scope-OrgID sent when reading and when writing' },
    { name: 'header', short: 'H', arg: '"Name: value"', repeat: true, help: 'Extra header on destination pushes (repeatable)' },
    { name: 'source-header', arg: '"Name: value"', repeat: true, help: 'Extra header on source queries (repeatable)' },
    { name: 'window', arg: 'duration', help: 'Query time window per read', default: '1h' },
    { name: 'page-size', arg: 'n', help: 'Entries per query_range request', default: '5000' },
    { name: 'batch-size', arg: 'bytes', help: 'Target push size (uncompressed)', default: '1MiB' },
    { name: 'rate', arg: 'MiB/s', help: 'Push rate limit in MiB/s (0 = unlimited)', default: '0' },
    { name: 'checkpoint', arg: 'file', help: 'Progress file, written after every push, removed when done', default: `bramble-${cmd}.checkpoint.json` },
    { name: 'resume', boolean: true, help: 'Continue from --checkpoint (same query, URLs and start)' },
    { name: 'skip-rejected', boolean: true, help: 'Log batches the destination rejects with 4xx and go on (default: stop)' },
    { name: 'retries', arg: 'n', help: 'Attempts per request on 429/5xx/network errors', default: String(DEFAULT_RETRY.attempts) },
    { name: 'quiet', boolean: true, help: 'No progress output (the summary is still printed)' },
    { name: 'help', short: 'h', boolean: true, help: 'Show this help' },
  ];
}

const isUrl = (v: string): boolean => /^https?:\/\//i.test(v);

export function transferHelp(cmd: 'export' | 'import'): string {
  const exp = cmd === 'export';
  return formatHelp(
    exp ? 'bramble export --to <loki URL> [flags]' : 'bramble import --from <loki URL> [flags]',
    exp
      ? 'Copies logs stored in a running Bramble into any Loki-compatible endpoint (Grafana Cloud, Loki,\n' +
        'another Bramble): read with query_range in time order, pushed as protobuf+snappy batches with\n' +
        'stream labels, structured metadata and nanosecond timestamps unchanged.'
      : 'Copies history out of an existing Loki into a Bramble: read with query_range in time order,\n' +
        'pushed as protobuf+snappy batches with stream labels, structured metadata and nanosecond\n' +
        'timestamps unchanged.',
    specs(cmd),
    'Progress is checkpointed after every push; Ctrl-C stops after the batch in flight, and the same\n' +
    'command with --resume continues without gaps or duplicates. The destination must accept old\n' +
    'samples (Loki: limits_config.reject_old_samples: false) when copying data older than a week.\n' +
    `Examples:\n  bramble export --to https://123:glc_key@logs-prod.grafana.net --start 30d --rate 2\n` +
    `  bramble import --from http://loki:3100 --query '{job="nginx"}' --start 2024-05-01T00:00:00Z --end 2024-05-08T00:00:00Z`,
  );
}

export async function runTransferCommand(cmd: 'export' | 'import', argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream }): Promise<number> {
  const a = parseArgs(argv, specs(cmd));
  if (flagBool(a, 'help')) {
    io.stdout.write(transferHelp(cmd));
    return 0;
  }
  if (a.positionals.length) throw new UsageError(`unexpected argument "${a.positionals[0]}" (see bramble ${cmd} --help)`);
  const now = nowNs();
  // --from/--to carry either a URL (source/destination) or a time: tell them apart by shape.
  let sourceUrl: string | undefined;
  let destUrl: string | undefined;
  let startArg = flag(a, 'start');
  let endArg = flag(a, 'end');
  for (const name of ['from', 'to'] as const) {
    for (const v of flagList(a, name)) {
      if (isUrl(v)) {
        if (name === 'from') sourceUrl = v;
        else destUrl = v;
      } else if (name === 'from') startArg = v;
      else endArg = v;
    }
  }
  if (cmd === 'export') {
    sourceUrl = flag(a, 'source') ?? LOCAL;
    if (!destUrl) throw new UsageError('bramble export needs --to <Loki URL> (where to push), e.g. --to http://loki:3100');
  } else {
    destUrl ??= LOCAL;
    if (!sourceUrl) throw new UsageError('bramble import needs --from <Loki URL> (where to read), e.g. --from http://loki:3100');
  }
  const tenant = flag(a, 'tenant');
  const startNs = parseTimeArg(startArg ?? '7d', 'start', now);
  const endNs = parseTimeArg(endArg ?? 'now', 'end', now);
  if (endNs <= startNs) throw new UsageError(`the range is empty: end ${endArg ?? 'now'} is not after start ${startArg ?? '7d'}`);
  let windowMs: number;
  let batchBytes: number;
  try {
    windowMs = parseDurationMs(flag(a, 'window') ?? '1h');
    batchBytes = parseBytes(flag(a, 'batch-size') ?? '1MiB');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (windowMs < 1) throw new UsageError('--window must be at least 1ms');
  const pageSize = flagNumber(a, 'page-size', 5000);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new UsageError('--page-size must be a positive integer');
  const rate = flagNumber(a, 'rate', 0);
  if (rate < 0) throw new UsageError('--rate must be >= 0');
  const stop = { requested: false };
  let sigints = 0;
  const onSigint = (): void => {
    sigints++;
    if (sigints > 1) {
      io.stderr.write(`\n${cmd}: second interrupt, exiting now (the last checkpoint is kept)\n`);
      process.exit(130);
    }
    stop.requested = true;
    io.stderr.write(`\n${cmd}: interrupt: finishing the batch in flight and saving progress (Ctrl-C again to quit now)\n`);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const checkpointPath = flag(a, 'checkpoint') ?? `bramble-${cmd}.checkpoint.json`;
  try {
    const summary = await runTransfer({
      command: cmd,
      source: endpoint(sourceUrl, tenant, flagList(a, 'source-header')),
      dest: endpoint(destUrl, tenant, flagList(a, 'header')),
      query: flag(a, 'query') ?? DEFAULT_QUERY,
      startNs, endNs,
      windowNs: BigInt(Math.round(windowMs * 1e6)),
      pageSize,
      batchBytes: Math.max(1024, batchBytes),
      rateBytes: rate * 1024 * 1024,
      checkpointPath,
      resume: flagBool(a, 'resume'),
      skipRejected: flagBool(a, 'skip-rejected'),
      quiet: flagBool(a, 'quiet'),
      retry: { ...DEFAULT_RETRY, attempts: Math.max(1, flagNumber(a, 'retries', DEFAULT_RETRY.attempts)) },
      stderr: io.stderr,
      stop,
    });
    io.stderr.write(formatSummary(cmd, summary, checkpointPath));
    return summary.interrupted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
