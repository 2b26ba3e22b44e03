// The label index: a SQLite database (better-sqlite3, WAL journal mode) mapping each stream
// (tenant + label set, with its fingerprint) to its chunk files, plus label postings for
// name/value lookups. Chunk bytes never go here; only where they are and what time they cover.
import Database from 'better-sqlite3';
import type { Labels } from '../util/labels.js';

export interface StreamRow {
  id: number;
  tenant: string;
  fingerprint: string;
  labels: string;
  minTs: bigint | null;
  maxTs: bigint | null;
  flushedPos: number;
}

export interface ChunkRow {
  id: number;
  streamId: number;
  minTs: bigint;
  maxTs: bigint;
  path: string;
  bytes: number;
  lineBytes: number;
  entries: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS streams (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  labels TEXT NOT NULL,
  min_ts INTEGER,
  max_ts INTEGER,
  flushed_pos INTEGER NOT NULL DEFAULT -1,
  UNIQUE (tenant, labels)
);
CREATE TABLE IF NOT EXISTS label_postings (
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  stream_id INTEGER NOT NULL,
  PRIMARY KEY (tenant, name, value, stream_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY,
  stream_id INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  line_bytes INTEGER NOT NULL,
  entries INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_stream ON chunks (stream_id, max_ts);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export class IndexDb {
  readonly db: Database.Database;
  private stmts;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmts = {
      insertStream: this.db.prepare('INSERT INTO streams (tenant, fingerprint, labels) VALUES (?, ?, ?)'),
      insertPosting: this.db.prepare('INSERT OR IGNORE INTO label_postings (tenant, name, value, stream_id) VALUES (?, ?, ?, ?)'),
      allStreams: this.db.prepare('SELECT id, tenant, fingerprint, labels, min_ts AS minTs, max_ts AS maxTs, flushed_pos AS flushedPos FROM streams').safeIntegers(true),
      insertChunk: this.db.prepare('INSERT INTO chunks (stream_id, min_ts, max_ts, path, bytes, line_bytes, entries) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      updateStreamRange: this.db.prepare(
        'UPDATE streams SET min_ts = CASE WHEN min_ts IS NULL OR ? < min_ts THEN ? ELSE min_ts END, max_ts = CASE WHEN max_ts IS NULL OR ? > max_ts THEN ? ELSE max_ts END, flushed_pos = ? WHERE id = ?',
      ),
      chunksForStream: this.db
        .prepare('SELECT id, stream_id AS streamId, min_ts AS minTs, max_ts AS maxTs, path, bytes, line_bytes AS lineBytes, entries FROM chunks WHERE stream_id = ? AND max_ts >= ? AND min_ts <= ? ORDER BY min_ts')
        .safeIntegers(true),
      allChunks: this.db.prepare('SELECT id, stream_id AS streamId, min_ts AS minTs, max_ts AS maxTs, path, bytes, line_bytes AS lineBytes, entries FROM chunks').safeIntegers(true),
    };
  }

  loadStreams(): StreamRow[] {
    return (this.stmts.allStreams.all() as Record<string, unknown>[]).map((r) => ({
      id: Number(r.id),
      tenant: r.tenant as string,
      fingerprint: r.fingerprint as string,
      labels: r.labels as string,
      minTs: r.minTs === null ? null : (r.minTs as bigint),
      maxTs: r.maxTs === null ? null : (r.maxTs as bigint),
      flushedPos: Number(r.flushedPos),
    }));
  }

  createStream(tenant: string, fingerprint: string, labelsString: string, labels: Labels): number {
    const tx = this.db.transaction(() => {
      const id = Number(this.stmts.insertStream.run(tenant, fingerprint, labelsString).lastInsertRowid);
      for (const l of labels) this.stmts.insertPosting.run(tenant, l.name, l.value, id);
      return id;
    });
    return tx();
  }

  /** Records a flushed chunk and how far into the WAL the stream is now durable in chunks. */
  addChunk(streamId: number, c: { minTs: bigint; maxTs: bigint; path: string; bytes: number; lineBytes: number; entries: number }, flushedPos: number): number {
    const tx = this.db.transaction(() => {
      const id = Number(this.stmts.insertChunk.run(streamId, c.minTs, c.maxTs, c.path, c.bytes, c.lineBytes, c.entries).lastInsertRowid);
      this.stmts.updateStreamRange.run(c.minTs, c.minTs, c.maxTs, c.maxTs, flushedPos, streamId);
      return id;
    });
    return tx();
  }

  chunksForStream(streamId: number, fromNs: bigint, throughNs: bigint): ChunkRow[] {
    return (this.stmts.chunksForStream.all(streamId, fromNs, throughNs) as Record<string, unknown>[]).map(toChunkRow);
  }

  allChunks(): ChunkRow[] {
    return (this.stmts.allChunks.all() as Record<string, unknown>[]).map(toChunkRow);
  }

  /** Stream ids having label name=value (postings lookup). */
  postings(tenant: string, name: string, value: string): number[] {
    return (this.db.prepare('SELECT stream_id FROM label_postings WHERE tenant = ? AND name = ? AND value = ?').pluck().all(tenant, name, value) as number[]);
  }

  close(): void {
    this.db.close();
  }
}

function toChunkRow(r: Record<string, unknown>): ChunkRow {
  return {
    id: Number(r.id),
    streamId: Number(r.streamId),
    minTs: r.minTs as bigint,
    maxTs: r.maxTs as bigint,
    path: r.path as string,
    bytes: Number(r.bytes),
    lineBytes: Number(r.lineBytes),
    entries: Number(r.entries),
  };
}
