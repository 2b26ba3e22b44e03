// Static checks of docker/Dockerfile and .dockerignore (no Docker engine on this machine): the
// instructions are well formed (shellcheck/hadolint-style rules: apt hygiene, exec-form JSON,
// `sh -n` syntax of every RUN), the build runs npm ci → build → prune and compiles native
// addons from source, the runtime stage is non-root 10001 with /loki, EXPOSE 3100 and a node
// HEALTHCHECK on /ready, and nothing is CPU-architecture specific.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/config/config.js';
import { DOCKER, DOCKERFILE_INSTRUCTIONS, ROOT, execForm, expandArgs, parseDockerfile, type Instruction } from './lib.js';

const text = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
const df = parseDockerfile(text);
const runtimeStage = df.stages.length - 1;
const inStage = (stage: number, cmd: string): Instruction[] => df.instructions.filter((i) => i.stage === stage && i.cmd === cmd);
const last = (stage: number, cmd: string): Instruction => {
  const all = inStage(stage, cmd);
  expect(all.length, `${cmd} in stage ${stage}`).toBeGreaterThan(0);
  return all[all.length - 1]!;
};

describe('Dockerfile: syntax', () => {
  it('has only known instructions, a FROM first (after global ARGs), and named stages', () => {
    for (const i of df.instructions) expect(DOCKERFILE_INSTRUCTIONS, `line ${i.line}`).toContain(i.cmd);
    const firstNonArg = df.instructions.find((i) => i.cmd !== 'ARG')!;
    expect(firstNonArg.cmd).toBe('FROM');
    expect(df.stages.length).toBeGreaterThanOrEqual(2);
    for (const s of df.stages) expect(s.name, `stage at line ${s.from.line}`).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(new Set(df.stages.map((s) => s.name)).size).toBe(df.stages.length);
  });

  it('bases every stage on Node 20 bookworm-slim', () => {
    for (const s of df.stages) expect(expandArgs(s.image, df.args)).toBe('node:20-bookworm-slim');
  });

  it('COPY --from names an earlier stage; no ADD (COPY is explicit, no remote URLs)', () => {
    for (const c of df.instructions.filter((i) => i.cmd === 'COPY')) {
      const from = /--from=(\S+)/.exec(c.args)?.[1];
      if (from === undefined) continue;
      const idx = df.stages.findIndex((s) => s.name === from);
      expect(idx, `COPY --from=${from} at line ${c.line}`).toBeGreaterThanOrEqual(0);
      expect(idx).toBeLessThan(c.stage);
    }
    expect(df.instructions.filter((i) => i.cmd === 'ADD')).toEqual([]);
  });

  it('every RUN is valid sh (sh -n)', () => {
    const runs = df.instructions.filter((i) => i.cmd === 'RUN');
    expect(runs.length).toBeGreaterThan(0);
    for (const r of runs) {
      const script = r.args.replace(/^(--mount=\S+\s+)+/, '');
      const res = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
      expect(res.status, `RUN at line ${r.line}: ${res.stderr}`).toBe(0);
    }
  });

  it('apt-get: update and install in one RUN, -y --no-install-recommends, lists removed (hadolint DL3009/DL3014/DL3015)', () => {
    const apt = df.instructions.filter((i) => i.cmd === 'RUN' && /apt-get\s+install/.test(i.args));
    expect(apt.length).toBeGreaterThan(0);
    for (const r of apt) {
      expect(r.args, `line ${r.line}`).toMatch(/apt-get update\b[\s\S]*apt-get install/);
      expect(r.args).toMatch(/apt-get install[^&|;]*\s-y\b/);
      expect(r.args).toMatch(/apt-get install[^&|;]*--no-install-recommends/);
      expect(r.args).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
      expect(r.args).not.toMatch(/apt-get (dist-)?upgrade/);
    }
  });

  it('CMD, ENTRYPOINT and HEALTHCHECK use exec form with valid JSON (hadolint DL3025)', () => {
    for (const cmd of ['CMD', 'ENTRYPOINT']) expect(execForm(last(runtimeStage, cmd).args), cmd).not.toBeNull();
    const hc = last(runtimeStage, 'HEALTHCHECK').args;
    const json = /\bCMD\s+(\[.*\])\s*$/.exec(hc);
    expect(json, 'HEALTHCHECK ... CMD [...]').not.toBeNull();
    expect(execForm(json![1]!)).not.toBeNull();
  });

  it('is not tied to one CPU architecture and downloads nothing by hand', () => {
    const instructionsOnly = df.instructions.map((i) => `${i.cmd} ${i.args}`).join('\n');
    expect(instructionsOnly).not.toMatch(/\b(amd64|x86_64|x64|aarch64|arm64|armv7|armhf|i386)\b/);
    expect(instructionsOnly).not.toMatch(/--platform=/);
    expect(instructionsOnly).not.toMatch(/\b(curl|wget)\b/);
    expect(instructionsOnly).not.toMatch(/\bsudo\b/);
  });
});

