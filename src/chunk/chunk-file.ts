// Chunk files (FORMAT.md): a header, the closed blocks of one stream, and a self-describing
// footer. Written once (write to a temp name, fsync, rename), never modified; read by the scan
// workers with positioned reads so only the needed sections of the needed blocks are touched.
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { mkdir, open as openAsync, readFile, rename, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { CODEC_LZ4, SEC_ALL, SEC_INDEX, SEC_LINES, SEC_META, SEC_SM, type BlockData, type BlockInfo, type BlockSource } from './block.js';
import { CorruptBlockError } from './block-reader.js';
import type { Scratch } from '../util/scratch.js';

const MAGIC = Buffer.from('BRCK');
const VERSION = 2;
const HEADER_SIZE = 8;
const BLOCK_META_SIZE = 80;
const TRAILER_SIZE = 12;

export interface ChunkSummary {
  path: string;
  minTs: bigint;
  maxTs: bigint;
  entries: number;
  lineBytes: number;
  bytes: number; // file size
  blocks: Extract<BlockSource, { kind: 'file' }>[];
}

export interface ChunkFooter {
  tenant: string;
  labels: string;
  blocks: Extract<BlockSource, { kind: 'file' }>[];
}

/** Reads and checks a chunk file's footer (used by repair and by readers without an index entry). */
export function readChunkFooter(path: string): ChunkFooter {
  const fd = openSync(path, 'r');
  try {
    return parseFooter(path, fstatSync(fd).size, (pos, len) => {
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, pos);
      return buf;
    });
  } finally {
    closeSync(fd);
  }
}

/** A chunk file read whole into memory: its footer, and its blocks cut from those bytes. */
export interface LoadedChunkFile {
  footer: ChunkFooter;
  /** One block's sections (checksums verified), without further I/O. */
  block(src: Extract<BlockSource, { kind: 'file' }>): BlockData;
}

/**
 * Reads a whole chunk file off the event loop (one read on the libuv pool) and parses it there
 * after: the compactor's way to read its inputs, where synchronous reads would hold the event
 * loop for as long as the disk takes (an SD card's random reads take milliseconds).
 */
export async function loadChunkFile(path: string): Promise<LoadedChunkFile> {
  const file = await readFile(path);
  const footer = parseFooter(path, file.length, (pos, len) => file.subarray(pos, pos + len));
  return {
    footer,
    block(src) {
      const { from, to } = blockRange(src, SEC_ALL);
      if (to > file.length) throw new CorruptBlockError(`chunk ${src.path} block ${src.index} is truncated`);
      return blockSections(src, file.subarray(from, to), from, SEC_ALL);
    },
  };
}

/** Checks and decodes the footer of a chunk file of `size` bytes; `read(pos, len)` gives its bytes. */
function parseFooter(path: string, size: number, read: (pos: number, len: number) => Buffer): ChunkFooter {
  if (size < HEADER_SIZE + TRAILER_SIZE) throw new CorruptBlockError(`chunk ${path} is truncated`);
  const trailer = read(size - TRAILER_SIZE, TRAILER_SIZE);
  if (!trailer.subarray(8).equals(MAGIC)) throw new CorruptBlockError(`chunk ${path} has no valid trailer`);
  const header = read(0, HEADER_SIZE);
  if (!header.subarray(0, 4).equals(MAGIC) || header[4] !== VERSION) {
    throw new CorruptBlockError(`chunk ${path} has format version ${header[4]}; this build reads version ${VERSION}`);
  }
  const flen = trailer.readUInt32LE(0);
  if (flen > size - HEADER_SIZE - TRAILER_SIZE) throw new CorruptBlockError(`chunk ${path} footer length is invalid`);
  const footer = read(size - TRAILER_SIZE - flen, flen);
  if (crc32(footer) !== trailer.readUInt32LE(4)) throw new CorruptBlockError(`chunk ${path} footer checksum mismatch`);
  const n = footer.readUInt32LE(0);
  const blocks: ChunkFooter['blocks'] = [];
  let fp = 4;
  for (let i = 0; i < n; i++) {
    const info: BlockInfo = {
      firstTs: footer.readBigInt64LE(fp),
      minTs: footer.readBigInt64LE(fp + 8),
      maxTs: footer.readBigInt64LE(fp + 16),
      entries: footer.readUInt32LE(fp + 24),
      lineBytes: footer.readUInt32LE(fp + 28),
      metaU: footer.readUInt32LE(fp + 52),
      smU: footer.readUInt32LE(fp + 56),
      linesU: footer.readUInt32LE(fp + 60),
    };
    blocks.push({
      kind: 'file', path, index: i, info,
      offset: footer.readUInt32LE(fp + 32),
      indexLen: footer.readUInt32LE(fp + 36),
      metaC: footer.readUInt32LE(fp + 40),
      smC: footer.readUInt32LE(fp + 44),
      linesC: footer.readUInt32LE(fp + 48),
      crcIndex: footer.readUInt32LE(fp + 64),
      crcMeta: footer.readUInt32LE(fp + 68),
      crcSm: footer.readUInt32LE(fp + 72),
      crcLines: footer.readUInt32LE(fp + 76),
    });
    fp += BLOCK_META_SIZE;
  }
  const tl = footer.readUInt32LE(fp);
  const tenant = footer.toString('utf8', fp + 4, fp + 4 + tl);
  fp += 4 + tl;
  const ll = footer.readUInt32LE(fp);
  const labels = footer.toString('utf8', fp + 4, fp + 4 + ll);
  return { tenant, labels, blocks };
}

