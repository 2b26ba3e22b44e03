// A stream's entries as columns instead of one LogEntry object each: the form an ordinary
// protobuf push takes from the decoder through validation, the ingester's per-stream rules, the
// WAL record and the open block, so the hot path allocates a few typed arrays per stream and no
// object per entry (per-entry objects, held until the WAL fsync, were the push path's garbage
// and most of its GC time). Every line is a byte range of one buffer (the decompressed request
// body); an entry's only structured metadata is its detected_level, kept as a small code.
// Anything else (client metadata, invalid UTF-8, a rejected entry) takes the object path:
// `materialize` gives the same entries as LogEntry objects.
import { LogEntry } from './entry.js';
import { levelOnly } from './detect.js';
import type { Labels } from '../util/labels.js';

const NONE: Labels = Object.freeze([]) as unknown as Labels;

// detected_level codes: 0 is "no metadata", k > 0 the frozen levelOnly list of LEVELS[k]
const LEVELS: string[] = [''];
const LEVEL_SM: Labels[] = [NONE];
const LEVEL_SM_SIZE: number[] = [0];
const codes = new Map<string, number>();

/** The code of `detected_level=value` (1..255), or -1 when 255 values are taken (object path). */
export function levelCode(value: string): number {
  let c = codes.get(value);
  if (c === undefined) {
    if (LEVELS.length > 255) return -1;
    c = LEVELS.length;
    LEVELS.push(value);
    LEVEL_SM.push(levelOnly(value));
    LEVEL_SM_SIZE.push(Buffer.byteLength('detected_level') + Buffer.byteLength(value));
    codes.set(value, c);
  }
  return c;
}

/** The structured metadata of code c: [] (0) or the frozen [detected_level=LEVELS[c]]. */
export function levelSm(c: number): Labels {
  return LEVEL_SM[c]!;
}

/** The level value of code c > 0. */
export function levelValue(c: number): string {
  return LEVELS[c]!;
}

/** Loki's structured-metadata size (len(name) + len(value)) of code c. */
export function levelSmSize(c: number): number {
  return LEVEL_SM_SIZE[c]!;
}

export class EntryBatch {
  /** detected_level code per entry (0: no metadata); filled by validation */
  readonly level: Uint8Array;

  /**
   * n entries: timestamp i is (ms[i], rem[i]) as in LogEntry (floored ms, ns below it) and its
   * line is src[ranges[2i], ranges[2i + 1]).
   */
  constructor(
    readonly src: Buffer,
    readonly n: number,
    readonly ms: Float64Array,
    readonly rem: Int32Array,
    readonly ranges: Int32Array,
    /** n zero bytes for `level` (default: a new array) */
    level?: Uint8Array,
  ) {
    this.level = level ?? new Uint8Array(n);
  }

  lineLen(i: number): number {
    return this.ranges[2 * i + 1]! - this.ranges[2 * i]!;
  }

  /** Are the lines of entries i and j byte-equal? */
  sameLines(i: number, j: number): boolean {
    const r = this.ranges;
    const n = r[2 * i + 1]! - r[2 * i]!;
    if (n !== r[2 * j + 1]! - r[2 * j]!) return false;
    return this.src.compare(this.src, r[2 * j]!, r[2 * j + 1]!, r[2 * i]!, r[2 * i + 1]!) === 0;
  }

  /** Entry i as a LogEntry (with its detected_level metadata). */
  entry(i: number): LogEntry {
    const r = this.ranges;
    return LogEntry.fromBytesMs(this.ms[i]!, this.rem[i]!, this.src, r[2 * i]!, r[2 * i + 1]!, LEVEL_SM[this.level[i]!]!);
  }

  /** Every entry as a LogEntry (the object path). */
  materialize(): LogEntry[] {
    const out: LogEntry[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.entry(i);
    return out;
  }
}
