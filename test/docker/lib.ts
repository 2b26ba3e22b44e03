// Static readers for the deployment files under docker/: a Dockerfile instruction parser, a
// PodSecurity "restricted" checker for pod specs, a light Alloy config reader (components and
// references), YAML loading of multi-document files, and chart rendering (helm when installed,
// else test/docker/helm-render.ts). Used by the test/docker tests; no Docker engine or cluster.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { manifestStream, renderChart, type RenderOptions } from './helm-render.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const DOCKER = join(ROOT, 'docker');
export const CHART = join(DOCKER, 'helm', 'bramble');

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// ---------------------------------------------------------------- files and YAML

export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out.sort();
}

export const rel = (p: string): string => relative(ROOT, p);

/** Every document of a YAML text; throws with the file name on any parse error or warning. */
export function parseYamlDocs(text: string, name: string): Obj[] {
  const docs = parseAllDocuments(text);
  const out: Obj[] = [];
  for (const d of docs) {
    const problems = [...d.errors, ...d.warnings];
    if (problems.length) throw new Error(`${name}: ${problems.map((e) => e.message).join('; ')}`);
    const v = d.toJS() as Obj | null;
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

export const readDocs = (file: string): Obj[] => parseYamlDocs(readFileSync(file, 'utf8'), rel(file));

// ---------------------------------------------------------------- chart rendering

export function helmBinary(): string | null {
  const r = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' });
  return r.status === 0 ? 'helm' : null;
}

/** `helm template` output for the chart, from the real helm binary. */
export function helmTemplate(name: string, namespace: string, set: string[] = []): string {
  const args = ['template', name, CHART, '--namespace', namespace];
  for (const s of set) args.push('--set', s);
  return execFileSync('helm', args, { encoding: 'utf8' });
}

export interface Rendered {
  objects: Obj[];
  notes: string;
}

/** Renders the chart with this repo's renderer (always available). */
export function renderOwn(opts: RenderOptions): Rendered {
  const r = renderChart(CHART, opts);
  return { objects: parseYamlDocs(manifestStream(r), 'rendered chart'), notes: r.notes };
}

export function find(objs: Obj[], kind: string, name?: string): Obj {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata?.name === name));
  if (!o) throw new Error(`no ${kind}${name ? ` named ${name}` : ''} among ${objs.map((x) => `${x.kind}/${x.metadata?.name}`).join(', ')}`);
  return o;
}

/** Deep copy without the given metadata labels, for comparing Helm output with plain manifests. */
export function withoutLabels(o: Obj, keys: string[]): Obj {
  const copy = structuredClone(o) as Obj;
  const strip = (meta: Obj | undefined): void => {
    if (meta?.labels) for (const k of keys) delete meta.labels[k];
  };
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(visit);
    else if (x && typeof x === 'object') {
      const r = x as Obj;
      if (r.metadata) strip(r.metadata);
      for (const v of Object.values(r)) visit(v);
    }
  };
  visit(copy);
  return copy;
}

// ---------------------------------------------------------------- Dockerfile

export interface Instruction {
  cmd: string; // upper case
  args: string;
  line: number;
  stage: number; // index of the FROM it belongs to (-1 before the first FROM)
}

export interface Dockerfile {
  instructions: Instruction[];
  stages: { name: string | null; image: string; from: Instruction }[];
  args: Map<string, string>; // global ARG defaults (before the first FROM)
}

export const DOCKERFILE_INSTRUCTIONS = [
  'FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG',
  'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
];

/** Parses instructions, joining `\` continuations and skipping comments (and parser directives). */
export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  const stages: Dockerfile['stages'] = [];
  const args = new Map<string, string>();
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (/^\s*(#.*)?$/.test(raw)) continue;
    const start = i + 1;
    let joined = raw;
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, ' ');
      i++;
      if (/^\s*#/.test(lines[i]!)) continue; // comment lines inside a continuation are dropped
      joined += lines[i]!;
    }
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(joined);
    if (!m) throw new Error(`Dockerfile:${start}: cannot parse "${joined.trim()}"`);
    const cmd = m[1]!.toUpperCase();
    const ins: Instruction = { cmd, args: m[2]!.trim(), line: start, stage };
    if (cmd === 'FROM') {
      stage = stages.length;
      ins.stage = stage;
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!f) throw new Error(`Dockerfile:${start}: bad FROM`);
      stages.push({ name: f[2] ?? null, image: f[1]!, from: ins });
    } else if (cmd === 'ARG' && stage === -1) {
      const a = /^(\w+)(?:=(.*))?$/.exec(ins.args);
      if (a) args.set(a[1]!, a[2] ?? '');
    }
    instructions.push(ins);
  }
  return { instructions, stages, args };
}

/** Resolves ${VAR} / $VAR from global ARG defaults. */
export function expandArgs(s: string, args: Map<string, string>): string {
  return s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? '');
}

