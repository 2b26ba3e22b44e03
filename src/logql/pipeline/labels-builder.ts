// The per-entry label state of a log pipeline, modelled on Loki's LabelsBuilder
// (pkg/logql/log/labels.go): immutable stream labels (the base) plus three categories of added
// labels (stream overrides, structured metadata, parsed), a delete list, the `__error__` /
// `__error_details__` pair, and the parser hints shared by the whole query. It also produces the
// final (optionally grouped) label sets, cached so that an entry whose labels did not change does
// not rebuild strings.
import { labelsKey, type Label, type Labels } from '../../util/labels.js';
import type { Hints } from './hints.js';

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';
export const PRESERVE_ERROR_LABEL = '__preserve_error__';
export const DUPLICATE_SUFFIX = '_extracted';

export const enum Cat {
  Stream = 0,
  StructuredMetadata = 1,
  Parsed = 2,
}

/** A computed label set with its identity key and categorized view. */
export class LabelsResult {
  private cat: { stream: Labels; structuredMetadata: Labels; parsed: Labels } | undefined;
  constructor(
    readonly labels: Labels,
    readonly key: string,
    /** names of parsed / structured-metadata labels at creation (for categorized()) */
    private readonly parsedNames: Set<string> | undefined,
    private readonly smNames: Set<string> | undefined,
  ) {}

  categorized(): { stream: Labels; structuredMetadata: Labels; parsed: Labels } {
    if (this.cat) return this.cat;
    const stream: Labels = [];
    const structuredMetadata: Labels = [];
    const parsed: Labels = [];
    for (const l of this.labels) {
      if (l.name === ERROR_LABEL || l.name === ERROR_DETAILS_LABEL) parsed.push(l);
      else if (this.parsedNames?.has(l.name)) parsed.push(l);
      else if (this.smNames?.has(l.name)) structuredMetadata.push(l);
      else stream.push(l);
    }
    this.cat = { stream, structuredMetadata, parsed };
    return this.cat;
  }
}