function blockFd(path: string, fdCache?: Map<string, number>): { fd: number; own: boolean } {
  const fd = fdCache?.get(path);
  if (fd !== undefined) return { fd, own: false };
  const nfd = openSync(path, 'r');
  if (fdCache) {
    fdCache.set(path, nfd);
    return { fd: nfd, own: false };
  }
  return { fd: nfd, own: true };
}

function readAt(src: Extract<BlockSource, { kind: 'file' }>, pos: number, len: number, fdCache?: Map<string, number>, into?: Scratch): Uint8Array {
  const buf = into ? into.get(len) : Buffer.allocUnsafe(len);
  if (len === 0) return buf;
  const { fd, own } = blockFd(src.path, fdCache);
  try {
    const got = readSync(fd, buf, 0, len, pos);
    if (got !== len) throw new CorruptBlockError(`chunk ${src.path} block ${src.index} is truncated`);
  } finally {
    if (own) closeSync(fd);
  }
  return buf;
}

/** Reads a block's index section (block-index.ts), verifying its checksum. */
export function readFileBlockIndex(src: Extract<BlockSource, { kind: 'file' }>, fdCache?: Map<string, number>, into?: Scratch): Uint8Array {
  const buf = readAt(src, src.offset, src.indexLen, fdCache, into);
  if (crc32(buf) !== src.crcIndex) throw new CorruptBlockError(`chunk ${src.path} block ${src.index} index failed its checksum`);
  return buf;
}

/**
 * Reads the sections `want` (SEC_* bits) of one block with a single positioned read (meta, sm
 * and lines are stored in that order, so any set the scan asks for is one contiguous range),
 * verifying each section's checksum. Unread sections are empty arrays.
 */
export function readFileBlock(src: Extract<BlockSource, { kind: 'file' }>, fdCache?: Map<string, number>, want = SEC_ALL, index?: Uint8Array, into?: Scratch): BlockData {
  const { from, to } = blockRange(src, want);
  return blockSections(src, readAt(src, from, to - from, fdCache, into), from, want, index);
}

/** The byte range of a block's sections `want` (meta, sm and lines are stored in that order). */
function blockRange(src: Extract<BlockSource, { kind: 'file' }>, want: number): { from: number; to: number } {
  const metaAt = src.offset + src.indexLen;
  const smAt = metaAt + src.metaC;
  const linesAt = smAt + src.smC;
  const from = want & SEC_INDEX ? src.offset : want & SEC_META ? metaAt : want & SEC_SM ? smAt : linesAt;
  const to = want & SEC_LINES ? linesAt + src.linesC : want & SEC_SM ? linesAt : smAt;
  return { from, to };
}

/** A block's sections `want` from `buf`, the file's bytes from offset `from` on, each checksum verified. */
function blockSections(src: Extract<BlockSource, { kind: 'file' }>, buf: Uint8Array, from: number, want: number, index?: Uint8Array): BlockData {
  const metaAt = src.offset + src.indexLen;
  const smAt = metaAt + src.metaC;
  const linesAt = smAt + src.smC;
  const part = (at: number, len: number, bit: number, crc: number, what: string): Uint8Array => {
    if (!(want & bit)) return EMPTY;
    const u = buf.subarray(at - from, at - from + len);
    if (crc32(u) !== crc) throw new CorruptBlockError(`chunk ${src.path} block ${src.index} ${what} failed its checksum`);
    return u;
  };
  return {
    info: src.info,
    codec: CODEC_LZ4,
    index: index ?? part(src.offset, src.indexLen, SEC_INDEX, src.crcIndex, 'index section'),
    meta: part(metaAt, src.metaC, SEC_META, src.crcMeta, 'meta section'),
    sm: part(smAt, src.smC, SEC_SM, src.crcSm, 'metadata section'),
    lines: part(linesAt, src.linesC, SEC_LINES, src.crcLines, 'lines section'),
    loaded: want,
  };
}

