// Both scan kernel implementations (the C++ addon when built, and TypeScript) against a naive
// reference on the same inputs: LZ4 decoding of lz4-napi output, multi-literal line filtering
// and trigram bloom building must agree bit for bit.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compressSync, uncompressSync } from 'lz4-napi';
import snappy from 'snappyjs';
import { snappyDecodedLen } from '../../src/push/protobuf.js';
import { logfmtLevel } from '../../src/push/detect.js';
import { canCutAsync, cutBlockAsync, lz4Bound, mallocStats, mallocTrimAsync, nativeBinaryPath, nativeKernels, typescriptKernels, type ScanKernels } from '../../src/native/index.js';
import { majorGc } from '../../src/util/gc.js';

const impls: ScanKernels[] = [typescriptKernels, ...(nativeKernels ? [nativeKernels] : [])];

/** Lines back to back in one buffer, and their [start, end) ranges. */
function packLines(texts: readonly string[]): { b: Buffer; ranges: Int32Array } {
  const b = Buffer.from(texts.join(''), 'utf8');
  const ranges = new Int32Array(texts.length * 2);
  let p = 0;
  texts.forEach((t, i) => {
    const n = Buffer.byteLength(t);
    ranges[2 * i] = p;
    ranges[2 * i + 1] = p + n;
    p += n;
  });
  return { b, ranges };
}

describe('malloc_trim', () => {
  it('runs on the thread pool, returning a boolean (false without the addon)', async () => {
    const r = await mallocTrimAsync();
    expect(typeof r).toBe('boolean');
    if (nativeKernels === null) expect(r).toBe(false);
  });
});

describe('mallocStats (glibc mallinfo2, as /metrics reports it)', () => {
  const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;
  const hasMallinfo2 = nativeKernels !== null && glibc !== undefined && Number(glibc.split('.')[1]) >= 33;
  it('is null exactly when the addon, glibc or mallinfo2 is missing', () => {
    expect(mallocStats() === null).toBe(!hasMallinfo2);
  });
  it.runIf(hasMallinfo2)('counts a 64 MiB allocation as used C heap, and its free as not', () => {
    // other threads (V8's, vitest's) malloc and free meanwhile: a margin of 16 MiB either way
    const used = (): number => {
      const m = mallocStats()!;
      expect(m.freeBytes).toBeLessThanOrEqual(m.heapBytes);
      return m.heapBytes - m.freeBytes + m.mmapBytes;
    };
    const MiB = 1024 * 1024;
    const before = used();
    let b: Buffer | null = Buffer.allocUnsafeSlow(64 * MiB);
    b.fill(1);
    expect(used() - before).toBeGreaterThan(48 * MiB);
    b = null;
    majorGc();
    expect(used() - before).toBeLessThan(16 * MiB);
  });
});

