// Logs Drilldown field detection: the computation behind `/loki/api/v1/detected_fields` and
// `/loki/api/v1/detected_field/<name>/values` (Loki pkg/querier/queryrange/detected_fields.go).
// Input: the sampled entries the handler's downstream query returned (newest `line_limit`
// entries after the query's pipeline, backward, each with its stream labels, structured metadata
// and, when the query had a parser stage, the labels that stage extracted). Every entry is
// re-parsed with `json` (falling back to `logfmt`); structured metadata become fields with
// `parsers: null`. Type = inferred from the value of the last entry processed (streams in label
// order, entries newest first), cardinality = distinct values (Loki's HyperLogLog is exact in
// its sparse range, which covers sampled lines).
import { Labels, labelsToString } from '../../util/labels.js';
import { ParsedField, parseJSONFields, parseLogfmtFields } from './parse.js';
import { FieldType, determineType, humanizeBytes, parseHumanizeBytes } from './types.js';

export interface FieldEntry {
  line: string;
  structuredMetadata: Labels;
  streamLabels: Labels;
  /** Labels extracted by the query's own parser stages (categorize-labels "parsed"), if any. */
  parsed?: Labels;
}

export interface DetectedField {
  label: string;
  type: FieldType;
  cardinality: number;
  parsers: string[] | null;
  jsonPath?: string[];
}

/** JSON body of `/detected_fields` (`{}` when nothing was found, as Loki's omitempty). */
export interface DetectedFieldsResponse {
  fields?: DetectedField[];
  limit?: number;
}

/** JSON body of `/detected_field/<name>/values`. */
export interface DetectedFieldValuesResponse {
  values?: string[];
  limit?: number;
}

export const DEFAULT_FIELDS_LIMIT = 1000;
const ERROR_LABELS = new Set(['__error__', '__error_details__', '__preserve_error__']);

interface Acc {
  type: FieldType;
  parsers: string[];
  jsonPath: string[] | null;
  values: Set<string>;
}

/** Groups entries by stream (sorted by label string, as Loki's merged response) keeping entry order. */
function byStream(entries: readonly FieldEntry[]): FieldEntry[][] {
  const groups = new Map<string, FieldEntry[]>();
  for (const e of entries) {
    const k = labelsToString(e.streamLabels);
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = []));
    g.push(e);
  }
  const keys = [...groups.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) => groups.get(k)!);
}

interface EntryParse {
  /** name -> distinct values (query-parsed values first, then re-parsed). */
  fields: Map<string, string[]>;
  jsonPaths: Map<string, string[]>;
  parser: 'json' | 'logfmt' | null;
}

function parseEntry(e: FieldEntry): EntryParse {
  const fields = new Map<string, string[]>();
  const jsonPaths = new Map<string, string[]>();
  const origNames = new Set<string>();
  if (e.parsed) {
    for (const l of e.parsed) {
      origNames.add(l.name);
      if (ERROR_LABELS.has(l.name)) continue;
      const vs = fields.get(l.name);
      if (vs === undefined) fields.set(l.name, [l.value]);
      else if (!vs.includes(l.value)) vs.push(l.value);
    }
  }
  // Names the query's parser extracted are not stream labels for collision purposes.
  const stream = new Set<string>();
  for (const l of e.streamLabels) if (!origNames.has(l.name)) stream.add(l.name);
  const isStream = (n: string) => stream.has(n);
  let parser: 'json' | 'logfmt' = 'json';
  let parsed: ParsedField[] | null = parseJSONFields(e.line, isStream);
  if (parsed === null) {
    parser = 'logfmt';
    parsed = parseLogfmtFields(e.line, isStream);
  }
  for (const f of parsed) {
    if (ERROR_LABELS.has(f.name)) continue;
    const vs = fields.get(f.name);
    if (vs === undefined) fields.set(f.name, [f.value]);
    else if (!vs.includes(f.value)) vs.push(f.value);
    if (f.jsonPath !== null) jsonPaths.set(f.name, f.jsonPath);
  }
  return { fields, jsonPaths, parser };
}

function smValues(sm: Labels): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const l of sm) {
    const vs = m.get(l.name);
    if (vs === undefined) m.set(l.name, [l.value]);
    else if (!vs.includes(l.value)) vs.push(l.value);
  }
  return m;
}

/** The `/detected_fields` answer for the sampled entries; `limit` caps the number of fields. */
export function detectFields(entries: readonly FieldEntry[], limit: number = DEFAULT_FIELDS_LIMIT): DetectedFieldsResponse {
  const acc = new Map<string, Acc>();
  let count = 0;
  const get = (name: string, parsers: string[]): Acc | undefined => {
    let a = acc.get(name);
    if (a === undefined && count < limit) {
      a = { type: 'string', parsers: parsers.slice(), jsonPath: null, values: new Set() };
      acc.set(name, a);
      count++;
    }
    return a;
  };
  for (const group of byStream(entries)) {
    for (const e of group) {
      for (const [name, vals] of smValues(e.structuredMetadata)) {
        const a = get(name, []);
        if (a === undefined) continue;
        a.type = determineType(vals[0]!);
        for (const v of vals) a.values.add(v);
      }
      const p = parseEntry(e);
      const parsers = p.parser === null ? [] : [p.parser];
      for (const [name, vals] of p.fields) {
        const a = get(name, parsers);
        if (a === undefined) continue;
        for (const parser of parsers) if (!a.parsers.includes(parser)) a.parsers.push(parser);
        if (p.parser === 'json') a.jsonPath = p.jsonPaths.get(name) ?? null;
        a.type = determineType(vals[0]!);
        for (const v of vals) a.values.add(v);
      }
    }
  }
  if (acc.size === 0) return {};
  const fields: DetectedField[] = [];
  for (const [label, a] of acc) {
    const f: DetectedField = {
      label,
      type: a.type,
      cardinality: a.values.size,
      parsers: a.parsers.length === 0 ? null : a.parsers,
    };
    if (a.jsonPath !== null && a.jsonPath.length > 0) f.jsonPath = a.jsonPath;
    fields.push(f);
  }
  return { fields, limit };
}

/** Loki's list of size suffixes for which a bytes value is normalised (`12KiB` -> `12kB`). */
const BYTES_SUFFIXES = ['b', 'kib', 'kb', 'mib', 'mb', 'gib', 'gb', 'tib', 'tb', 'pib', 'pb', 'eib', 'eb',
  'ki', 'k', 'mi', 'm', 'gi', 'g', 'ti', 't', 'pi', 'p', 'ei', 'e'];

function normaliseBytesValue(v: string): string {
  const n = parseHumanizeBytes(v);
  if (n === null) return v;
  const lower = v.toLowerCase();
  if (!BYTES_SUFFIXES.some((s) => lower.endsWith(s))) return v;
  return humanizeBytes(n).replace(' ', '');
}

/** The `/detected_field/<name>/values` answer; `limit` caps the number of values. */
export function detectFieldValues(
  entries: readonly FieldEntry[], name: string, limit: number = DEFAULT_FIELDS_LIMIT,
): DetectedFieldValuesResponse {
  const values = new Set<string>();
  outer: for (const group of byStream(entries)) {
    for (const e of group) {
      if (values.size >= limit) break outer;
      for (const l of e.structuredMetadata) if (l.name === name) values.add(l.value);
      const p = parseEntry(e);
      const vals = p.fields.get(name);
      if (vals !== undefined) for (const v of vals) values.add(normaliseBytesValue(v));
    }
  }
  if (values.size === 0) return {};
  return { values: [...values], limit };
}
