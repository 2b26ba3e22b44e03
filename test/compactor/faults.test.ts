// Faults: a corrupt chunk fails only the queries touching it (500 naming the chunk), repair
// re-indexes what is readable, and a disk-full write fails pushes with 5xx without
// acknowledging them, the server recovering by itself when writes work again.
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { repairDataDir } from '../../src/compactor/repair.js';
import { removeDir } from '../helpers/server.js';
import { flush, MS, nowNs, push, queryLines, startInProcess } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function flipByte(path: string, at: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

describe('corrupt chunks and repair', () => {
  it('fails only queries that touch the bad chunk, then repair drops/salvages it', async () => {
    const s = await startInProcess((c) => {
      c.compactor.mergeEnabled = false;
    });
    const t0 = nowNs() - 600_000n * MS;
    const lines: [bigint, string][] = [];
    for (let i = 0; i < 300; i++) lines.push([t0 + BigInt(i) * MS, `line ${i} ${'x'.repeat(50)}`]);
    await push(s.url, { app: 'bad' }, lines);
    await push(s.url, { app: 'good' }, lines);
    await flush(s.url);
    const idx = s.services.ingester.index;
    const badStream = idx.loadStreams().find((r) => r.labels.includes('bad'))!;
    const bad = idx.streamChunks(badStream.id)[0]!;
    const size = statSync(bad.path).size;
    for (let at = 8; at < size * 0.6; at += 7) flipByte(bad.path, at); // block data, footer intact
    const q = await queryLines(s.url, '{app="bad"}', t0 - MS, nowNs());
    expect(q.status).toBe(500);
    expect(q.body).toContain(bad.path);
    expect(s.logs.join('')).toMatch(/query failed; the named chunk file is damaged: stop the server and run `bramble repair`/);
    const ok = await queryLines(s.url, '{app="good"}', t0 - MS, nowNs());
    expect(ok.lines.length).toBe(300);
    await s.close();
    const msgs: string[] = [];
    const rep = await repairDataDir(s.dataDir, { info: (m) => msgs.push(m), warn: (m) => msgs.push(m) });
    expect(rep.checked).toBe(2);
    expect(rep.droppedRows.length + rep.salvaged.length).toBe(1);
    expect(msgs.join('\n')).toContain(bad.path);
    // restart: queries work again (the bad stream lost only what was unreadable)
    const s2 = await startInProcess((c) => { c.compactor.mergeEnabled = false; }, s.dataDir);
    cleanups.push(async () => {
      await s2.close();
      removeDir(s.dataDir);
    });
    expect((await queryLines(s2.url, '{app="bad"}', t0 - MS, nowNs())).status).toBe(200);
    expect((await queryLines(s2.url, '{app="good"}', t0 - MS, nowNs())).lines.length).toBe(300);
  });

  it('repair indexes orphan chunk files and rebuilds a lost index', async () => {
    const s = await startInProcess((c) => { c.compactor.mergeEnabled = false; });
    const t0 = nowNs() - 600_000n * MS;
    await push(s.url, { app: 'o1' }, [[t0, 'one'], [t0 + MS, 'two']]);
    await push(s.url, { app: 'o2' }, [[t0, 'three']]);
    await flush(s.url);
    await s.close();
    const { rmSync, readdirSync } = await import('node:fs');
    for (const f of readdirSync(s.dataDir)) if (f.startsWith('index.db')) rmSync(`${s.dataDir}/${f}`);
    rmSync(`${s.dataDir}/wal`, { recursive: true, force: true });
    const rep = await repairDataDir(s.dataDir, { info: () => {}, warn: () => {} });
    expect(rep.added).toHaveLength(2);
    const s2 = await startInProcess(() => {}, s.dataDir);
    cleanups.push(async () => {
      await s2.close();
      removeDir(s.dataDir);
    });
    expect((await queryLines(s2.url, '{app=~"o.+"}', t0 - MS, nowNs())).lines.map((l) => l[1]).sort()).toEqual(['one', 'three', 'two']);
  });
});

describe('disk full (ENOSPC)', () => {
  it('fails pushes with 5xx, acknowledges nothing, and recovers when writes work again', async () => {
    const s = await startInProcess();
    cleanups.push(async () => {
      await s.close();
      removeDir(s.dataDir);
    });
    // Inject ENOSPC into every FileHandle write (chunk files and buffered WAL segments use
    // writev, direct WAL segments write).
    const fh = await open(`${s.dataDir}/probe`, 'w');
    type Write = (...a: unknown[]) => Promise<unknown>;
    const proto = Object.getPrototypeOf(fh) as { writev: Write; write: Write };
    await fh.close();
    const orig = proto.writev;
    const origWrite = proto.write;
    let full = true;
    const enospc = () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    proto.writev = function (this: unknown, ...a: unknown[]) {
      return full ? enospc() : orig.apply(this, a);
    };
    proto.write = function (this: unknown, ...a: unknown[]) {
      return full ? enospc() : origWrite.apply(this, a);
    };
    try {
      const t0 = nowNs() - 60_000n * MS;
      const r = await push(s.url, { app: 'full' }, [[t0, 'first']]);
      expect(r.status).toBeGreaterThanOrEqual(500);
      expect(await r.text()).toMatch(/ENOSPC/);
      full = false;
      // the client retries the same entry: accepted (not dropped as a duplicate of an unacknowledged one)
      expect((await push(s.url, { app: 'full' }, [[t0, 'first']])).status).toBe(204);
      full = true;
      const f = await fetch(`${s.url}/flush`, { method: 'POST' });
      expect(f.status).toBeGreaterThanOrEqual(500);
      full = false;
      await flush(s.url);
      expect(s.services.ingester.index.allChunks()).toHaveLength(1);
      const walBytes = statSync(`${s.dataDir}/wal`).isDirectory();
      expect(walBytes).toBe(true);
      expect((await push(s.url, { app: 'full' }, [[t0 + MS, 'second']])).status).toBe(204);
      const q = await queryLines(s.url, '{app="full"}', t0 - MS, nowNs());
      expect(q.lines.map((l) => l[1])).toEqual(['first', 'second']);
    } finally {
      proto.writev = orig;
      proto.write = origWrite;
    }
  });
});
