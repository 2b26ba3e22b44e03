// Compactor: merging small chunks and retention (global, per-stream rules, straddling chunks).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RetentionRules } from '../../src/compactor/retention.js';
import { parseLabelsString } from '../../src/util/labels.js';
import { removeDir } from '../helpers/server.js';
import { flush, MS, nowNs, push, queryLines, startInProcess } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function server(tune?: Parameters<typeof startInProcess>[0]) {
  const s = await startInProcess(tune);
  cleanups.push(async () => {
    await s.close();
    removeDir(s.dataDir);
  });
  return s;
}

describe('retention rules (Loki RetentionPeriodFor)', () => {
  const rules = new RetentionRules({
    retentionPeriodMs: 1000,
    retentionStream: [
      { selector: '{app="a"}', priority: 1, periodMs: 5000 },
      { selector: '{app="a", env="dev"}', priority: 2, periodMs: 7000 },
      { selector: '{app=~"a|b"}', priority: 1, periodMs: 3000 },
    ],
  });
  it('highest priority wins, equal priority keeps the shortest, no match = global', () => {
    expect(rules.periodFor(parseLabelsString('{app="a", env="dev"}'))).toBe(7000);
    expect(rules.periodFor(parseLabelsString('{app="a"}'))).toBe(3000);
    expect(rules.periodFor(parseLabelsString('{app="b"}'))).toBe(3000);
    expect(rules.periodFor(parseLabelsString('{app="c"}'))).toBe(1000);
  });
  it('rejects a bad selector with the config key in the message', () => {
    expect(() => new RetentionRules({ retentionPeriodMs: 0, retentionStream: [{ selector: '{app=}', priority: 1, periodMs: 1 }] })).toThrow(/retention_stream selector/);
  });
});

describe('merging small chunks', () => {
  it('merges many small flushes of a stream into one chunk; queries see the same lines; old files go', async () => {
    const s = await server();
    const base = nowNs() - 600_000n * MS;
    const sent: [bigint, string][] = [];
    const N = 40;
    for (let i = 0; i < N; i++) {
      const batch: [bigint, string][] = [];
      for (let j = 0; j < 25; j++) batch.push([base + BigInt(i * 1000 + j) * MS, `flush ${i} line ${j} level=info`]);
      expect((await push(s.url, { job: 'm' }, batch)).status).toBe(204);
      sent.push(...batch);
      await flush(s.url);
    }
    await push(s.url, { job: 'other' }, [[base, 'single']]);
    await flush(s.url);
    const idx = s.services.ingester.index;
    const before = idx.allChunks();
    expect(before.length).toBe(N + 1);
    const oldPaths = before.map((c) => c.path);
    const t0 = performance.now();
    const rep = await s.services.compactor.run();
    const ms = performance.now() - t0;
    console.log(`merge: ${rep.merged.inputs} chunks -> ${rep.merged.outputs} in ${ms.toFixed(1)} ms`);
    expect(rep.merged).toEqual({ inputs: N, outputs: 1 });
    const after = idx.allChunks();
    expect(after.length).toBe(2);
    expect(after.reduce((a, c) => a + c.entries, 0)).toBe(N * 25 + 1);
    // delay 0: the next pass unlinks the replaced files
    await s.services.compactor.run();
    for (const p of oldPaths) if (!after.some((c) => c.path === p)) expect(existsSync(p)).toBe(false);
    const got = await queryLines(s.url, '{job="m"}', base - MS, base + 10_000_000n * MS);
    expect(got.lines.map((l) => l[1])).toEqual(sent.map((e) => e[1]));
    // nothing left to merge
    expect((await s.services.compactor.run()).merged.inputs).toBe(0);
  });
});

