// The per-block index section (FORMAT.md, version 2): built once when a block is cut, read by
// the scan workers before anything else so a block that cannot match is never decompressed.
// It holds the distinct structured-metadata names of the block (exact), a one-hash bloom
// filter over every byte trigram of the block's line bytes, so "can this block contain the
// substring S" is answerable for any S of 3+ bytes (if one trigram of S is absent, S is absent),
// and (index version 2) a filter over its structured-metadata (name, value) pairs
// (sm-pair-filter.ts), so "can an entry have trace_id=X" is answerable too.
import { fmix32, trigramBloomBuild } from '../native/index.js';
import { buildSmPairFilter, smPairFilterOf, smPairHash, SmPairFilter } from './sm-pair-filter.js';
import { u32Words } from '../util/words.js';

/** 1: names + trigram bloom; 2: and the SM pair filter after the bloom (both are read). */
export const INDEX_VERSION = 2;
/** Scratch bloom size (bits, log2); blocks fold it down to what their trigram count needs. */
export const SCRATCH_LOG2 = 17;
const MIN_LOG2 = 9;
const MAX_SM_NAMES = 64;
const SM_NAMES_UNKNOWN = 0xffff;

/** Words of the full-size bloom a block's trigrams are set in before it is folded. */
export const BLOOM_SCRATCH_WORDS = 1 << (SCRATCH_LOG2 - 5);
const scratch = new Uint32Array(BLOOM_SCRATCH_WORDS);

/**
 * Builds the index section of a block from its uncompressed lines and structured-metadata
 * sections. Layout:
 *   u8 version, u8 log2(bloom bits) (0 = no bloom), u16 SM name count (0xffff = not recorded),
 *   per name: u16 length + UTF-8 bytes, then the bloom bits (little-endian u32 words), then the
 *   SM pair filter.
 */
export function buildBlockIndex(lines: Uint8Array, sm: Uint8Array, entries: number, known?: SmNameTracker): Uint8Array {
  return buildBlockIndexFrom(lines, blockIndexParts(sm, entries, known));
}

/** buildBlockIndex for parts taken earlier (a cut that left the event loop, compressed here after all). */
export function buildBlockIndexFrom(lines: Uint8Array, parts: BlockIndexParts): Uint8Array {
  if (lines.length < 3) return assembleBlockIndex(parts, null, 0);
  scratch.fill(0);
  const distinct = trigramBloomBuild(lines, scratch);
  return assembleBlockIndex(parts, scratch, distinct);
}

/** What the index section holds besides the bloom: the SM names and the SM pair filter. */
export interface BlockIndexParts {
  names: string[] | null;
  pairs: Uint8Array;
}

/** The SM names and pair filter of a block (from the open block's tracker when it is valid). */
export function blockIndexParts(sm: Uint8Array, entries: number, known?: SmNameTracker): BlockIndexParts {
  const k = known !== undefined && known.valid;
  return { names: k ? known.names() : smNames(sm, entries), pairs: k ? smPairFilterOf(known.pairs) : buildSmPairFilter(sm, entries) };
}

/**
 * The index section from its parts and the block's trigram bloom, built at the full scratch
 * size (BLOOM_SCRATCH_WORDS words; null: the lines are under 3 bytes) with `distinct` bits set:
 * it is folded down to what that count needs.
 */
export function assembleBlockIndex(parts: BlockIndexParts, full: Uint32Array | null, distinct: number): Uint8Array {
  const names = parts.names;
  let log2 = 0;
  let bloom: Uint32Array | null = null;
  if (full !== null) {
    // 4-8 bits per distinct trigram: about 12-22% of the bits set (one hash function).
    log2 = Math.max(MIN_LOG2, Math.min(SCRATCH_LOG2, Math.ceil(Math.log2(Math.max(1, distinct) * 4))));
    bloom = fold(full, log2);
  }
  let size = 4;
  const encoded: Buffer[] = [];
  if (names !== null) for (const n of names) {
    const b = Buffer.from(n, 'utf8');
    encoded.push(b);
    size += 2 + b.length;
  }
  const bloomBytes = bloom ? bloom.byteLength : 0;
  size = (size + 3) & ~3; // align the bloom words
  const pairs = parts.pairs;
  const out = new Uint8Array(size + bloomBytes + pairs.length);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = INDEX_VERSION;
  out[1] = log2;
  dv.setUint16(2, names === null ? SM_NAMES_UNKNOWN : names.length, true);
  let p = 4;
  for (const b of encoded) {
    dv.setUint16(p, b.length, true);
    out.set(b, p + 2);
    p += 2 + b.length;
  }
  if (bloom) for (let i = 0; i < bloom.length; i++) dv.setUint32(size + i * 4, bloom[i]!, true);
  out.set(pairs, size + bloomBytes);
  return out;
}

function fold(src: Uint32Array, log2: number): Uint32Array {
  const words = Math.max(1, (1 << log2) >>> 5);
  const out = new Uint32Array(words);
  for (let i = 0; i < src.length; i++) out[i & (words - 1)]! |= src[i]!;
  return out;
}

/**
 * The distinct structured-metadata names and (name, value) pairs of a block as its entries are
 * appended (the open block feeds it every entry's list): what smNames and buildSmPairFilter would
 * read back from the sm section, without parsing it at the cut. Consecutive entries share one list (detect.ts levelOnly), so a list is
 * looked at only when it differs from the previous one. A name whose UTF-8 bytes would not
 * decode back to it (lone surrogates) makes the tracker invalid: the section is parsed then.
 */
