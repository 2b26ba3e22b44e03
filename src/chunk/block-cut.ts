// Cutting a head block off the event loop. A full block's cut was the biggest synchronous part
// of a push (profiled soak: ~40% of the push's event-loop time): the trigram bloom over its
// 256 KiB of lines and the LZ4 compression of its sections. Here the open block's sections are
// copied into a stage (one memcpy of ~0.3 MiB), the bloom and compression run on a libuv
// thread-pool thread (the addon's cutBlockAsync), and the stream's head gets the closed form
// when the work is done; until then queries read the staged, uncompressed sections.
//
// Only while a query reads (a read lease is open): the event loop's latency is then what a user
// waits on. During a pure ingest a cut in place costs less CPU (bench, 0.5 GiB: 6.4-6.5 server
// CPU-s off the loop against 5.9-6.0 in place; the copies, and the compression reading lines
// another core wrote). Without the addon, or with too many cuts under way (each holds a stage),
// the caller cuts on the event loop as well (OpenBlock.cut), with identical bytes.
import { canCutAsync, cutBlockAsync, lz4Bound, lz4CompressInto } from '../native/index.js';
import { drainPooled } from '../util/buffer-pool.js';
import { assembleBlockIndex, blockIndexParts, buildBlockIndexFrom, BLOOM_SCRATCH_WORDS, type BlockIndexParts } from './block-index.js';
import { CODEC_LZ4, CODEC_NONE, type BlockData, type BlockInfo } from './block.js';
import type { BlockSlab } from './block-slab.js';
import { readLeases, UNSEEN } from './read-leases.js';
import type { SmNameTracker } from './block-index.js';

/**
 * Cuts under way at most (process-wide); beyond, cuts run on the event loop. libuv's thread
 * pool has four threads, which the WAL's and chunk files' writes share.
 */
export const MAX_CUTS_IN_FLIGHT = 4;
/** Stages kept for the next cuts. */
const MAX_POOLED_STAGES = 4;
/**
 * Smallest stage: room for a full default block (256 KiB of lines, ~300 KiB with the entry that
 * crosses the size, its meta and sm sections) and its compressed bound. Stages sized to each
 * cut would not fit the next full block after a flush's short remainder, and a fresh stage costs
 * a page fault per 4 KiB.
 */
const MIN_STAGE_BYTES = 768 * 1024;

const EMPTY = new Uint8Array(0);

/** A cut's memory: its sections then their compressed forms (shared: queries read it), and a bloom. */
export interface Stage {
  bytes: Uint8Array;
  bloom: Uint32Array;
}

const stages: Stage[] = [];
let inFlight = 0;

function acquireStage(size: number): Stage {
  for (let i = stages.length - 1; i >= 0; i--) {
    const s = stages[i]!;
    if (s.bytes.length >= size) {
      stages[i] = stages[stages.length - 1]!;
      stages.pop();
      return s;
    }
  }
  const cap = Math.max(MIN_STAGE_BYTES, (size + 0xffff) & ~0xffff);
  return { bytes: new Uint8Array(new SharedArrayBuffer(cap)), bloom: new Uint32Array(BLOOM_SCRATCH_WORDS) };
}

function releaseStage(s: Stage): void {
  if (stages.length < MAX_POOLED_STAGES) stages.push(s);
}

/** Cuts under way now (tests, metrics). */
export function cutsInFlight(): number {
  return inFlight;
}

/** Stages in the pool (tests). */
export function pooledStages(): number {
  return stages.length;
}

/** Lets pooled stages go when ingest has gone quiet (with the line and slab pools); returns their bytes. */
export function drainCutStages(maxBytes = Infinity): number {
  return drainPooled(stages, maxBytes, (s) => s.bytes);
}

/** The sections of an open block to cut, as they are now (views; copied by startCut). */
export interface CutSource {
  info: BlockInfo;
  meta: Uint8Array;
  sm: Uint8Array;
  lines: Uint8Array;
  entries: number;
  smNames: SmNameTracker;
}

/**
 * A block being cut off the event loop. `block` is what queries read meanwhile (uncompressed,
 * in the stage); `done` settles with the closed form, written through the slabFor given to
 * startCut, once the work is done (null when finishNow came first).
 */
export class PendingCut {
  readonly block: BlockData;
  /** the newest read lease a snapshot showed the stage to (read-leases.ts) */
  exposedAt = UNSEEN;
  readonly done: Promise<BlockData | null>;
  /** `done` has settled, either way (set before any other handler of it runs) */
  settled = false;
  private finished: BlockData | null = null;

  constructor(
    private readonly src: { info: BlockInfo; parts: BlockIndexParts; metaLen: number; smLen: number; linesLen: number },
    private readonly stage: Stage,
    private readonly slabFor: (bound: number) => BlockSlab,
    work: Promise<[number, number, number, number]>,
  ) {
    const { metaLen, smLen, linesLen } = src;
    const b = stage.bytes;
    this.block = {
      info: src.info, codec: CODEC_NONE, index: EMPTY,
      meta: b.subarray(0, metaLen), sm: b.subarray(metaLen, metaLen + smLen), lines: b.subarray(metaLen + smLen, metaLen + smLen + linesLen),
    };
    inFlight++;
    // The work failed (no memory for the bloom's byte map): compress here instead. The stage
    // is handed back only after a closed form exists: if none can be made, `done` rejects and
    // the stage stays with the block (StreamHead keeps it under way; a flush retries here).
    this.done = work
      .then(
        (r) => {
          inFlight--;
          return this.complete(r);
        },
        () => {
          inFlight--;
          return this.finishNow();
        },
      )
      .then((b) => {
        this.end();
        return b;
      });
    const mark = (): void => {
      this.settled = true;
    };
    this.done.then(mark, mark);
  }

