// Unsigned and zigzag LEB128 varints over plain numbers (up to 2^53), used by the block format.

/** Writes `v` (0 <= v < 2^53) at `pos`; returns the new position. Caller ensures capacity (<= 8 bytes). */
export function putUvarint(buf: Uint8Array, pos: number, v: number): number {
  if (v < 0x80000000) {
    // small values (line lengths, most timestamp deltas): integer ops instead of float division
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    return pos;
  }
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

export function unzigzag(v: number): number {
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

/** Reader state for varint decoding without allocating per value. */
export class VarintReader {
  pos = 0;
  constructor(public buf: Uint8Array, pos = 0) {
    this.pos = pos;
  }
  uvarint(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    if (b < 0x80) return b;
    let result = b & 0x7f;
    let mult = 0x80;
    for (;;) {
      b = buf[this.pos++]!;
      if (b === undefined) throw new RangeError('varint runs past the end of the buffer');
      result += (b & 0x7f) * mult;
      if (b < 0x80) return result;
      mult *= 0x80;
      if (mult > 2 ** 56) throw new RangeError('varint too long');
    }
  }
}
