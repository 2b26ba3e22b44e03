// Rewrites chunk files of one stream into one new chunk: used to merge a stream's small chunks
// (no filter) and to apply delete requests (a filter dropping the matching entries). Each input
// is read whole off the event loop with the chunk-file reader (CRC checked) and the result
// written with the chunk-file writer (temp name, fsync, rename), so the format lives in src/chunk
// only. Large untouched blocks are copied
// compressed as they are; small ones (the tail block of every flush) and filtered ones are
// re-encoded into full-size blocks. Yields to the event loop between blocks, and within a block
// once a slice of work ran REWRITE_SLICE_MS.
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { BlockData } from '../chunk/block.js';
import { decodeLines, decodeMeta, decodeStructuredMetadata, joinNs } from '../chunk/block-reader.js';
import { loadChunkFile, writeChunkFileAsync, type ChunkSummary } from '../chunk/chunk-file.js';
import { OpenBlock } from '../chunk/open-block.js';
import type { Labels } from '../util/labels.js';

/** Returns true to keep an entry. */
export type KeepFn = (tsNs: bigint, line: string, sm: Labels) => boolean;

export interface RewriteResult {
  /** null when no entry is left (nothing was written) or nothing was removed under `onlyIfChanged` */
  summary: ChunkSummary | null;
  kept: number;
  removed: number;
}

const textDecoder = new TextDecoder('utf-8');

/**
 * LZ4 match search depth for re-encoded blocks. Compaction runs once per chunk in the background,
 * so it affords a hash-chain search: at 256 KiB blocks on the bench workload, depth 16 wrote
 * 12 % fewer bytes than ingest's fast LZ4 for ~2.3x the cut CPU, and decodes as fast
 * (`node --import tsx bench/compression.ts`, README "Compression").
 */
export const REWRITE_LZ4_DEPTH = 16;

/**
 * Longest stretch (ms) of re-encoding between yields to the event loop. A merge re-encodes a
 * stream's small blocks entry by entry (decode, append, and a depth-16 cut per 256 KiB): yielding
 * only between source blocks let one step hold the loop for 30-40 ms in a soak.
 */
export const REWRITE_SLICE_MS = 5;
/** entries re-encoded between two looks at the clock */
const CLOCK_EVERY = 64;

export async function rewriteChunks(
  inputs: string[],
  out: { path: string; tenant: string; labels: string },
  blockSize: number,
  keep?: KeepFn,
  opts: { onlyIfChanged?: boolean } = {},
): Promise<RewriteResult> {
  const blocks: BlockData[] = [];
  let sliceStart = performance.now();
  let open: OpenBlock | null = null;
  let kept = 0;
  let removed = 0;
  const cut = (): void => {
    if (open && open.entries > 0) blocks.push(open.cut(undefined, REWRITE_LZ4_DEPTH));
    open = null;
  };
  for (const path of inputs) {
    // read whole, off the event loop (an input is at most a chunk's size)
    const file = await loadChunkFile(path);
    for (const src of file.footer.blocks) {
      const block = file.block(src);
      if (!keep && block.info.linesU >= blockSize / 2) {
        // Already a full block: keep it compressed, in order after what was re-encoded so far.
        cut();
        blocks.push(block);
        kept += block.info.entries;
        continue;
      }
      const meta = decodeMeta(block);
      const lines = decodeLines(block);
      const sm = decodeStructuredMetadata(block) as Labels[];
      for (let i = 0; i < meta.n; i++) {
        if ((i & (CLOCK_EVERY - 1)) === CLOCK_EVERY - 1 && performance.now() - sliceStart >= REWRITE_SLICE_MS) {
          await yieldLoop();
          sliceStart = performance.now();
        }
        const ts = joinNs(meta.tsMs[i]!, meta.tsRem[i]!);
        const line = textDecoder.decode(lines.subarray(meta.lineOff[i]!, meta.lineOff[i + 1]!));
        if (keep && !keep(ts, line, sm[i]!)) {
          removed++;
          continue;
        }
        open ??= new OpenBlock(blockSize);
        (open as OpenBlock).append(ts, line, sm[i]!);
        kept++;
        if ((open as OpenBlock).lineBytes >= blockSize) cut();
      }
      await yieldLoop();
      sliceStart = performance.now();
    }
  }
  cut();
  if (blocks.length === 0 || (opts.onlyIfChanged && removed === 0)) return { summary: null, kept, removed };
  const summary = await writeChunkFileAsync(out.path, out.tenant, out.labels, blocks);
  return { summary, kept, removed };
}