/** An exec-form (JSON array) argument list, or null for shell form. */
export function execForm(args: string): string[] | null {
  if (!args.trimStart().startsWith('[')) return null;
  const v = JSON.parse(args) as unknown;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`not a JSON string array: ${args}`);
  return v as string[];
}

// ---------------------------------------------------------------- PodSecurity "restricted"

const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);

/**
 * Violations of the PodSecurity "restricted" profile (Kubernetes Pod Security Standards, latest)
 * for a pod spec, plus this project's extra rule: a read-only root filesystem. Empty when it passes.
 */
export function restrictedViolations(pod: Obj): string[] {
  const v: string[] = [];
  const psc: Obj = pod.securityContext ?? {};
  if (pod.hostNetwork) v.push('hostNetwork');
  if (pod.hostPID) v.push('hostPID');
  if (pod.hostIPC) v.push('hostIPC');
  for (const vol of pod.volumes ?? []) {
    const types = Object.keys(vol).filter((k) => k !== 'name');
    for (const t of types) if (!RESTRICTED_VOLUME_TYPES.has(t)) v.push(`volume ${vol.name} has type ${t}`);
  }
  if (psc.runAsUser === 0) v.push('pod runAsUser 0');
  const podSeccomp = psc.seccompProfile?.type;
  if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost') v.push(`pod seccompProfile ${podSeccomp}`);
  for (const s of psc.sysctls ?? []) v.push(`sysctl ${s.name}`);
  const containers: Obj[] = [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];
  if (!containers.length) v.push('no containers');
  for (const c of containers) {
    const sc: Obj = c.securityContext ?? {};
    const n = `container ${c.name}`;
    if (sc.privileged) v.push(`${n}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${n}: allowPrivilegeEscalation must be false`);
    const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (nonRoot !== true) v.push(`${n}: runAsNonRoot must be true`);
    if (sc.runAsUser === 0) v.push(`${n}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v.push(`${n}: seccompProfile must be RuntimeDefault or Localhost`);
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) v.push(`${n}: capabilities must drop ALL`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') v.push(`${n}: adds capability ${cap}`);
    if (sc.procMount && sc.procMount !== 'Default') v.push(`${n}: procMount ${sc.procMount}`);
    if (sc.seLinuxOptions?.type && !['container_t', 'container_init_t', 'container_kvm_t'].includes(sc.seLinuxOptions.type)) v.push(`${n}: seLinux type`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${n}: hostPort ${p.hostPort}`);
    if (sc.readOnlyRootFilesystem !== true) v.push(`${n}: readOnlyRootFilesystem must be true`);
  }
  return v;
}

// ---------------------------------------------------------------- Alloy configuration

export interface AlloyComponent {
  name: string; // e.g. loki.write
  label: string;
  body: string;
}

/** Removes // and /* comments outside strings; checks quotes and braces balance. */
function stripAlloyComments(src: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\n') throw new Error('unterminated string in Alloy config');
        j += src[j] === '\\' ? 2 : 1;
      }
      if (j >= src.length) throw new Error('unterminated string in Alloy config');
      out += src.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      out += '\n';
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated block comment in Alloy config');
      i = end + 1;
      continue;
    }
    if (c === '{' || c === '[' || c === '(') depth++;
    if (c === '}' || c === ']' || c === ')') {
      depth--;
      if (depth < 0) throw new Error(`unbalanced "${c}" in Alloy config`);
    }
    out += c;
  }
  if (depth !== 0) throw new Error('unbalanced brackets in Alloy config');
  return out;
}

/** Top-level components of an Alloy config, with their bodies. */
export function parseAlloy(src: string): AlloyComponent[] {
  const s = stripAlloyComments(src);
  const out: AlloyComponent[] = [];
  const head = /^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+)\s+"([^"]+)"\s*\{/gm;
  let m: RegExpExecArray | null;
  while ((m = head.exec(s))) {
    let depth = 1;
    let i = head.lastIndex;
    for (; i < s.length && depth > 0; i++) {
      if (s[i] === '"') {
        i++;
        while (s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
      } else if (s[i] === '{') depth++;
      else if (s[i] === '}') depth--;
    }
    out.push({ name: m[1]!, label: m[2]!, body: s.slice(head.lastIndex, i - 1) });
    head.lastIndex = i;
  }
  return out;
}

/** Component references in expressions (`loki.write.bramble.receiver`), as name + label + export. */
export function alloyReferences(c: AlloyComponent): { name: string; label: string; field: string }[] {
  const refs: { name: string; label: string; field: string }[] = [];
  const noStrings = c.body.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of noStrings.matchAll(/\b((?:discovery|loki)\.[a-z_.]+)\.([a-z0-9_]+)\.(targets|receiver|output|rules)\b/g)) {
    refs.push({ name: m[1]!, label: m[2]!, field: m[3]! });
  }
  return refs;
}

/** The string value of `attr = "..."` anywhere in a component body. */
export function alloyAttr(c: AlloyComponent, attr: string): string | undefined {
  const m = new RegExp(`\\b${attr}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(c.body);
  return m ? (JSON.parse(`"${m[1]}"`) as string) : undefined;
}