const EMPTY = new Uint8Array(0);

/**
 * Directories chunk files were written into: a flush writes many files into one day directory,
 * and a recursive mkdir per file showed up in ingest profiles. A directory removed since (retention,
 * deletes) is made again when the open fails with ENOENT.
 */
const madeDirs = new Set<string>();

async function openInDir(path: string): Promise<FileHandle> {
  const dir = dirname(path);
  if (!madeDirs.has(dir)) {
    await mkdir(dir, { recursive: true });
    madeDirs.add(dir);
  }
  try {
    return await openAsync(path, 'w');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dir, { recursive: true });
    return openAsync(path, 'w');
  }
}

/** Async variant for the ingester: builds the file in memory and writes it without blocking the event loop. */
export async function writeChunkFileAsync(path: string, tenant: string, labels: string, blocks: BlockData[]): Promise<ChunkSummary> {
  const summary: ChunkSummary = { path, minTs: 0n, maxTs: 0n, entries: 0, lineBytes: 0, bytes: 0, blocks: [] };
  const tenantB = Buffer.from(tenant, 'utf8');
  const labelsB = Buffer.from(labels, 'utf8');
  const footer = Buffer.alloc(4 + blocks.length * BLOCK_META_SIZE + 4 + tenantB.length + 4 + labelsB.length);
  footer.writeUInt32LE(blocks.length, 0);
  const parts: Uint8Array[] = [];
  const header = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(header, 0);
  header[4] = VERSION;
  header[5] = CODEC_LZ4;
  parts.push(header);
  let offset = HEADER_SIZE;
  let fp = 4;
  blocks.forEach((b, i) => {
    if (b.codec !== CODEC_LZ4) throw new Error('only closed (compressed) blocks go into chunk files');
    const index = b.index ?? EMPTY;
    const crcIndex = crc32(index);
    const crcMeta = crc32(b.meta);
    const crcSm = crc32(b.sm);
    const crcLines = crc32(b.lines);
    parts.push(index, b.meta, b.sm, b.lines);
    const inf = b.info;
    footer.writeBigInt64LE(inf.firstTs, fp);
    footer.writeBigInt64LE(inf.minTs, fp + 8);
    footer.writeBigInt64LE(inf.maxTs, fp + 16);
    footer.writeUInt32LE(inf.entries, fp + 24);
    footer.writeUInt32LE(inf.lineBytes, fp + 28);
    footer.writeUInt32LE(offset, fp + 32);
    footer.writeUInt32LE(index.length, fp + 36);
    footer.writeUInt32LE(b.meta.length, fp + 40);
    footer.writeUInt32LE(b.sm.length, fp + 44);
    footer.writeUInt32LE(b.lines.length, fp + 48);
    footer.writeUInt32LE(inf.metaU, fp + 52);
    footer.writeUInt32LE(inf.smU, fp + 56);
    footer.writeUInt32LE(inf.linesU, fp + 60);
    footer.writeUInt32LE(crcIndex, fp + 64);
    footer.writeUInt32LE(crcMeta, fp + 68);
    footer.writeUInt32LE(crcSm, fp + 72);
    footer.writeUInt32LE(crcLines, fp + 76);
    fp += BLOCK_META_SIZE;
    summary.blocks.push({
      kind: 'file', path, index: i, info: inf, offset, indexLen: index.length, metaC: b.meta.length, smC: b.sm.length, linesC: b.lines.length,
      crcIndex, crcMeta, crcSm, crcLines,
    });
    offset += index.length + b.meta.length + b.sm.length + b.lines.length;
    if (i === 0 || inf.minTs < summary.minTs) summary.minTs = inf.minTs;
    if (i === 0 || inf.maxTs > summary.maxTs) summary.maxTs = inf.maxTs;
    summary.entries += inf.entries;
    summary.lineBytes += inf.lineBytes;
  });
  footer.writeUInt32LE(tenantB.length, fp);
  tenantB.copy(footer, fp + 4);
  fp += 4 + tenantB.length;
  footer.writeUInt32LE(labelsB.length, fp);
  labelsB.copy(footer, fp + 4);
  parts.push(footer);
  const trailer = Buffer.alloc(TRAILER_SIZE);
  trailer.writeUInt32LE(footer.length, 0);
  trailer.writeUInt32LE(crc32(footer), 4);
  MAGIC.copy(trailer, 8);
  parts.push(trailer);
  summary.bytes = offset + footer.length + TRAILER_SIZE;
  const tmp = path + '.tmp';
  const fh = await openInDir(tmp);
  try {
    await fh.writev(parts as Buffer[]);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return summary;
}
