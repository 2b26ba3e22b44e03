// Flag parsing for the `bramble` subcommands (export, import, query): GNU-style `--name value`,
// `--name=value`, `-n value`, boolean flags and repeatable flags, validated against a declared
// flag table so typos fail with an actionable message instead of being ignored.

export interface FlagSpec {
  name: string;
  /** one-letter alias, without the dash */
  short?: string;
  /** takes no value */
  boolean?: boolean;
  /** may be given several times (values collected in order) */
  repeat?: boolean;
  /** shown as `--name <arg>` in help */
  arg?: string;
  help: string;
  default?: string;
}

export interface ParsedArgs {
  flags: Map<string, string[]>;
  positionals: string[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: string[], specs: FlagSpec[]): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    if (s.short) byName.set(s.short, s);
  }
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    let name = a.replace(/^--?/, '');
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown flag ${a.split('=')[0]} (see --help)`);
    if (spec.boolean) {
      if (value !== undefined && !['true', 'false', '1', '0'].includes(value)) throw new UsageError(`flag --${spec.name} takes no value (got "${value}")`);
      value = value === undefined || value === 'true' || value === '1' ? 'true' : 'false';
    } else if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`flag --${spec.name} needs a value${spec.arg ? ` (${spec.arg})` : ''}`);
    }
    const cur = flags.get(spec.name);
    if (cur && !spec.repeat) cur[0] = value;
    else if (cur) cur.push(value);
    else flags.set(spec.name, [value]);
  }
  return { flags, positionals };
}

export function flag(a: ParsedArgs, name: string): string | undefined {
  return a.flags.get(name)?.[0];
}

export function flagBool(a: ParsedArgs, name: string): boolean {
  return a.flags.get(name)?.[0] === 'true';
}

export function flagList(a: ParsedArgs, name: string): string[] {
  return a.flags.get(name) ?? [];
}

export function flagNumber(a: ParsedArgs, name: string, def: number): number {
  const v = flag(a, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || v.trim() === '') throw new UsageError(`--${name} must be a number, got "${v}"`);
  return n;
}

export function formatHelp(usage: string, description: string, specs: FlagSpec[], footer = ''): string {
  const rows = specs.map((s) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.boolean ? '' : ` <${s.arg ?? 'value'}>`}`;
    const def = s.default !== undefined ? ` (default ${s.default})` : '';
    return [left, s.help + def] as const;
  });
  const w = Math.min(34, Math.max(...rows.map((r) => r[0].length)) + 2);
  const lines = [`Usage: ${usage}`, '', description, '', 'Flags:'];
  for (const [l, r] of rows) lines.push(`  ${l.padEnd(w)}${l.length >= w ? `\n  ${''.padEnd(w)}` : ''}${r}`);
  if (footer) lines.push('', footer);
  return lines.join('\n') + '\n';
}
