// Decodes a block's sections (FORMAT.md) into flat typed arrays a scan loop can walk without
// allocating per entry. Timestamps are split into milliseconds (float64, exact) and the
// nanosecond remainder (0..999999) so comparisons and output never need a bigint per line.
import { VarintReader, unzigzag } from '../util/varint.js';
import { lz4Decode, Lz4DecodeError } from '../native/index.js';
import { CODEC_LZ4, type BlockData } from './block.js';
import { TypedScratch, type Scratch } from '../util/scratch.js';

export class CorruptBlockError extends Error {}

/** A section's uncompressed bytes; with `into`, decoded into that reused buffer (valid until its next use). */
export function sectionBytes(codec: number, data: Uint8Array, expected: number, into?: Scratch): Uint8Array {
  if (codec !== CODEC_LZ4) return data;
  if (expected === 0) return new Uint8Array(0);
  try {
    return lz4Decode(data, expected, into?.get(expected));
  } catch (e) {
    if (e instanceof Lz4DecodeError) throw new CorruptBlockError(e.message);
    throw e;
  }
}

export interface DecodedMeta {
  n: number;
  tsMs: Float64Array;
  tsRem: Int32Array;
  lineOff: Uint32Array; // n + 1 offsets into the lines section
}

const NS_PER_MS = 1_000_000;

export function splitNs(ts: bigint): [number, number] {
  const ms = ts / 1_000_000n;
  let rem = Number(ts - ms * 1_000_000n);
  let msN = Number(ms);
  if (rem < 0) {
    rem += NS_PER_MS;
    msN -= 1;
  }
  return [msN, rem];
}

export function joinNs(ms: number, rem: number): bigint {
  return BigInt(ms) * 1_000_000n + BigInt(rem);
}

/** Decimal string of ms*1e6+rem without bigint (ms > 0). */
export function nsString(ms: number, rem: number): string {
  if (ms === 0) return String(rem);
  const r = String(rem);
  return String(ms) + '000000'.slice(r.length) + r;
}

/** Reused output columns for decodeMeta, for loops that decode one block at a time. */
export class MetaScratch {
  readonly tsMs = new TypedScratch((n) => new Float64Array(n));
  readonly tsRem = new TypedScratch((n) => new Int32Array(n));
  readonly lineOff = new TypedScratch((n) => new Uint32Array(n));
}

/** Decodes a block's meta section; with `cols`, into those reused arrays (valid until their next use). */
export function decodeMeta(block: BlockData, into?: Scratch, cols?: MetaScratch): DecodedMeta {
  const info = block.info;
  const raw = sectionBytes(block.codec, block.meta, info.metaU, into);
  const n = info.entries;
  const tsMs = cols ? cols.tsMs.get(n) : new Float64Array(n);
  const tsRem = cols ? cols.tsRem.get(n) : new Int32Array(n);
  const lineOff = cols ? cols.lineOff.get(n + 1) : new Uint32Array(n + 1);
  const r = new VarintReader(raw);
  let [ms, rem] = splitNs(info.firstTs);
  let off = 0;
  for (let i = 0; i < n; i++) {
    rem += unzigzag(r.uvarint());
    if (rem >= NS_PER_MS || rem < 0) {
      const carry = Math.floor(rem / NS_PER_MS);
      ms += carry;
      rem -= carry * NS_PER_MS;
    }
    tsMs[i] = ms;
    tsRem[i] = rem;
    lineOff[i] = off;
    off += r.uvarint();
  }
  lineOff[n] = off;
  if (r.pos !== raw.length || off !== info.linesU) throw new CorruptBlockError('block meta section does not match its header');
  return { n, tsMs, tsRem, lineOff };
}

export function decodeLines(block: BlockData, into?: Scratch): Uint8Array {
  return sectionBytes(block.codec, block.lines, block.info.linesU, into);
}

const textDecoder = new TextDecoder();

/** Structured metadata of every entry; entries without any share one empty array. */
export function decodeStructuredMetadata(block: BlockData, into?: Scratch): { name: string; value: string }[][] {
  const raw = sectionBytes(block.codec, block.sm, block.info.smU, into);
  const n = block.info.entries;
  const out: { name: string; value: string }[][] = new Array(n);
  const empty: { name: string; value: string }[] = [];
  const r = new VarintReader(raw);
  // Most entries repeat a few (name, value) pairs (detected_level=info...): intern them.
  const intern = new Map<string, string>();
  const str = (len: number): string => {
    const start = r.pos;
    r.pos += len;
    if (len < 64) {
      let key = '';
      for (let i = start; i < start + len; i++) key += String.fromCharCode(raw[i]!);
      let v = intern.get(key);
      if (v === undefined) {
        v = textDecoder.decode(raw.subarray(start, start + len));
        if (intern.size < 4096) intern.set(key, v);
      }
      return v;
    }
    return textDecoder.decode(raw.subarray(start, start + len));
  };
  for (let i = 0; i < n; i++) {
    const c = r.uvarint();
    if (c === 0) {
      out[i] = empty;
      continue;
    }
    const pairs: { name: string; value: string }[] = new Array(c);
    for (let j = 0; j < c; j++) {
      const name = str(r.uvarint());
      const value = str(r.uvarint());
      pairs[j] = { name, value };
    }
    out[i] = pairs;
  }
  return out;
}

/** The uncompressed structured-metadata section of a block (for byte-level walks). */
export function decodeSmRaw(block: BlockData, into?: Scratch): Uint8Array {
  return sectionBytes(block.codec, block.sm, block.info.smU, into);
}

/**
 * End offset of every entry's record in a raw SM section: entry i spans [ends[i-1], ends[i])
 * (ends[-1] = 0). Entries with equal bytes have equal structured metadata.
 */
export function smRecordEnds(raw: Uint8Array, n: number, into?: TypedScratch<Uint32Array>): Uint32Array {
  const ends = into ? into.get(n) : new Uint32Array(n);
  const r = new VarintReader(raw);
  for (let i = 0; i < n; i++) {
    const c = r.uvarint();
    for (let j = 0; j < c; j++) {
      const nl = r.uvarint(); // (not `r.pos += r.uvarint()`: that reads pos before the call)
      r.pos += nl;
      const vl = r.uvarint();
      r.pos += vl;
    }
    ends[i] = r.pos;
  }
  if (r.pos !== raw.length) throw new CorruptBlockError('block metadata section does not match its header');
  return ends;
}

/** Structured metadata of one SM record (raw[start..end)). */
export function decodeSmRecord(raw: Uint8Array, start: number): { name: string; value: string }[] {
  const r = new VarintReader(raw, start);
  const c = r.uvarint();
  const out: { name: string; value: string }[] = new Array(c);
  for (let j = 0; j < c; j++) {
    const nl = r.uvarint();
    const name = textDecoder.decode(raw.subarray(r.pos, r.pos + nl));
    r.pos += nl;
    const vl = r.uvarint();
    const value = textDecoder.decode(raw.subarray(r.pos, r.pos + vl));
    r.pos += vl;
    out[j] = { name, value };
  }
  return out;
}
