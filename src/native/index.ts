// The scan engine's innermost loops, behind one interface with two implementations: the C++
// addon in native/ (built from source at `npm install` by node-pre-gyp; optional) and a pure
// TypeScript fallback with identical results. The addon is loaded when its binary exists and
// `BRAMBLE_NATIVE=0` is not set; otherwise the fallback is used silently.
// Loops: LZ4 block decoding and encoding (lz4-napi's format), marking the lines of a block that contain any
// of several literals (one pass per literal over the whole block), and building a block's
// trigram bloom filter; on the ingest path, snappy block decoding of push bodies and copying a
// batch of lines (byte ranges of a push body) into an open block, and the logfmt step of
// detected_level detection.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressSync, uncompressSync } from 'lz4-napi';

export interface ScanKernels {
  readonly name: 'native' | 'typescript';
  /**
   * Decodes a u32-LE-size-prefixed raw LZ4 block; throws when it is not exactly `expected` bytes.
   * With `dst` (at least `expected` bytes long) the bytes go there and a view of it is returned.
   */
  lz4Decode(src: Uint8Array, expected: number, dst?: Uint8Array): Uint8Array;
  /**
   * Compresses src into dst[at..] in the format lz4Decode reads (dst needs lz4Bound(src.length)
   * bytes from `at`); returns the bytes written. depth 1: LZ4's fast algorithm; more: a hash
   * chain searched that deep (smaller output, slower to write; the fallback ignores it).
   */
  lz4CompressInto(src: Uint8Array, dst: Uint8Array, at: number, depth: number): number;
  /**
   * For entries i < n with mask[i] !== 0: sets mask[i] to 1 when line i (lines[off[i]..off[i+1]))
   * contains at least one needle and `keep` is true, or contains none and `keep` is false;
   * else to 0. Returns the number of entries left at 1.
   */
  filterLines(lines: Uint8Array, off: Uint32Array, n: number, needles: readonly Uint8Array[], mask: Uint8Array, keep: boolean): number;
  /** ORs the bit fmix32(trigram) & (scratch bits - 1) of every byte trigram in; returns bits newly set. */
  trigramBloomBuild(lines: Uint8Array, scratch: Uint32Array): number;
  /**
   * Decodes the snappy block elements of src[start..] (after the length header) into dst;
   * returns the bytes written, or -1 when the input is corrupt or does not fit dst.
   */
  snappyDecodeInto(src: Uint8Array, start: number, dst: Uint8Array): number;
  /**
   * The keyword pass of detected_level detection for n lines buf[ranges[2i], ranges[2i+1]):
   * out[i] = -1 (take the string path: non-ASCII, or '{' first), else (k + 1) | (hasEq << 8)
   * with k the first level word (words[wordOff[k]..wordOff[k+1]), priority order) found at a
   * left boundary and followed by a right boundary (k + 1 = 0: none). Tables from push/detect.ts.
   */
  levelScan(buf: Uint8Array, ranges: Int32Array, n: number, cls: Uint8Array, rightBoundary: Uint8Array, words: Uint8Array, wordOff: Int32Array, out: Int32Array): void;
  /**
   * Copies src[ranges[2i], ranges[2i+1]) for i < n back to back into dst from `at`; returns the
   * end position, or -1 (dst untouched) when a range is not inside src or the total does not fit.
   */
  copyRanges(src: Uint8Array, ranges: Int32Array, n: number, dst: Uint8Array, at: number): number;
  /**
   * The logfmt step of detected_level detection for the lines levelScan marked ASCII with '='
   * (codes[i] >= 0 with bit 8 set; other slots untouched): out[2i] = -1 when no key of `keys`
   * (lowercased, priority order, keys[keyOff[k]..keyOff[k+1])) has a value, -2 when the line holds
   * an escaped quoted value (the string path must unquote it), else the best key's value is
   * buf[out[2i], out[2i+1]). push/detect.ts logfmtLevel is the string original (it also answers the -2 lines).
   */
  logfmtLevels(buf: Uint8Array, ranges: Int32Array, n: number, codes: Int32Array, keys: Uint8Array, keyOff: Int32Array, out: Int32Array): void;
  /**
   * The common shape of a logproto StreamAdapter message buf[start, end): out[0..1] = the labels
   * field's range (-1: none), then per entry i out[2+4i..] = (timestamp ms, ns below the ms,
   * line start, line end), or (ms, -1, entry start, entry end) for an entry with metadata fields
   * the caller decodes itself. Returns the entry count, -2 when out is too short, or -1 when the
   * caller must parse the stream itself (anything unusual, every error). push/protobuf.ts
   * readStream is the reference; the TypeScript kernel always answers -1 (that parser).
   */
  scanStream(buf: Uint8Array, start: number, end: number, out: Float64Array): number;
}