describe('removing replaced files', () => {
  it('unlinks them off the event loop; one that cannot be removed stays pending and goes on a later pass', async () => {
    const s = await server();
    const base = nowNs() - 600_000n * MS;
    for (let i = 0; i < 12; i++) {
      expect((await push(s.url, { job: 'p' }, [[base + BigInt(i) * MS, `line ${i}`]])).status).toBe(204);
      await flush(s.url);
    }
    const idx = s.services.ingester.index;
    const oldPaths = idx.allChunks().map((c) => c.path);
    expect((await s.services.compactor.run()).merged).toEqual({ inputs: 12, outputs: 1 });
    // one replaced file is now a non-empty directory: unlink fails (EISDIR), not ENOENT
    const stuck = oldPaths[5]!;
    rmSync(stuck);
    mkdirSync(stuck);
    writeFileSync(join(stuck, 'x'), 'x');
    const rep = await s.services.compactor.run();
    expect(rep.filesRemoved).toBe(11);
    expect(idx.pendingDeletes(Infinity, true).map((p) => p.path)).toEqual([stuck]);
    expect(s.logs.some((l) => l.includes('cannot remove chunk file'))).toBe(true);
    rmSync(stuck, { recursive: true });
    expect((await s.services.compactor.run()).filesRemoved).toBe(0); // gone already (ENOENT): forgotten
    expect(idx.pendingDeletes(Infinity, true)).toEqual([]);
    for (const p of oldPaths) expect(existsSync(p)).toBe(false);
  });
});

describe('retention', () => {
  it('drops chunks entirely past the stream period, keeps straddling ones, honours retention_stream', async () => {
    const s = await server((c) => {
      c.compactor.retentionEnabled = true;
      c.limits.retentionPeriodMs = 3_600_000; // 1h
      c.limits.retentionStream = [{ selector: '{tier="long"}', priority: 1, periodMs: 48 * 3_600_000 }];
      c.compactor.mergeEnabled = false;
    });
    const now = nowNs();
    const H = 3_600_000n * MS;
    // chunk A: 3h..2h30 ago (expired); chunk B: 1h30..30m ago (straddles the 1h boundary)
    await push(s.url, { app: 'x' }, [[now - 3n * H, 'old 1'], [now - 3n * H + H / 2n, 'old 2']]);
    await flush(s.url);
    await push(s.url, { app: 'x' }, [[now - H - H / 2n, 'straddle 1'], [now - H / 2n, 'straddle 2']]);
    await flush(s.url);
    await push(s.url, { app: 'x', tier: "long" }, [[now - 3n * H, 'kept old']]);
    await flush(s.url);
    const rep = await s.services.compactor.run();
    expect(rep.retentionDropped).toBe(1);
    const q = await queryLines(s.url, '{app="x"}', now - 4n * H, now);
    expect(q.lines.map((l) => l[1])).toEqual(['kept old', 'straddle 1', 'straddle 2']);
    // an hour later the straddling chunk is fully expired too
    const later = await s.services.compactor.run(Date.now() + 3_600_000);
    expect(later.retentionDropped).toBe(1);
    const q2 = await queryLines(s.url, '{app="x", tier!="long"}', now - 4n * H, now);
    expect(q2.lines).toEqual([]);
    // the stream no longer shows up in series for that range
    const series = await (await fetch(`${s.url}/loki/api/v1/series?match[]={app="x"}&start=${now - 4n * H}&end=${now}`)).json() as { data: Record<string, string>[] };
    expect(series.data).toEqual([{ app: 'x', service_name: 'x', tier: 'long' }]);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/bramble_compactor_chunks_deleted_total\{reason="retention"\} 2/);
  });

  it('does nothing without retention_enabled', async () => {
    const s = await server((c) => {
      c.limits.retentionPeriodMs = 1000;
    });
    await push(s.url, { app: 'x' }, [[nowNs() - 3_600_000_000_000n, 'old']]);
    await flush(s.url);
    expect((await s.services.compactor.run()).retentionDropped).toBe(0);
    expect(s.services.ingester.index.allChunks().length).toBe(1);
  });
});