describe('levelScan (detected_level keyword pass)', () => {
  // the tables push/detect.ts passes: C_WORD=1 (first letter of a word), C_LB=2, C_EQ=4, C_HIGH=8
  const WORDS = ['trace', 'debug', 'fatal', 'critical', 'error', 'err', 'warning', 'warn', 'info'];
  const lb = ' \t\n[({"\'=|';
  const rbChars = ' \t\n[]{}():,!"\'=|';
  const cls = new Uint8Array(256);
  const rb = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    if (c >= 0x80) cls[c] = 8;
    if (lb.includes(String.fromCharCode(c))) cls[c]! |= 2;
    if (c === 61) cls[c]! |= 4;
    if (/[a-z]/i.test(String.fromCharCode(c)) && WORDS.some((w) => w.charCodeAt(0) === (c | 0x20))) cls[c]! |= 1;
    if (rbChars.includes(String.fromCharCode(c))) rb[c] = 1;
  }
  const words = Buffer.from(WORDS.join(''), 'latin1');
  const off = new Int32Array(WORDS.length + 1);
  WORDS.forEach((w, i) => { off[i + 1] = off[i]! + w.length; });
  const tok = fc.constantFrom('info', 'INFO', 'Warn', 'warning', 'err', 'error', 'fatal', 'debug', 'trace', 'critical', 'crit',
    '=', '"', ' ', ':', '[', ']', '{', '}', '(', ')', 'x', 'é', '\t', ',', '|', 'level=', 'information', 'errors', '  {');

  it('finds the first bounded level word, "=" and the string-path cases', () => {
    const b = Buffer.from('[ERROR] x|level=warn|xinfo debug|  {"a":1}|é info|');
    const parts = b.toString('latin1').split('|');
    const ranges = new Int32Array(parts.length * 2);
    let p = 0;
    parts.forEach((x, i) => { ranges[2 * i] = p; ranges[2 * i + 1] = p + x.length; p += x.length + 1; });
    for (const k of impls) {
      const out = new Int32Array(parts.length);
      k.levelScan(b, ranges, parts.length, cls, rb, words, off, out);
      // error (k=4) | warn (k=7) with '=' | debug (k=1; xinfo is not bounded) | JSON: -1 | non-ASCII: -1 | empty: none
      expect(Array.from(out), k.name).toEqual([5, 8 | 256, 2, -1, -1, 0]);
    }
  });

  it('native and TypeScript agree on random lines', () => {
    if (!nativeKernels) return;
    fc.assert(fc.property(fc.array(fc.array(tok, { maxLength: 12 }), { minLength: 1, maxLength: 20 }), (lines) => {
      const texts = lines.map((l) => l.join(''));
      const { b, ranges } = packLines(texts);
      const a = new Int32Array(texts.length);
      const c = new Int32Array(texts.length);
      typescriptKernels.levelScan(b, ranges, texts.length, cls, rb, words, off, a);
      nativeKernels!.levelScan(b, ranges, texts.length, cls, rb, words, off, c);
      expect(Array.from(c)).toEqual(Array.from(a));
    }), { numRuns: 1000 });
  });

  // The native kernel scans 16 bytes per step: words at every position around step boundaries,
  // lines that end at the buffer's end (the last step cannot read past it), and bytes just past
  // a line's end that would change the answer ('=', non-ASCII, a boundary then a level word)
  // if they were not masked off.
  it('native and TypeScript agree at 16-byte step boundaries, buffer ends and past line ends', () => {
    if (!nativeKernels) return;
    const gap = fc.constantFrom('', '=', 'é', ' info', '=x', ' ', '[', 'ERROR');
    const line = fc.tuple(fc.nat(40), tok, fc.constantFrom('', ' ', 'x', '=', ']', ':'), fc.nat(40), fc.constantFrom(' ', '[', 'x', '(')).map(
      ([pre, word, after, post, sep]) => 'a'.repeat(pre) + sep + word + after + 'b'.repeat(post));
    fc.assert(fc.property(fc.array(fc.tuple(line, gap), { minLength: 1, maxLength: 12 }), fc.boolean(), (parts, exact) => {
      const chunks: Buffer[] = [];
      const ranges = new Int32Array(parts.length * 2);
      let p = 0;
      parts.forEach(([t, g], i) => {
        const lb = Buffer.from(t, 'utf8');
        const gb = Buffer.from(i === parts.length - 1 && exact ? '' : g, 'utf8');
        ranges[2 * i] = p;
        ranges[2 * i + 1] = p + lb.length;
        chunks.push(lb, gb);
        p += lb.length + gb.length;
      });
      // a buffer of exactly these bytes (a copy, so nothing readable follows it)
      const b = Buffer.from(Uint8Array.from(Buffer.concat(chunks)));
      const a = new Int32Array(parts.length);
      const c = new Int32Array(parts.length);
      typescriptKernels.levelScan(b, ranges, parts.length, cls, rb, words, off, a);
      nativeKernels!.levelScan(b, ranges, parts.length, cls, rb, words, off, c);
      expect(Array.from(c)).toEqual(Array.from(a));
    }), { numRuns: 1000 });
    // one line per length 0..80 with a level word at every position, each alone at the buffer's end
    for (let len = 0; len <= 80; len++) {
      for (let at = 0; at + 4 <= len; at++) {
        const t = Buffer.alloc(len, 'x'.charCodeAt(0));
        if (at > 0) t[at - 1] = 32;
        t.write('WARN', at, 'latin1');
        const a = new Int32Array(1);
        const c = new Int32Array(1);
        const r = Int32Array.of(0, len);
        typescriptKernels.levelScan(t, r, 1, cls, rb, words, off, a);
        nativeKernels!.levelScan(t, r, 1, cls, rb, words, off, c);
        expect(c[0], `len ${len} at ${at}`).toBe(a[0]);
        if (at + 4 === len || t[at + 4] === 32) expect(a[0]).toBe(8);
      }
    }
  });

  it('native and TypeScript agree with other left boundaries and first letters in a detect.ts-shaped table', () => {
    if (!nativeKernels) return;
    const other = cls.slice();
    other[58] |= 2; // ':' is a left boundary
    other[120] |= 2; // so is 'x'
    other[32] &= ~2; // and ' ' is not
    other[69] &= ~1; // 'E' does not start a level word (only 'e' does)
    other[122] |= 1; // 'z' may start one (none does)
    const tok2 = fc.constantFrom('info', 'INFO', 'Error', 'error', 'warn', ':', 'x', ' ', 'z', 'zinfo', '=', 'é', '[');
    fc.assert(fc.property(fc.array(fc.array(tok2, { maxLength: 30 }), { minLength: 1, maxLength: 10 }), (lines) => {
      const texts = lines.map((l) => l.join(''));
      const { b, ranges } = packLines(texts);
      const a = new Int32Array(texts.length);
      const c = new Int32Array(texts.length);
      typescriptKernels.levelScan(b, ranges, texts.length, other, rb, words, off, a);
      nativeKernels!.levelScan(b, ranges, texts.length, other, rb, words, off, c);
      expect(Array.from(c)).toEqual(Array.from(a));
      // and the standard table again right after (the kernel caches what it derives from a table)
      typescriptKernels.levelScan(b, ranges, texts.length, cls, rb, words, off, a);
      nativeKernels!.levelScan(b, ranges, texts.length, cls, rb, words, off, c);
      expect(Array.from(c)).toEqual(Array.from(a));
    }), { numRuns: 500 });
  });

  it('native and TypeScript agree with a table other than detect.ts\'s (the one-pass loop)', () => {
    if (!nativeKernels) return;
    const odd = cls.slice();
    odd[58] |= 4; // ':' counts as '='
    odd[124] |= 8; // '|' as non-ASCII
    odd[0xc3] = 0; // and the first byte of 'é' as plain
    fc.assert(fc.property(fc.array(fc.array(tok, { maxLength: 12 }), { minLength: 1, maxLength: 20 }), (lines) => {
      const texts = lines.map((l) => l.join(''));
      const { b, ranges } = packLines(texts);
      const a = new Int32Array(texts.length);
      const c = new Int32Array(texts.length);
      typescriptKernels.levelScan(b, ranges, texts.length, odd, rb, words, off, a);
      nativeKernels!.levelScan(b, ranges, texts.length, odd, rb, words, off, c);
      expect(Array.from(c)).toEqual(Array.from(a));
    }), { numRuns: 500 });
  });
});

