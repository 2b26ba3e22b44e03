// Public entry point of the Go text/template engine used by LogQL `line_format` and
// `label_format`. compileTemplate parses once per query (Loki names the template "line" for
// line_format and "label" for label_format); Template.execute renders one log entry over its
// labels (Go's map[string]string with missingkey=zero), the `__line__` and `__timestamp__`
// functions reading the entry's line and timestamp. Errors are Go's exact texts.
import { Executor } from './exec.js';
import { hasFunction } from './funcs.js';
import { parseTemplate, type ListNode } from './parse.js';
import { LabelsMap } from './values.js';

export { TemplateParseError, TemplateExecError } from './errors.js';
export { sprintf, sprint, formatFloat, quote } from './gofmt.js';

/** The data a template executes over: one log entry. */
export interface TemplateContext {
  /** All labels of the entry (stream, structured metadata, parsed), by name. */
  labels: Record<string, string>;
  /** The entry's current line (`__line__`). */
  line: string;
  /** The entry's timestamp in Unix nanoseconds (`__timestamp__`). */
  tsNs: bigint;
}

export interface Template {
  /** Renders the template. Throws TemplateExecError (Go's error text) on a runtime error. */
  execute(ctx: TemplateContext): string;
  /** Label names the template reads as fields (Loki's RequiredLabelNames). */
  readonly requiredLabels: readonly string[];
  /** For `{{.name}}` templates: the label name (Loki copies the value directly). */
  readonly simpleKey: string | null;
}

class CompiledTemplate implements Template {
  private readonly exec: Executor;
  private readonly data = new LabelsMap({});
  readonly requiredLabels: readonly string[];
  readonly simpleKey: string | null;

  constructor(
    private readonly root: ListNode,
    name: string,
    text: string,
    trees: Map<string, ListNode>,
  ) {
    this.exec = new Executor(name, text, trees);
    this.requiredLabels = collectFields(root);
    this.simpleKey = simpleKeyOf(root);
  }

  execute(ctx: TemplateContext): string {
    if (this.simpleKey !== null) {
      const v = ctx.labels[this.simpleKey];
      return typeof v === 'string' ? v : '';
    }
    this.data.rec = ctx.labels;
    this.exec.ctx.line = ctx.line;
    this.exec.ctx.tsNs = ctx.tsNs;
    return this.exec.run(this.root, this.data);
  }
}

function simpleKeyOf(root: ListNode): string | null {
  if (root.nodes.length !== 1) return null;
  const n = root.nodes[0]!;
  if (n.k !== 'action' || n.pipe.decl.length > 0 || n.pipe.cmds.length !== 1) return null;
  const args = n.pipe.cmds[0]!.args;
  if (args.length !== 1) return null;
  const a = args[0]!;
  return a.k === 'field' && a.ident.length === 1 ? a.ident[0]! : null;
}

function collectFields(root: ListNode): string[] {
  const out = new Set<string>();
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const o = n as Record<string, unknown>;
    if (o['k'] === 'field') for (const id of o['ident'] as string[]) out.add(id);
    for (const key of ['nodes', 'pipe', 'cmds', 'args', 'list', 'elseList', 'node']) if (key in o) visit(o[key]);
  };
  visit(root);
  return [...out];
}

/**
 * Parses a template once. `name` is the Go template name used in error messages ("line" for
 * line_format, "label" for label_format). Throws TemplateParseError with Go's text, e.g.
 * `template: line:1: unclosed action` (Loki prefixes `invalid line template: `).
 */
export function compileTemplate(text: string, name = 'line'): Template {
  const parsed = parseTemplate(name, text, hasFunction);
  return new CompiledTemplate(parsed.root, name, text, parsed.trees);
}
