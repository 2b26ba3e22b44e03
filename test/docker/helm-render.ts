// A small renderer for the subset of Helm's Go templates that docker/helm/bramble uses, so the
// chart can be rendered and checked without the `helm` binary (no network, no Go toolchain here).
// Supported: text with {{- / -}} trimming, comments, define/include, if/else if/else/end, field
// chains on . and $ (.Values, .Release, .Chart), string/number/bool literals, pipelines and
// parenthesised sub-expressions, and the functions quote, toYaml, nindent, indent, printf
// (%s %d %v), sha256sum, default, not, eq. Anything else is an error, as is printing a missing
// value, so a template typo fails the test instead of rendering "<no value>".
//
// CLI: npx tsx test/docker/helm-render.ts CHART_DIR [--name NAME] [--namespace NS] [--notes]
//      prints what `helm template NAME CHART_DIR --namespace NS` prints (manifests, or NOTES.txt).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml, stringify as toYamlString } from 'yaml';

type Value = unknown;

type Expr =
  | { kind: 'field'; root: 'dot' | 'dollar'; path: string[] }
  | { kind: 'lit'; value: Value }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'pipe'; cmds: Expr[] };

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'print'; expr: Expr; pos: string }
  | { kind: 'if'; branches: { cond: Expr; body: Node[] }[]; otherwise: Node[] };

export class TemplateError extends Error {}

// ---------------------------------------------------------------- lexing actions

interface RawItem {
  text?: string;
  action?: string;
  pos: string;
}

/** Splits a template into text and actions, applying Go's `{{-` / `-}}` whitespace trimming. */
function splitActions(src: string, file: string): RawItem[] {
  const items: RawItem[] = [];
  let i = 0;
  let trimNext = false;
  const lineAt = (off: number): number => src.slice(0, off).split('\n').length;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) items.push({ text, pos: file });
      break;
    }
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\n', start) || src.startsWith('-\t', start)) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 1;
    }
    if (text) items.push({ text, pos: file });
    // A comment may contain "}}": look for the closing delimiter after its "*/".
    const commentAt = /^[ \t\r\n]*\/\*/.test(src.slice(start, start + 64)) ? src.indexOf('*/', start) : -1;
    const close = src.indexOf('}}', commentAt >= 0 ? commentAt + 2 : start);
    if (close < 0) throw new TemplateError(`${file}:${lineAt(open)}: unclosed action`);
    let end = close;
    if (src[close - 1] === '-' && /[ \t\r\n]/.test(src[close - 2] ?? '')) {
      trimNext = true;
      end = close - 1;
    }
    const body = src.slice(start, end).trim();
    if (!(body.startsWith('/*') && body.endsWith('*/'))) items.push({ action: body, pos: `${file}:${lineAt(open)}` });
    i = close + 2;
  }
  return items;
}

// ---------------------------------------------------------------- parsing expressions

type Tok = { t: 'str' | 'num' | 'bool' | 'field' | 'ident' | '(' | ')' | '|'; v: string };