describe('lz4CompressInto', () => {
  // inputs LZ4 finds matches in: repeated words, long runs (overlapping copies), far repeats
  const word = fc.constantFrom('GET ', '/api/v1/', 'error ', '2026-11-29T', 'a', 'aaaaaaaaaaaaaaaaaaaa', '\n', '0123456789');
  const text = fc.oneof(
    fc.uint8Array({ maxLength: 3000 }),
    fc.array(word, { maxLength: 400 }).map((w) => new Uint8Array(Buffer.from(w.join(''), 'latin1'))),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 400 })).map(([u, k]) => {
      const out = new Uint8Array(u.length * k);
      for (let i = 0; i < k; i++) out.set(u, i * u.length);
      return out;
    }),
  );
  for (const k of impls) {
    it(`${k.name}: decodes back (lz4-napi's decoder and ours) at every depth, at an offset, within lz4Bound`, () => {
      fc.assert(fc.property(text, fc.constantFrom(1, 2, 4, 64), fc.integer({ min: 0, max: 9 }), (src, depth, at) => {
        const dst = new Uint8Array(at + lz4Bound(src.length));
        const n = k.lz4CompressInto(src, dst, at, depth);
        expect(n).toBeGreaterThanOrEqual(4);
        expect(at + n).toBeLessThanOrEqual(dst.length);
        const block = dst.subarray(at, at + n);
        expect(Buffer.from(uncompressSync(Buffer.from(block))).equals(Buffer.from(src))).toBe(true);
        for (const d of impls) expect(Buffer.from(d.lz4Decode(block, src.length)).equals(Buffer.from(src))).toBe(true);
      }), { numRuns: 300 });
    });
    it(`${k.name}: compresses log text at least as well as lz4-napi, and deeper search does better`, () => {
      const lines: string[] = [];
      for (let i = 0; i < 4000; i++) lines.push(`2026-11-29T10:${String(i % 60).padStart(2, '0')}:00Z host-${i % 7} sshd[${1000 + (i * 7919) % 9000}]: Failed password for user${i % 13} from 10.0.${i % 255}.${(i * 31) % 255} port ${40000 + i}`);
      const src = new Uint8Array(Buffer.from(lines.join('\n')));
      const dst = new Uint8Array(lz4Bound(src.length));
      const fast = k.lz4CompressInto(src, dst, 0, 1);
      expect(fast).toBeLessThanOrEqual(compressSync(Buffer.from(src)).length * 1.02);
      const deep = k.lz4CompressInto(src, dst, 0, 32);
      if (k.name === 'native') expect(deep).toBeLessThan(fast * 0.97);
      expect(Buffer.from(uncompressSync(Buffer.from(dst.subarray(0, deep)))).equals(Buffer.from(src))).toBe(true);
    });
  }
  // sizes around the format's end rules (13 = smallest input with a match, last 5 literals, no
  // match in the last 12), the hash table's size steps, the 64 KiB window and the largest block
  const EDGE = [0, 1, 2, 4, 5, 8, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 24, 31, 32, 33, 255, 256, 257, 269, 270, 271,
    4095, 4096, 4097, 16383, 16384, 16385, 65535, 65536, 65537, 65548, 131071, 131072, 131073, 262144, 294911, 294912];
  // deterministic contents from a seed (fast-check arrays of 288 KiB are slow to generate)
  const fill = (kind: number, size: number, seed: number): Uint8Array => {
    let s = seed >>> 0 || 1;
    const rnd = (): number => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return s >>> 0;
    };
    const out = new Uint8Array(size);
    if (kind === 0) {
      for (let i = 0; i < size; i++) out[i] = rnd() & 255; // incompressible: the bound's worst case
    } else if (kind === 1 || kind === 2) {
      // log lines (kind 2: with random binary runs between them)
      const words = ['GET', 'POST', '/api/v1/query', 'error', 'info', 'user', 'session', 'closed', 'opened', 'for', 'from', 'port', 'status=200', 'took'];
      let i = 0;
      while (i < size) {
        const r = rnd();
        const line = kind === 2 && r % 7 === 0
          ? String.fromCharCode(...Array.from({ length: 1 + (r >>> 8) % 40 }, () => rnd() & 255))
          : `2026-11-29T10:${String(r % 60).padStart(2, '0')}:${String((r >>> 6) % 60).padStart(2, '0')}.${(r >>> 12) % 1000}Z host-${r % 7} ` +
            Array.from({ length: 2 + (r >>> 20) % 8 }, () => words[rnd() % words.length]!).join(' ') + ` ${rnd() % 100000}\n`;
        for (let k = 0; k < line.length && i < size; k++) out[i++] = line.charCodeAt(k) & 255;
      }
    } else if (kind === 3) {
      // a random period (1..300 bytes, long overlapping matches), occasionally mutated
      const p = 1 + (rnd() % 300);
      for (let i = 0; i < size; i++) out[i] = i < p ? rnd() & 255 : rnd() % 500 === 0 ? rnd() & 255 : out[i - p]!;
    } else {
      // period exactly 64 KiB: table entries one window back give offset 0 (must be rejected)
      // and offset 65536 (out of reach); period 65535 gives the largest offset
      const p = kind === 4 ? 65536 : 65535;
      for (let i = 0; i < size; i++) out[i] = i < p ? rnd() & 255 : out[i - p]!;
    }
    return out;
  };
  it('native: every size and kind of input decodes back exactly (native and TypeScript decoders), within lz4Bound, writing nothing past it', () => {
    if (!nativeKernels) return;
    const size = fc.oneof(fc.constantFrom(...EDGE), fc.integer({ min: 0, max: 294912 }), fc.integer({ min: 0, max: 600 }));
    const big = fc.constantFrom(65537, 131072, 200000, 294912);
    const input = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 3 }), size, fc.integer()),
      fc.tuple(fc.constantFrom(4, 5), big, fc.integer()),
    );
    fc.assert(fc.property(input, fc.constantFrom(1, 1, 1, 4), fc.integer({ min: 0, max: 9 }), ([kind, n, seed], depth, at) => {
      const src = fill(kind, n, seed);
      const bound = lz4Bound(n);
      const guard = 64;
      const mem = new Uint8Array(at + bound + guard).fill(0xa5);
      const dst = mem.subarray(0, at + bound);
      const w = nativeKernels!.lz4CompressInto(src, dst, at, depth);
      expect(w).toBeGreaterThanOrEqual(5);
      expect(w).toBeLessThanOrEqual(bound);
      for (let i = 0; i < at; i++) expect(mem[i]).toBe(0xa5);
      for (let i = at + bound; i < mem.length; i++) expect(mem[i]).toBe(0xa5);
      const block = dst.subarray(at, at + w);
      for (const d of impls) expect(Buffer.from(d.lz4Decode(block, n)).equals(Buffer.from(src))).toBe(true);
      if (n > 0) expect(Buffer.from(uncompressSync(Buffer.from(block))).equals(Buffer.from(src))).toBe(true);
    }), { numRuns: 400 });
  });
  it('native: log text at depth 1 compresses at least as well as lz4-napi', () => {
    if (!nativeKernels) return;
    for (const [n, seed] of [[262144, 1], [294912, 2], [65536, 3], [5000, 4]] as const) {
      const src = fill(1, n, seed);
      const dst = new Uint8Array(lz4Bound(n));
      expect(nativeKernels.lz4CompressInto(src, dst, 0, 1)).toBeLessThanOrEqual(compressSync(Buffer.from(src)).length);
    }
  });
  it('refuses a destination shorter than lz4Bound', () => {
    for (const k of impls) expect(() => k.lz4CompressInto(new Uint8Array(100), new Uint8Array(50), 0, 1)).toThrow(RangeError);
  });
});