function logfmtLevelTs(b: Uint8Array, start: number, n: number, keys: Uint8Array, keyOff: Int32Array, out: Int32Array, o: number): void {
  let pos = start;
  let best = keyOff.length - 1;
  let have = false;
  let rvs = 0;
  let rve = 0;
  while (pos < n) {
    while (pos < n && b[pos]! <= 32) pos++;
    if (pos >= n) break;
    const ks = pos;
    let ke = -1;
    let vs = -1;
    let ve = -1;
    let hasEqual = false;
    let stop = false;
    while (pos < n) {
      const c = b[pos]!;
      if (c === 61) {
        if (pos > ks) ke = pos;
        else stop = true;
        hasEqual = true;
        break;
      }
      if (c === 34) { stop = true; break; }
      if (c <= 32) { ke = pos; break; }
      pos++;
    }
    if (pos >= n && !stop && !hasEqual) ke = pos;
    if (stop) break;
    if (hasEqual) {
      pos++;
      if (pos < n) {
        const c = b[pos]!;
        if (c === 34) {
          let esc = false;
          let hasEsc = false;
          let closed = -1;
          for (let q = pos + 1; q < n; q++) {
            const d = b[q]!;
            if (esc) esc = false;
            else if (d === 92) { esc = true; hasEsc = true; }
            else if (d === 34) { closed = q; break; }
          }
          if (closed < 0) break;
          if (hasEsc) {
            out[o] = -2;
            out[o + 1] = 0;
            return;
          }
          if (closed > pos + 1) { vs = pos + 1; ve = closed; }
          pos = closed + 1;
        } else if (c > 32) {
          const s0 = pos;
          let bad = false;
          while (pos < n) {
            const d = b[pos]!;
            if (d === 61 || d === 34) { bad = true; break; }
            if (d <= 32) break;
            pos++;
          }
          if (bad) break;
          vs = s0;
          ve = pos;
        }
      }
    }
    if (ke >= 0) {
      const kl = ke - ks;
      for (let x = 0; x < best; x++) {
        const h = keyOff[x]!;
        if (keyOff[x + 1]! - h !== kl) continue;
        let q = 0;
        for (; q < kl; q++) {
          let c = b[ks + q]!;
          if (c >= 65 && c <= 90) c += 32;
          if (c !== keys[h + q]) break;
        }
        if (q < kl) continue;
        have = true;
        if (vs >= 0) { rvs = vs; rve = ve; } else { rvs = ke; rve = ke; }
        best = x;
        break;
      }
      if (have && best === 0) break;
    }
  }
  out[o] = have ? rvs : -1;
  out[o + 1] = have ? rve : 0;
}

function logfmtLevelsTs(b: Uint8Array, ranges: Int32Array, n: number, codes: Int32Array, keys: Uint8Array, keyOff: Int32Array, out: Int32Array): void {
  for (let e = 0; e < n; e++) {
    const code = codes[e]!;
    if (code < 0 || (code & 256) === 0) continue;
    logfmtLevelTs(b, ranges[2 * e]!, ranges[2 * e + 1]!, keys, keyOff, out, 2 * e);
  }
}

function copyRangesTs(src: Uint8Array, ranges: Int32Array, n: number, dst: Uint8Array, at: number): number {
  if (ranges.length < 2 * n || at < 0 || at > dst.length) return -1;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const s = ranges[2 * i]!;
    const e = ranges[2 * i + 1]!;
    if (s < 0 || e < s || e > src.length) return -1;
    total += e - s;
  }
  if (total > dst.length - at) return -1;
  let p = at;
  for (let i = 0; i < n; i++) {
    const s = ranges[2 * i]!;
    const l = ranges[2 * i + 1]! - s;
    // short lines: a loop beats a native copy call (which allocates a view)
    if (l < 512) for (let k = 0; k < l; k++) dst[p + k] = src[s + k]!;
    else dst.set(src.subarray(s, s + l), p);
    p += l;
  }
  return p;
}

