// The structured-metadata pair filter of a block's index section: a bloom filter over the
// distinct (name, value) pairs of the block's structured metadata, written when the block is cut.
// A query such as `{app="api"} | trace_id="4bf92f3577b34da6"` (or `| detected_level="error"`)
// then skips every block that provably holds no entry with that pair, after reading only the
// block's small index section: the high-cardinality needle (loki#91) without scanning.
//
// A pair is hashed over its UTF-8 bytes as name, 0xff, value (0xff never occurs in UTF-8, so the
// split is unambiguous); four probes by double hashing; ~12 bits per distinct pair (about 0.6 %
// false positives), at least 64 bits, at most 2^17.
// Layout (little-endian, starting 4-byte aligned): u8 log2(bits) (0 = no filter), 3 zero bytes,
// then the bits as u32 words.
import { fmix32 } from '../native/index.js';
import { VarintReader } from '../util/varint.js';
import { u32Words } from '../util/words.js';

const PROBES = 4;
const BITS_PER_PAIR = 12;
const MIN_LOG2 = 6;
const MAX_LOG2 = 17;
const SEP = 0xff;

/** FNV-1a over bytes[a, b), continuing from h. */
function fnv(bytes: Uint8Array, a: number, b: number, h: number): number {
  for (let i = a; i < b; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h;
}

const FNV_SEED = 0x811c9dc5;

/** Hash of the pair whose name and value are bytes[n0, n1) and bytes[v0, v1). */
function pairHashBytes(bytes: Uint8Array, n0: number, n1: number, v0: number, v1: number): number {
  let h = fnv(bytes, n0, n1, FNV_SEED);
  h = Math.imul(h ^ SEP, 0x01000193);
  return fnv(bytes, v0, v1, h) >>> 0;
}

/**
 * FNV-1a over the UTF-8 encoding of `s` (as Buffer.from(s, 'utf8') writes it: a lone surrogate
 * becomes U+FFFD), continuing from h, without encoding it into a buffer.
 */
function fnvUtf8(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), 0x01000193);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), 0x01000193);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), 0x01000193);
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), 0x01000193);
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), 0x01000193);
        continue;
      }
      c = 0xfffd;
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
  }
  return h;
}

/** The hash of the pair `name="value"` (what a query probes with, and the block encoder's tracker records). */
export function smPairHash(name: string, value: string): number {
  const h = Math.imul(fnvUtf8(name, FNV_SEED) ^ SEP, 0x01000193);
  return fnvUtf8(value, h) >>> 0;
}

function setBits(bits: Uint32Array, mask: number, h: number): void {
  const h1 = fmix32(h);
  const h2 = fmix32(h1 ^ 0x9e3779b9) | 1;
  for (let i = 0; i < PROBES; i++) {
    const b = (h1 + Math.imul(i, h2)) & mask;
    bits[b >>> 5]! |= 1 << (b & 31);
  }
}

const hashes = new Set<number>();

/**
 * Builds the filter of a block's raw structured-metadata section (n entries: per entry a count,
 * then length-prefixed name and value bytes). A block without metadata gets the empty form.
 */
export function buildSmPairFilter(sm: Uint8Array, entries: number): Uint8Array {
  if (sm.length <= entries) return new Uint8Array(4); // every entry's count is 0
  hashes.clear();
  const r = new VarintReader(sm);
  let prevStart = 0;
  let prevEnd = 0;
  for (let e = 0; e < entries; e++) {
    const start = r.pos;
    const count = r.uvarint();
    const body = r.pos;
    for (let j = 0; j < 2 * count; j++) {
      const len = r.uvarint(); // (not `r.pos += r.uvarint()`: that reads pos before the call)
      r.pos += len;
    }
    const end = r.pos;
    // consecutive entries mostly repeat one record (detected_level=info): hash it once
    if (count === 0 || (end - start === prevEnd - prevStart && sameBytes(sm, start, prevStart, end - start))) continue;
    prevStart = start;
    prevEnd = end;
    r.pos = body;
    for (let j = 0; j < count; j++) {
      const nl = r.uvarint();
      const n0 = r.pos;
      r.pos += nl;
      const vl = r.uvarint();
      const v0 = r.pos;
      r.pos += vl;
      hashes.add(pairHashBytes(sm, n0, n0 + nl, v0, v0 + vl));
    }
  }
  const out = smPairFilterOf(hashes);
  hashes.clear();
  return out;
}

/** The filter holding the given pair hashes (smPairHash); the empty form for none. */
export function smPairFilterOf(hashes: ReadonlySet<number>): Uint8Array {
  if (hashes.size === 0) return new Uint8Array(4);
  let log2 = MIN_LOG2;
  while (log2 < MAX_LOG2 && 2 ** log2 < hashes.size * BITS_PER_PAIR) log2++;
  const words = (1 << log2) >>> 5;
  const out = new Uint8Array(4 + words * 4);
  out[0] = log2;
  const bits = new Uint32Array(words);
  const mask = (1 << log2) - 1;
  for (const h of hashes) setBits(bits, mask, h);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < words; i++) dv.setUint32(4 + i * 4, bits[i]!, true);
  return out;
}

function sameBytes(b: Uint8Array, a0: number, b0: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[a0 + i] !== b[b0 + i]) return false;
  return true;
}

/** A filter read back from index bytes (a view when aligned, else a copy). */
export class SmPairFilter {
  private readonly bits: Uint32Array | null;
  private readonly mask: number;
  /** bytes the filter took in the index section */
  readonly size: number;

  constructor(raw: Uint8Array, at: number) {
    const log2 = at + 4 <= raw.length ? raw[at]! : 0;
    if (log2 === 0 || log2 > 31) {
      this.bits = null;
      this.mask = 0;
      this.size = at + 4 <= raw.length ? 4 : 0;
      return;
    }
    const words = (1 << log2) >>> 5;
    this.size = 4 + words * 4;
    this.mask = (1 << log2) - 1;
    this.bits = u32Words(raw, at + 4, words);
  }

  /** False only when no entry of the block has the pair hashed as `h` (smPairHash). */
  mayContain(h: number): boolean {
    const bits = this.bits;
    if (bits === null) return false;
    const h1 = fmix32(h);
    const h2 = fmix32(h1 ^ 0x9e3779b9) | 1;
    for (let i = 0; i < PROBES; i++) {
      const b = (h1 + Math.imul(i, h2)) & this.mask;
      if ((bits[b >>> 5]! & (1 << (b & 31))) === 0) return false;
    }
    return true;
  }
}
