// `bramble repair`: rebuilds what the SQLite index says from what the chunk files hold (their
// footers are self-describing, FORMAT.md). Run it with the server stopped. It
//  - sets a damaged index.db aside (index.db.corrupt-<time>) and starts a fresh one,
//  - checks every indexed chunk (footer + every block's checksum): unreadable chunks lose their
//    index row and are renamed to <file>.corrupt; chunks with some bad blocks are rewritten with
//    the readable blocks only,
//  - indexes orphan chunk files that read cleanly (unless they overlap indexed chunks of the
//    same stream: those are leftovers of an interrupted flush or compaction, removed at start),
//  - removes temp files and files already scheduled for deletion,
// and returns (and prints) a report of what it did.
import { existsSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { readChunkFooter, readFileBlock, writeChunkFileAsync } from '../chunk/chunk-file.js';
import { decodeLines, decodeMeta, decodeStructuredMetadata } from '../chunk/block-reader.js';
import type { BlockData } from '../chunk/block.js';
import { IndexDb } from '../index/index-db.js';
import { fingerprint, parseLabelsString } from '../util/labels.js';
import { unlinkQuiet, walkChunkFiles } from './compactor.js';

export interface RepairLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface RepairReport {
  indexReset: boolean;
  checked: number;
  droppedRows: { path: string; reason: string }[];
  salvaged: { path: string; badBlocks: number; newPath: string }[];
  added: string[];
  skippedOrphans: { path: string; reason: string }[];
  removedFiles: string[];
}

/** Verifies a chunk completely: footer, then every block's checksum and section decoding. */
function verifyChunk(path: string): { tenant: string; labels: string; good: BlockData[]; bad: number; blocks: number } {
  const f = readChunkFooter(path);
  const good: BlockData[] = [];
  let bad = 0;
  for (const b of f.blocks) {
    try {
      const d = readFileBlock(b);
      decodeMeta(d);
      decodeLines(d);
      decodeStructuredMetadata(d);
      good.push(d);
    } catch {
      bad++;
    }
  }
  return { tenant: f.tenant, labels: f.labels, good, bad, blocks: f.blocks.length };
}

function indexIsHealthy(path: string): boolean {
  if (!existsSync(path)) return true;
  try {
    const db = new Database(path, { fileMustExist: true });
    try {
      return db.pragma('integrity_check', { simple: true }) === 'ok';
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}

export async function repairDataDir(dataDir: string, log: RepairLog): Promise<RepairReport> {
  dataDir = resolve(dataDir);
  const rep: RepairReport = { indexReset: false, checked: 0, droppedRows: [], salvaged: [], added: [], skippedOrphans: [], removedFiles: [] };
  const dbPath = join(dataDir, 'index.db');
  if (!indexIsHealthy(dbPath)) {
    const aside = `${dbPath}.corrupt-${Date.now()}`;
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, aside + suffix);
    rep.indexReset = true;
    log.warn(`index.db failed SQLite's integrity check; moved it to ${aside} and rebuilding from chunk files`);
  }
  const index = new IndexDb(dbPath);
  try {
    for (const p of index.pendingDeletes(0, true)) {
      unlinkQuiet(p.path);
      index.donePendingDelete(p.path);
      rep.removedFiles.push(p.path);
    }
    const root = join(dataDir, 'chunks');
    // 1. indexed chunks
    const rows = index.allChunks();
    let n = 0;
    for (const row of rows) {
      if (++n % 500 === 0) log.info(`checked ${n}/${rows.length} indexed chunks`);
      rep.checked++;
      let v;
      try {
        v = verifyChunk(row.path);
      } catch (e) {
        const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file is missing' : (e as Error).message;
        index.swapChunks([row.id], [], 0);
        index.donePendingDelete(row.path);
        if (existsSync(row.path)) renameSync(row.path, row.path + '.corrupt');
        rep.droppedRows.push({ path: row.path, reason });
        log.warn(`dropped index row for ${row.path}: ${reason}`);
        continue;
      }
      if (v.bad === 0) continue;
      if (v.good.length === 0) {
        index.swapChunks([row.id], [], 0);
        index.donePendingDelete(row.path);
        renameSync(row.path, row.path + '.corrupt');
        rep.droppedRows.push({ path: row.path, reason: `all ${v.blocks} blocks are unreadable` });
        log.warn(`dropped index row for ${row.path}: all ${v.blocks} blocks are unreadable`);
        continue;
      }
      const newPath = row.path.replace(/\.chk$/, `-r${Date.now()}.chk`);
      const s = await writeChunkFileAsync(newPath, v.tenant, v.labels, v.good);
      index.swapChunks([row.id], [{ streamId: row.streamId, chunk: { minTs: s.minTs, maxTs: s.maxTs, path: s.path, bytes: s.bytes, lineBytes: s.lineBytes, entries: s.entries } }], 0);
      index.donePendingDelete(row.path);
      renameSync(row.path, row.path + '.corrupt');
      rep.salvaged.push({ path: row.path, badBlocks: v.bad, newPath });
      log.warn(`rewrote ${row.path} without its ${v.bad} unreadable block(s) as ${newPath}`);
    }
    // 2. files the index does not know
    const known = index.knownPaths();
    const streams = new Map<string, number>();
    for (const s of index.loadStreams()) streams.set(`${s.tenant}\u0000${s.labels}`, s.id);
    for (const path of walkChunkFiles(root)) {
      if (path.endsWith('.tmp')) {
        unlinkQuiet(path);
        rep.removedFiles.push(path);
        continue;
      }
      if (!path.endsWith('.chk') || known.has(path)) continue;
      let v;
      try {
        v = verifyChunk(path);
      } catch (e) {
        rep.skippedOrphans.push({ path, reason: `unreadable: ${(e as Error).message}` });
        continue;
      }
      if (v.bad > 0) {
        rep.skippedOrphans.push({ path, reason: `${v.bad} of ${v.blocks} blocks are unreadable` });
        continue;
      }
      const key = `${v.tenant}\u0000${v.labels}`;
      let sid = streams.get(key);
      let minTs = v.good[0]!.info.minTs;
      let maxTs = v.good[0]!.info.maxTs;
      let entries = 0;
      let lineBytes = 0;
      for (const b of v.good) {
        if (b.info.minTs < minTs) minTs = b.info.minTs;
        if (b.info.maxTs > maxTs) maxTs = b.info.maxTs;
        entries += b.info.entries;
        lineBytes += b.info.lineBytes;
      }
      if (sid !== undefined && index.streamChunks(sid).some((c) => c.maxTs >= minTs && c.minTs <= maxTs)) {
        rep.skippedOrphans.push({ path, reason: 'overlaps indexed chunks of its stream (leftover of an interrupted flush or compaction; the server removes it at start)' });
        continue;
      }
      if (sid === undefined) {
        const labels = parseLabelsString(v.labels);
        sid = index.createStream(v.tenant, fingerprint(labels), v.labels, labels);
        streams.set(key, sid);
      }
      const flushedPos = index.streamById(sid)?.flushedPos ?? -1;
      const { size } = statSync(path);
      index.addChunk(sid, { minTs, maxTs, path, bytes: size, lineBytes, entries }, flushedPos);
      rep.added.push(path);
      log.info(`indexed orphan chunk ${path} (${entries} entries)`);
    }
  } finally {
    index.close();
  }
  log.info(
    `repair finished: ${rep.checked} indexed chunks checked, ${rep.droppedRows.length} rows dropped, ${rep.salvaged.length} chunks salvaged, ` +
      `${rep.added.length} orphan chunks indexed, ${rep.skippedOrphans.length} left unindexed, ${rep.removedFiles.length} files removed` +
      (rep.indexReset ? ', index rebuilt' : ''),
  );
  return rep;
}

export const REPAIR_HELP = `Usage: bramble repair [-common.path-prefix=DIR | DIR]

Checks a Bramble data directory and rebuilds its SQLite index from the chunk files. Stop the
server first. Unreadable chunks lose their index rows (the files are kept as *.corrupt),
partly readable ones are rewritten with their good blocks, and chunk files missing from the
index are added back. Prints what it did; exits 0 when done, 1 on failure.
`;

/** Entry for `bramble repair`. Returns the exit code. */
export async function runRepairCommand(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  let dir = './data';
  for (const a of argv) {
    if (a === '-h' || a === '--help' || a === '-help') {
      io.stdout.write(REPAIR_HELP);
      return 0;
    }
    const m = /^--?common\.path-prefix=(.*)$/.exec(a);
    if (m) dir = m[1]!;
    else if (!a.startsWith('-')) dir = a;
    else {
      io.stderr.write(`bramble repair: unknown flag ${a} (see --help)\n`);
      return 2;
    }
  }
  if (!existsSync(dir)) {
    io.stderr.write(`bramble repair: data directory ${dir} does not exist (pass the server's -common.path-prefix)\n`);
    return 1;
  }
  try {
    const rep = await repairDataDir(dir, { info: (s) => io.stdout.write(s + '\n'), warn: (s) => io.stdout.write('WARNING: ' + s + '\n') });
    io.stdout.write(JSON.stringify(rep, null, 2) + '\n');
    return 0;
  } catch (e) {
    io.stderr.write(`bramble repair: ${(e as Error).message}\n`);
    return 1;
  }
}