/** Bits of levelScan's byte-class table `cls` (the C++ kernel uses the same values). */
export const C_WORD = 1; // first letter of a level word (either case)
export const C_LB = 2; // left boundary
export const C_EQ = 4; // '='
export const C_HIGH = 8; // non-ASCII

function levelScanTs(b: Uint8Array, ranges: Int32Array, n: number, cls: Uint8Array, rb: Uint8Array, words: Uint8Array, wordOff: Int32Array, out: Int32Array): void {
  const nWords = wordOff.length - 1;
  for (let e = 0; e < n; e++) {
    const start = ranges[2 * e]!;
    const end = ranges[2 * e + 1]!;
    let i = start;
    while (i < end) {
      const c = b[i]!;
      if (c === 32 || (c >= 9 && c <= 13)) i++;
      else break;
    }
    if (i < end && b[i] === 123) {
      out[e] = -1;
      continue;
    }
    let hasEq = false;
    let prevLB = true; // a left boundary before the first byte
    let found = -1;
    let high = false;
    for (i = start; i < end; i++) {
      const c = b[i]!;
      const k = cls[c]!;
      if (k !== 0) {
        if ((k & C_WORD) !== 0) {
          if (prevLB && found < 0) {
            const lc = c | 0x20;
            for (let w = 0; w < nWords; w++) {
              const ws = wordOff[w]!;
              const wl = wordOff[w + 1]! - ws;
              if (wl === 0 || words[ws] !== lc || i + wl > end) continue;
              let q = 1;
              while (q < wl && (b[i + q]! | 0x20) === words[ws + q]) q++;
              if (q < wl) continue;
              if (i + wl >= end || rb[b[i + wl]!] !== 0) {
                found = w;
                break;
              }
            }
          }
        } else if ((k & C_HIGH) !== 0) {
          high = true;
          break;
        } else if ((k & C_EQ) !== 0) hasEq = true;
      }
      prevLB = (k & C_LB) !== 0;
    }
    out[e] = high ? -1 : (found + 1) | (hasEq ? 256 : 0);
  }
}

