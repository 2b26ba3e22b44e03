// Replays real Grafana Loki's recorded answers (../shared/golden) against a fresh server started
// with the limits they were recorded under, using the project's own checker script.
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED, startTestServer, removeDir, type TestServer } from './helpers/server.js';

// realpath: the checker only runs when invoked by its real path (a symlinked shared/ would not)
const GOLDEN = realpathSync(join(SHARED, 'golden'));

describe('golden corpus (real Loki answers)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ configFile: join(GOLDEN, 'server-config.yaml') });
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(server.dataDir);
  });

  it('passes every public golden case', async () => {
    const out = await new Promise<{ code: number; stdout: string }>((res) => {
      execFile(process.execPath, [join(GOLDEN, 'check.mjs'), '--url', server.url, '--ingest'], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: stdout + stderr });
      });
    });
    const summary = /golden: (\d+) passed, (\d+) failed/.exec(out.stdout);
    expect(summary, out.stdout.slice(-5000)).not.toBeNull();
    if (out.code !== 0) console.log(out.stdout.slice(-20000));
    expect(Number(summary![2])).toBe(0);
  }, 600_000);
});
