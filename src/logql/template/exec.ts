// Executor for parsed templates, mirroring Go's text/template exec.go: pipelines feed the
// previous command's value as the final argument, fields are looked up on the data map (Loki's
// map[string]string with missingkey=zero, so missing labels are ""), variables are a stack with
// Go's scoping, if/with/range follow Go truthiness and iteration order, and function arguments
// are converted/checked with Go's rules (constants vs values, `wrong type for value; expected
// int; got string`). Runtime errors carry Go's `template: NAME:LINE:COL: executing "NAME" at
// <NODE>: ...` text. The tree is compiled once; executing allocates only the output string and
// intermediate values.
import { TemplateExecError } from './errors.js';
import { CallError, funcs, type CallContext, type FuncDef, type ParamType } from './funcs.js';
import { sprintValue } from './gofmt.js';
import { formatTime, timeString, unixNanosOf, withLocation, UTC, Local } from './gotime.js';
import { goQuote, nodeString, type BranchNode, type ArgNode, type CommandNode, type ListNode, type Node, type PipeNode } from './parse.js';
import { GoInt, GoMap, GoSlice, GoTime, LabelsMap, type GoValue, isTrue, typeName, byteLen } from './values.js';

const MISSING = Symbol('missing');
type Final = GoValue | typeof MISSING;

class BreakSignal {}
class ContinueSignal {}
const BREAK = new BreakSignal();
const CONTINUE = new ContinueSignal();

type AnyNode = Node | ArgNode | CommandNode;

interface Variable {
  name: string;
  value: GoValue;
}

const maxExecDepth = 100000;

export class Executor {
  private out = '';
  private vars: Variable[] = [];
  private node: AnyNode | null = null;
  private tmplName: string;
  private depth = 0;
  readonly ctx: CallContext = { line: '', tsNs: 0n };

  constructor(
    private readonly name: string,
    private readonly text: string,
    private readonly trees: Map<string, ListNode>,
  ) {
    this.tmplName = name;
  }

  run(root: ListNode, dot: GoValue): string {
    this.out = '';
    this.vars.length = 0;
    this.vars.push({ name: '$', value: dot });
    this.node = null;
    this.tmplName = this.name;
    this.depth = 0;
    try {
      this.walk(dot, root);
    } catch (e) {
      if (e instanceof RangeError) {
        this.out = '';
        throw new TemplateExecError(this.errorText(`exceeded maximum template depth (${maxExecDepth})`));
      }
      throw e;
    }
    const s = this.out;
    this.out = '';
    return s;
  }

  // ------------------------------------------------------------ errors

  private errorText(msg: string): string {
    const n = this.node;
    if (!n) return `template: ${this.tmplName}: ${msg}`;
    const pos = n.pos;
    const before = this.text.slice(0, pos);
    const nl = before.lastIndexOf('\n');
    const line = before.split('\n').length;
    const col = byteLen(this.text.slice(nl + 1, pos));
    return `template: ${this.name}:${line}:${col}: executing ${goQuote(this.tmplName)} at <${nodeString(n)}>: ${msg}`;
  }

  private errorf(msg: string): never {
    throw new TemplateExecError(this.errorText(msg));
  }

  private at(n: AnyNode): void {
    this.node = n;
  }