describe('scan kernels', () => {
  it('loads the native addon whenever it was built', () => {
    expect(nativeKernels !== null).toBe(existsSync(nativeBinaryPath()) && process.env.BRAMBLE_NATIVE !== '0');
  });

  for (const k of impls) {
    describe(k.name, () => {
      it('decodes LZ4 blocks and rejects corrupt ones', () => {
        fc.assert(
          fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 200 }), fc.integer({ min: 1, max: 50 }), (parts, rep) => {
            const raw = Buffer.from(parts.join('|').repeat(rep % 5 === 0 ? rep : 1), 'utf8');
            const c = compressSync(raw);
            const out = k.lz4Decode(c, raw.length);
            expect(Buffer.from(out).equals(raw)).toBe(true);
            if (raw.length > 0) expect(() => k.lz4Decode(c, raw.length + 1)).toThrow();
            // into a reused, larger buffer: a view of exactly the section, bytes after it untouched
            const dst = new Uint8Array(raw.length + 17).fill(0xee);
            const view = k.lz4Decode(c, raw.length, dst);
            expect(view.length).toBe(raw.length);
            if (raw.length > 0) expect(view.buffer).toBe(dst.buffer);
            expect(Buffer.from(view).equals(raw)).toBe(true);
            expect(dst.subarray(raw.length).every((b) => b === 0xee)).toBe(true);
            if (raw.length > 0) expect(() => k.lz4Decode(c, raw.length, new Uint8Array(raw.length - 1))).toThrow();
          }),
          { numRuns: 200 },
        );
        const good = Buffer.from(compressSync(Buffer.from('hello hello hello hello hello world')));
        expect(() => k.lz4Decode(good.subarray(0, good.length - 2), 35)).toThrow(); // truncated
        const badOffset = Buffer.from(good);
        badOffset.writeUInt16LE(0xffff, 4 + 1 + 6); // first match offset far before the start
        expect(() => k.lz4Decode(badOffset, 35)).toThrow();
      });

      it('decodes snappy blocks (push bodies) and rejects corrupt ones', () => {
        fc.assert(
          fc.property(fc.array(fc.string({ maxLength: 40 }), { maxLength: 300 }), fc.integer({ min: 1, max: 40 }), (parts, rep) => {
            const raw = Buffer.from(parts.join('|').repeat(rep % 4 === 0 ? rep : 1), 'utf8');
            const c = Buffer.from(snappy.compress(raw));
            const { len, headerLen } = snappyDecodedLen(c);
            expect(len).toBe(raw.length);
            const dst = Buffer.alloc(len);
            expect(k.snappyDecodeInto(c, headerLen, dst)).toBe(len);
            expect(dst.equals(raw)).toBe(true);
            // a destination too small and a truncated input are corrupt
            if (len > 0) expect(k.snappyDecodeInto(c, headerLen, Buffer.alloc(len - 1))).toBe(-1);
            if (c.length > headerLen + 1) {
              const r = k.snappyDecodeInto(c.subarray(0, c.length - 1), headerLen, Buffer.alloc(len));
              expect(r).not.toBe(len === 0 ? 0 : len);
            }
          }),
          { numRuns: 200 },
        );
        // small alphabets: many short matches at every offset, literals near the buffer ends
        // (the decoder's fixed-size 16-byte moves must stay in bounds and keep copy semantics)
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 2, max: 12 }), (bytes, alpha) => {
            const raw = Buffer.from(bytes.map((b) => 97 + (b % alpha)));
            const c = Buffer.from(snappy.compress(raw));
            const { len, headerLen } = snappyDecodedLen(c);
            const dst = Buffer.alloc(len + 32, 0xee);
            expect(k.snappyDecodeInto(c, headerLen, dst.subarray(0, len))).toBe(len);
            expect(dst.subarray(0, len).equals(raw)).toBe(true);
            expect(dst.subarray(len).every((b) => b === 0xee)).toBe(true); // nothing written past the end
          }),
          { numRuns: 300 },
        );
        // hand-made elements in the native decoder's fast region (>= 33 input bytes and >= 64
        // output bytes left): copies at offsets 15/16/17 and exactly d, lengths 16/17/32/33/64,
        // and an offset one past the start (corrupt); the TypeScript decoder is the reference
        const lit = (bytes: number[]): number[] => [(bytes.length - 1) << 2, ...bytes];
        const copy2 = (len: number, off: number): number[] => [((len - 1) << 2) | 2, off & 255, off >> 8];
        const copy1 = (len: number, off: number): number[] => [((off >> 8) << 5) | ((len - 4) << 2) | 1, off & 255];
        const text = Array.from({ length: 40 }, (_, i) => 97 + ((i * 7) % 26));
        for (const [len, off] of [[16, 16], [17, 16], [32, 16], [33, 17], [64, 16], [64, 40], [11, 15], [8, 16], [64, 41], [5, 40], [4, 1], [64, 8]]) {
          for (const c of [copy2(len, off), ...(len <= 11 && off < 2048 ? [copy1(len, off)] : [])]) {
            const tail = Array.from({ length: 200 }, (_, i) => 65 + (i % 26));
            const body = [...lit(text.slice(0, 16)), ...lit(text.slice(16, 32)), ...lit(text.slice(32, 40)), ...c, ...lit(tail.slice(0, 60)), ...lit(tail.slice(60, 120)), ...lit(tail.slice(120, 180))];
            const total = 40 + len + 180;
            const src = Buffer.from([...[total & 127 | 128, total >> 7], ...body]);
            const want = Buffer.alloc(total);
            const got = Buffer.alloc(total + 16, 0xee);
            const r = typescriptKernels.snappyDecodeInto(src, 2, want);
            expect(k.snappyDecodeInto(src, 2, got.subarray(0, total)), `len ${len} off ${off}`).toBe(r);
            if (off <= 40) expect(r).toBe(total);
            else expect(r).toBe(-1);
            if (r === total) expect(got.subarray(0, total).equals(want)).toBe(true);
            expect(got.subarray(total).every((b) => b === 0xee)).toBe(true);
          }
        }
        // log-like text (long runs of matches at large offsets) into an exact-size buffer
        fc.assert(
          fc.property(fc.array(fc.constantFrom('level=info ', 'GET /api/v1/push ', '2024-05-01T12:00:00Z ', 'x', '0123456789abcdef', 'é'), { maxLength: 400 }), (parts) => {
            const raw = Buffer.from(parts.join(''), 'utf8');
            const c = Buffer.from(snappy.compress(raw));
            const { len, headerLen } = snappyDecodedLen(c);
            const dst = Buffer.alloc(len + 64, 0xee);
            expect(k.snappyDecodeInto(c, headerLen, dst.subarray(0, len))).toBe(len);
            expect(dst.subarray(0, len).equals(raw)).toBe(true);
            expect(dst.subarray(len).every((b) => b === 0xee)).toBe(true);
            // every truncation is refused or decodes less than the declared length
            for (let cut = headerLen; cut < c.length; cut += Math.max(1, c.length >> 4)) {
              expect(k.snappyDecodeInto(c.subarray(0, cut), headerLen, Buffer.alloc(len))).not.toBe(len);
            }
          }),
          { numRuns: 200 },
        );
        // copy with offset 0 / before the start: corrupt
        expect(k.snappyDecodeInto(Buffer.from([8, 0x00, 0x61, 0x01, 0x05]), 1, Buffer.alloc(8))).toBe(-1);
        expect(k.snappyDecodeInto(Buffer.from([8, 0x00, 0x61, 0x01, 0x00]), 1, Buffer.alloc(8))).toBe(-1);
        // overlapping copy: 'a' then copy(len 7, offset 1) = 'aaaaaaaa'
        const dst = Buffer.alloc(8);
        expect(k.snappyDecodeInto(Buffer.from([8, 0x00, 0x61, 0x0d, 0x01]), 1, dst)).toBe(8);
        expect(dst.toString()).toBe('aaaaaaaa');
      });

      it('filters lines by literals like a per-line search', () => {
        const alphabet = fc.constantFrom('a', 'b', 'ab', 'é', '\n', 'x', '');
        fc.assert(
          fc.property(
            fc.array(fc.array(alphabet, { maxLength: 8 }).map((a) => a.join('')), { minLength: 1, maxLength: 40 }),
            fc.array(fc.array(alphabet, { minLength: 1, maxLength: 3 }).map((a) => a.join('')), { minLength: 1, maxLength: 3 }),
            fc.boolean(),
            fc.array(fc.boolean(), { maxLength: 40 }),
            (lines, needles, keep, maskBits) => {
              const bufs = lines.map((l) => Buffer.from(l, 'utf8'));
              const all = Buffer.concat(bufs);
              const off = new Uint32Array(lines.length + 1);
              for (let i = 0; i < bufs.length; i++) off[i + 1] = off[i]! + bufs[i]!.length;
              const mask = Uint8Array.from(lines, (_, i) => (maskBits[i] ?? true ? 1 : 0));
              const want = Uint8Array.from(lines, (l, i) => {
                if (!mask[i]) return 0;
                const hit = needles.some((n) => l.includes(n));
                return keep ? (hit ? 1 : 0) : hit ? 0 : 1;
              });
              const nd = needles.map((n) => Buffer.from(n, 'utf8'));
              const kept = k.filterLines(all, off, lines.length, nd, mask, keep);
              expect([...mask]).toEqual([...want]);
              expect(kept).toBe(want.reduce((a, b) => a + b, 0));
            },
          ),
          { numRuns: 500 },
        );
      });

      it('builds the same trigram bloom bits', () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
            const a = new Uint32Array(1 << 10);
            const b = new Uint32Array(1 << 10);
            const added = k.trigramBloomBuild(bytes, a);
            const ref = typescriptKernels.trigramBloomBuild(bytes, b);
            expect(added).toBe(ref);
            expect([...a]).toEqual([...b]);
            let bits = 0;
            for (const w of a) for (let x = w; x; x &= x - 1) bits++;
            expect(bits).toBe(added);
          }),
          { numRuns: 100 },
        );
        // into a filter that already has bits (only the new ones count), of every size the native
        // kernel handles, including one past its byte-map limit (2^22 bits) and the smallest
        for (const words of [1, 2, 64, 4096, 1 << 17, 1 << 18]) {
          const bytes = Buffer.from('the quick brown fox jumps over the lazy dog 0123456789 '.repeat(40));
          const a = new Uint32Array(words);
          const b = new Uint32Array(words);
          for (let i = 0; i < words; i += 3) a[i] = b[i] = Math.imul(i + 1, 0x9e3779b1) >>> 0;
          expect(k.trigramBloomBuild(bytes, a), `${words} words`).toBe(typescriptKernels.trigramBloomBuild(bytes, b));
          expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), `${words} words`).toBe(true);
          // again into the result: nothing new
          expect(k.trigramBloomBuild(bytes, a)).toBe(0);
        }
        // a block-sized input (many 256-position steps of the native loop) into the full scratch
        const big = new Uint8Array(300_001);
        let x = 7;
        for (let i = 0; i < big.length; i++) big[i] = 32 + ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 25);
        const a = new Uint32Array(4096);
        const b = new Uint32Array(4096);
        expect(k.trigramBloomBuild(big, a)).toBe(typescriptKernels.trigramBloomBuild(big, b));
        expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      });
    });
  }
});

