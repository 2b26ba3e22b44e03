// Parser hints (Loki's pkg/logql/log/parser_hints.go) and the Stage interface. Hints tell the
// parsers which labels a metric query needs (so they may skip others and stop early), record which
// keys were already extracted on the current line (the first extraction of a key wins, also across
// parser stages), and let parsers evaluate single-label filters as soon as the label is set.
import type { LabelsBuilder } from './labels-builder.js';
import { DUPLICATE_SUFFIX, ERROR_LABEL } from './labels-builder.js';

/** One pipeline step. Returns the (possibly new) line, or null when the entry is filtered out. */
export interface Stage {
  process(ts: bigint, line: string, lbs: LabelsBuilder): string | null;
  requiredLabelNames(): string[];
  /** true for label filter stages (used by hints) */
  readonly isLabelFilter?: boolean;
  /** true for and/or label filter combinations (not usable by hints) */
  readonly isBinaryLabelFilter?: boolean;
}

export class Hints {
  private readonly extracted = new Set<string>();
  constructor(
    readonly requiredLabels: string[],
    readonly noLabelsFlag: boolean,
    readonly preserveError: boolean,
    private readonly filterNames: string[],
    private readonly filters: Stage[],
  ) {}

  static none(): Hints {
    return new Hints([], false, false, [], []);
  }

  extractedHas(key: string): boolean {
    return this.extracted.has(key);
  }

  shouldExtract(key: string): boolean {
    const r = this.requiredLabels;
    if (r.length === 0) return true;
    for (let i = 0; i < r.length; i++) if (r[i] === key) return true;
    return false;
  }

  shouldExtractPrefix(prefix: string): boolean {
    const r = this.requiredLabels;
    if (r.length === 0) return true;
    for (let i = 0; i < r.length; i++) if (r[i]!.startsWith(prefix)) return true;
    return false;
  }

  noLabels(): boolean {
    return this.noLabelsFlag || this.allRequiredExtracted();
  }

  recordExtracted(key: string): void {
    this.extracted.add(key);
  }

  allRequiredExtracted(): boolean {
    const r = this.requiredLabels;
    if (r.length === 0 || this.extracted.size < r.length) return false;
    for (let i = 0; i < r.length; i++) if (!this.extracted.has(r[i]!)) return false;
    return true;
  }

  reset(): void {
    if (this.extracted.size > 0) this.extracted.clear();
  }

  shouldContinueParsingLine(labelName: string, lbs: LabelsBuilder): boolean {
    const names = this.filterNames;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === labelName) {
        return this.filters[i]!.process(0n, '', lbs) !== null;
      }
    }
    return true;
  }
}

function appendLabelHints(dst: string[], src: string[]): void {
  for (const l of src) {
    dst.push(l);
    if (l.endsWith(DUPLICATE_SUFFIX)) dst.push(l.slice(0, -DUPLICATE_SUFFIX.length));
  }
}

/** Loki's NewParserHint. */
export function newParserHint(
  requiredLabelNames: string[],
  groups: string[],
  without: boolean,
  noLabels: boolean,
  metricLabelName: string,
  stages: Stage[],
): Hints {
  const raw: string[] = [];
  appendLabelHints(raw, requiredLabelNames);
  appendLabelHints(raw, groups);
  appendLabelHints(raw, [metricLabelName]);
  const hints: string[] = [];
  const seen = new Set<string>();
  for (const h of raw) {
    if (h.length !== 0 && !seen.has(h)) {
      seen.add(h);
      hints.push(h);
    }
  }
  // Single-label filters, aligned with their names exactly as Loki appends them.
  const labelNames: string[] = [];
  const labelFilters: Stage[] = [];
  for (const s of stages) {
    if (!s.isLabelFilter || s.isBinaryLabelFilter) continue;
    const names = s.requiredLabelNames();
    if (names.length > 1) continue;
    labelFilters.push(s);
    for (const n of names) labelNames.push(n);
  }
  const preserve = hints.indexOf(ERROR_LABEL) >= 0;
  if (noLabels) {
    if (hints.length > 0) return new Hints(hints, false, preserve, labelNames, labelFilters);
    return new Hints([], true, false, [], []);
  }
  if (without || groups.length === 0) return new Hints([], false, false, labelNames, labelFilters);
  return new Hints(hints, false, preserve, [], []);
}
