// Shutdown does not wait on idle clients: a connection that never sent a request is closed at
// once (as Go's http.Server.Shutdown does in Loki), and one stuck mid-request is closed after
// -server.graceful-shutdown-timeout. Before, SIGTERM waited over a minute for each to time out.
import { describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { removeDir, startTestServer } from '../helpers/server.js';

function open(url: string, send: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const c = connect(Number(u.port), u.hostname, () => {
      if (send) c.write(send);
      resolve(c);
    });
    c.on('error', reject);
  });
}

async function stopWithin(stop: () => Promise<number | null>, ms: number): Promise<number | null | 'still running'> {
  return Promise.race([stop(), new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms))]);
}

describe('shutdown', () => {
  it('closes connections that never sent a request, and exits', async () => {
    const s = await startTestServer();
    const idle = await open(s.url, '');
    const closed = new Promise<void>((r) => idle.on('close', () => r()));
    const code = await stopWithin(() => s.stop(), 15_000);
    expect(code).toBe(0);
    await closed;
    removeDir(s.dataDir);
  }, 30_000);

  it('closes a connection stuck mid-request after the graceful shutdown timeout', async () => {
    const s = await startTestServer({ args: ['-server.graceful-shutdown-timeout=1s'] });
    const stuck = await open(s.url, 'GET /ready HTTP/1.1\r\nHost: x\r\n'); // headers never end
    await new Promise((r) => setTimeout(r, 200));
    const closed = new Promise<void>((r) => stuck.on('close', () => r()));
    const code = await stopWithin(() => s.stop(), 15_000);
    expect(code).toBe(0);
    await closed;
    expect(s.logs.join('')).toContain('shutdown complete');
    removeDir(s.dataDir);
  }, 30_000);
});
