// Test helpers: read the golden corpus (real Loki answers) and rebuild per-entry pipeline inputs
// (stream labels + structured metadata) from the labels real Loki returned.
import { readFileSync } from 'node:fs';
import type { Labels } from '../../../src/util/labels.js';
import { labelsFromObject } from '../../../src/util/labels.js';

export interface GoldenCase {
  id: string;
  kind: string;
  params: Record<string, string>;
  status: number;
  body: any;
}

let cache: GoldenCase[] | undefined;
export function goldenCases(): GoldenCase[] {
  if (!cache) {
    cache = readFileSync('/work/shared/golden/cases.jsonl', 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as GoldenCase);
  }
  return cache;
}

export function goldenCase(id: string): GoldenCase {
  const c = goldenCases().find((x) => x.id === id);
  if (!c) throw new Error('no golden case ' + id);
  return c;
}

const STREAM_NAMES = new Set(['source', 'job', 'host', 'app', 'namespace', 'cluster', 'service_name']);
const SM_NAMES = new Set(['detected_level', 'trace_id', 'user', 'pod']);

/** Splits a result label set back into (stream labels, structured metadata) of the pushed entry. */
export function inputsFromResult(stream: Record<string, string>): { stream: Labels; sm: Labels } {
  const s: Record<string, string> = {};
  const m: Record<string, string> = {};
  for (const [k, v] of Object.entries(stream)) {
    if (STREAM_NAMES.has(k) || (k === 'level' && stream.app === 'legacy')) s[k] = v;
    else if (k === 'detected_level') m[k] = v;
    else if (SM_NAMES.has(k) && ((stream.app === 'api' && (k === 'trace_id' || k === 'user')) || (stream.app === 'worker' && k === 'pod'))) m[k] = v;
  }
  return { stream: labelsFromObject(s), sm: labelsFromObject(m) };
}
