import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wal } from '../../src/wal/wal.js';
import { decodePushRecord, encodePushRecord } from '../../src/wal/record.js';
import { removeDir, tempDataDir } from '../helpers/server.js';

describe.each([{ directIO: true }, { directIO: false }])('WAL (direct I/O allowed: $directIO)', (opts) => {
  it('replays every durable record in order after reopening', async () => {
    const dir = tempDataDir();
    const w = new Wal(dir, 1 << 20, opts);
    w.replay(() => {});
    const positions: number[] = [];
    const proms: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      const { pos, durable } = w.append(encodePushRecord('t', [{ labels: '{a="b"}', entries: [{ tsNs: BigInt(i), line: 'line ' + i, structuredMetadata: [] }] }]));
      positions.push(pos);
      proms.push(durable);
    }
    await Promise.all(proms);
    expect(w.metrics.fsyncs).toBeLessThan(50); // group commit batches records
    await w.close();
    const w2 = new Wal(dir, 1 << 20, opts);
    const seen: { line: string; pos: number }[] = [];
    w2.replay((p, pos) => seen.push({ line: decodePushRecord(p).streams[0]!.entries[0]!.line, pos }));
    expect(seen.map((s) => s.line)).toEqual(Array.from({ length: 50 }, (_, i) => 'line ' + i));
    expect(seen.map((s) => s.pos)).toEqual(positions);
    removeDir(dir);
  });

  it('deletes segments wholly below a position, off the event loop, keeping the one in use', async () => {
    const dir = tempDataDir();
    const w = new Wal(dir, 256, opts);
    w.replay(() => {});
    for (let i = 0; i < 12; i++) await w.append(Buffer.alloc(100, i)).durable;
    const before = readdirSync(dir).filter((f) => f.endsWith('.wal')).sort();
    expect(before.length).toBeGreaterThan(4);
    const pos = w.position();
    expect(w.removeBefore(pos)).toBe(before.length - 1);
    expect(w.removeBefore(pos)).toBe(0); // deletions already under way are not started twice
    for (let t = 0; t < 100 && readdirSync(dir).filter((f) => f.endsWith('.wal')).length > 1; t++) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(dir).filter((f) => f.endsWith('.wal'))).toEqual([before[before.length - 1]]);
    await w.append(Buffer.from('after')).durable;
    await w.close();
    const seen: string[] = [];
    new Wal(dir, 256, opts).replay((p) => seen.push(p.toString()));
    expect(seen[seen.length - 1]).toBe('after');
    removeDir(dir);
  });

  it('writes a record given in parts as one payload with one checksum', async () => {
    const dir = tempDataDir();
    const w = new Wal(dir, 1 << 20, opts);
    w.replay(() => {});
    const parts = [Buffer.from('head-'), new Uint8Array(0), Buffer.from('body bytes '.repeat(100)), Buffer.from('-tail')];
    await w.append(parts).durable;
    await w.append(Buffer.from('single')).durable;
    await w.close();
    const seen: string[] = [];
    new Wal(dir, 1 << 20, opts).replay((p) => seen.push(p.toString()));
    expect(seen).toEqual([Buffer.concat(parts).toString(), 'single']);
    removeDir(dir);
  });

  it('cuts a torn or corrupt tail at the last good record and keeps going', async () => {
    const dir = tempDataDir();
    const w = new Wal(dir, 1 << 20, opts);
    w.replay(() => {});
    for (let i = 0; i < 3; i++) await w.append(Buffer.from('record-' + i)).durable;
    await w.close();
    const seg = join(dir, readdirSync(dir)[0]!);
    appendFileSync(seg, Buffer.from([0x20, 0, 0, 0, 1, 2, 3])); // half a record
    const w2 = new Wal(dir, 1 << 20, opts);
    const got: string[] = [];
    const stats = w2.replay((p) => got.push(p.toString()));
    expect(got).toEqual(['record-0', 'record-1', 'record-2']);
    expect(stats.truncated).toHaveLength(1);
    expect(stats.truncated[0]!.droppedBytes).toBe(7);
    // flip a byte inside the last record: it fails its checksum and is dropped
    const data = readFileSync(seg);
    data[data.length - 2] ^= 0xff;
    writeFileSync(seg, data);
    const w3 = new Wal(dir, 1 << 20, opts);
    const got3: string[] = [];
    const st3 = w3.replay((p) => got3.push(p.toString()));
    expect(got3).toEqual(['record-0', 'record-1']);
    expect(st3.truncated[0]!.reason).toBe('checksum mismatch');
    removeDir(dir);
  });
});
