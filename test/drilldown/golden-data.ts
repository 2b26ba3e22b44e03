// Test helper: replays the golden ingest bodies (/work/shared/golden/ingest/*.json) the way Loki's
// distributor sees them (empty labels dropped, service_name added, detected_level computed per
// entry), and gives the golden cases of a kind. Also a tiny `{a="b", c=~"re"}` selector matcher.
import { readFileSync, readdirSync } from 'node:fs';
import { Labels, labelsFromObject, labelsToString } from '../../src/util/labels.js';
import {
  DEFAULT_DISCOVER_SERVICE_NAME, addServiceName, detectLevel, newLevelDetector, normalizeLogLevel,
} from '../../src/push/detect.js';

export const GOLDEN = '/work/shared/golden';

export interface GoldenEntry {
  labels: Labels;
  key: string;
  tsNs: bigint;
  line: string;
  sm: Labels;
  level: string;
}

let cached: GoldenEntry[] | null = null;

/** All pushed entries in push order (exact duplicates included, as the distributor sees them). */
export function goldenEntries(): GoldenEntry[] {
  if (cached) return cached;
  const det = newLevelDetector();
  const out: GoldenEntry[] = [];
  const files = readdirSync(GOLDEN + '/ingest').filter((f) => f.endsWith('.json')).sort();
  for (const f of files) {
    const body = JSON.parse(readFileSync(GOLDEN + '/ingest/' + f, 'utf8')) as {
      streams: { stream: Record<string, string>; values: [string, string, Record<string, string>?][] }[];
    };
    for (const s of body.streams) {
      const obj: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.stream)) if (v !== '') obj[k] = v;
      const labels = addServiceName(labelsFromObject(obj), DEFAULT_DISCOVER_SERVICE_NAME);
      const key = labelsToString(labels);
      for (const v of s.values) {
        const sm = v[2] ? labelsFromObject(v[2]) : [];
        const existing = sm.find((l) => l.name === 'detected_level');
        const level = existing ? normalizeLogLevel(existing.value) : detectLevel(det, labels, sm, v[1]);
        out.push({ labels, key, tsNs: BigInt(v[0]), line: v[1], sm, level });
      }
    }
  }
  cached = out;
  return out;
}

export interface GoldenCase {
  id: string;
  kind: string;
  method: string;
  path: string;
  params: Record<string, string>;
  status: number;
  body: unknown;
}

export function goldenCases(kind: string): GoldenCase[] {
  return readFileSync(GOLDEN + '/cases.jsonl', 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as GoldenCase)
    .filter((c) => c.kind === kind);
}

/** Parses a plain selector `{a="b", c!="d", e=~"f"}`; null when it is not one. */
export function parseSelector(q: string): ((labels: Labels) => boolean) | null {
  const m = /^\{(.*)\}$/.exec(q.trim());
  if (!m) return null;
  const parts = m[1]!.match(/\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?/g);
  if (!parts) return null;
  const matchers = parts.map((p) => {
    const mm = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/.exec(p)!;
    const value = JSON.parse('"' + mm[3] + '"') as string;
    const op = mm[2]!;
    const re = op === '=~' || op === '!~' ? new RegExp('^(?:' + value + ')$') : null;
    return (labels: Labels) => {
      const v = labels.find((l) => l.name === mm[1])?.value ?? '';
      if (op === '=') return v === value;
      if (op === '!=') return v !== value;
      if (op === '=~') return re!.test(v);
      return !re!.test(v);
    };
  });
  return (labels) => matchers.every((f) => f(labels));
}

/** Go time.ParseDuration subset / plain seconds, as the step parameter is given. */
export function parseStepNs(step: string | undefined, startNs: bigint, endNs: bigint): bigint {
  if (step === undefined) {
    const rangeS = Number((endNs - startNs) / 1_000_000_000n);
    return BigInt(Math.max(Math.floor(rangeS / 250), 1)) * 1_000_000_000n;
  }
  if (/^[0-9.]+$/.test(step)) return BigInt(Math.round(Number(step) * 1e9));
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(step);
  if (!m) throw new Error('unsupported step ' + step);
  const mult = { ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n }[m[2] as 'ms'];
  return BigInt(m[1]!) * mult;
}
