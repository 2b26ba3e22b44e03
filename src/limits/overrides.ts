// Per-tenant limits: Loki's limits_config defaults overlaid with the runtime config file's
// `overrides:` section (runtime_config.file), re-read every runtime_config.period. A file that
// fails to load keeps the previous overrides (logged); at start-up it is a fatal error, as in Loki.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { applyLimitsTree, type LimitsConfig } from '../config/config.js';

export interface OverridesLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Parses a runtime config document into tenant → complete limits (defaults + overrides). */
export function parseOverrides(text: string, defaults: LimitsConfig): { tenants: Map<string, LimitsConfig>; unknownKeys: string[] } {
  const doc = (parseYaml(text) ?? {}) as Record<string, unknown>;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('runtime config must be a YAML mapping');
  const tenants = new Map<string, LimitsConfig>();
  const unknownKeys: string[] = [];
  const ov = doc.overrides;
  if (ov === undefined || ov === null) return { tenants, unknownKeys };
  if (typeof ov !== 'object' || Array.isArray(ov)) throw new Error('overrides: expected a mapping of tenant ID to limits');
  for (const [tenant, tree] of Object.entries(ov as Record<string, unknown>)) {
    const limits = structuredClone(defaults);
    if (tree !== null && tree !== undefined) {
      if (typeof tree !== 'object' || Array.isArray(tree)) throw new Error(`overrides.${tenant}: expected a mapping of limit names`);
      try {
        for (const k of applyLimitsTree(limits, tree as Record<string, unknown>)) unknownKeys.push(`overrides.${tenant}.${k}`);
      } catch (e) {
        throw new Error(`overrides.${tenant}.${(e as Error).message}`);
      }
    }
    tenants.set(tenant, limits);
  }
  return { tenants, unknownKeys };
}

export class TenantLimits {
  private tenants = new Map<string, LimitsConfig>();
  private timer: NodeJS.Timeout | null = null;
  private lastText: string | null = null;
  /** bumped whenever the overrides change, so callers can cache derived objects */
  version = 0;

  constructor(
    readonly defaults: LimitsConfig,
    private readonly file: string,
    private readonly periodMs: number,
    private readonly log?: OverridesLogger,
  ) {}

  /** Loads the file (throws on error) and starts periodic reloads. No file: defaults only. */
  start(): void {
    if (!this.file) return;
    this.load(true);
    this.timer = setInterval(() => this.load(false), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Re-reads the file now; returns false (keeping the old overrides) when it cannot be used. */
  load(throwOnError: boolean): boolean {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      const msg = `cannot read runtime_config.file ${this.file}: ${(e as Error).message}`;
      if (throwOnError) throw new Error(msg);
      this.log?.error({ component: 'runtime-config' }, msg);
      return false;
    }
    if (text === this.lastText) return true;
    try {
      const { tenants, unknownKeys } = parseOverrides(text, this.defaults);
      if (unknownKeys.length) this.log?.warn({ component: 'runtime-config', keys: unknownKeys }, 'runtime config keys not used by Bramble were ignored');
      this.tenants = tenants;
      this.lastText = text;
      this.version++;
      this.log?.info({ component: 'runtime-config', tenants: tenants.size }, 'runtime config (per-tenant overrides) loaded');
      return true;
    } catch (e) {
      const msg = `runtime_config.file ${this.file}: ${(e as Error).message}`;
      if (throwOnError) throw new Error(msg);
      this.log?.error({ component: 'runtime-config' }, `${msg}; keeping the previous overrides`);
      return false;
    }
  }

  /** The limits in force for a tenant. */
  get(tenant: string): LimitsConfig {
    return this.tenants.get(tenant) ?? this.defaults;
  }

  /** Loki's SmallestPositiveNonZeroDurationPerTenant over several tenants' values. */
  smallestPositive(tenants: readonly string[], pick: (l: LimitsConfig) => number): number {
    let out = 0;
    for (const t of tenants) {
      const v = pick(this.get(t));
      if (v > 0 && (out === 0 || v < out)) out = v;
    }
    return out;
  }
}
