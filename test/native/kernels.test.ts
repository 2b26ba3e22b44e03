// Both scan kernel implementations (the C++ addon when built, and TypeScript) against a naive
// reference on the same inputs: LZ4 decoding of lz4-napi output, multi-literal line filtering
// and trigram bloom building must agree bit for bit.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compressSync } from 'lz4-napi';
import snappy from 'snappyjs';
import { snappyDecodedLen } from '../../src/push/protobuf.js';
import { mallocTrim, mallocTrimAsync, nativeBinaryPath, nativeKernels, typescriptKernels, type ScanKernels } from '../../src/native/index.js';

const impls: ScanKernels[] = [typescriptKernels, ...(nativeKernels ? [nativeKernels] : [])];

describe('malloc_trim', () => {
  it('runs synchronously and on the thread pool, returning a boolean (false without the addon)', async () => {
    expect(typeof mallocTrim()).toBe('boolean');
    const r = await mallocTrimAsync();
    expect(typeof r).toBe('boolean');
    if (nativeKernels === null) expect(r).toBe(false);
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
      });
    });
  }
});
