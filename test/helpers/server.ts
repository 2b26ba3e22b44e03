// Starts a real Bramble server as a child process on 127.0.0.1:0 with a fresh data directory,
// waits for its "listening on" log line, and stops it by PID (SIGTERM, or SIGKILL for crash tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SHARED = resolve(ROOT, '../shared');

export interface TestServer {
  url: string;
  pid: number;
  dataDir: string;
  proc: ChildProcess;
  logs: string[];
  /** SIGTERM and wait for exit */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit */
  kill(): Promise<void>;
}

/**
 * Servers started by this test file and not yet exited. A test whose assertion fails before it
 * stops its server would otherwise leave that server running after the file ends: they are
 * killed by PID once the file's tests are done (vitest imports this helper afresh per file).
 */
const live = new Set<ChildProcess>();
afterAll(() => {
  for (const p of live) {
    try {
      if (p.exitCode === null && p.pid !== undefined) process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

export function tempDataDir(prefix = 'bramble-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startTestServer(opts: { dataDir?: string; args?: string[]; configFile?: string } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const args = ['--import', 'tsx', join(ROOT, 'src/main.ts'), '-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0', `-common.path-prefix=${dataDir}`];
  if (opts.configFile) args.push(`-config.file=${opts.configFile}`);
  if (opts.args) args.push(...opts.args);
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  const logs: string[] = [];
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => {
    live.delete(proc);
    res(code);
  }));
  const url = await new Promise<string>((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error('server did not start in 60s:\n' + logs.join('\n'))), 60_000);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        logs.push(line);
        const m = /listening on (https?):\/\/([^:"]+):(\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          res(`${m[1]}://127.0.0.1:${m[3]}`);
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code} before listening:\n${logs.join('\n')}`));
    });
  });
  return {
    url, pid: proc.pid!, dataDir, proc, logs,
    async stop() {
      if (proc.exitCode === null) process.kill(proc.pid!, 'SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode === null) process.kill(proc.pid!, 'SIGKILL');
      await exited;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
