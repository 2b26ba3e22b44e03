// Deployment wiring: every YAML file under docker/ parses; the Helm chart renders (helm template
// when installed, else test/docker/helm-render.ts) and its objects agree with each other, with
// Bramble's own config loader, with the Dockerfile, with the plain manifests in docker/k8s/,
// with the Alloy configs (compose and Kubernetes), the Grafana datasources, NOTES.txt and the
// README: one port (3100), one Service name, one data path (/loki), PodSecurity "restricted".
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseFlags } from '../../src/config/config.js';
import { HELM_ONLY_LABELS, TemplateError, renderChart } from './helm-render.js';
import {
  CHART, DOCKER, ROOT, alloyAttr, alloyReferences, execForm, find, helmBinary, helmTemplate, parseAlloy, parseDockerfile,
  parseYamlDocs, readDocs, rel, renderOwn, restrictedViolations, walk, withoutLabels, type Obj,
} from './lib.js';

const PORT = 3100;
const DATA = '/loki';
const RELEASE = 'bramble';
const NS = 'monitoring';

const tmp = mkdtempSync(join(tmpdir(), 'bramble-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Loads a rendered Bramble config with Bramble's own loader (no unknown keys allowed). */
function loadBrambleConfig(text: string, extraArgs: string[] = []) {
  const f = join(tmp, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, text);
  const loaded = loadConfig(parseFlags([`-config.file=${f}`, ...extraArgs]));
  expect(loaded.ignoredKeys).toEqual([]);
  return loaded.config;
}

const dockerfile = parseDockerfile(readFileSync(join(DOCKER, 'Dockerfile'), 'utf8'));
const dockerRuntime = dockerfile.instructions.filter((i) => i.stage === dockerfile.stages.length - 1);
const dockerUser = Number(dockerRuntime.filter((i) => i.cmd === 'USER').pop()!.args.split(':')[0]);
const dockerExpose = Number(dockerRuntime.filter((i) => i.cmd === 'EXPOSE').pop()!.args);
const dockerVolume = execForm(dockerRuntime.filter((i) => i.cmd === 'VOLUME').pop()!.args)![0];

describe('YAML under docker/', () => {
  const files = walk(DOCKER).filter((f) => /\.ya?ml$/.test(f));
  const templates = files.filter((f) => f.includes(`${join('helm', 'bramble', 'templates')}`));

  it('finds the deployment files', () => {
    expect(files.map(rel)).toEqual(expect.arrayContaining([
      'docker/docker-compose.yml', 'docker/grafana/datasources.yaml', 'docker/helm/bramble/Chart.yaml',
      'docker/helm/bramble/values.yaml', 'docker/k8s/00-namespace.yaml', 'docker/k8s/alloy.yaml', 'docker/k8s/bramble.yaml',
    ]));
    expect(templates.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files.filter((f) => !templates.includes(f)).map(rel))('%s parses (every document)', (f) => {
    const docs = readDocs(join(ROOT, f));
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) expect(typeof d).toBe('object');
  });

  it('embedded YAML (ConfigMap data) parses too', () => {
    for (const f of ['docker/k8s/bramble.yaml', 'docker/k8s/alloy.yaml']) {
      for (const o of readDocs(join(ROOT, f))) {
        if (o.kind !== 'ConfigMap') continue;
        for (const [k, v] of Object.entries(o.data as Record<string, string>)) {
          if (/\.ya?ml$/.test(k)) expect(parseYamlDocs(v, `${f} ${k}`).length).toBe(1);
        }
      }
    }
  });
});

describe('Helm chart', () => {
  const def = renderOwn({ name: RELEASE, namespace: NS });
  const objs = def.objects;
  const sts = find(objs, 'StatefulSet');
  const pod = sts.spec.template.spec as Obj;
  const container = (pod.containers as Obj[]).find((c) => c.name === 'bramble')!;
  const svc = find(objs, 'Service');
  const cm = find(objs, 'ConfigMap', `${RELEASE}-config`);
  const ds = find(objs, 'ConfigMap', `${RELEASE}-grafana-datasource`);
  const values = parseYamlDocs(readFileSync(join(CHART, 'values.yaml'), 'utf8'), 'values.yaml')[0]!;
  const chart = parseYamlDocs(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'), 'Chart.yaml')[0]!;

  it('renders the expected objects (as `helm template` does, where installed), all in the release namespace', () => {
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [`ConfigMap/${RELEASE}-config`, `ConfigMap/${RELEASE}-grafana-datasource`, `Service/${RELEASE}`, `StatefulSet/${RELEASE}`].sort(),
    );
    for (const o of objs) expect(o.metadata.namespace).toBe(NS);
    // Where the real helm binary is installed, it must render exactly the same objects.
    if (helmBinary()) {
      const helmObjs = parseYamlDocs(helmTemplate(RELEASE, NS), 'helm template');
      const key = (o: Obj) => `${o.kind}/${o.metadata.name}`;
      expect(new Map(helmObjs.map((o) => [key(o), o]))).toEqual(new Map(objs.map((o) => [key(o), o])));
    }
  });

  it('Chart appVersion = package.json version = image tag', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
    expect(values.image).toBe(`bramble:${pkg.version}`);
    expect(container.image).toBe(values.image);
  });

  it('container port = Service port = config port = Dockerfile EXPOSE = 3100', () => {
    const cfg = loadBrambleConfig(cm.data['config.yaml'], container.args.filter((a: string) => !a.startsWith('-config.file')));
    const http = (container.ports as Obj[]).find((p) => p.name === 'http')!;
    expect(http.containerPort).toBe(PORT);
    expect(svc.spec.ports).toHaveLength(1);
    expect(svc.spec.ports[0].port).toBe(PORT);
    expect(svc.spec.ports[0].targetPort).toBe('http');
    expect(cfg.server.httpListenPort).toBe(PORT);
    expect(dockerExpose).toBe(PORT);
    expect(values.port).toBe(PORT);
  });

  it('the container reads the ConfigMap it mounts, and Bramble accepts it', () => {
    const flag = (container.args as string[]).find((a) => a.startsWith('-config.file='))!;
    const path = flag.slice('-config.file='.length);
    const mount = (container.volumeMounts as Obj[]).find((m) => path.startsWith(m.mountPath + '/'))!;
    expect(mount.readOnly).toBe(true);
    const vol = (pod.volumes as Obj[]).find((v) => v.name === mount.name)!;
    expect(vol.configMap.name).toBe(cm.metadata.name);
    expect(Object.keys(cm.data)).toContain(path.slice(mount.mountPath.length + 1));
    const cfg = loadBrambleConfig(cm.data['config.yaml']);
    expect(cfg.authEnabled).toBe(false);
    expect(cfg.limits.retentionPeriodMs).toBe(0);
    expect(cfg.compactor.retentionEnabled).toBe(true);
  });

  it('config checksum annotation is the hash of the rendered config', () => {
    const sum = sts.spec.template.metadata.annotations['checksum/config'];
    expect(sum).toBe(createHash('sha256').update(cm.data['config.yaml'].replace(/\n$/, '')).digest('hex'));
    const other = renderOwn({ name: RELEASE, namespace: NS, values: { retention: '744h' } });
    expect(find(other.objects, 'StatefulSet').spec.template.metadata.annotations['checksum/config']).not.toBe(sum);
  });

  it('volume claim template is mounted at the config path_prefix = Dockerfile VOLUME = /loki', () => {
    const cfg = loadBrambleConfig(cm.data['config.yaml']);
    const vct = sts.spec.volumeClaimTemplates as Obj[];
    expect(vct).toHaveLength(1);
    const claim = vct[0]!;
    const mount = (container.volumeMounts as Obj[]).find((m) => m.name === claim.metadata.name)!;
    expect(mount.mountPath).toBe(DATA);
    expect(cfg.pathPrefix).toBe(DATA);
    expect(dockerVolume).toBe(DATA);
    // the claim is not shadowed by a pod volume of the same name
    expect((pod.volumes as Obj[]).some((v) => v.name === claim.metadata.name)).toBe(false);
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(claim.spec.resources.requests.storage).toBe(values.storageSize);
    expect(claim.spec.storageClassName).toBeUndefined();
    expect(sts.spec.replicas).toBe(1);
  });

  it('/tmp is an emptyDir (read-only root filesystem)', () => {
    const m = (container.volumeMounts as Obj[]).find((x) => x.mountPath === '/tmp')!;
    expect((pod.volumes as Obj[]).find((v) => v.name === m.name)!.emptyDir).toEqual({});
    // every mount is /loki, /tmp or read-only
    for (const vm of container.volumeMounts as Obj[]) expect([DATA, '/tmp'].includes(vm.mountPath) || vm.readOnly === true, vm.mountPath).toBe(true);
  });

  it('pod passes PodSecurity restricted, as uid 10001 = Dockerfile USER', () => {
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod.securityContext.runAsUser).toBe(10001);
    expect(container.securityContext.runAsUser).toBe(10001);
    expect(pod.securityContext.fsGroup).toBe(10001);
    expect(dockerUser).toBe(10001);
    expect(container.securityContext.capabilities.drop).toEqual(['ALL']);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('probes use /ready on the http port, with a startup probe for WAL replay', () => {
    for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      expect(container[p].httpGet, p).toEqual({ path: '/ready', port: 'http' });
    }
    expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBeGreaterThanOrEqual(300);
  });

  it('Service selects the StatefulSet pod; StatefulSet selector matches its template', () => {
    const labels = sts.spec.template.metadata.labels as Record<string, string>;
    for (const [k, v] of Object.entries(svc.spec.selector as Record<string, string>)) expect(labels[k], k).toBe(v);
    for (const [k, v] of Object.entries(sts.spec.selector.matchLabels as Record<string, string>)) expect(labels[k], k).toBe(v);
    expect(sts.spec.serviceName).toBe(svc.metadata.name);
    expect(svc.metadata.name).toBe(RELEASE);
  });

  it('datasource ConfigMap carries the sidecar label and points at the Service', () => {
    expect(ds.metadata.labels.grafana_datasource).toBe('1');
    const file = parseYamlDocs(Object.values(ds.data as Record<string, string>)[0]!, 'datasource')[0]!;
    expect(file.apiVersion).toBe(1);
    const d = file.datasources[0];
    expect(d.type).toBe('loki');
    expect(d.access).toBe('proxy');
    expect(d.url).toBe(`http://${svc.metadata.name}.${NS}.svc:${svc.spec.ports[0].port}`);
    expect(d.jsonData.httpHeaderName1).toBeUndefined();
  });

  it('NOTES.txt names the Service and the URLs clients use', () => {
    const url = `http://${svc.metadata.name}.${NS}.svc:${PORT}`;
    expect(def.notes).toContain(`Service: ${svc.metadata.name} (port ${PORT})`);
    expect(def.notes).toContain(`${url}/loki/api/v1/push`);
    expect(def.notes).toContain(`    ${url}\n`);
    expect(def.notes).toContain(`svc/${svc.metadata.name}`);
    expect(def.notes).not.toMatch(/<no value>|\{\{/);
  });

  it('the Service is named after the release for any release name / namespace', () => {
    const r = renderOwn({ name: 'logs', namespace: 'obs' });
    const s = find(r.objects, 'Service');
    expect(s.metadata.name).toBe('logs');
    const d = parseYamlDocs(Object.values(find(r.objects, 'ConfigMap', 'logs-grafana-datasource').data as Record<string, string>)[0]!, 'ds')[0]!;
    expect(d.datasources[0].url).toBe('http://logs.obs.svc:3100');
    expect(r.notes).toContain('http://logs.obs.svc:3100/loki/api/v1/push');
    expect(find(r.objects, 'StatefulSet').spec.template.spec.volumes.find((v: Obj) => v.configMap).configMap.name).toBe('logs-config');
  });

  it('values change what they say: auth, tenant, storage, port, workers, placement', () => {
    const r = renderOwn({
      name: RELEASE, namespace: NS,
      values: {
        authEnabled: true, tenant: 'team-a', storageClass: 'local-path', storageSize: '50Gi', port: 3200, retention: '744h',
        scanWorkers: 2, grafanaDatasourceName: 'Logs', nodeSelector: { 'kubernetes.io/arch': 'arm64' },
        tolerations: [{ key: 'pi', operator: 'Exists', effect: 'NoSchedule' }], serviceType: 'NodePort',
      },
    });
    const s = find(r.objects, 'StatefulSet');
    const c = s.spec.template.spec.containers[0];
    const cfg = loadBrambleConfig(find(r.objects, 'ConfigMap', `${RELEASE}-config`).data['config.yaml']);
    expect(cfg.authEnabled).toBe(true);
    expect(cfg.server.httpListenPort).toBe(3200);
    expect(cfg.querier.workers).toBe(2);
    expect(cfg.limits.retentionPeriodMs).toBe(744 * 3_600_000);
    expect(c.ports[0].containerPort).toBe(3200);
    const service = find(r.objects, 'Service');
    expect(service.spec.ports[0].port).toBe(3200);
    expect(service.spec.type).toBe('NodePort');
    expect(s.spec.volumeClaimTemplates[0].spec.storageClassName).toBe('local-path');
    expect(s.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('50Gi');
    expect(s.spec.template.spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64' });
    expect(s.spec.template.spec.tolerations).toEqual([{ key: 'pi', operator: 'Exists', effect: 'NoSchedule' }]);
    const d = parseYamlDocs(Object.values(find(r.objects, 'ConfigMap', `${RELEASE}-grafana-datasource`).data as Record<string, string>)[0]!, 'ds')[0]!.datasources[0];
    expect(d.name).toBe('Logs');
    expect(d.url).toBe(`http://${RELEASE}.${NS}.svc:3200`);
    expect(d.jsonData.httpHeaderName1).toBe('X-Scope-OrgID');
    expect(d.secureJsonData.httpHeaderValue1).toBe('team-a');
    expect(r.notes).toContain('X-Scope-OrgID');
    expect(restrictedViolations(s.spec.template.spec)).toEqual([]);
  });

  it('grafanaDatasource: false leaves the datasource ConfigMap out', () => {
    const r = renderOwn({ name: RELEASE, namespace: NS, values: { grafanaDatasource: false } });
    expect(r.objects.some((o) => o.metadata.name === `${RELEASE}-grafana-datasource`)).toBe(false);
    expect(r.notes).not.toContain('grafana_datasource');
  });

  it('every value in values.yaml is documented by a comment and used by a template', () => {
    const text = readFileSync(join(CHART, 'values.yaml'), 'utf8');
    const templates = walk(join(CHART, 'templates')).map((f) => readFileSync(f, 'utf8')).join('\n');
    const lines = text.split('\n');
    for (const key of Object.keys(values)) {
      const at = lines.findIndex((l) => l.startsWith(`${key}:`));
      // a comment directly above this key or the small key group it belongs to
      const above = lines.slice(Math.max(0, at - 3), at).some((l) => l.startsWith('#'));
      expect(above, `values.yaml ${key} has no comment`).toBe(true);
      expect(templates, `values.yaml ${key} is not used`).toContain(`.Values.${key}`);
    }
  });
});

describe('plain manifests (docker/k8s)', () => {
  const k8s = walk(join(DOCKER, 'k8s')).filter((f) => f.endsWith('.yaml'));
  const all = k8s.flatMap((f) => readDocs(f));
  const bramble = readDocs(join(DOCKER, 'k8s', 'bramble.yaml'));
  const alloyObjs = readDocs(join(DOCKER, 'k8s', 'alloy.yaml'));
  const svc = find(bramble, 'Service');

  it('bramble.yaml = the chart rendered as release bramble in monitoring, without Helm-only labels', () => {
    const rendered = renderOwn({ name: RELEASE, namespace: NS }).objects.map((o) => withoutLabels(o, HELM_ONLY_LABELS));
    const key = (o: Obj) => `${o.kind}/${o.metadata.name}`;
    expect(new Map(bramble.map((o) => [key(o), o]))).toEqual(new Map(rendered.map((o) => [key(o), o])));
    expect(JSON.stringify(bramble)).not.toMatch(/helm\.sh|managed-by/);
  });

  it('everything namespaced lives in the namespace 00-namespace.yaml creates, applied first', () => {
    const ns = find(readDocs(join(DOCKER, 'k8s', '00-namespace.yaml')), 'Namespace');
    expect(ns.metadata.name).toBe(NS);
    expect(k8s.map((f) => f.split('/').pop()).sort()[0]).toBe('00-namespace.yaml');
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
    for (const o of all) if (!clusterScoped.has(o.kind)) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NS);
  });

  it('every pod spec passes PodSecurity restricted', () => {
    const pods = all.filter((o) => ['StatefulSet', 'Deployment', 'DaemonSet'].includes(o.kind));
    expect(pods.length).toBe(2);
    for (const o of pods) expect(restrictedViolations(o.spec.template.spec), `${o.kind}/${o.metadata.name}`).toEqual([]);
    expect(all.some((o) => JSON.stringify(o).includes('hostPath'))).toBe(false);
  });

  it('Alloy: RBAC covers what discovery.kubernetes + loki.source.kubernetes need, bound to its ServiceAccount', () => {
    const dep = find(alloyObjs, 'Deployment');
    const sa = find(alloyObjs, 'ServiceAccount');
    const role = find(alloyObjs, 'ClusterRole');
    const binding = find(alloyObjs, 'ClusterRoleBinding');
    expect(dep.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    const allowed = (res: string, verb: string) =>
      (role.rules as Obj[]).some((r) => r.apiGroups.includes('') && r.resources.includes(res) && r.verbs.includes(verb));
    for (const verb of ['get', 'list', 'watch']) expect(allowed('pods', verb), `pods ${verb}`).toBe(true);
    expect(allowed('pods/log', 'get')).toBe(true);
    // read-only: no write verbs anywhere
    for (const r of role.rules as Obj[]) for (const v of r.verbs) expect(['get', 'list', 'watch']).toContain(v);
    expect(dep.spec.replicas).toBe(1);
  });

  it('Alloy: the config file it runs is the ConfigMap key it mounts', () => {
    const dep = find(alloyObjs, 'Deployment');
    const c = dep.spec.template.spec.containers[0];
    const file = (c.args as string[]).find((a) => a.endsWith('.alloy'))!;
    const mount = (c.volumeMounts as Obj[]).find((m) => file.startsWith(m.mountPath + '/'))!;
    const vol = (dep.spec.template.spec.volumes as Obj[]).find((v) => v.name === mount.name)!;
    const cm = find(alloyObjs, 'ConfigMap', vol.configMap.name);
    expect(Object.keys(cm.data)).toContain(file.slice(mount.mountPath.length + 1));
    const storage = (c.args as string[]).find((a) => a.startsWith('--storage.path='))!.split('=')[1]!;
    expect((c.volumeMounts as Obj[]).some((m) => m.mountPath === storage)).toBe(true);
  });

  it('Alloy for Kubernetes: API tailing with relabeling, pushing to the Service', () => {
    const cm = find(alloyObjs, 'ConfigMap');
    const comps = parseAlloy(cm.data['config.alloy']);
    checkAlloyGraph(comps);
    const names = comps.map((c) => c.name);
    for (const n of ['discovery.kubernetes', 'discovery.relabel', 'loki.source.kubernetes', 'loki.write']) expect(names).toContain(n);
    expect(names).not.toContain('loki.source.file');
    expect(alloyAttr(comps.find((c) => c.name === 'discovery.kubernetes')!, 'role')).toBe('pod');
    const relabel = comps.find((c) => c.name === 'discovery.relabel')!;
    for (const label of ['namespace', 'pod', 'container']) expect(relabel.body).toMatch(new RegExp(`target_label\\s*=\\s*"${label}"`));
    const src = comps.find((c) => c.name === 'loki.source.kubernetes')!;
    expect(alloyReferences(src)).toContainEqual({ name: 'discovery.relabel', label: relabel.label, field: 'output' });
    const url = alloyAttr(comps.find((c) => c.name === 'loki.write')!, 'url');
    expect(url).toBe(`http://${svc.metadata.name}.${svc.metadata.namespace}.svc:${svc.spec.ports[0].port}/loki/api/v1/push`);
  });
});

/** Every component reference in an Alloy config names a component defined in it, with a matching export. */
function checkAlloyGraph(comps: ReturnType<typeof parseAlloy>): void {
  const exports: Record<string, string> = {
    'discovery.docker': 'targets', 'discovery.kubernetes': 'targets', 'discovery.relabel': 'output|rules', 'loki.write': 'receiver',
    'loki.process': 'receiver', 'loki.relabel': 'receiver|rules',
  };
  const ids = new Set(comps.map((c) => `${c.name}.${c.label}`));
  expect(ids.size).toBe(comps.length);
  for (const c of comps) {
    for (const r of alloyReferences(c)) {
      expect(ids.has(`${r.name}.${r.label}`), `${c.name} "${c.label}" references ${r.name}.${r.label}`).toBe(true);
      expect(exports[r.name]?.split('|'), `${r.name} exports ${r.field}`).toContain(r.field);
    }
  }
  // every source forwards somewhere
  for (const c of comps.filter((x) => x.name.startsWith('loki.source.'))) expect(c.body).toMatch(/forward_to\s*=\s*\[\s*loki\.write\.\w+\.receiver\s*\]/);
}

describe('docker compose', () => {
  const compose = readDocs(join(DOCKER, 'docker-compose.yml'))[0]!;
  const s = compose.services as Record<string, Obj>;
  const healthcheck = dockerRuntime.filter((i) => i.cmd === 'HEALTHCHECK').pop()!.args;

  it('has Bramble, Alloy and Grafana', () => {
    expect(Object.keys(s).sort()).toEqual(['alloy', 'bramble', 'grafana']);
  });

  it('bramble: builds docker/Dockerfile, port 3100, /loki volume, user, read-only with /tmp, same healthcheck', () => {
    const b = s.bramble!;
    expect(join(DOCKER, b.build.context, b.build.dockerfile)).toBe(join(DOCKER, 'Dockerfile'));
    expect(b.image).toBe(`bramble:${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}`);
    expect(b.ports.map((p: string) => Number(String(p).split(':').pop()))).toEqual([PORT]);
    expect(b.volumes.map((v: string) => v.split(':')[1])).toEqual([DATA]);
    expect(Object.keys(compose.volumes)).toContain(b.volumes[0].split(':')[0]);
    expect(b.user).toBe(`${dockerUser}:${dockerUser}`);
    expect(b.read_only).toBe(true);
    expect(b.tmpfs).toEqual(['/tmp']);
    expect(b.command).toContain('-common.path-prefix=/loki');
    const cmd = execForm(/\bCMD\s+(\[.*\])\s*$/.exec(healthcheck)![1]!)!;
    expect(b.healthcheck.test).toEqual(['CMD', ...cmd]);
  });

  it('alloy: runs the mounted config.alloy, has the Docker socket, pushes to bramble:3100', () => {
    const a = s.alloy!;
    const file = (a.command as string[]).find((x) => x.endsWith('.alloy'))!;
    const mount = (a.volumes as string[]).map((v) => v.split(':')).find((v) => v[1] === file)!;
    expect(existsSync(join(DOCKER, mount[0]!))).toBe(true);
    expect(a.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
    const comps = parseAlloy(readFileSync(join(DOCKER, mount[0]!), 'utf8'));
    checkAlloyGraph(comps);
    for (const n of ['discovery.docker', 'loki.source.docker', 'loki.write']) expect(comps.map((c) => c.name)).toContain(n);
    const dockerSrc = comps.find((c) => c.name === 'loki.source.docker')!;
    expect(alloyAttr(dockerSrc, 'host')).toBe('unix:///var/run/docker.sock');
    expect(alloyAttr(comps.find((c) => c.name === 'discovery.docker')!, 'host')).toBe('unix:///var/run/docker.sock');
    expect(alloyReferences(dockerSrc).map((r) => r.name)).toEqual(expect.arrayContaining(['discovery.docker', 'discovery.relabel', 'loki.write']));
    expect(alloyAttr(comps.find((c) => c.name === 'loki.write')!, 'url')).toBe(`http://bramble:${PORT}/loki/api/v1/push`);
    expect(a.depends_on.bramble.condition).toBe('service_healthy');
  });

  it('grafana: provisions docker/grafana/datasources.yaml pointing at http://bramble:3100', () => {
    const g = s.grafana!;
    const mount = (g.volumes as string[]).map((v) => v.split(':')).find((v) => v[0]!.includes('datasources'))!;
    expect(dirname(mount[1]!)).toBe('/etc/grafana/provisioning/datasources');
    const file = readDocs(join(DOCKER, mount[0]!))[0]!;
    expect(file.apiVersion).toBe(1);
    const d = file.datasources[0];
    expect(d.type).toBe('loki');
    expect(d.url).toBe(`http://bramble:${PORT}`);
  });

  it('every relative bind mount exists', () => {
    for (const svc of Object.values(s)) {
      for (const v of (svc.volumes ?? []) as string[]) {
        const src = v.split(':')[0]!;
        if (src.startsWith('.')) expect(existsSync(join(DOCKER, src)), v).toBe(true);
      }
    }
  });
});

describe('README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  it('documents the same Service name and URLs as the manifests', () => {
    expect(readme).toContain('## Running in Docker');
    expect(readme).toContain('## Kubernetes');
    expect(readme).toContain(`http://${RELEASE}.${NS}.svc:${PORT}/loki/api/v1/push`);
    expect(readme).toContain(`http://bramble:${PORT}/loki/api/v1/push`);
    expect(readme).toContain(`helm install ${RELEASE} docker/helm/bramble --namespace ${NS}`);
    expect(readme).toContain('docker build -f docker/Dockerfile');
    expect(readme).toContain('docker compose -f docker/docker-compose.yml up');
  });

  it('Flux HelmRelease example parses and keeps the release name the Service is named after', () => {
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const flux = blocks.map((b) => parseYamlDocs(b, 'README yaml')).find((docs) => docs.some((d) => d.kind === 'HelmRelease'))!;
    const hr = find(flux, 'HelmRelease');
    const repo = find(flux, 'GitRepository');
    expect(hr.apiVersion).toBe('helm.toolkit.fluxcd.io/v2');
    expect(hr.spec.releaseName).toBe(RELEASE);
    expect(hr.metadata.namespace).toBe(NS);
    expect(hr.spec.chart.spec.chart).toBe('./docker/helm/bramble');
    expect(hr.spec.chart.spec.sourceRef).toEqual({ kind: 'GitRepository', name: repo.metadata.name, namespace: repo.metadata.namespace });
    // its values are ones the chart has
    const values = parseYamlDocs(readFileSync(join(CHART, 'values.yaml'), 'utf8'), 'values.yaml')[0]!;
    for (const k of Object.keys(hr.spec.values)) expect(Object.keys(values)).toContain(k);
    const r = renderOwn({ name: hr.spec.releaseName, namespace: hr.metadata.namespace, values: hr.spec.values });
    expect(restrictedViolations(find(r.objects, 'StatefulSet').spec.template.spec)).toEqual([]);
  });
});

describe('checks can fail', () => {
  it('restrictedViolations flags each relaxation of the chart pod', () => {
    const base = find(renderOwn({ name: RELEASE, namespace: NS }).objects, 'StatefulSet').spec.template.spec as Obj;
    const mutate = (f: (p: Obj) => void): string[] => {
      const p = structuredClone(base) as Obj;
      f(p);
      return restrictedViolations(p);
    };
    expect(mutate((p) => { p.containers[0].securityContext.allowPrivilegeEscalation = true; })).toHaveLength(1);
    expect(mutate((p) => { delete p.securityContext.runAsNonRoot; delete p.containers[0].securityContext.runAsNonRoot; })).toHaveLength(1);
    expect(mutate((p) => { p.containers[0].securityContext.capabilities.drop = []; })).toHaveLength(1);
    expect(mutate((p) => { p.containers[0].securityContext.capabilities.add = ['SYS_ADMIN']; })).toHaveLength(1);
    expect(mutate((p) => { delete p.securityContext.seccompProfile; delete p.containers[0].securityContext.seccompProfile; })).toHaveLength(1);
    expect(mutate((p) => { p.containers[0].securityContext.seccompProfile = { type: 'Unconfined' }; })).toHaveLength(1);
    expect(mutate((p) => { p.volumes.push({ name: 'h', hostPath: { path: '/var/log' } }); })).toHaveLength(1);
    expect(mutate((p) => { p.hostNetwork = true; })).toHaveLength(1);
    expect(mutate((p) => { p.containers[0].securityContext.readOnlyRootFilesystem = false; })).toHaveLength(1);
    expect(mutate((p) => { p.containers[0].securityContext.runAsUser = 0; })).toHaveLength(1);
  });

  it('the renderer rejects unsupported constructs and missing values instead of guessing', () => {
    const dir = mkdtempSync(join(tmp, 'chart-'));
    const write = (tpl: string): void => {
      writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: t\nversion: 0.0.1\nappVersion: "1"\n');
      writeFileSync(join(dir, 'values.yaml'), 'a: 1\nm: {}\n');
      rmSync(join(dir, 'templates'), { recursive: true, force: true });
      mkdirSync(join(dir, 'templates'), { recursive: true });
      writeFileSync(join(dir, 'templates', 'x.yaml'), tpl);
    };
    write('v: {{ .Values.missing }}\n');
    expect(() => renderChart(dir)).toThrow(TemplateError);
    write('{{ range .Values.m }}x{{ end }}\n');
    expect(() => renderChart(dir)).toThrow(/outside the subset/);
    write('v: {{ .Values.a | upper }}\n');
    expect(() => renderChart(dir)).toThrow(/not defined/);
    write('{{- if .Values.m }}yes{{- else if .Values.a }}  a={{ .Values.a }}{{ else }}no{{ end }}\n{{/* c }} */ -}}\n  z: {{ "q" | quote }} {{ printf "%s-%d" "n" 3 }} {{ default "d" .Values.m }}\n');
    expect(renderChart(dir).files.get('x.yaml')).toBe('  a=1\nz: "q" n-3 d\n');
  });
});