  /** Marks the stage as read under `lease` (a query's snapshot holds this.block). */
  expose(lease: number): void {
    if (lease > this.exposedAt) this.exposedAt = lease;
  }

  /** The closed form now, compressed on this thread, when a flush cannot wait for the work. */
  finishNow(): BlockData {
    if (this.finished !== null) return this.finished;
    // the work writes only the stage's second half and the bloom: the sections stay as they were
    const { meta, sm, lines } = this.block;
    this.finished = closeSections(this.src.info, buildBlockIndexFrom(lines, this.src.parts), meta, sm, lines, this.slabFor);
    return this.finished;
  }

  private complete([mc, sc, lc, trigrams]: [number, number, number, number]): BlockData | null {
    if (this.finished !== null) return null;
    const index = assembleBlockIndex(this.src.parts, this.src.linesLen >= 3 ? this.stage.bloom : null, trigrams);
    const slab = this.slabFor(index.length + mc + sc + lc);
    const at = slab.used;
    slab.bytes.set(index, at);
    const p = at + index.length;
    const out = outAt(this.src.metaLen, this.src.smLen, this.src.linesLen);
    slab.bytes.set(this.stage.bytes.subarray(out, out + mc + sc + lc), p);
    const end = p + mc + sc + lc;
    slab.used = Math.min(slab.bytes.length, (end + 7) & ~7); // the next block's index starts aligned
    const s = slab.bytes;
    this.finished = {
      info: this.src.info, codec: CODEC_LZ4,
      index: s.subarray(at, p), meta: s.subarray(p, p + mc), sm: s.subarray(p + mc, p + mc + sc), lines: s.subarray(p + mc + sc, end),
    };
    return this.finished;
  }

  /** The closed form exists: the stage goes back to the pool once no query reads it. */
  private end(): void {
    const stage = this.stage;
    readLeases.retire(this.exposedAt, stage.bytes.length, () => releaseStage(stage));
  }
}

/** Where a stage's compressed sections start: after the sections, 8-aligned. */
function outAt(metaLen: number, smLen: number, linesLen: number): number {
  return (metaLen + smLen + linesLen + 7) & ~7;
}

/**
 * Starts cutting `src` off the event loop: its sections are copied, so the open block may be
 * emptied and written again at once. null when the cut belongs on the event loop (no query
 * reads, no addon, or MAX_CUTS_IN_FLIGHT under way): cut synchronously then.
 */
export function startCut(src: CutSource, slabFor: (bound: number) => BlockSlab): PendingCut | null {
  if (!canCutAsync || inFlight >= MAX_CUTS_IN_FLIGHT || readLeases.openCount === 0) return null;
  const metaLen = src.meta.length;
  const smLen = src.sm.length;
  const linesLen = src.lines.length;
  const out = outAt(metaLen, smLen, linesLen);
  const stage = acquireStage(out + lz4Bound(metaLen) + lz4Bound(smLen) + lz4Bound(linesLen));
  const b = stage.bytes;
  b.set(src.meta, 0);
  b.set(src.sm, metaLen);
  b.set(src.lines, metaLen + smLen);
  stage.bloom.fill(0);
  const parts = blockIndexParts(src.sm, src.entries, src.smNames);
  let work: Promise<[number, number, number, number]>;
  try {
    work = cutBlockAsync(b, metaLen, smLen, linesLen, out, stage.bloom);
  } catch {
    releaseStage(stage);
    return null;
  }
  return new PendingCut({ info: src.info, parts, metaLen, smLen, linesLen }, stage, slabFor, work);
}

/** Compression target of blocks cut without a slab (reused; the result is copied out). */
let scratch = new Uint8Array(0);

/**
 * The closed form of a block on this thread: its index section, then meta, sm and lines LZ4
 * compressed (a chunk file's order), into a slab from `slabFor(bound)`; without one, into a
 * SharedArrayBuffer of the block's own. `depth` > 1 searches LZ4 matches harder (compaction).
 */
export function closeSections(info: BlockInfo, index: Uint8Array, meta: Uint8Array, sm: Uint8Array, lines: Uint8Array, slabFor?: (bound: number) => BlockSlab, depth = 1): BlockData {
  const bound = index.length + lz4Bound(meta.length) + lz4Bound(sm.length) + lz4Bound(lines.length);
  const slab = slabFor?.(bound);
  if (slab === undefined && scratch.length < bound) scratch = new Uint8Array(Math.max(bound, 2 * scratch.length));
  const dst = slab ? slab.bytes : scratch;
  const base = slab ? slab.used : 0;
  dst.set(index, base);
  const pMeta = base + index.length;
  const pSm = pMeta + lz4CompressInto(meta, dst, pMeta, depth);
  const pLines = pSm + lz4CompressInto(sm, dst, pSm, depth);
  const end = pLines + lz4CompressInto(lines, dst, pLines, depth);
  let out = dst.subarray(base, end);
  if (slab) slab.used = Math.min(slab.bytes.length, (end + 7) & ~7); // the next block's index starts aligned (its filter is read as a view)
  else {
    const own = new Uint8Array(new SharedArrayBuffer(out.length));
    own.set(out);
    out = own;
  }
  return {
    info, codec: CODEC_LZ4,
    index: out.subarray(0, index.length),
    meta: out.subarray(pMeta - base, pSm - base),
    sm: out.subarray(pSm - base, pLines - base),
    lines: out.subarray(pLines - base, end - base),
  };
}