/** murmur3's 32-bit finaliser: the trigram hash of the block bloom filter (FORMAT.md). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Lz4DecodeError extends Error {}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** Index of the entry whose line holds byte position pos (off ascending, off[n] = total). */
function entryAt(off: Uint32Array, n: number, pos: number, lo: number): number {
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (off[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function popcount(words: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < words.length; i++) {
    let v = words[i]!;
    v = v - ((v >>> 1) & 0x55555555);
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    n += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
  }
  return n;
}

function snappyBackCopy(dst: Uint8Array, d: number, offset: number, length: number): number {
  if (offset <= 0 || d < offset || length > dst.length - d) return -1;
  if (offset >= length && length >= 32) {
    dst.copyWithin(d, d - offset, d - offset + length);
  } else {
    // Byte loop: short copies dominate snappy streams and overlapping copies must go forward.
    for (let i = 0; i < length; i++) dst[d + i] = dst[d - offset + i]!;
  }
  return d + length;
}

function snappyDecodeTs(src: Uint8Array, start: number, dst: Uint8Array): number {
  let d = 0;
  let s = start;
  const n = src.length;
  while (s < n) {
    const tag = src[s]!;
    switch (tag & 3) {
      case 0: {
        let x = tag >>> 2;
        if (x < 60) s++;
        else {
          const extra = x - 59;
          if (s + extra >= n) return -1;
          x = 0;
          for (let k = extra; k >= 1; k--) x = x * 256 + src[s + k]!;
          s += extra + 1;
        }
        const length = x + 1;
        if (length > dst.length - d || length > n - s) return -1;
        // Short literals are cheaper as a plain loop than as a native copy call.
        if (length < 32) {
          for (let i = 0; i < length; i++) dst[d + i] = src[s + i]!;
        } else {
          dst.set(src.subarray(s, s + length), d);
        }
        d += length;
        s += length;
        continue;
      }
      case 1: {
        if (s + 2 > n) return -1;
        const length = 4 + ((tag >>> 2) & 7);
        const offset = ((tag & 0xe0) << 3) | src[s + 1]!;
        s += 2;
        d = snappyBackCopy(dst, d, offset, length);
        break;
      }
      case 2: {
        if (s + 3 > n) return -1;
        const length = 1 + (tag >>> 2);
        const offset = src[s + 1]! | (src[s + 2]! << 8);
        s += 3;
        d = snappyBackCopy(dst, d, offset, length);
        break;
      }
      default: {
        if (s + 5 > n) return -1;
        const length = 1 + (tag >>> 2);
        const offset = (src[s + 1]! | (src[s + 2]! << 8) | (src[s + 3]! << 16)) + src[s + 4]! * 0x1000000;
        s += 5;
        d = snappyBackCopy(dst, d, offset, length);
        break;
      }
    }
    if (d < 0) return -1;
  }
  return d;
}

/** Largest size-prefixed LZ4 block a section of n bytes can compress to. */
export function lz4Bound(n: number): number {
  return 4 + n + Math.floor(n / 255) + 16;
}

export const typescriptKernels: ScanKernels = {
  snappyDecodeInto: snappyDecodeTs,
  levelScan: levelScanTs,
  copyRanges: copyRangesTs,
  logfmtLevels: logfmtLevelsTs,
  scanStream: () => -1,
  name: 'typescript',
  lz4CompressInto(src, dst, at) {
    if (dst.length - at < lz4Bound(src.length)) throw new RangeError('lz4CompressInto: dst is shorter than lz4Bound');
    const out = compressSync(asBuffer(src));
    dst.set(out, at);
    return out.length;
  },
  lz4Decode(src, expected, dst) {
    if (expected === 0) return new Uint8Array(0);
    const out = uncompressSync(asBuffer(src));
    if (out.length !== expected) throw new Lz4DecodeError(`block section decompressed to ${out.length} bytes, expected ${expected}`);
    if (dst === undefined) return out;
    dst.set(out);
    return dst.subarray(0, expected);
  },
  filterLines(lines, off, n, needles, mask, keep) {
    const buf = asBuffer(lines);
    const hit = new Uint8Array(n);
    const end = off[n]!;
    for (const nd of needles) {
      if (nd.length === 0) {
        hit.fill(1);
        break;
      }
      const needle = asBuffer(nd);
      let from = off[0]!;
      let e = 0;
      while (from < end) {
        const pos = buf.indexOf(needle, from);
        if (pos < 0 || pos >= end) break;
        e = entryAt(off, n, pos, e);
        // skip empty lines sharing this offset: the hit belongs to the last entry starting here
        if (pos + needle.length <= off[e + 1]!) {
          hit[e] = 1;
          from = off[e + 1]!;
        } else from = pos + 1;
      }
    }
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (mask[i] === 0) continue;
      const v = keep ? hit[i]! : hit[i]! ^ 1;
      mask[i] = v;
      kept += v;
    }
    return kept;
  },
  trigramBloomBuild(lines, scratch) {
    const mask = scratch.length * 32 - 1;
    const len = lines.length;
    if (len < 3) return 0;
    const before = popcount(scratch);
    let tri = lines[0]! | (lines[1]! << 8);
    for (let i = 2; i < len; i++) {
      tri = (tri & 0xffff) | (lines[i]! << 16);
      let h = tri;
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      h &= mask;
      scratch[h >>> 5]! |= 1 << (h & 31); // branch-free; newly set bits are counted after
      tri >>>= 8;
    }
    return popcount(scratch) - before;
  },
};

interface NativeBinding {
  lz4Decode(src: Uint8Array, expected: number, dst?: Uint8Array): Buffer | undefined;
  filterLines(lines: Uint8Array, off: Uint32Array, n: number, needles: Uint8Array[], mask: Uint8Array, keep: boolean): number;
  trigramBloomBuild(lines: Uint8Array, scratch: Uint32Array): number;
  lz4CompressInto?(src: Uint8Array, dst: Uint8Array, at: number, depth: number): number;
  snappyDecodeInto?(src: Uint8Array, start: number, dst: Uint8Array): number;
  levelScan?(buf: Uint8Array, ranges: Int32Array, n: number, cls: Uint8Array, rightBoundary: Uint8Array, words: Uint8Array, wordOff: Int32Array, out: Int32Array): void;
  mallocTrimAsync?(): Promise<boolean>;
  mallocStats?(): [number, number, number] | null;
  copyRanges?(src: Uint8Array, ranges: Int32Array, n: number, dst: Uint8Array, at: number): number;
  logfmtLevels?(buf: Uint8Array, ranges: Int32Array, n: number, codes: Int32Array, keys: Uint8Array, keyOff: Int32Array, out: Int32Array): void;
  scanStream?(buf: Uint8Array, start: number, end: number, out: Float64Array): number;
  alignedBuffer?(size: number, align: number): ArrayBuffer;
  releasePages?(view: Uint8Array): number;
  startIncrementalGc?(): void;
  cutBlockAsync?(stage: Uint8Array, metaLen: number, smLen: number, linesLen: number, outAt: number, bloom: Uint32Array, depth: number): Promise<[number, number, number, number]>;
}

/**
 * Where node-pre-gyp puts the addon (package.json "binary".module_path): native/build under the
 * package root, found upwards from this module (src/native, dist/native, or a build elsewhere in
 * the tree such as the benchmark's .tmp/bench-dist/native).
 */
export function nativeBinaryPath(): string {
  const rel = join('native', 'build', 'bramble_native.node');
  let dir = dirname(fileURLToPath(import.meta.url));
  const first = join(dir, '..', '..', rel);
  for (let i = 0; i < 6; i++) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
    if (existsSync(join(dir, rel))) return join(dir, rel);
  }
  return first;
}