function byName(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function findIn(list: Label[], name: string): number {
  for (let i = 0; i < list.length; i++) if (list[i]!.name === name) return i;
  return -1;
}

const MAX_CACHE = 4096;

/** Query-wide state shared by every stream's builder (Loki's BaseLabelsBuilder). */
export class BaseLabelsBuilder {
  readonly resultCache = new Map<string, LabelsResult>();
  constructor(
    readonly hints: Hints,
    readonly groups: string[] | undefined,
    readonly without: boolean,
    readonly noLabels: boolean,
  ) {}

  cached(labels: Labels, key: string, parsedNames?: Set<string>, smNames?: Set<string>): LabelsResult {
    let r = this.resultCache.get(key);
    if (r) return r;
    r = new LabelsResult(labels, key, parsedNames, smNames);
    if (this.resultCache.size >= MAX_CACHE) this.resultCache.clear();
    this.resultCache.set(key, r);
    return r;
  }
}

export const EMPTY_RESULT = new LabelsResult([], '', undefined, undefined);

export class LabelsBuilder {
  readonly base: Labels;
  private readonly baseMap: Map<string, string>;
  readonly add: [Label[], Label[], Label[]] = [[], [], []];
  del: string[] = [];
  err = '';
  errDetails = '';
  readonly hints: Hints;
  readonly currentResult: LabelsResult;
  private groupedBase: LabelsResult | undefined;
  private buf: Label[] = [];
  /** memo of the last structured-metadata-only result (the common no-parser case) */
  private smMemoKey = '';
  private smMemo: LabelsResult | undefined;

  constructor(base: Labels, readonly shared: BaseLabelsBuilder) {
    this.base = base;
    this.baseMap = new Map();
    for (const l of base) this.baseMap.set(l.name, l.value);
    this.hints = shared.hints;
    this.currentResult = shared.cached(base, labelsKey(base));
  }

  reset(): void {
    this.del.length = 0;
    this.add[0].length = 0;
    this.add[1].length = 0;
    this.add[2].length = 0;
    this.err = '';
    this.errDetails = '';
    this.hints.reset();
  }

  hasErr(): boolean {
    return this.err !== '';
  }

  baseHas(name: string): boolean {
    return this.baseMap.has(name);
  }

  hasInCategory(name: string, cat: Cat): boolean {
    return findIn(this.add[cat], name) >= 0;
  }

  /** Loki's Get: added labels first, then deletions, then a non-empty base value. */
  get(name: string): string | undefined {
    for (let c = 0; c < 3; c++) {
      const list = this.add[c]!;
      for (let i = 0; i < list.length; i++) if (list[i]!.name === name) return list[i]!.value;
    }
    const del = this.del;
    for (let i = 0; i < del.length; i++) if (del[i] === name) return undefined;
    const v = this.baseMap.get(name);
    return v === undefined || v === '' ? undefined : v;
  }

  /** Category of a present label (used by label_format rename), -1 when absent. */
  private deleteWithCategory(cat: Cat, name: string): void {
    const list = this.add[cat];
    for (let i = 0; i < list.length; i++) {
      if (list[i]!.name === name) {
        list.splice(i, 1);
        i--;
      }
    }
  }

  del1(name: string): void {
    this.deleteWithCategory(Cat.Stream, name);
    this.deleteWithCategory(Cat.StructuredMetadata, name);
    this.deleteWithCategory(Cat.Parsed, name);
    this.del.push(name);
  }

  set(cat: Cat, name: string, value: string): void {
    if (cat === Cat.Parsed) {
      this.deleteWithCategory(Cat.StructuredMetadata, name);
      this.deleteWithCategory(Cat.Stream, name);
    } else if (cat === Cat.StructuredMetadata) {
      this.deleteWithCategory(Cat.Stream, name);
      if (findIn(this.add[Cat.Parsed], name) >= 0) return;
    } else {
      if (findIn(this.add[Cat.StructuredMetadata], name) >= 0 || findIn(this.add[Cat.Parsed], name) >= 0) return;
    }
    const list = this.add[cat];
    for (let i = 0; i < list.length; i++) {
      if (list[i]!.name === name) {
        list[i] = { name, value };
        return;
      }
    }
    list.push({ name, value });
    if (cat === Cat.Parsed) this.hints.recordExtracted(name);
  }

  /** Adds structured metadata (or any label set) the way Loki's Add does. */
  addLabels(cat: Cat, lbs: Labels): void {
    for (let i = 0; i < lbs.length; i++) {
      const l = lbs[i]!;
      let name = l.name;
      if (this.baseMap.has(name)) name = name + DUPLICATE_SUFFIX;
      if (name === ERROR_LABEL) { this.err = l.value; continue; }
      if (name === ERROR_DETAILS_LABEL) { this.errDetails = l.value; continue; }
      this.set(cat, name, l.value);
    }
  }

  private hasAdd(): boolean {
    return this.add[0].length > 0 || this.add[1].length > 0 || this.add[2].length > 0;
  }

  unchanged(): boolean {
    return this.del.length === 0 && !this.hasAdd() && this.err === '';
  }

  /** Loki's UnsortedLabels over all categories (errors appended last). */
  unsortedLabels(buf: Label[]): Label[] {
    buf.length = 0;
    if (this.del.length === 0 && !this.hasAdd()) {
      for (const l of this.base) buf.push(l);
      this.appendErrors(buf);
      return buf;
    }
    const sm = this.add[Cat.StructuredMetadata];
    const parsed = this.add[Cat.Parsed];
    const streamAdd = this.add[Cat.Stream];
    outer: for (const l of this.base) {
      for (let i = 0; i < this.del.length; i++) if (this.del[i] === l.name) continue outer;
      if (findIn(sm, l.name) >= 0 || findIn(parsed, l.name) >= 0) continue;
      const j = findIn(streamAdd, l.name);
      buf.push(j >= 0 ? { name: l.name, value: streamAdd[j]!.value } : l);
    }
    for (const l of sm) if (findIn(parsed, l.name) < 0) buf.push(l);
    for (const l of parsed) buf.push(l);
    this.appendErrors(buf);
    return buf;
  }

  private appendErrors(buf: Label[]): void {
    if (this.err !== '') buf.push({ name: ERROR_LABEL, value: this.err });
    if (this.errDetails !== '') buf.push({ name: ERROR_DETAILS_LABEL, value: this.errDetails });
  }

  /** Labels as a plain object (what templates see). */
  intoObject(): Record<string, string> {
    const o: Record<string, string> = {};
    if (this.del.length === 0 && !this.hasAdd() && this.err === '') {
      for (const l of this.base) o[l.name] = l.value;
      return o;
    }
    const buf = this.unsortedLabels([]);
    for (const l of buf) o[l.name] = l.value;
    return o;
  }

  /** The full label set of the current entry (Loki's LabelsResult()). */
  labelsResult(): LabelsResult {
    if (this.del.length === 0 && this.err === '' && this.add[Cat.Parsed].length === 0 && this.add[Cat.Stream].length === 0) {
      const sm = this.add[Cat.StructuredMetadata];
      if (sm.length === 0) return this.currentResult;
      // Only structured metadata: memoize by its content.
      let k = '';
      for (let i = 0; i < sm.length; i++) k += sm[i]!.name + '\x00' + sm[i]!.value + '\x01';
      if (this.smMemo !== undefined && k === this.smMemoKey) return this.smMemo;
      const r = this.computeResult();
      this.smMemoKey = k;
      this.smMemo = r;
      return r;
    }
    return this.computeResult();
  }

  private computeResult(): LabelsResult {
    const buf = this.unsortedLabels(this.buf);
    const sorted = buf.slice().sort(byName);
    const key = labelsKey(sorted);
    const cached = this.shared.resultCache.get(key);
    if (cached) return cached;
    let parsedNames: Set<string> | undefined;
    let smNames: Set<string> | undefined;
    if (this.add[Cat.Parsed].length > 0) {
      parsedNames = new Set();
      for (const l of this.add[Cat.Parsed]) parsedNames.add(l.name);
    }
    if (this.add[Cat.StructuredMetadata].length > 0) {
      smNames = new Set();
      for (const l of this.add[Cat.StructuredMetadata]) smNames.add(l.name);
    }
    return this.shared.cached(sorted, key, parsedNames, smNames);
  }

  /** Loki's GroupedLabels: applies the extractor's by/without grouping. */
  groupedLabels(): LabelsResult {
    if (this.err !== '') return this.labelsResult();
    const sh = this.shared;
    if (sh.noLabels) return EMPTY_RESULT;
    const groups = sh.groups;
    if (this.del.length === 0 && !this.hasAdd()) {
      if (!groups || groups.length === 0) return this.currentResult;
      return this.toBaseGroup(groups);
    }
    if (!groups || groups.length === 0) return this.labelsResult();
    return sh.without ? this.withoutResult(groups) : this.withResult(groups);
  }

  private withResult(groups: string[]): LabelsResult {
    const buf = this.buf;
    buf.length = 0;
    outer: for (const g of groups) {
      for (const n of this.del) if (n === g) continue outer;
      for (let c = 0; c < 3; c++) {
        const list = this.add[c]!;
        for (const l of list) {
          if (l.name === g) {
            buf.push(l);
            continue outer;
          }
        }
      }
      const v = this.baseMap.get(g);
      if (v !== undefined && v !== '') buf.push({ name: g, value: v });
    }
    return this.uncategorized(buf);
  }

  private withoutResult(groups: string[]): LabelsResult {
    const buf = this.buf;
    buf.length = 0;
    outer: for (const l of this.base) {
      for (const n of this.del) if (n === l.name) continue outer;
      for (let c = 0; c < 3; c++) if (findIn(this.add[c]!, l.name) >= 0) continue outer;
      for (const g of groups) if (g === l.name) continue outer;
      buf.push(l);
    }
    for (let c = 0; c < 3; c++) {
      outer2: for (const l of this.add[c]!) {
        for (const g of groups) if (g === l.name) continue outer2;
        buf.push(l);
      }
    }
    return this.uncategorized(buf);
  }

  private uncategorized(buf: Label[]): LabelsResult {
    const sorted = buf.slice().sort(byName);
    // labels.New de-duplicates nothing; names are unique by construction.
    const key = labelsKey(sorted);
    return this.shared.cached(sorted, key);
  }

  private toBaseGroup(groups: string[]): LabelsResult {
    if (this.groupedBase) return this.groupedBase;
    const out: Labels = [];
    for (const l of this.base) {
      const inGroups = groups.indexOf(l.name) >= 0;
      if (this.shared.without ? !inGroups : inGroups) out.push(l);
    }
    this.groupedBase = new LabelsResult(out, labelsKey(out), undefined, undefined);
    return this.groupedBase;
  }
}