describe('Dockerfile: build stage', () => {
  const build = df.stages.findIndex((s) => s.name === 'build');
  const runs = () => inStage(build, 'RUN').map((r) => r.args).join('\n');

  it('installs the native toolchain (python3, make, g++, liblz4-dev)', () => {
    for (const pkg of ['python3', 'make', 'g++', 'liblz4-dev']) expect(runs()).toMatch(new RegExp(`apt-get install[^&]*\\s${pkg.replace('+', '\\+')}(\\s|$)`));
  });

  it('runs npm ci, then npm run build, then prunes dev dependencies', () => {
    const r = runs();
    const ci = r.indexOf('npm ci');
    const b = r.indexOf('npm run build');
    const prune = r.indexOf('npm prune --omit=dev');
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(b).toBeGreaterThan(ci);
    expect(prune).toBeGreaterThan(b);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.build).toBeTruthy();
  });

  it('builds native addons from source (no prebuilt downloads)', () => {
    const env = inStage(build, 'ENV').map((e) => e.args).join(' ');
    expect(env).toMatch(/npm_config_build_from_source=true/); // prebuild-install, node-pre-gyp
    expect(env).toMatch(/DOWNLOAD_FORCE_BUILD=1/); // re2's install-from-cache
  });
});

describe('Dockerfile: runtime stage', () => {
  it('copies the build output only (node_modules, dist, package.json) from the build stage', () => {
    const copies = inStage(runtimeStage, 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) expect(c.args).toMatch(/--from=build\b/);
    const gather = inStage(df.stages.findIndex((s) => s.name === 'build'), 'RUN').map((r) => r.args).join('\n');
    expect(gather).toMatch(/cp -a package\.json node_modules dist \/out\//);
  });

  it('runs as the numeric non-root user 10001, created with that uid/gid', () => {
    expect(last(runtimeStage, 'USER').args).toBe('10001:10001');
    const runs = inStage(runtimeStage, 'RUN').map((r) => r.args).join('\n');
    expect(runs).toMatch(/useradd[^&]*--uid 10001/);
    expect(runs).toMatch(/groupadd[^&]*--gid 10001/);
    expect(runs).toMatch(/chown 10001:10001 \/loki/);
    // USER comes after everything that needs root
    const userLine = last(runtimeStage, 'USER').line;
    for (const r of inStage(runtimeStage, 'RUN')) expect(r.line).toBeLessThan(userLine);
  });

  it('declares the /loki volume, EXPOSE 3100 and passes -common.path-prefix=/loki', () => {
    expect(execForm(last(runtimeStage, 'VOLUME').args)).toEqual(['/loki']);
    expect(last(runtimeStage, 'EXPOSE').args).toBe('3100');
    const cmd = execForm(last(runtimeStage, 'CMD').args)!;
    expect(cmd).toContain('-common.path-prefix=/loki');
    // the flags are ones Bramble accepts
    const cli = parseFlags(cmd);
    expect(cli.overrides).toContainEqual(['common.path_prefix', '/loki']);
  });

  it('starts the compiled entry point of package.json', () => {
    const entry = execForm(last(runtimeStage, 'ENTRYPOINT').args)!;
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; scripts: { start: string } };
    expect(entry[0]).toBe('node');
    const flags = entry.slice(1).filter((a) => a.startsWith('-'));
    expect(entry.slice(1).find((a) => !a.startsWith('-'))).toBe(`/app/${pkg.main}`);
    // the same V8 flags as `npm start` (README "Memory")
    const startFlags = pkg.scripts.start.split(/\s+/).filter((a) => a.startsWith('--'));
    expect(flags).toEqual(startFlags);
    // `bramble serve` (bin/bramble.js) and the bench start the server with them too
    const bin = readFileSync(join(ROOT, 'bin/bramble.js'), 'utf8');
    const bench = readFileSync(join(ROOT, 'bench/server.ts'), 'utf8');
    for (const f of startFlags) {
      expect(bin, f).toContain(`'${f}'`);
      expect(bench, f).toContain(`'${f}'`);
    }
    // and the same allocator settings (the VAR=value prefix of `npm start`)
    const env = inStage(runtimeStage, 'ENV').map((e) => e.args).join(' ');
    const startEnv = pkg.scripts.start.split(/\s+/).filter((a) => /^[A-Z_]+=/.test(a));
    expect(startEnv.length).toBeGreaterThan(0);
    for (const v of startEnv) expect(env).toContain(v);
    expect(last(runtimeStage, 'WORKDIR').args).toBe('/app');
    expect(existsSync(join(ROOT, 'src', pkg.main.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
  });

  it('health-checks /ready on port 3100 with node (slim has no curl)', () => {
    const hc = last(runtimeStage, 'HEALTHCHECK').args;
    const cmd = execForm(/\bCMD\s+(\[.*\])\s*$/.exec(hc)![1]!)!;
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).toContain('http://127.0.0.1:3100/ready');
    // the inline script is valid JavaScript
    expect(() => new Function(cmd[cmd.length - 1]!)).not.toThrow();
    expect(hc).toMatch(/--start-period=\d+s/);
  });

  it('sets NODE_ENV=production and writes nowhere but /loki and /tmp (read-only root friendly)', () => {
    expect(inStage(runtimeStage, 'ENV').map((e) => e.args).join(' ')).toMatch(/NODE_ENV=production/);
    // the only directory made writable for 10001 is /loki
    const runs = inStage(runtimeStage, 'RUN').map((r) => r.args).join('\n');
    const chowned = [...runs.matchAll(/chown\s+(?:-R\s+)?\S+\s+(\S+)/g)].map((m) => m[1]);
    expect(chowned).toEqual(['/loki']);
    expect(inStage(runtimeStage, 'COPY').every((c) => !/--chown/.test(c.args))).toBe(true);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ignored = (path: string): boolean =>
    patterns.some((p) => {
      // Docker's matching (Go filepath.Match plus **): ** any depth, * within one segment.
      const body = p
        .split(/(\*\*\/|\*)/)
        .map((t) => (t === '**/' ? '(?:.*/)?' : t === '*' ? '[^/]*' : t.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      const re = new RegExp('^' + body + '(?:/.*)?$');
      return re.test(path);
    });

  it('keeps host build artefacts and VCS data out of the context', () => {
    for (const p of ['node_modules', 'node_modules/x/index.js', 'native/node_modules', 'dist/main.js', '.git/HEAD', 'data/index.db', 'native/build/Release/x.node']) {
      expect(ignored(p), p).toBe(true);
    }
  });

  it('keeps what npm ci and the build need', () => {
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'src/main.ts', 'native/binding.gyp', 'native/src/lz4.cc']) {
      expect(ignored(p), p).toBe(false);
    }
  });
});
