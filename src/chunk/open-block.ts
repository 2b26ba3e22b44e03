// The growing block at the tip of a stream's head: entries are encoded straight into the block's
// section layout (FORMAT.md) in SharedArrayBuffer-backed buffers, append-only, so a query can take
// a zero-copy snapshot (the bytes below the current lengths never change) and a cut only has to
// compress.
import { compressSync } from 'lz4-napi';
import type { Labels } from '../util/labels.js';
import { putUvarint, zigzag } from '../util/varint.js';
import { CODEC_LZ4, CODEC_NONE, type BlockData, type BlockInfo } from './block.js';
import { buildBlockIndex } from './block-index.js';

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

const EMPTY = new Uint8Array(0);

class SharedBuf {
  buf: Buffer;
  len = 0;
  constructor(cap: number) {
    this.buf = Buffer.from(new SharedArrayBuffer(cap));
  }
  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = Buffer.from(new SharedArrayBuffer(cap));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next; // readers holding the old buffer keep a valid, immutable prefix
  }
  view(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.len);
  }
}

export class OpenBlock {
  private meta = new SharedBuf(4096);
  private lines: SharedBuf;
  private sm = new SharedBuf(1024);
  private prevTs = 0n;
  firstTs = 0n;
  minTs = 0n;
  maxTs = 0n;
  entries = 0;

  constructor(expectedLineBytes: number) {
    // Start small and double: thousands of quiet streams must not each pin a full block of memory.
    this.lines = new SharedBuf(Math.min(4096, expectedLineBytes));
  }

  get lineBytes(): number {
    return this.lines.len;
  }

  /** Approximate bytes held (for memory accounting). */
  get sizeBytes(): number {
    return this.meta.buf.length + this.lines.buf.length + this.sm.buf.length;
  }

  append(tsNs: bigint, line: string, sm: Labels): void {
    if (this.entries === 0) {
      this.firstTs = this.minTs = this.maxTs = this.prevTs = tsNs;
    } else {
      if (tsNs < this.minTs) this.minTs = tsNs;
      if (tsNs > this.maxTs) this.maxTs = tsNs;
    }
    const lineLen = Buffer.byteLength(line, 'utf8');
    this.meta.ensure(20);
    let p = putUvarint(this.meta.buf, this.meta.len, zigzag(Number(tsNs - this.prevTs)));
    p = putUvarint(this.meta.buf, p, lineLen);
    this.meta.len = p;
    this.prevTs = tsNs;
    this.lines.ensure(lineLen);
    this.lines.len += this.lines.buf.write(line, this.lines.len, lineLen, 'utf8');
    let need = 8;
    for (const l of sm) need += 16 + l.name.length * 3 + l.value.length * 3;
    this.sm.ensure(need);
    p = putUvarint(this.sm.buf, this.sm.len, sm.length);
    for (const l of sm) {
      const nl = Buffer.byteLength(l.name, 'utf8');
      p = putUvarint(this.sm.buf, p, nl);
      p += this.sm.buf.write(l.name, p, nl, 'utf8');
      const vl = Buffer.byteLength(l.value, 'utf8');
      p = putUvarint(this.sm.buf, p, vl);
      p += this.sm.buf.write(l.value, p, vl, 'utf8');
    }
    this.sm.len = p;
    this.entries++;
  }

  info(): BlockInfo {
    return {
      firstTs: this.firstTs,
      minTs: this.minTs,
      maxTs: this.maxTs,
      entries: this.entries,
      lineBytes: this.lines.len,
      metaU: this.meta.len,
      linesU: this.lines.len,
      smU: this.sm.len,
    };
  }

  /** Zero-copy view of the block as it is now (uncompressed sections). */
  snapshot(): BlockData {
    return { info: this.info(), codec: CODEC_NONE, index: EMPTY, meta: this.meta.view(), lines: this.lines.view(), sm: this.sm.view() };
  }

  /** Builds the index section and compresses the sections into one SharedArrayBuffer: the closed form of this block. */
  cut(): BlockData {
    const x = buildBlockIndex(this.lines.view(), this.sm.view(), this.entries);
    const m = compressSync(asBuffer(this.meta.view()));
    const s = compressSync(asBuffer(this.sm.view()));
    const l = compressSync(asBuffer(this.lines.view()));
    // same order as in a chunk file: index, meta, sm, lines
    const shared = new Uint8Array(new SharedArrayBuffer(x.length + m.length + s.length + l.length));
    let p = 0;
    const put = (u: Uint8Array): Uint8Array => {
      shared.set(u, p);
      p += u.length;
      return shared.subarray(p - u.length, p);
    };
    const index = put(x);
    const meta = put(m);
    const sm = put(s);
    const lines = put(l);
    return { info: this.info(), codec: CODEC_LZ4, index, meta, lines, sm };
  }
}