function tokenize(s: string, pos: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(' || c === ')' || c === '|') { out.push({ t: c, v: c }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) throw new TemplateError(`${pos}: unterminated quoted string`);
      out.push({ t: 'str', v: JSON.parse(s.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    const m = /^(?:-?\d+(?:\.\d+)?|[$.][A-Za-z0-9_.]*|[A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(i));
    if (!m) throw new TemplateError(`${pos}: unexpected "${c}" in action`);
    const w = m[0];
    if (/^-?\d/.test(w)) out.push({ t: 'num', v: w });
    else if (w === 'true' || w === 'false') out.push({ t: 'bool', v: w });
    else if (w[0] === '.' || w[0] === '$') out.push({ t: 'field', v: w });
    else out.push({ t: 'ident', v: w });
    i += w.length;
  }
  return out;
}

function parseExpr(s: string, pos: string): Expr {
  const toks = tokenize(s, pos);
  let k = 0;
  const operand = (): Expr => {
    const t = toks[k++];
    if (!t) throw new TemplateError(`${pos}: missing value`);
    switch (t.t) {
      case 'str': return { kind: 'lit', value: t.v };
      case 'num': return { kind: 'lit', value: Number(t.v) };
      case 'bool': return { kind: 'lit', value: t.v === 'true' };
      case 'field': {
        const root = t.v[0] === '$' ? 'dollar' : 'dot';
        const rest = t.v[0] === '$' ? t.v.slice(1) : t.v;
        if (root === 'dollar' && rest !== '' && rest[0] !== '.') throw new TemplateError(`${pos}: variables other than $ are not supported`);
        return { kind: 'field', root, path: rest.split('.').filter(Boolean) };
      }
      case '(': {
        const e = pipeline();
        if (toks[k++]?.t !== ')') throw new TemplateError(`${pos}: unclosed left paren`);
        return e;
      }
      case 'ident': return { kind: 'call', name: t.v, args: [] };
      default: throw new TemplateError(`${pos}: unexpected "${t.v}"`);
    }
  };
  const command = (): Expr => {
    const first = operand();
    if (first.kind === 'call') {
      while (k < toks.length && toks[k]!.t !== '|' && toks[k]!.t !== ')') first.args.push(operand());
    } else if (k < toks.length && toks[k]!.t !== '|' && toks[k]!.t !== ')') {
      throw new TemplateError(`${pos}: can't give argument to non-function`);
    }
    return first;
  };
  const pipeline = (): Expr => {
    const cmds = [command()];
    while (toks[k]?.t === '|') {
      k++;
      const c = command();
      if (c.kind !== 'call') throw new TemplateError(`${pos}: non-function in pipeline`);
      cmds.push(c);
    }
    return cmds.length === 1 ? cmds[0]! : { kind: 'pipe', cmds };
  };
  const e = pipeline();
  if (k !== toks.length) throw new TemplateError(`${pos}: unexpected "${toks[k]!.v}" in action`);
  return e;
}

// ---------------------------------------------------------------- parsing structure

interface Parsed {
  body: Node[];
  defines: Map<string, Node[]>;
}

function parseTemplate(src: string, file: string): Parsed {
  const items = splitActions(src, file);
  const defines = new Map<string, Node[]>();
  let k = 0;
  // Parses nodes until one of the stop keywords; returns the keyword action met.
  const parseList = (stops: string[]): { nodes: Node[]; stop: string | null; stopItem?: RawItem } => {
    const nodes: Node[] = [];
    while (k < items.length) {
      const it = items[k++]!;
      if (it.text !== undefined) { nodes.push({ kind: 'text', text: it.text }); continue; }
      const a = it.action!;
      const word = /^[a-z]+/.exec(a)?.[0] ?? '';
      if (stops.includes(word)) return { nodes, stop: word, stopItem: it };
      if (word === 'define') {
        const m = /^define\s+"([^"]+)"$/.exec(a);
        if (!m) throw new TemplateError(`${it.pos}: bad define`);
        const r = parseList(['end']);
        if (r.stop !== 'end') throw new TemplateError(`${it.pos}: unexpected EOF in define`);
        defines.set(m[1]!, r.nodes);
        continue;
      }
      if (word === 'if') {
        const branches: { cond: Expr; body: Node[] }[] = [];
        let cond = parseExpr(a.slice(2), it.pos);
        let otherwise: Node[] = [];
        for (;;) {
          const r = parseList(['else', 'end']);
          branches.push({ cond, body: r.nodes });
          if (r.stop === 'end') break;
          if (r.stop !== 'else') throw new TemplateError(`${it.pos}: unexpected EOF in if`);
          const rest = r.stopItem!.action!.slice(4).trim();
          if (rest.startsWith('if ')) { cond = parseExpr(rest.slice(3), r.stopItem!.pos); continue; }
          if (rest !== '') throw new TemplateError(`${r.stopItem!.pos}: unsupported else clause`);
          const r2 = parseList(['end']);
          if (r2.stop !== 'end') throw new TemplateError(`${it.pos}: unexpected EOF in else`);
          otherwise = r2.nodes;
          break;
        }
        nodes.push({ kind: 'if', branches, otherwise });
        continue;
      }
      if (['range', 'with', 'template', 'block', 'break', 'continue'].includes(word)) {
        throw new TemplateError(`${it.pos}: "${word}" is outside the subset this renderer supports`);
      }
      if (word === 'end' || word === 'else') throw new TemplateError(`${it.pos}: unexpected {{${word}}}`);
      nodes.push({ kind: 'print', expr: parseExpr(a, it.pos), pos: it.pos });
    }
    return { nodes, stop: null };
  };
  const r = parseList([]);
  return { body: r.nodes, defines };
}

// ---------------------------------------------------------------- execution

const MISSING = Symbol('missing');

function truthy(v: Value): boolean {
  if (v === MISSING || v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** fmt.Sprint of a value as Go's templates print it. */
function goString(v: Value, pos: string): string {
  if (v === MISSING || v === null || v === undefined) throw new TemplateError(`${pos}: printing a missing value`);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TemplateError(`${pos}: cannot print a ${Array.isArray(v) ? 'list' : 'map'} (use toYaml)`);
}

/** Go's yaml.Marshal as Helm's toYaml uses it: keys sorted, lists not indented, no trailing newline. */
function toYaml(v: Value): string {
  if (v === MISSING || v === null || v === undefined) return 'null';
  return toYamlString(v, { sortMapEntries: true, indentSeq: false, lineWidth: 0 }).replace(/\n$/, '');
}

function indentLines(n: number, s: string): string {
  const pad = ' '.repeat(n);
  return pad + s.replace(/\n/g, '\n' + pad);
}

function sprintf(format: string, args: Value[], pos: string): string {
  let ai = 0;
  return format.replace(/%([sdv%])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    if (ai >= args.length) throw new TemplateError(`${pos}: printf: missing argument for %${verb}`);
    return goString(args[ai++], pos);
  });
}

export interface RenderContext {
  Values: Record<string, unknown>;
  Release: { Name: string; Namespace: string; Service: string; IsInstall: boolean; IsUpgrade: boolean };
  Chart: { Name: string; Version: string; AppVersion: string };
}

class Executor {
  constructor(
    private readonly defines: Map<string, Node[]>,
    private readonly root: RenderContext,
  ) {}

  render(nodes: Node[], dot: Value): string {
    let out = '';
    for (const n of nodes) {
      if (n.kind === 'text') out += n.text;
      else if (n.kind === 'print') out += goString(this.eval(n.expr, dot, n.pos), n.pos);
      else {
        const b = n.branches.find((br) => truthy(this.eval(br.cond, dot, '')));
        out += this.render(b ? b.body : n.otherwise, dot);
      }
    }
    return out;
  }

  private field(base: Value, path: string[]): Value {
    let v = base;
    for (const p of path) {
      if (v === MISSING || v === null || v === undefined || typeof v !== 'object') return MISSING;
      v = Object.prototype.hasOwnProperty.call(v, p) ? (v as Record<string, unknown>)[p] : MISSING;
    }
    return v;
  }

  eval(e: Expr, dot: Value, pos: string, piped?: Value[]): Value {
    switch (e.kind) {
      case 'lit': return e.value;
      case 'field': return this.field(e.root === 'dollar' ? this.root : dot, e.path);
      case 'pipe': {
        let v = this.eval(e.cmds[0]!, dot, pos);
        for (let i = 1; i < e.cmds.length; i++) v = this.eval(e.cmds[i]!, dot, pos, [v]);
        return v;
      }
      case 'call': {
        const args = e.args.map((a) => this.eval(a, dot, pos));
        if (piped) args.push(...piped);
        return this.call(e.name, args, pos);
      }
    }
  }

  private call(name: string, a: Value[], pos: string): Value {
    const want = (n: number): void => {
      if (a.length !== n) throw new TemplateError(`${pos}: wrong number of args for ${name}: want ${n} got ${a.length}`);
    };
    switch (name) {
      case 'include': {
        want(2);
        const body = this.defines.get(String(a[0]));
        if (!body) throw new TemplateError(`${pos}: no template "${String(a[0])}" associated with template`);
        return this.render(body, a[1]);
      }
      case 'quote':
        return a.filter((x) => x !== MISSING && x !== null && x !== undefined).map((x) => JSON.stringify(goString(x, pos))).join(' ');
      case 'toYaml': want(1); return toYaml(a[0]);
      case 'nindent': want(2); return '\n' + indentLines(Number(a[0]), goString(a[1], pos));
      case 'indent': want(2); return indentLines(Number(a[0]), goString(a[1], pos));
      case 'printf': return sprintf(String(a[0]), a.slice(1), pos);
      case 'sha256sum': want(1); return createHash('sha256').update(goString(a[0], pos)).digest('hex');
      case 'default': want(2); return truthy(a[1]) ? a[1] : a[0];
      case 'not': want(1); return !truthy(a[0]);
      case 'eq': want(2); return a[0] === a[1];
      default: throw new TemplateError(`${pos}: function "${name}" not defined (outside the supported subset)`);
    }
  }
}

// ---------------------------------------------------------------- chart

export interface RenderedChart {
  /** rendered template files (manifests only, like `helm template`), by file name under templates/ */
  files: Map<string, string>;
  notes: string;
  context: RenderContext;
}

export interface RenderOptions {
  name?: string;
  namespace?: string;
  /** values merged over values.yaml (maps merged deeply, other values replaced) */
  values?: Record<string, unknown>;
}

function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? mergeValues(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

export function renderChart(chartDir: string, opts: RenderOptions = {}): RenderedChart {
  const chart = parseYaml(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, string>;
  const defaults = (parseYaml(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) ?? {}) as Record<string, unknown>;
  const context: RenderContext = {
    Values: mergeValues(defaults, opts.values ?? {}),
    Release: { Name: opts.name ?? 'release-name', Namespace: opts.namespace ?? 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: String(chart.name), Version: String(chart.version), AppVersion: String(chart.appVersion ?? '') },
  };
  const tdir = join(chartDir, 'templates');
  const names = readdirSync(tdir).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f)).sort();
  const parsed = names.map((f) => ({ f, p: parseTemplate(readFileSync(join(tdir, f), 'utf8'), `${chart.name}/templates/${f}`) }));
  const defines = new Map<string, Node[]>();
  for (const { p } of parsed) for (const [k, v] of p.defines) defines.set(k, v);
  const ex = new Executor(defines, context);
  const files = new Map<string, string>();
  let notes = '';
  for (const { f, p } of parsed) {
    if (f.startsWith('_')) continue;
    const out = ex.render(p.body, context);
    if (f === 'NOTES.txt') notes = out;
    else files.set(f, out);
  }
  return { files, notes, context };
}

/** Kind order Helm uses for `helm template` output and installs (the kinds this chart has). */
const KIND_ORDER = ['Namespace', 'ServiceAccount', 'Secret', 'ConfigMap', 'PersistentVolumeClaim', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Service', 'Deployment', 'StatefulSet'];

/** Labels only Helm-managed objects carry; plain manifests leave them out. */
export const HELM_ONLY_LABELS = ['app.kubernetes.io/managed-by', 'helm.sh/chart'];

/**
 * The `helm template` stream: one document per manifest, each headed by `# Source:`. With
 * `plain`, the Helm-only labels are left out, for manifests applied with kubectl.
 */
export function manifestStream(r: RenderedChart, plain = false): string {
  const docs: { kind: string; name: string; source: string; text: string }[] = [];
  for (const [f, text] of r.files) {
    for (const part of text.split(/^---\s*$/m)) {
      const obj = parseYaml(part) as { kind?: string; metadata?: { name?: string } } | null;
      if (!obj) continue;
      docs.push({ kind: obj.kind ?? '', name: obj.metadata?.name ?? '', source: `${r.context.Chart.Name}/templates/${f}`, text: part.replace(/^\n+/, '').replace(/\s+$/, '') });
    }
  }
  const rank = (k: string): number => (KIND_ORDER.includes(k) ? KIND_ORDER.indexOf(k) : KIND_ORDER.length);
  docs.sort((a, b) => rank(a.kind) - rank(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const dropHelm = (t: string): string =>
    plain ? t.split('\n').filter((l) => !HELM_ONLY_LABELS.some((k) => l.trimStart().startsWith(k + ':'))).join('\n') : t;
  return docs.map((d) => `---\n# Source: ${d.source}\n${dropHelm(d.text)}\n`).join('');
}

const HELP = `Usage: npx tsx test/docker/helm-render.ts CHART_DIR [--name NAME] [--namespace NS] [--notes] [--plain]

Renders a Helm chart that stays within this renderer's template subset, printing the manifests
as \`helm template NAME CHART_DIR --namespace NS\` would (or NOTES.txt with --notes).
--plain leaves out the Helm-only labels (${HELM_ONLY_LABELS.join(', ')}).
Regenerate docker/k8s/bramble.yaml with:
  npx tsx test/docker/helm-render.ts docker/helm/bramble --name bramble --namespace monitoring --plain
`;

function cli(argv: string[]): void {
  let dir: string | undefined;
  const opts: RenderOptions = {};
  let notes = false;
  let plain = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') { process.stdout.write(HELP); return; }
    if (a === '--name') opts.name = argv[++i];
    else if (a === '--namespace') opts.namespace = argv[++i];
    else if (a === '--notes') notes = true;
    else if (a === '--plain') plain = true;
    else if (!a.startsWith('-') && !dir) dir = a;
    else { process.stderr.write(`helm-render: unknown argument "${a}"\n\n${HELP}`); process.exit(2); }
  }
  if (!dir) { process.stderr.write(`helm-render: missing CHART_DIR\n\n${HELP}`); process.exit(2); }
  try {
    const r = renderChart(dir, opts);
    process.stdout.write(notes ? r.notes : manifestStream(r, plain));
  } catch (e) {
    process.stderr.write(`helm-render: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) cli(process.argv.slice(2));