describe('copyRanges (a batch of lines into an open block)', () => {
  for (const k of impls) {
    it(`${k.name}: copies the ranges back to back, or refuses without writing`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.tuple(fc.nat(3100), fc.nat(900)), { maxLength: 30 }), fc.nat(100), (src, pairs, at) => {
        const ranges = new Int32Array(pairs.length * 2);
        pairs.forEach(([s, l], i) => { ranges[2 * i] = s; ranges[2 * i + 1] = s + l; });
        const dst = new Uint8Array(new SharedArrayBuffer(4000)).fill(7);
        const r = k.copyRanges(src, ranges, pairs.length, dst, at);
        const ok = pairs.every(([s, l]) => s + l <= src.length);
        const total = pairs.reduce((n, [, l]) => n + l, 0);
        if (!ok || at + total > dst.length) {
          expect(r).toBe(-1);
          expect(dst.every((b) => b === 7)).toBe(true);
          return;
        }
        const want = Buffer.concat(pairs.map(([s, l]) => Buffer.from(src.subarray(s, s + l))));
        expect(r).toBe(at + total);
        expect(Buffer.from(dst.subarray(at, r)).equals(want)).toBe(true);
        expect(dst.subarray(0, at).every((b) => b === 7) && dst.subarray(r).every((b) => b === 7)).toBe(true);
      }), { numRuns: 300 });
    });
    it(`${k.name}: refuses a range that is not inside src, and a start past dst`, () => {
      const src = Buffer.from('abcdef');
      const dst = new Uint8Array(10);
      expect(k.copyRanges(src, Int32Array.of(4, 2), 1, dst, 0)).toBe(-1);
      expect(k.copyRanges(src, Int32Array.of(-1, 2), 1, dst, 0)).toBe(-1);
      expect(k.copyRanges(src, Int32Array.of(0, 2), 2, dst, 0)).toBe(-1);
      expect(k.copyRanges(src, Int32Array.of(0, 2), 1, dst, 11)).toBe(-1);
      expect(k.copyRanges(src, Int32Array.of(1, 3, 0, 6), 2, dst, 2)).toBe(10);
      expect(Buffer.from(dst.subarray(2)).toString()).toBe('bcabcdef');
    });
  }
});

