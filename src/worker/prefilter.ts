// Scan planning for a LogQL pipeline: the literal conditions a line must meet before any stage
// changes it (leading `|=`, `!=`, `|~` filters, also those behind parsers and label filters,
// since those never change the line), as UTF-8 byte strings the scan can test on raw block
// bytes and against a block's trigram bloom filter. `|=` / `!=` stages made only of plain
// strings are answered exactly by the byte test and are removed from the pipeline that still
// runs per line; `|~` contributes its required literals (regex-literals.ts) as a necessary
// condition only, so its stage stays.
import type { LabelFilterExpr, LineFilterStage, PipelineStage } from '../logql/ast.js';
import { requiredLiterals } from './regex-literals.js';

export interface LinePlan {
  /** every clause must hold: the line contains at least one of its literals */
  must: Buffer[][];
  /** the line contains none of these */
  mustNot: Buffer[];
  /** the pipeline minus the stages `must` / `mustNot` answer exactly */
  rest: PipelineStage[];
}

function utf8Exact(s: string): Buffer | null {
  const b = Buffer.from(s, 'utf8');
  // lone surrogates would be written as U+FFFD: then bytes and string semantics differ
  return b.toString('utf8') === s ? b : null;
}

function plainTerms(st: LineFilterStage): Buffer[] | null {
  const out: Buffer[] = [];
  for (const t of st.terms) {
    if (t.kind !== 'string') return null;
    const b = utf8Exact(t.value);
    if (b === null) return null;
    out.push(b);
  }
  return out;
}

export function planLineFilters(pipeline: readonly PipelineStage[]): LinePlan {
  const plan: LinePlan = { must: [], mustNot: [], rest: [] };
  let lineChanged = false;
  for (const st of pipeline) {
    if (st.kind === 'lineFormat' || st.kind === 'decolorize' || (st.kind === 'parser' && st.parser === 'unpack')) lineChanged = true;
    if (lineChanged || st.kind !== 'lineFilter') {
      plan.rest.push(st);
      continue;
    }
    if (st.op === '|=') {
      const terms = plainTerms(st);
      if (terms === null) {
        plan.rest.push(st);
        continue;
      }
      // an empty term matches every line: the stage is a no-op
      if (terms.some((t) => t.length === 0)) continue;
      plan.must.push(terms);
      continue;
    }
    if (st.op === '!=') {
      const terms = plainTerms(st);
      if (terms === null || terms.some((t) => t.length === 0)) {
        plan.rest.push(st);
        continue;
      }
      plan.mustNot.push(...terms);
      continue;
    }
    plan.rest.push(st);
    if (st.op === '|~') {
      const lits: Buffer[] = [];
      let ok = true;
      for (const t of st.terms) {
        const req = t.kind === 'string' ? requiredLiterals(t.value) : null;
        if (req === null) {
          ok = false;
          break;
        }
        for (const r of req) {
          const b = utf8Exact(r);
          if (b === null || b.length === 0) {
            ok = false;
            break;
          }
          lits.push(b);
        }
        if (!ok) break;
      }
      if (ok && lits.length > 0) plan.must.push(lits);
    }
  }
  return plan;
}

/** A `name="value"` the pipeline requires of every entry it keeps (see requiredLabelPairs). */
export interface LabelPair {
  name: string;
  value: string;
}

/** Stages that can add, change or remove labels (a label filter after them may see parsed values). */
const RELABELS = new Set<PipelineStage['kind']>(['parser', 'jsonExpressions', 'logfmtExpressions', 'labelFormat', 'drop', 'keep']);

/**
 * The `name="value"` equalities (non-empty value, not an internal `__` label) of the label filters before any stage that can
 * change labels, and not under an `or`: an entry passes the pipeline only if its labels hold
 * every such pair at that point, that is, its stream labels or its structured metadata. A scan
 * may skip a block whose structured-metadata filter rules a pair out, for a stream without a
 * label of that name.
 */
export function requiredLabelPairs(pipeline: readonly PipelineStage[]): LabelPair[] {
  const out: LabelPair[] = [];
  const collect = (f: LabelFilterExpr): void => {
    if (f.kind === 'and') {
      collect(f.left);
      collect(f.right);
    } else if (f.kind === 'string' && f.matcher.type === '=' && f.matcher.value !== '' && !f.matcher.name.startsWith('__')) {
      // (internal labels such as __error__ are set by pipeline stages, not stored)
      out.push({ name: f.matcher.name, value: f.matcher.value });
    }
  };
  for (const st of pipeline) {
    if (RELABELS.has(st.kind)) break;
    if (st.kind === 'labelFilter') collect(st.filter);
  }
  return out;
}