export class SmNameTracker {
  private readonly seen = new Set<string>();
  /** smPairHash of every distinct (name, value) pair: the pair filter, without parsing the section */
  readonly pairs = new Set<number>();
  private last: readonly { name: string; value: string }[] | null = null;
  private tooMany = false;
  valid = true;

  add(sm: readonly { name: string; value: string }[]): void {
    if (sm === this.last || sm.length === 0) return;
    // only frozen lists are skipped next time: their names and values cannot change
    this.last = Object.isFrozen(sm) ? sm : null;
    for (let i = 0; i < sm.length; i++) {
      const name = sm[i]!.name;
      this.pairs.add(smPairHash(name, sm[i]!.value));
      if (this.seen.has(name) || this.tooMany) continue;
      if (Buffer.from(name, 'utf8').toString('utf8') !== name) this.valid = false;
      if (this.seen.size >= MAX_SM_NAMES) this.tooMany = true;
      else this.seen.add(name);
    }
  }

  /** smNames' answer: first-seen order, or null when there are more than MAX_SM_NAMES. */
  names(): string[] | null {
    return this.tooMany ? null : [...this.seen];
  }

  reset(): void {
    this.seen.clear();
    this.pairs.clear();
    this.last = null;
    this.tooMany = false;
    this.valid = true;
  }
}

/** Distinct SM names of a block, in first-seen order; null when there are too many to list. */
function smNames(sm: Uint8Array, entries: number): string[] | null {
  if (sm.length === entries) return []; // one zero count per entry: no metadata at all
  const seen = new Set<string>();
  let p = 0;
  const rd = (): number => {
    let v = 0;
    let mult = 1;
    for (;;) {
      const b = sm[p++]!;
      v += (b & 0x7f) * mult;
      if (b < 0x80) return v;
      mult *= 128;
    }
  };
  // Names repeat from entry to entry (detected_level on every one): compare the bytes with the
  // last name seen before decoding a string.
  let lastStart = -1;
  let lastLen = 0;
  for (let i = 0; i < entries; i++) {
    const c = rd();
    for (let j = 0; j < c; j++) {
      const nl = rd();
      let same = nl === lastLen && lastStart >= 0;
      for (let k = 0; same && k < nl; k++) if (sm[p + k] !== sm[lastStart + k]) same = false;
      if (!same) {
        const name = Buffer.from(sm.buffer, sm.byteOffset + p, nl).toString('utf8');
        if (!seen.has(name)) {
          if (seen.size >= MAX_SM_NAMES) return null;
          seen.add(name);
        }
        lastStart = p;
        lastLen = nl;
      }
      p += nl;
      const vl = rd();
      p += vl;
    }
  }
  return [...seen];
}

/** A parsed index section (its filter may be a view of `raw`: valid as long as those bytes are). */
export class BlockIndex {
  /** distinct SM names; null = unknown (treat any name as possibly present) */
  readonly smNames: ReadonlySet<string> | null;
  private readonly bloom: Uint32Array | null;
  private readonly mask: number;
  /** null: not recorded (version 1), any pair may be present */
  private readonly pairs: SmPairFilter | null = null;

  constructor(raw: Uint8Array) {
    const version = raw.length >= 4 ? raw[0]! : 0;
    if (version !== 1 && version !== 2) {
      this.smNames = null;
      this.bloom = null;
      this.mask = 0;
      return;
    }
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const log2 = raw[1]!;
    const count = dv.getUint16(2, true);
    let p = 4;
    if (count === SM_NAMES_UNKNOWN) this.smNames = null;
    else {
      const s = new Set<string>();
      for (let i = 0; i < count; i++) {
        const l = dv.getUint16(p, true);
        s.add(Buffer.from(raw.buffer, raw.byteOffset + p + 2, l).toString('utf8'));
        p += 2 + l;
      }
      this.smNames = s;
    }
    p = (p + 3) & ~3;
    if (log2 === 0) {
      this.bloom = null;
      this.mask = 0;
      if (version >= 2 && raw.length >= p + 4) this.pairs = new SmPairFilter(raw, p);
    } else {
      const words = Math.max(1, (1 << log2) >>> 5);
      const bloomEnd = p + words * 4;
      if (version >= 2 && raw.length >= bloomEnd + 4) this.pairs = new SmPairFilter(raw, bloomEnd);
      this.bloom = u32Words(raw, p, words);
      this.mask = words * 32 - 1;
    }
  }

  /** False only when the block's lines provably do not contain `needle` (UTF-8 bytes). */
  mayContain(needle: Uint8Array): boolean {
    const bloom = this.bloom;
    if (bloom === null || needle.length < 3) return true;
    let tri = needle[0]! | (needle[1]! << 8);
    for (let i = 2; i < needle.length; i++) {
      tri = (tri & 0xffff) | (needle[i]! << 16);
      const h = fmix32(tri) & this.mask;
      if ((bloom[h >>> 5]! & (1 << (h & 31))) === 0) return false;
      tri >>>= 8;
    }
    return true;
  }

  /** False only when no entry of the block has the structured-metadata pair hashed as `h` (smPairHash). */
  mayHaveSmPair(h: number): boolean {
    return this.pairs === null || this.pairs.mayContain(h);
  }

  /** False only when no entry of the block has structured metadata named `name`. */
  mayHaveSmName(name: string): boolean {
    return this.smNames === null || this.smNames.has(name);
  }
}
