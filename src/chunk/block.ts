// Block types shared by the writer (head), the chunk file code and the scan workers.
// A block is either "open" (still growing in a stream's head; sections uncompressed) or
// "closed" (cut: sections LZ4-compressed). Both are plain data so they can be posted to a
// worker thread; the bytes live in SharedArrayBuffers, so posting shares instead of copying.

export const CODEC_NONE = 0;
export const CODEC_LZ4 = 1;

export interface BlockInfo {
  /** timestamp the meta deltas start from */
  firstTs: bigint;
  minTs: bigint;
  maxTs: bigint;
  entries: number;
  lineBytes: number;
  /** uncompressed section sizes */
  metaU: number;
  linesU: number;
  smU: number;
}

/** A block's bytes as a worker sees them: three sections, compressed with `codec`. */
export interface BlockData {
  info: BlockInfo;
  codec: number;
  meta: Uint8Array;
  lines: Uint8Array;
  sm: Uint8Array;
}

/** Where a block comes from when a query plans its scan. */
export type BlockSource =
  | { kind: 'mem'; data: BlockData }
  | { kind: 'file'; path: string; index: number; info: BlockInfo; offset: number; metaC: number; linesC: number; smC: number; crc: number };

export function overlaps(info: BlockInfo, fromNs: bigint, throughNs: bigint): boolean {
  return info.maxTs >= fromNs && info.minTs <= throughNs;
}
