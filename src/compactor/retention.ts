// Retention rules (Loki's limits_config.retention_period and retention_stream): which period
// applies to a stream. As in Loki's TenantRetentionSnapshot.RetentionPeriodFor, every matching
// stream rule is considered, the highest priority wins, equal priorities keep the shortest
// period, and the global period applies when no rule matches. A period of 0 keeps data forever.
import type { LimitsConfig } from '../config/config.js';
import { parseMatchers } from '../logql/syntax/index.js';
import { compileMatchers, matchesLabels, type CompiledMatcher } from '../query/matchers.js';
import type { Labels } from '../util/labels.js';

interface StreamRule {
  matchers: CompiledMatcher[];
  priority: number;
  periodMs: number;
}

export class RetentionRules {
  private readonly rules: StreamRule[];
  private readonly globalMs: number;

  constructor(limits: Pick<LimitsConfig, 'retentionPeriodMs' | 'retentionStream'>) {
    this.globalMs = limits.retentionPeriodMs;
    this.rules = limits.retentionStream.map((r) => {
      let matchers;
      try {
        matchers = parseMatchers(r.selector);
      } catch (e) {
        throw new Error(`limits_config.retention_stream selector ${r.selector}: ${(e as Error).message}`);
      }
      return { matchers: compileMatchers(matchers), priority: r.priority, periodMs: r.periodMs };
    });
  }

  /** True when some rule or the global period can expire data. */
  get active(): boolean {
    return this.globalMs > 0 || this.rules.some((r) => r.periodMs > 0);
  }

  /** Retention period in ms for a stream's labels (0 = keep forever). */
  periodFor(labels: Labels): number {
    let found: StreamRule | null = null;
    for (const r of this.rules) {
      if (!matchesLabels(r.matchers, labels)) continue;
      if (found) {
        if (found.priority > r.priority) continue;
        if (found.priority === r.priority && found.periodMs <= r.periodMs) continue;
      }
      found = r;
    }
    return found ? found.periodMs : this.globalMs;
  }
}