describe('logfmtLevels (detected_level logfmt step)', () => {
  const fields = ['level', 'LVL', 'severity', 'lévél', 'Level_Name'];
  const lower = fields.map((f) => f.toLowerCase());
  const off = new Int32Array(lower.length + 1);
  lower.forEach((f, i) => (off[i + 1] = off[i]! + f.length));
  const keys = new Uint8Array(off[lower.length]!);
  lower.forEach((f, i) => { for (let j = 0; j < f.length; j++) keys[off[i]! + j] = f.charCodeAt(j) < 0x80 ? f.charCodeAt(j) : 0xff; });
  const piece = fc.oneof(
    fc.constantFrom('level', 'LEVEL', 'Lvl', 'lvl', 'severity', 'level_name', 'msg', 'x', '=', ' ', '  ', '"', '\\', '"a b"', '"warn"', '"\\"q\\""', 'info', 'ERROR', 'err', '""', '\t', 'a=b', 'level=', '=debug'),
    fc.string({ maxLength: 6 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'z')),
  );
  const line = fc.array(piece, { maxLength: 14 }).map((p) => p.join(''));

  for (const k of impls) {
    it(`${k.name}: finds the value logfmtLevel finds, or asks for the string path on escaped quotes`, () => {
      fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (lines) => {
        const buf = Buffer.from('#' + lines.join('|'), 'latin1');
        const ranges = new Int32Array(2 * lines.length);
        const codes = new Int32Array(lines.length);
        let at = 1;
        lines.forEach((l, i) => {
          ranges[2 * i] = at;
          ranges[2 * i + 1] = at + l.length;
          at += l.length + 1;
          codes[i] = i % 5 === 4 ? 0 : 256; // lines without '=' (per levelScan) are skipped
        });
        const out = new Int32Array(2 * lines.length).fill(-7);
        k.logfmtLevels(buf, ranges, lines.length, codes, keys, off, out);
        lines.forEach((l, i) => {
          if (i % 5 === 4) return expect(out[2 * i]).toBe(-7);
          const want = logfmtLevel(l, fields, lower);
          const vs = out[2 * i]!;
          if (vs === -2) return expect(/"[^"]*\\/.test(l)).toBe(true);
          expect(vs >= 0 ? buf.toString('latin1', vs, out[2 * i + 1]!) : undefined).toBe(want);
        });
      }), { numRuns: 1000 });
    });
  }

  it('both implementations agree', () => {
    if (nativeKernels === null) return;
    fc.assert(fc.property(line, (l) => {
      const buf = Buffer.from(l, 'latin1');
      const r = Int32Array.of(0, buf.length);
      const a = new Int32Array(2);
      const b = new Int32Array(2);
      typescriptKernels.logfmtLevels(buf, r, 1, Int32Array.of(256), keys, off, a);
      nativeKernels!.logfmtLevels(buf, r, 1, Int32Array.of(256), keys, off, b);
      expect([...b]).toEqual([...a]);
    }), { numRuns: 1000 });
  });
});

