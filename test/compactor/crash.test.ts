// SIGKILL at arbitrary points during flushes and compaction (merging, unlinking): after a
// restart every pushed line is indexed exactly once, no chunk file is left outside the index
// and nothing waits for deletion once the server has started and run a pass.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { walkChunkFiles } from '../../src/compactor/compactor.js';
import { removeDir, startTestServer, tempDataDir } from '../helpers/server.js';
import { MS, nowNs, push, queryLines } from './helpers.js';

describe('SIGKILL during flush and compaction', () => {
  it('never loses or double-indexes entries and leaves no orphan files', async () => {
    const dataDir = tempDataDir('bramble-crash-');
    const cfg = join(dataDir, 'bramble.yaml');
    writeFileSync(cfg, [
      'compactor:',
      '  compaction_interval: 300ms',
      '  retention_delete_delay: 0s',
      'ingester:',
      '  flush_check_period: 1s',
      'limits_config:',
      '  reject_old_samples: false',
      '',
    ].join('\n'));
    const base = nowNs() - 3_000_000n * MS;
    let sent = 0;
    let seed = 7;
    let merges = 0;
    try {
      for (let round = 0; round < 5; round++) {
        const srv = await startTestServer({ dataDir, configFile: cfg });
        // many small chunks: push then flush, repeatedly, while the compactor merges them
        for (let k = 0; k < 12; k++) {
          const entries: [bigint, string][] = [];
          for (let i = 0; i < 30; i++) entries.push([base + BigInt(sent + i) * MS, `round ${round} batch ${k} entry ${sent + i}`]);
          const r = await push(srv.url, { app: 'crash', shard: String(k % 3) }, entries);
          expect(r.status).toBe(204);
          sent += entries.length;
          void fetch(`${srv.url}/flush`, { method: 'POST' }).catch(() => {});
        }
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        await new Promise((r) => setTimeout(r, 200 + (seed % 900)));
        await srv.kill();
        merges += srv.logs.filter((l) => l.includes('compaction finished') && !l.includes('"inputs":0')).length;
      }
      expect(merges).toBeGreaterThan(0); // the kills did land around compactions
      // final clean run: start (recovery), let one pass run, stop (flushes everything)
      const srv = await startTestServer({ dataDir, configFile: cfg });
      await new Promise((r) => setTimeout(r, 1000));
      const q = await queryLines(srv.url, '{app="crash"}', base - MS, nowNs());
      expect(q.lines.length).toBe(sent);
      await fetch(`${srv.url}/flush`, { method: 'POST' });
      await new Promise((r) => setTimeout(r, 800));
      expect(await srv.stop()).toBe(0);
      const db = new Database(join(dataDir, 'index.db'), { readonly: true });
      try {
        const total = db.prepare('SELECT SUM(entries) FROM chunks').pluck().get() as number;
        expect(total).toBe(sent);
        const indexed = new Set(db.prepare('SELECT path FROM chunks').pluck().all() as string[]);
        const pending = db.prepare('SELECT COUNT(*) FROM pending_deletes').pluck().get() as number;
        const files = walkChunkFiles(join(dataDir, 'chunks'));
        // files still pending deletion are allowed only if the table says so
        expect(files.filter((f) => !indexed.has(f)).length).toBe(pending);
        expect(files.every((f) => f.endsWith('.chk'))).toBe(true);
      } finally {
        db.close();
      }
      expect(readdirSync(dataDir)).toContain('index.db');
    } finally {
      removeDir(dataDir);
    }
  }, 180_000);
});
