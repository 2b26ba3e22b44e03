// `| line_format "tmpl"` and `| label_format a=b, c="{{tmpl}}"` (Loki's pkg/logql/log/fmt.go) on
// top of the Go text/template engine in src/logql/template. Template execution errors keep the
// entry and set `__error__=TemplateFormatErr` with the engine's message as details.
import { compileTemplate, type Template } from '../template/index.js';
import type { LabelFormatItem } from '../ast.js';
import { Cat, ERROR_LABEL, type LabelsBuilder } from './labels-builder.js';
import type { Stage } from './hints.js';
import { StageCompileError } from './stages.js';

export const ERR_TEMPLATE_FORMAT = 'TemplateFormatErr';

const SIMPLE_KEY = /^\{\{(?:- )?\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*(?: -)?\}\}$/;

/** Field names referenced as `.a` / `.a.b` inside actions (Loki's listNodeFields). */
export function templateFields(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (true) {
    const open = text.indexOf('{{', i);
    if (open < 0) break;
    let j = open + 2;
    // scan the action up to the closing }} while skipping string literals and comments
    if (text.startsWith('/*', j) || text.startsWith('- /*', j)) {
      const end = text.indexOf('*/', j);
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    while (j < text.length && !text.startsWith('}}', j)) {
      const c = text[j]!;
      if (c === '"' || c === '`' || c === "'") {
        const q = c;
        j++;
        while (j < text.length && text[j] !== q) {
          if (q !== '`' && text[j] === '\\') j++;
          j++;
        }
        j++;
        continue;
      }
      if (c === '.' && /[A-Za-z_]/.test(text[j + 1] ?? '')) {
        const prev = text[j - 1] ?? ' ';
        if (!/[A-Za-z0-9_$)\]]/.test(prev)) {
          j++;
          while (true) {
            let id = '';
            while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) id += text[j++];
            out.push(id);
            if (text[j] === '.' && /[A-Za-z_]/.test(text[j + 1] ?? '')) { j++; continue; }
            break;
          }
          continue;
        }
      }
      j++;
    }
    i = j + 2;
  }
  const uniq: string[] = [];
  for (const f of out) if (f.length > 0 && uniq.indexOf(f) < 0) uniq.push(f);
  return uniq;
}

export class LineFormatStage implements Stage {
  private readonly tmpl: Template;
  private readonly simpleKey: string;
  private readonly fields: string[];

  constructor(text: string) {
    try {
      this.tmpl = compileTemplate(text, 'line');
    } catch (e) {
      throw new StageCompileError('invalid line template: ' + (e as Error).message);
    }
    const m = SIMPLE_KEY.exec(text);
    this.simpleKey = m ? m[1]! : '';
    this.fields = templateFields(text);
  }

  requiredLabelNames(): string[] {
    return this.fields;
  }

  process(ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    if (this.simpleKey !== '') return lbs.get(this.simpleKey) ?? '';
    try {
      return this.tmpl.execute({ labels: lbs.intoObject(), line, tsNs: ts });
    } catch (e) {
      lbs.err = ERR_TEMPLATE_FORMAT;
      lbs.errDetails = (e as Error).message;
      return line;
    }
  }
}

interface LabelFmt {
  name: string;
  value: string;
  rename: boolean;
  tmpl: Template | undefined;
}

export class LabelFormatStage implements Stage {
  private readonly formats: LabelFmt[];
  private readonly fields: string[];

  constructor(items: LabelFormatItem[]) {
    const seen = new Set<string>();
    for (const f of items) {
      if (f.name === ERROR_LABEL) throw new StageCompileError(`${f.name} cannot be formatted`);
      if (seen.has(f.name)) throw new StageCompileError(`multiple label name '${f.name}' not allowed in a single format operation`);
      seen.add(f.name);
    }
    const names: string[] = [];
    this.formats = items.map((f) => {
      let tmpl: Template | undefined;
      if (!f.rename) {
        try {
          tmpl = compileTemplate(f.value, 'label');
        } catch (e) {
          throw new StageCompileError(`invalid template for label '${f.name}': ${(e as Error).message}`);
        }
        names.push(...templateFields(f.value));
      } else {
        names.push(f.value);
      }
      return { name: f.name, value: f.value, rename: f.rename, tmpl };
    });
    this.fields = [];
    for (const n of names) if (n.length > 0 && this.fields.indexOf(n) < 0) this.fields.push(n);
  }

  requiredLabelNames(): string[] {
    return this.fields;
  }

  process(ts: bigint, line: string, lbs: LabelsBuilder): string | null {
    let m: Record<string, string> | undefined;
    for (const f of this.formats) {
      if (f.rename) {
        const v = lbs.get(f.value);
        if (v !== undefined) {
          lbs.set(Cat.Parsed, f.name, v);
          lbs.del1(f.value);
        }
        continue;
      }
      if (m === undefined) m = lbs.intoObject();
      let out: string;
      try {
        out = f.tmpl!.execute({ labels: m, line, tsNs: ts });
      } catch (e) {
        lbs.err = ERR_TEMPLATE_FORMAT;
        lbs.errDetails = (e as Error).message;
        continue;
      }
      lbs.set(Cat.Parsed, f.name, out);
    }
    return line;
  }
}