function loadNative(): ScanKernels | null {
  if (process.env.BRAMBLE_NATIVE === '0') return null;
  const path = nativeBinaryPath();
  if (!existsSync(path)) return null;
  let b: NativeBinding;
  try {
    b = createRequire(import.meta.url)(path) as NativeBinding;
  } catch {
    return null;
  }
  binding = b;
  return {
    name: 'native',
    lz4Decode(src, expected, dst) {
      if (expected === 0) return new Uint8Array(0);
      try {
        if (dst === undefined) return b.lz4Decode(src, expected)!;
        if (dst.length < expected) throw new RangeError('lz4Decode: dst is shorter than the section');
        const r = b.lz4Decode(src, expected, dst);
        // an addon built before `dst` existed ignores it and returns a new buffer
        return r === undefined ? dst.subarray(0, expected) : r;
      } catch (e) {
        if (e instanceof RangeError) throw e;
        throw new Lz4DecodeError((e as Error).message);
      }
    },
    filterLines(lines, off, n, needles, mask, keep) {
      return b.filterLines(lines, off, n, needles as Uint8Array[], mask, keep);
    },
    trigramBloomBuild(lines, scratch) {
      return b.trigramBloomBuild(lines, scratch);
    },
    lz4CompressInto: b.lz4CompressInto
      ? (src, dst, at, depth) => {
          const w = b.lz4CompressInto!(src, dst, at, depth);
          if (w < 0) throw new RangeError('lz4CompressInto: dst is shorter than lz4Bound');
          return w;
        }
      : typescriptKernels.lz4CompressInto,
    // an addon built before this kernel existed lacks it: use the TypeScript loop then
    snappyDecodeInto: b.snappyDecodeInto ? (src, start, dst) => b.snappyDecodeInto!(src, start, dst) : snappyDecodeTs,
    levelScan: b.levelScan ? (...a) => b.levelScan!(...a) : levelScanTs,
    copyRanges: b.copyRanges ? b.copyRanges.bind(b) : copyRangesTs,
    logfmtLevels: b.logfmtLevels ? b.logfmtLevels.bind(b) : logfmtLevelsTs,
    scanStream: b.scanStream ? b.scanStream.bind(b) : () => -1,
  };
}

let binding: NativeBinding | null = null;

export const nativeKernels: ScanKernels | null = loadNative();

/**
 * Hands the C heap's free pages back to the OS (glibc malloc_trim, on a thread-pool thread so the
 * event loop keeps running); resolves true when some went, false without the addon or glibc.
 */
export function mallocTrimAsync(): Promise<boolean> {
  return binding?.mallocTrimAsync ? binding.mallocTrimAsync() : Promise.resolve(false);
}

/** The C heap as glibc's mallinfo2 sees it, summed over every malloc arena. */
export interface MallocStats {
  /** bytes the arenas took from the OS */
  heapBytes: number;
  /** free bytes inside the arenas (pages malloc_trim already handed back still count) */
  freeBytes: number;
  /** bytes of allocations mmapped on their own (≥ MALLOC_MMAP_THRESHOLD_) */
  mmapBytes: number;
}

/** glibc's malloc statistics; null without the addon, glibc, or mallinfo2 (glibc < 2.33). */
export function mallocStats(): MallocStats | null {
  const m = binding?.mallocStats?.();
  return m ? { heapBytes: m[0], freeBytes: m[1], mmapBytes: m[2] } : null;
}