  // ------------------------------------------------------------ variables

  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.errorf(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--)
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: GoValue): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  // ------------------------------------------------------------ walking

  private walk(dot: GoValue, node: Node): void {
    this.node = node;
    switch (node.k) {
      case 'text':
        this.out += node.text;
        return;
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) {
          this.node = node;
          this.out += val === undefined || val === null ? '<no value>' : sprintValue(val);
        }
        return;
      }
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        try {
          const val = this.evalPipeline(dot, node.pipe);
          if (isTrue(val)) this.walk(node.k === 'with' ? val : dot, node.list);
          else if (node.elseList) this.walk(dot, node.elseList);
        } finally {
          this.vars.length = mark;
        }
        return;
      }
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private walkTemplate(dot: GoValue, t: Extract<Node, { k: 'template' }>): void {
    this.at(t);
    const tmpl = this.trees.get(t.name);
    if (!tmpl) this.errorf(`template ${goQuote(t.name)} not defined`);
    if (this.depth >= maxExecDepth) this.errorf(`exceeded maximum template depth (${maxExecDepth})`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined;
    const savedVars = this.vars;
    const savedName = this.tmplName;
    this.vars = [{ name: '$', value: newDot }];
    this.tmplName = t.name;
    this.depth++;
    try {
      this.walk(newDot, tmpl);
    } finally {
      this.depth--;
      this.vars = savedVars;
      this.tmplName = savedName;
    }
  }

  private walkRange(dot: GoValue, r: BranchNode): void {
    this.at(r);
    const outerMark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      const one = (index: GoValue, elem: GoValue): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) {
            if (decl.length > 1) this.setVar(decl[0]!.name, index);
            else this.setVar(decl[0]!.name, elem);
          } else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.name, elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = mark;
        }
      };
      let ran = false;
      try {
        if (val instanceof GoSlice) {
          for (let i = 0; i < val.a.length; i++) {
            ran = true;
            one(new GoInt(BigInt(i), 'int'), val.a[i]);
          }
        } else if (val instanceof GoMap || val instanceof LabelsMap) {
          const entries: [string, GoValue][] =
            val instanceof GoMap
              ? [...val.m]
              : Object.keys(val.rec)
                  .filter((k) => typeof val.rec[k] === 'string')
                  .map((k) => [k, val.rec[k]!]);
          entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
          for (const [k, v] of entries) {
            ran = true;
            one(k, v);
          }
        } else if (val instanceof GoInt) {
          if (decl.length > 1) this.errorf(`can't use ${sprintValue(val)} to iterate over more than one variable`);
          for (let i = 0n; i < val.v; i++) {
            ran = true;
            const iv = new GoInt(i, val.t);
            one(iv, iv);
          }
        } else if (val !== undefined && val !== null) {
          this.errorf(`range can't iterate over ${sprintValue(val)}`);
        }
      } catch (e) {
        if (e !== BREAK) throw e;
        ran = true;
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = outerMark;
    }
  }

  // ------------------------------------------------------------ evaluation

  private evalPipeline(dot: GoValue, pipe: PipeNode): GoValue {
    this.at(pipe);
    let value: Final = MISSING;
    const cmds = pipe.cmds;
    for (let i = 0; i < cmds.length; i++) {
      value = this.evalCommand(dot, cmds[i]!, value);
      // an interface{} holding nil becomes an invalid value
      if (value === null) value = undefined;
    }
    const v = value as GoValue;
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.name, v);
      else this.vars.push({ name: d.name, value: v });
    }
    return v;
  }

  private notAFunction(args: ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    const first = cmd.args[0]!;
    switch (first.k) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'ident':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'var':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.k) {
      case 'bool':
        return first.v;
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
      // eslint-disable-next-line no-fallthrough
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  private idealConstant(n: Extract<ArgNode, { k: 'number' }>): GoValue {
    this.at(n);
    const t = n.text;
    const isHexInt = t.length > 2 && t[0] === '0' && (t[1] === 'x' || t[1] === 'X') && !/[pP]/.test(t);
    const isRuneInt = t[0] === "'";
    if (n.isFloat && !isHexInt && !isRuneInt && /[.eEpP]/.test(t)) return n.float64;
    if (n.isInt) return new GoInt(n.int64, 'int');
    if (n.isUint) this.errorf(`${t} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: GoValue, field: Extract<ArgNode, { k: 'field' }>, args: ArgNode[] | null, final: Final): GoValue {
    this.at(field);
    // fast path: a single label lookup on Loki's labels map
    if (field.ident.length === 1 && dot instanceof LabelsMap && (args === null || args.length <= 1) && final === MISSING) {
      const v = dot.rec[field.ident[0]!];
      return typeof v === 'string' ? v : '';
    }
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: GoValue, chain: Extract<ArgNode, { k: 'chain' }>, args: ArgNode[] | null, final: Final): GoValue {
    if (chain.node.k === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, 'any', chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: GoValue, v: Extract<ArgNode, { k: 'var' }>, args: ArgNode[] | null, final: Final): GoValue {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      if (args) this.notAFunction(args, final);
      else if (final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(v)}`);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: GoValue,
    receiver: GoValue,
    node: AnyNode,
    ident: string[],
    args: ArgNode[] | null,
    final: Final,
  ): GoValue {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, null, MISSING, receiver);
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver);
  }

  private evalField(
    dot: GoValue,
    fieldName: string,
    node: AnyNode,
    args: ArgNode[] | null,
    final: Final,
    receiver: GoValue,
  ): GoValue {
    if (receiver === undefined) return undefined;
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    if (receiver instanceof GoTime) {
      const m = timeMethods[fieldName];
      if (m) return this.evalCall(dot, m, fieldName, node, args, final, receiver);
    }
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (receiver instanceof LabelsMap) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      const v = receiver.rec[fieldName];
      return typeof v === 'string' ? v : '';
    }
    if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      const v = receiver.m.get(fieldName);
      return v === undefined ? null : v;
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typeName(receiver)}`);
  }

  private evalFunction(
    dot: GoValue,
    node: Extract<ArgNode, { k: 'ident' }>,
    cmd: AnyNode,
    args: ArgNode[] | null,
    final: Final,
  ): GoValue {
    this.at(node);
    const def = funcs[node.name];
    if (!def) this.errorf(`${goQuote(node.name)} is not a defined function`);
    return this.evalCall(dot, def, node.name, cmd, args, final);
  }

  private evalCall(
    dot: GoValue,
    def: FuncDef,
    name: string,
    node: AnyNode,
    args: ArgNode[] | null,
    final: Final,
    receiver?: GoValue,
  ): GoValue {
    const argNodes = args ? args.slice(1) : [];
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    let numFixed = argNodes.length;
    const np = def.params.length;
    if (def.variadic) {
      numFixed = np;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${np} got ${argNodes.length}`);
    } else if (numIn !== np) this.errorf(`wrong number of args for ${name}: want ${np} got ${numIn}`);

    if (def.builtin && (name === 'and' || name === 'or')) {
      let v: GoValue = undefined;
      for (const arg of argNodes) {
        v = this.evalArg(dot, 'reflect.Value', arg);
        if (isTrue(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = this.validateType(final, 'reflect.Value');
      return v;
    }

    const argv: GoValue[] = new Array(numIn);
    let i = 0;
    for (; i < numFixed && i < argNodes.length; i++) argv[i] = this.evalArg(dot, def.params[i]!, argNodes[i]!);
    if (def.variadic) for (; i < argNodes.length; i++) argv[i] = this.evalArg(dot, def.variadic, argNodes[i]!);
    if (final !== MISSING) {
      let t: ParamType;
      if (def.variadic) t = numIn - 1 < numFixed ? def.params[numIn - 1]! : def.variadic;
      else t = def.params[np - 1]!;
      argv[i] = this.validateType(final, t);
    }
    if (receiver !== undefined) argv.unshift(receiver);
    try {
      return def.fn(argv, this.ctx);
    } catch (e) {
      if (e instanceof CallError) {
        this.at(node);
        this.errorf(`error calling ${name}: ${e.message}`);
      }
      throw e;
    }
  }

  private evalArg(dot: GoValue, typ: ParamType, n: ArgNode): GoValue {
    this.at(n);
    switch (n.k) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ === 'any') return null;
        if (typ === 'reflect.Value') return undefined;
        this.errorf(`cannot assign nil to ${typ}`);
      // eslint-disable-next-line no-fallthrough
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'var':
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'ident':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.k === 'bool') return n.v;
        this.errorf(`expected bool; found ${nodeString(n)}`);
      // eslint-disable-next-line no-fallthrough
      case 'float64':
        if (n.k === 'number' && n.isFloat) return n.float64;
        this.errorf(`expected float; found ${nodeString(n)}`);
      // eslint-disable-next-line no-fallthrough
      case 'int':
        if (n.k === 'number' && n.isInt) return new GoInt(n.int64, 'int');
        this.errorf(`expected integer; found ${nodeString(n)}`);
      // eslint-disable-next-line no-fallthrough
      case 'string':
        if (n.k === 'string') return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
      // eslint-disable-next-line no-fallthrough
      case 'any':
      case 'reflect.Value':
        if (n.k === 'bool') return n.v;
        if (n.k === 'number') return this.idealConstant(n);
        if (n.k === 'string') return n.text;
        break;
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${typ}`);
  }

  private validateType(value: GoValue, typ: ParamType): GoValue {
    if (value === undefined) {
      if (typ === 'any') return null;
      if (typ === 'reflect.Value') return undefined;
      this.errorf(`invalid value; expected ${typ}`);
    }
    let ok: boolean;
    switch (typ) {
      case 'any':
      case 'reflect.Value':
        return value;
      case 'string':
        ok = typeof value === 'string';
        break;
      case 'int':
        ok = value instanceof GoInt && value.t === 'int';
        break;
      case 'float64':
        ok = typeof value === 'number';
        break;
      case 'bool':
        ok = typeof value === 'boolean';
        break;
      case 'time.Time':
        ok = value instanceof GoTime;
        break;
    }
    if (!ok) this.errorf(`wrong type for value; expected ${typ}; got ${value === null ? 'interface {}' : typeName(value)}`);
    return value;
  }
}

const int = (n: number | bigint): GoInt => new GoInt(typeof n === 'bigint' ? n : BigInt(n), 'int');
const int64 = (n: bigint): GoInt => new GoInt(n, 'int64');

function field(t: GoTime, k: 'year' | 'day' | 'hour' | 'min' | 'sec' | 'yday' | 'month' | 'wday'): number {
  const f = formatTime(t, '2006 2 15 4 5 002 1 0');
  const [y, d, h, mi, s, yd, mo] = f.split(' ').map((x) => parseInt(x, 10));
  const wd = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'].indexOf(
    formatTime(t, 'Monday'),
  );
  switch (k) {
    case 'year':
      return y!;
    case 'day':
      return d!;
    case 'hour':
      return h!;
    case 'min':
      return mi!;
    case 'sec':
      return s!;
    case 'yday':
      return yd!;
    case 'month':
      return mo!;
    case 'wday':
      return wd;
  }
}

/** The time.Time methods templates can call on `__timestamp__` and friends. */
const timeMethods: Record<string, FuncDef> = {
  Unix: { params: [], fn: (a) => int64(BigInt((a[0] as GoTime).sec)) },
  UnixMilli: { params: [], fn: (a) => int64(unixNanosOf(a[0] as GoTime) / 1_000_000n) },
  UnixMicro: { params: [], fn: (a) => int64(unixNanosOf(a[0] as GoTime) / 1000n) },
  UnixNano: { params: [], fn: (a) => int64(BigInt.asIntN(64, unixNanosOf(a[0] as GoTime))) },
  Format: { params: ['string'], fn: (a) => formatTime(a[0] as GoTime, a[1] as string) },
  String: { params: [], fn: (a) => timeString(a[0] as GoTime) },
  UTC: { params: [], fn: (a) => withLocation(a[0] as GoTime, UTC) },
  Local: { params: [], fn: (a) => withLocation(a[0] as GoTime, Local) },
  Year: { params: [], fn: (a) => int(field(a[0] as GoTime, 'year')) },
  Day: { params: [], fn: (a) => int(field(a[0] as GoTime, 'day')) },
  Hour: { params: [], fn: (a) => int(field(a[0] as GoTime, 'hour')) },
  Minute: { params: [], fn: (a) => int(field(a[0] as GoTime, 'min')) },
  Second: { params: [], fn: (a) => int(field(a[0] as GoTime, 'sec')) },
  Nanosecond: { params: [], fn: (a) => int((a[0] as GoTime).nsec) },
  YearDay: { params: [], fn: (a) => int(field(a[0] as GoTime, 'yday')) },
  Month: { params: [], fn: (a) => formatTime(a[0] as GoTime, 'January') },
  Weekday: { params: [], fn: (a) => formatTime(a[0] as GoTime, 'Monday') },
  IsZero: { params: [], fn: (a) => (a[0] as GoTime).sec === -62135596800 && (a[0] as GoTime).nsec === 0 },
};
