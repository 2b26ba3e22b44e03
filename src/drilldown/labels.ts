// Logs Drilldown label detection: the computation behind `/loki/api/v1/detected_labels` (Loki
// pkg/querier/querier.go DetectedLabels). Given the label sets of the streams matching the query
// in range, returns every label name with its number of distinct values, except labels whose
// values all look like IDs (numbers or UUIDs; the values {0,1} alone count as a boolean and are
// kept); `cluster`, `namespace`, `instance` and `pod` are always kept. Loki's HyperLogLog
// estimate equals the exact distinct count at label-value cardinalities.
import { Labels } from '../util/labels.js';
import { isGoFloat } from './fields/types.js';

export interface DetectedLabel {
  label: string;
  cardinality: number;
}

/** JSON body of `/detected_labels`: `{}` when there is nothing (Loki's omitempty). */
export interface DetectedLabelsResponse {
  detectedLabels?: DetectedLabel[];
}

const STATIC_LABELS = new Set(['cluster', 'namespace', 'instance', 'pod']);
const HEX = '[0-9a-fA-F]';
const UUID_RE = new RegExp(
  `^(?:${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}` +
    `|[\\s\\S]${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}[\\s\\S]` + // 38 chars: Go ignores the brace characters
    `|[uU][rR][nN]:[uU][uU][iI][dD]:${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}` +
    `|${HEX}{32})$`,
);

/** google/uuid Parse succeeds. */
export function isUUID(s: string): boolean {
  return UUID_RE.test(s);
}

function allIDs(values: readonly string[]): boolean {
  for (const v of values) if (!isGoFloat(v) && !isUUID(v)) return false;
  return true;
}

/** Loki shouldRejectLabel: no values, or every value is an ID (except a pure 0/1 boolean set). */
export function shouldRejectLabel(values: readonly string[]): boolean {
  if (values.length === 0) return true;
  if (values.length > 2) return allIDs(values);
  for (const v of values) if (v !== '0' && v !== '1') return allIDs(values);
  return false;
}

/** The `/detected_labels` answer for the label sets of the matching streams. */
export function detectLabels(streams: Iterable<Labels>): DetectedLabelsResponse {
  const values = new Map<string, Set<string>>();
  for (const ls of streams) {
    for (const l of ls) {
      let s = values.get(l.name);
      if (s === undefined) values.set(l.name, (s = new Set()));
      s.add(l.value);
    }
  }
  const out: DetectedLabel[] = [];
  for (const [label, set] of values) {
    const vs = [...set];
    if (STATIC_LABELS.has(label) || !shouldRejectLabel(vs)) out.push({ label, cardinality: set.size });
  }
  if (out.length === 0) return {};
  return { detectedLabels: out };
}