/**
 * `size` zeroed bytes at an address that is a multiple of `align` (for O_DIRECT writes); null
 * without the addon or where the runtime forbids memory it does not allocate itself.
 */
export function alignedBuffer(size: number, align: number): Uint8Array | null {
  if (!binding?.alignedBuffer) return null;
  try {
    return new Uint8Array(binding.alignedBuffer(size, align));
  } catch {
    return null;
  }
}

/**
 * Hands the whole pages inside a buffer nothing reads any more back to the OS at once (they read
 * as zeros afterwards); returns the bytes released, 0 without the addon. For pooled memory about
 * to be dropped: its RSS goes now instead of at the next full collection, and that collection
 * then unmaps empty mappings.
 */
export function releasePages(view: Uint8Array): number {
  return binding?.releasePages ? binding.releasePages(view) : 0;
}

/** Whether releasePages does anything here (the addon is loaded and has it). */
export function canReleasePages(): boolean {
  return binding?.releasePages !== undefined;
}

/**
 * Asks V8 for a major collection done incrementally (a moderate memory-pressure notification):
 * marking runs concurrently and in small steps, and the event loop pauses once more to finish it
 * (compacting and sweeping), where a forced gc() pauses for the whole collection. Returns at once,
 * false without the addon (the collection is then the caller's to force).
 */
export function startIncrementalGc(): boolean {
  if (!binding?.startIncrementalGc) return false;
  binding.startIncrementalGc();
  return true;
}

/** The kernels the engine uses: native when built, else TypeScript. */
export const kernels: ScanKernels = nativeKernels ?? typescriptKernels;

/**
 * The heavy part of cutting a head block, on a libuv thread-pool thread: the trigram bloom of
 * the lines section into `bloom` (zeroed by the caller), and LZ4 compression of the sections
 * the stage holds one after another from 0 (meta, sm, lines) to stage[outAt..], one after
 * another (lz4Bound of each must fit). Resolves with the three compressed lengths and the bits
 * the bloom gained. Neither array may be touched until it settles. Only while the addon's
 * kernels are in use (the TypeScript path cuts on the event loop): see canCutAsync.
 */
export function cutBlockAsync(stage: Uint8Array, metaLen: number, smLen: number, linesLen: number, outAt: number, bloom: Uint32Array, depth = 1): Promise<[number, number, number, number]> {
  if (!canCutAsync) throw new Error('cutBlockAsync: the addon is not in use');
  return binding!.cutBlockAsync!(stage, metaLen, smLen, linesLen, outAt, bloom, depth);
}

/** Whether cutBlockAsync is available (the addon is loaded, has it, and its kernels are in use). */
export const canCutAsync: boolean = hasAsyncCut();

function hasAsyncCut(): boolean {
  return kernels === nativeKernels && binding?.cutBlockAsync !== undefined;
}

export function lz4Decode(src: Uint8Array, expected: number, dst?: Uint8Array): Uint8Array {
  return kernels.lz4Decode(src, expected, dst);
}

export function lz4CompressInto(src: Uint8Array, dst: Uint8Array, at: number, depth = 1): number {
  return kernels.lz4CompressInto(src, dst, at, depth);
}

export function snappyDecodeInto(src: Uint8Array, start: number, dst: Uint8Array): number {
  return kernels.snappyDecodeInto(src, start, dst);
}

export function trigramBloomBuild(lines: Uint8Array, scratch: Uint32Array): number {
  return kernels.trigramBloomBuild(lines, scratch);
}

export function levelScan(buf: Uint8Array, ranges: Int32Array, n: number, cls: Uint8Array, rightBoundary: Uint8Array, words: Uint8Array, wordOff: Int32Array, out: Int32Array): void {
  kernels.levelScan(buf, ranges, n, cls, rightBoundary, words, wordOff, out);
}

export function copyRanges(src: Uint8Array, ranges: Int32Array, n: number, dst: Uint8Array, at: number): number {
  return kernels.copyRanges(src, ranges, n, dst, at);
}

export function logfmtLevels(buf: Uint8Array, ranges: Int32Array, n: number, codes: Int32Array, keys: Uint8Array, keyOff: Int32Array, out: Int32Array): void {
  kernels.logfmtLevels(buf, ranges, n, codes, keys, keyOff, out);
}