describe('cutBlockAsync (addon)', () => {
  it('compresses the staged sections as lz4CompressInto does and fills the bloom as trigramBloomBuild does', async () => {
    if (!canCutAsync) return;
    const meta = Buffer.from('0123456789'.repeat(50));
    const sm = Buffer.alloc(40);
    const lines = Buffer.from(Array.from({ length: 400 }, (_, i) => `line ${i} status=${i % 7}`).join(''));
    const outAt = (meta.length + sm.length + lines.length + 7) & ~7;
    const stage = new Uint8Array(new SharedArrayBuffer(outAt + lz4Bound(meta.length) + lz4Bound(sm.length) + lz4Bound(lines.length)));
    stage.set(meta, 0);
    stage.set(sm, meta.length);
    stage.set(lines, meta.length + sm.length);
    const bloom = new Uint32Array(4096);
    const [mc, sc, lc, bits] = await cutBlockAsync(stage, meta.length, sm.length, lines.length, outAt, bloom);
    const want = new Uint8Array(lz4Bound(lines.length) + lz4Bound(meta.length) + lz4Bound(sm.length));
    const wm = nativeKernels!.lz4CompressInto(meta, want, 0, 1);
    const ws = nativeKernels!.lz4CompressInto(sm, want, wm, 1);
    const wl = nativeKernels!.lz4CompressInto(lines, want, wm + ws, 1);
    expect([mc, sc, lc]).toEqual([wm, ws, wl]);
    expect(Buffer.from(stage.subarray(outAt, outAt + mc + sc + lc)).equals(Buffer.from(want.subarray(0, wm + ws + wl)))).toBe(true);
    const ref = new Uint32Array(4096);
    expect(bits).toBe(nativeKernels!.trigramBloomBuild(lines, ref));
    expect(Array.from(bloom)).toEqual(Array.from(ref));
  });

  it('refuses a stage without room for the compressed bound', () => {
    if (!canCutAsync) return;
    const stage = new Uint8Array(new SharedArrayBuffer(1000));
    expect(() => cutBlockAsync(stage, 100, 10, 500, 616, new Uint32Array(4096))).toThrow(RangeError);
  });
});
