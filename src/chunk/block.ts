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

/**
 * A block's bytes as a worker sees them: three sections compressed with `codec`, plus the
 * uncompressed index section (block-index.ts; empty for an open block). A block read from a
 * file may hold only some sections (`loaded`): the scan reads what the query needs.
 */
export interface BlockData {
  info: BlockInfo;
  codec: number;
  /** index section; absent or empty = none (the block is never skipped by its index) */
  index?: Uint8Array;
  meta: Uint8Array;
  lines: Uint8Array;
  sm: Uint8Array;
  /** which sections are present (SEC_* bits); absent sections are empty arrays */
  loaded?: number;
}

export const SEC_META = 1;
export const SEC_SM = 2;
export const SEC_LINES = 4;
export const SEC_INDEX = 8;
export const SEC_ALL = SEC_INDEX | SEC_META | SEC_SM | SEC_LINES;

/** Compressed bytes a block occupies (all sections, index included). */
export function blockBytes(b: BlockData): number {
  return (b.index?.length ?? 0) + b.meta.length + b.lines.length + b.sm.length;
}

/** Where a block comes from when a query plans its scan. */
export type BlockSource =
  | { kind: 'mem'; data: BlockData }
  | {
      kind: 'file'; path: string; index: number; info: BlockInfo;
      /** file offset of the block: index section, then meta, sm, lines */
      offset: number; indexLen: number; metaC: number; smC: number; linesC: number;
      crcIndex: number; crcMeta: number; crcSm: number; crcLines: number;
    };

export function overlaps(info: BlockInfo, fromNs: bigint, throughNs: bigint): boolean {
  return info.maxTs >= fromNs && info.minTs <= throughNs;
}
