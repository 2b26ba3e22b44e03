// Runs what the container runs, minus Docker: Bramble started with the config file the Helm
// chart renders (port and data directory overridden by flags, as a test must use 127.0.0.1:0
// and a temp dir), and the image's HEALTHCHECK script pointed at it: healthy while the server
// is up and ready, unhealthy once it has stopped.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { DOCKER, execForm, find, parseDockerfile, renderOwn } from './lib.js';

const dir = mkdtempSync(join(tmpdir(), 'bramble-smoke-'));
let server: TestServer | undefined;
afterAll(async () => {
  if (server) await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The HEALTHCHECK command of the runtime stage, aimed at `port`. */
function healthcheck(port: number): { status: number | null; stderr: string } {
  const df = parseDockerfile(readFileSync(join(DOCKER, 'Dockerfile'), 'utf8'));
  const hc = df.instructions.filter((i) => i.cmd === 'HEALTHCHECK').pop()!.args;
  const cmd = execForm(/\bCMD\s+(\[.*\])\s*$/.exec(hc)![1]!)!;
  expect(cmd.join(' ')).toContain('127.0.0.1:3100');
  const args = cmd.slice(1).map((a) => a.replace('127.0.0.1:3100', `127.0.0.1:${port}`));
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('container smoke run (no Docker)', () => {
  it('Bramble starts from the chart config; the HEALTHCHECK passes, and fails once it stops', async () => {
    const cm = find(renderOwn({ name: 'bramble', namespace: 'monitoring', values: { retention: '744h' } }).objects, 'ConfigMap', 'bramble-config');
    const cfgFile = join(dir, 'config.yaml');
    writeFileSync(cfgFile, cm.data['config.yaml']);
    server = await startTestServer({ dataDir: join(dir, 'loki'), configFile: cfgFile });
    expect(server.logs.join('\n')).not.toMatch(/is not used by Bramble; ignored/);
    const port = Number(new URL(server.url).port);

    const now = BigInt(Date.now()) * 1_000_000n;
    const push = await fetch(`${server.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { job: 'smoke' }, values: [[String(now), 'hello from the chart config']] }] }),
    });
    expect(push.status).toBe(204);

    const ok = healthcheck(port);
    expect(ok.status, ok.stderr).toBe(0);

    await server.stop();
    server = undefined;
    const down = healthcheck(port);
    expect(down.status).toBe(1);
  });
});
