// Little-endian u32 words stored in a byte buffer (the bloom filters of a block's index section),
// read without copying where the machine allows: a needle query reads thousands of these filters
// (16-32 KiB each), and copying them made tens of MiB of garbage per query.
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/** `words` u32s at raw[at..]: a view when aligned on a little-endian machine (valid as long as raw's bytes are), else a copy. */
export function u32Words(raw: Uint8Array, at: number, words: number): Uint32Array {
  if (LITTLE_ENDIAN && ((raw.byteOffset + at) & 3) === 0) return new Uint32Array(raw.buffer, raw.byteOffset + at, words);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Uint32Array(words);
  for (let i = 0; i < words; i++) out[i] = dv.getUint32(at + i * 4, true);
  return out;
}
