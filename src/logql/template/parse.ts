// Lexer and parser for Go text/template syntax, mirroring Go's text/template/parse (Go 1.26):
// the same tokens (trim markers `{{- ` / ` -}}`, comments, raw strings, char constants, numbers
// with base prefixes and underscores), the same grammar (pipelines, declarations/assignments,
// if/else if/with/else with/range/break/continue/define/template/block, parenthesized pipelines,
// field chains) and the same error texts (`template: line:1: unexpected "}" in operand`), so
// Loki's parse errors can be reproduced exactly. Produces the node tree the executor walks.
import { TemplateParseError } from './errors.js';

// ---------------------------------------------------------------- tokens

const enum T {
  Error,
  Bool,
  Char,
  CharConstant,
  Comment,
  Assign,
  Declare,
  EOF,
  Field,
  Identifier,
  LeftDelim,
  LeftParen,
  Number,
  Pipe,
  RawString,
  RightDelim,
  RightParen,
  Space,
  String,
  Text,
  Variable,
  Keyword, // delimiter: keywords follow
  Block,
  Break,
  Continue,
  Dot,
  Define,
  Else,
  End,
  If,
  Nil,
  Range,
  Template,
  With,
}

interface Item {
  typ: T;
  pos: number;
  val: string;
  line: number;
}

const keywords: Record<string, T> = {
  '.': T.Dot,
  block: T.Block,
  break: T.Break,
  continue: T.Continue,
  define: T.Define,
  else: T.Else,
  end: T.End,
  if: T.If,
  range: T.Range,
  nil: T.Nil,
  template: T.Template,
  with: T.With,
};

function itemString(i: Item): string {
  if (i.typ === T.EOF) return 'EOF';
  if (i.typ === T.Error) return i.val;
  if (i.typ > T.Keyword) return '<' + i.val + '>';
  if (i.val.length > 10) return goQuote(i.val, 10) + '...';
  return goQuote(i.val);
}

/** %q (optionally %.Nq) of a string, enough for token texts. */
export function goQuote(s: string, maxRunes = -1): string {
  if (maxRunes >= 0) s = Array.from(s).slice(0, maxRunes).join('');
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c === 10) out += '\\n';
    else if (c === 9) out += '\\t';
    else if (c === 13) out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** Go's %#U. */
function sharpU(cp: number): string {
  if (cp < 0) return 'U+FFFFFFFFFFFFFFFF';
  const h = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  if (cp >= 0x20 && cp !== 0x7f && !(cp >= 0x80 && cp < 0xa0)) return h + " '" + String.fromCodePoint(cp) + "'";
  return h;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

function isAlphaNumeric(c: number): boolean {
  if (c === 95) return true;
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return true;
  if (c < 0x80) return false;
  return /[\p{L}\p{Nd}]/u.test(String.fromCodePoint(c));
}

const EOFC = -1;

class Lexer {
  items: Item[] = [];
  pos = 0;
  start = 0;
  parenDepth = 0;
  private readonly nlIndex: number[] = [];
  constructor(
    readonly input: string,
    readonly breakOK: boolean,
  ) {
    for (let i = 0; i < input.length; i++) if (input.charCodeAt(i) === 10) this.nlIndex.push(i);
  }

  lineAt(pos: number): number {
    // 1 + number of newlines before pos
    let lo = 0;
    let hi = this.nlIndex.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.nlIndex[mid]! < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  next(): number {
    if (this.pos >= this.input.length) return EOFC;
    const c = this.input.codePointAt(this.pos)!;
    this.pos += c > 0xffff ? 2 : 1;
    this.lastWidth = c > 0xffff ? 2 : 1;
    return c;
  }
  private lastWidth = 0;
  backup(): void {
    this.pos -= this.lastWidth;
    this.lastWidth = 0;
  }
  peek(): number {
    if (this.pos >= this.input.length) return EOFC;
    return this.input.codePointAt(this.pos)!;
  }
  emit(t: T): void {
    this.items.push({ typ: t, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.lineAt(this.start) });
    this.start = this.pos;
  }
  ignore(): void {
    this.start = this.pos;
  }
  accept(valid: string): boolean {
    const c = this.next();
    if (c !== EOFC && valid.includes(String.fromCodePoint(c))) return true;
    if (c !== EOFC) this.backup();
    return false;
  }
  acceptRun(valid: string): void {
    for (;;) {
      const c = this.next();
      if (c === EOFC) return;
      if (!valid.includes(String.fromCodePoint(c))) {
        this.backup();
        return;
      }
    }
  }
  errorf(msg: string): false {
    this.items.push({ typ: T.Error, pos: this.start, val: msg, line: this.lineAt(this.start) });
    return false;
  }

  run(): Item[] {
    let state: ((this: Lexer) => unknown) | null = this.lexText;
    while (state) {
      const r: unknown = state.call(this);
      state = typeof r === 'function' ? (r as (this: Lexer) => unknown) : null;
    }
    return this.items;
  }

  hasLeftTrimMarker(at: number): boolean {
    return this.input.charCodeAt(at) === 45 && at + 1 < this.input.length && isSpace(this.input.charCodeAt(at + 1));
  }
  hasRightTrimMarker(at: number): boolean {
    return at + 1 < this.input.length && isSpace(this.input.charCodeAt(at)) && this.input.charCodeAt(at + 1) === 45;
  }
  atRightDelim(): [boolean, boolean] {
    if (this.hasRightTrimMarker(this.pos) && this.input.startsWith('}}', this.pos + 2)) return [true, true];
    if (this.input.startsWith('}}', this.pos)) return [true, false];
    return [false, false];
  }

  lexText(): unknown {
    const x = this.input.indexOf('{{', this.pos);
    if (x >= 0) {
      if (x > this.pos) {
        this.pos = x;
        let trimLength = 0;
        if (this.hasLeftTrimMarker(x + 2)) {
          let k = x;
          while (k > this.start && isSpace(this.input.charCodeAt(k - 1))) k--;
          trimLength = x - k;
        }
        this.pos -= trimLength;
        if (this.pos > this.start) this.emit(T.Text);
        this.pos += trimLength;
        this.ignore();
      }
      return this.lexLeftDelim;
    }
    this.pos = this.input.length;
    if (this.pos > this.start) this.emit(T.Text);
    this.emit(T.EOF);
    return null;
  }

  lexLeftDelim(): unknown {
    this.pos += 2;
    const trim = this.hasLeftTrimMarker(this.pos);
    const after = trim ? 2 : 0;
    if (this.input.startsWith('/*', this.pos + after)) {
      this.pos += after;
      this.ignore();
      return this.lexComment;
    }
    this.emit(T.LeftDelim);
    this.pos += after;
    this.ignore();
    this.parenDepth = 0;
    return this.lexInsideAction;
  }

  lexComment(): unknown {
    this.pos += 2;
    const x = this.input.indexOf('*/', this.pos);
    if (x < 0) return this.errorf('unclosed comment');
    this.pos = x + 2;
    const [delim, trim] = this.atRightDelim();
    if (!delim) return this.errorf('comment ends before closing delimiter');
    if (trim) this.pos += 2;
    this.pos += 2;
    if (trim) while (this.pos < this.input.length && isSpace(this.input.charCodeAt(this.pos))) this.pos++;
    this.ignore();
    return this.lexText;
  }

  lexRightDelim(): unknown {
    const [, trim] = this.atRightDelim();
    if (trim) {
      this.pos += 2;
      this.ignore();
    }
    this.pos += 2;
    this.emit(T.RightDelim);
    if (trim) {
      while (this.pos < this.input.length && isSpace(this.input.charCodeAt(this.pos))) this.pos++;
      this.ignore();
    }
    return this.lexText;
  }

  lexInsideAction(): unknown {
    const [delim] = this.atRightDelim();
    if (delim) {
      if (this.parenDepth === 0) return this.lexRightDelim;
      return this.errorf('unclosed left paren');
    }
    const r = this.next();
    if (r === EOFC) return this.errorf('unclosed action');
    if (isSpace(r)) {
      this.backup();
      return this.lexSpace;
    }
    switch (r) {
      case 61: // =
        this.emit(T.Assign);
        return this.lexInsideAction;
      case 58: // :
        if (this.next() !== 61) return this.errorf('expected :=');
        this.emit(T.Declare);
        return this.lexInsideAction;
      case 124:
        this.emit(T.Pipe);
        return this.lexInsideAction;
      case 34:
        return this.lexQuote;
      case 96:
        return this.lexRawQuote;
      case 36:
        return this.lexVariable;
      case 39:
        return this.lexChar;
      case 40:
        this.emit(T.LeftParen);
        this.parenDepth++;
        return this.lexInsideAction;
      case 41:
        this.emit(T.RightParen);
        this.parenDepth--;
        if (this.parenDepth < 0) return this.errorf('unexpected right paren');
        return this.lexInsideAction;
    }
    if (r === 46) {
      if (this.pos < this.input.length) {
        const c = this.input.charCodeAt(this.pos);
        if (c < 48 || c > 57) return this.lexField;
      }
      this.backup();
      return this.lexNumber;
    }
    if (r === 43 || r === 45 || (r >= 48 && r <= 57)) {
      this.backup();
      return this.lexNumber;
    }
    if (isAlphaNumeric(r)) {
      this.backup();
      return this.lexIdentifier;
    }
    if (r < 0x80 && r >= 0x20 && r !== 0x7f) {
      this.emit(T.Char);
      return this.lexInsideAction;
    }
    return this.errorf('unrecognized character in action: ' + sharpU(r));
  }

  lexSpace(): unknown {
    let n = 0;
    while (this.pos < this.input.length && isSpace(this.input.charCodeAt(this.pos))) {
      this.pos++;
      n++;
    }
    if (this.hasRightTrimMarker(this.pos - 1) && this.input.startsWith('}}', this.pos + 1)) {
      this.pos--;
      if (n === 1) return this.lexInsideAction;
    }
    this.emit(T.Space);
    return this.lexInsideAction;
  }

  atTerminator(): boolean {
    const r = this.peek();
    if (r === EOFC || isSpace(r)) return true;
    switch (r) {
      case 46:
      case 44:
      case 124:
      case 58:
      case 41:
      case 40:
        return true;
    }
    return r === 125; // first rune of the right delimiter
  }

  lexIdentifier(): unknown {
    for (;;) {
      const r = this.next();
      if (r !== EOFC && isAlphaNumeric(r)) continue;
      if (r !== EOFC) this.backup();
      const word = this.input.slice(this.start, this.pos);
      if (!this.atTerminator()) return this.errorf('bad character ' + sharpU(r));
      const kw = keywords[word];
      if (kw !== undefined && kw > T.Keyword) {
        if ((kw === T.Break || kw === T.Continue) && !this.breakOK) this.emit(T.Identifier);
        else this.emit(kw);
      } else if (word[0] === '.') this.emit(T.Field);
      else if (word === 'true' || word === 'false') this.emit(T.Bool);
      else this.emit(T.Identifier);
      return this.lexInsideAction;
    }
  }

  lexField(): unknown {
    return this.lexFieldOrVariable(T.Field);
  }

  lexVariable(): unknown {
    if (this.atTerminator()) {
      this.emit(T.Variable);
      return this.lexInsideAction;
    }
    return this.lexFieldOrVariable(T.Variable);
  }

  lexFieldOrVariable(typ: T): unknown {
    if (this.atTerminator()) {
      this.emit(typ === T.Variable ? T.Variable : T.Dot);
      return this.lexInsideAction;
    }
    let r: number;
    for (;;) {
      r = this.next();
      if (r === EOFC || !isAlphaNumeric(r)) {
        if (r !== EOFC) this.backup();
        break;
      }
    }
    if (!this.atTerminator()) return this.errorf('bad character ' + sharpU(r));
    this.emit(typ);
    return this.lexInsideAction;
  }

  lexChar(): unknown {
    for (;;) {
      let c = this.next();
      if (c === 92) {
        c = this.next();
        if (c !== EOFC && c !== 10) continue;
        return this.errorf('unterminated character constant');
      }
      if (c === EOFC || c === 10) return this.errorf('unterminated character constant');
      if (c === 39) break;
    }
    this.emit(T.CharConstant);
    return this.lexInsideAction;
  }

  scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    const p = this.peek();
    if (p !== EOFC && isAlphaNumeric(p)) {
      this.next();
      return false;
    }
    return true;
  }

  lexNumber(): unknown {
    if (!this.scanNumber()) return this.errorf('bad number syntax: ' + goQuote(this.input.slice(this.start, this.pos)));
    const sign = this.peek();
    if (sign === 43 || sign === 45) {
      if (!this.scanNumber() || this.input[this.pos - 1] !== 'i')
        return this.errorf('bad number syntax: ' + goQuote(this.input.slice(this.start, this.pos)));
      this.emit(T.Number); // complex constant
      return this.lexInsideAction;
    }
    this.emit(T.Number);
    return this.lexInsideAction;
  }

  lexQuote(): unknown {
    for (;;) {
      let c = this.next();
      if (c === 92) {
        c = this.next();
        if (c !== EOFC && c !== 10) continue;
        return this.errorf('unterminated quoted string');
      }
      if (c === EOFC || c === 10) return this.errorf('unterminated quoted string');
      if (c === 34) break;
    }
    this.emit(T.String);
    return this.lexInsideAction;
  }

  lexRawQuote(): unknown {
    for (;;) {
      const c = this.next();
      if (c === EOFC) return this.errorf('unterminated raw quoted string');
      if (c === 96) break;
    }
    this.emit(T.RawString);
    return this.lexInsideAction;
  }
}

// ---------------------------------------------------------------- nodes

export interface Pos {
  /** UTF-16 offset in the template text */
  pos: number;
}

export type ArgNode =
  | ({ k: 'field'; ident: string[] } & Pos)
  | ({ k: 'var'; ident: string[] } & Pos)
  | ({ k: 'ident'; name: string } & Pos)
  | ({ k: 'dot' } & Pos)
  | ({ k: 'nil' } & Pos)
  | ({ k: 'bool'; v: boolean } & Pos)
  | (NumberNode & Pos)
  | ({ k: 'string'; quoted: string; text: string } & Pos)
  | PipeNode
  | ({ k: 'chain'; node: ArgNode; field: string[] } & Pos);

export interface NumberNode {
  k: 'number';
  text: string;
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  isComplex: boolean;
  int64: bigint;
  uint64: bigint;
  float64: number;
  pos: number;
}

export interface CommandNode extends Pos {
  k: 'command';
  args: ArgNode[];
}

export interface PipeNode extends Pos {
  k: 'pipe';
  line: number;
  isAssign: boolean;
  decl: { name: string; pos: number }[];
  cmds: CommandNode[];
}

export type Node =
  | ({ k: 'text'; text: string } & Pos)
  | ({ k: 'action'; pipe: PipeNode } & Pos)
  | BranchNode
  | ({ k: 'break' | 'continue' } & Pos)
  | ({ k: 'template'; name: string; pipe: PipeNode | null } & Pos)
  | ListNode
  | EndOrElse;

export interface BranchNode extends Pos {
  k: 'if' | 'with' | 'range';
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}

export interface ListNode extends Pos {
  k: 'list';
  nodes: Node[];
}

interface EndOrElse extends Pos {
  k: 'end' | 'else';
}

export function nodeString(n: Node | ArgNode | CommandNode): string {
  switch (n.k) {
    case 'field':
      return n.ident.map((i) => '.' + i).join('');
    case 'var':
      return n.ident.join('.');
    case 'ident':
      return n.name;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return n.v ? 'true' : 'false';
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'chain': {
      let s = n.node.k === 'pipe' ? '(' + nodeString(n.node) + ')' : nodeString(n.node);
      for (const f of n.field) s += '.' + f;
      return s;
    }
    case 'pipe': {
      let s = '';
      if (n.decl.length > 0) {
        s += n.decl.map((d) => d.name).join(', ');
        s += n.isAssign ? ' = ' : ' := ';
      }
      return s + n.cmds.map((c) => nodeString(c)).join(' | ');
    }
    case 'command':
      return n.args.map((a) => (a.k === 'pipe' ? '(' + nodeString(a) + ')' : nodeString(a))).join(' ');
    case 'text':
      return n.text;
    case 'action':
      return '{{' + nodeString(n.pipe) + '}}';
    case 'if':
    case 'with':
    case 'range': {
      let s = '{{' + n.k + ' ' + nodeString(n.pipe) + '}}' + nodeString(n.list);
      if (n.elseList) s += '{{else}}' + nodeString(n.elseList);
      return s + '{{end}}';
    }
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
    case 'template':
      return '{{template ' + goQuote(n.name) + (n.pipe ? ' ' + nodeString(n.pipe) : '') + '}}';
    case 'list':
      return n.nodes.map((x) => nodeString(x)).join('');
    case 'end':
      return '{{end}}';
    case 'else':
      return '{{else}}';
  }
}

// ---------------------------------------------------------------- number literals

function parseGoInt(text: string, unsigned: boolean): bigint | null {
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    if (unsigned) return null;
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let base = 10;
  let prefixed = false;
  if (s.length > 1 && s[0] === '0') {
    const p = s[1]!.toLowerCase();
    if (p === 'x') base = 16;
    else if (p === 'o') base = 8;
    else if (p === 'b') base = 2;
    if (base !== 10) {
      s = s.slice(2);
      prefixed = true;
    } else {
      base = 8;
      s = s.slice(1);
      prefixed = true;
    }
  }
  if (s.includes('_')) {
    // underscores only between digits (or right after a base prefix)
    const check = (prefixed ? '0' : '') + s;
    if (/__|_$|^_/.test(check)) return null;
    s = s.replace(/_/g, '');
  }
  if (s === '') return prefixed && base === 8 ? 0n : null;
  const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!valid.test(s)) return null;
  let v = 0n;
  const B = BigInt(base);
  for (const ch of s) v = v * B + BigInt(parseInt(ch, 16));
  if (neg) v = -v;
  if (unsigned) return v <= 0xffffffffffffffffn ? v : null;
  return v >= -(1n << 63n) && v < 1n << 63n ? v : null;
}

/** strconv.ParseFloat for Go literal syntax (decimal, hex with p exponent, underscores). */
export function parseGoFloat(text: string): number | null {
  let s = text;
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s[0] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (s.includes('_')) {
    if (/__|_$|^[+-]?_|_\.|\._|_[eEpP]/.test(s)) return null;
    s = s.replace(/_/g, '');
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return parseFloat(s);
  const m = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(s);
  if (m && (m[2] || m[3])) {
    const mant = parseInt((m[2] || '') + (m[3] || '') || '0', 16);
    const v = mant * Math.pow(2, parseInt(m[4]!, 10) - 4 * (m[3] || '').length);
    return m[1] === '-' ? -v : v;
  }
  return null;
}

function unquoteChar(text: string): number | null {
  // text includes the quotes
  const body = text.slice(1, -1);
  if (body.length === 0) return null;
  if (body[0] !== '\\') {
    const cp = body.codePointAt(0)!;
    if (String.fromCodePoint(cp).length !== body.length) return null;
    return cp;
  }
  const e = body[1];
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39 };
  if (e !== undefined && simple[e] !== undefined && body.length === 2) return simple[e]!;
  let m: RegExpExecArray | null;
  if ((m = /^\\x([0-9a-fA-F]{2})$/.exec(body))) return parseInt(m[1]!, 16);
  if ((m = /^\\u([0-9a-fA-F]{4})$/.exec(body))) return parseInt(m[1]!, 16);
  if ((m = /^\\U([0-9a-fA-F]{8})$/.exec(body))) {
    const v = parseInt(m[1]!, 16);
    return v > 0x10ffff ? null : v;
  }
  if ((m = /^\\([0-7]{3})$/.exec(body))) {
    const v = parseInt(m[1]!, 8);
    return v > 255 ? null : v;
  }
  return null;
}

/** strconv.Unquote for "..." and `...` literals; null on bad syntax. */
export function unquoteString(text: string): string | null {
  if (text[0] === '`') return text.slice(1, -1).replace(/\r/g, '');
  const body = text.slice(1, -1);
  if (!body.includes('\\')) return body;
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    }
  };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      flush();
      out += ch;
      continue;
    }
    const e = body[++i];
    switch (e) {
      case 'a':
        flush();
        out += '\x07';
        break;
      case 'b':
        flush();
        out += '\b';
        break;
      case 'f':
        flush();
        out += '\f';
        break;
      case 'n':
        flush();
        out += '\n';
        break;
      case 'r':
        flush();
        out += '\r';
        break;
      case 't':
        flush();
        out += '\t';
        break;
      case 'v':
        flush();
        out += '\v';
        break;
      case '\\':
        flush();
        out += '\\';
        break;
      case '"':
        flush();
        out += '"';
        break;
      case 'x': {
        const h = body.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
        bytes.push(parseInt(h, 16));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const n = e === 'u' ? 4 : 8;
        const h = body.slice(i + 1, i + 1 + n);
        if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) return null;
        const v = parseInt(h, 16);
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null;
        flush();
        out += String.fromCodePoint(v);
        i += n;
        break;
      }
      default:
        if (e !== undefined && e >= '0' && e <= '7') {
          const o = body.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(o)) return null;
          const v = parseInt(o, 8);
          if (v > 255) return null;
          bytes.push(v);
          i += 2;
          break;
        }
        return null;
    }
  }
  flush();
  return out;
}

function newNumber(pos: number, text: string, typ: T): NumberNode | string {
  const n: NumberNode = {
    k: 'number',
    text,
    isInt: false,
    isUint: false,
    isFloat: false,
    isComplex: false,
    int64: 0n,
    uint64: 0n,
    float64: 0,
    pos,
  };
  if (typ === T.CharConstant) {
    const r = unquoteChar(text);
    if (r === null) return 'invalid syntax';
    n.int64 = BigInt(r);
    n.isInt = true;
    n.uint64 = BigInt(r);
    n.isUint = true;
    n.float64 = r;
    n.isFloat = true;
    return n;
  }
  if (text.endsWith('i')) return `illegal number syntax: ${goQuote(text)}`; // complex constants unsupported
  const u = parseGoInt(text, true);
  if (u !== null) {
    n.isUint = true;
    n.uint64 = u;
  }
  const i = parseGoInt(text, false);
  if (i !== null) {
    n.isInt = true;
    n.int64 = i;
    if (i === 0n) {
      n.isUint = true;
      n.uint64 = 0n;
    }
  }
  if (n.isInt) {
    n.isFloat = true;
    n.float64 = Number(n.int64);
  } else if (n.isUint) {
    n.isFloat = true;
    n.float64 = Number(n.uint64);
  } else {
    const f = parseGoFloat(text);
    if (f !== null) {
      if (!/[.eEpP]/.test(text)) return `integer overflow: ${goQuote(text)}`;
      n.isFloat = true;
      n.float64 = f;
      if (Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63) {
        n.isInt = true;
        n.int64 = BigInt(f);
      }
      if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
        n.isUint = true;
        n.uint64 = BigInt(f);
      }
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) return `illegal number syntax: ${goQuote(text)}`;
  return n;
}

// ---------------------------------------------------------------- parser

export interface ParsedTemplate {
  name: string;
  text: string;
  root: ListNode;
  /** {{define}}d templates by name (the main template included under its name). */
  trees: Map<string, ListNode>;
}

class Parser {
  private items: Item[];
  private idx = 0;
  private token: Item[] = [];
  private peekCount = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private actionLine = 0;

  constructor(
    private readonly name: string,
    private readonly text: string,
    private readonly hasFunction: (name: string) => boolean,
    private readonly trees: Map<string, ListNode>,
  ) {
    const breakOK = !hasFunction('break');
    this.items = new Lexer(text, breakOK).run();
    this.token = [this.items[0]!, this.items[0]!, this.items[0]!];
  }

  private nextItem(): Item {
    const it = this.items[this.idx] ?? this.items[this.items.length - 1]!;
    if (this.idx < this.items.length) this.idx++;
    return it;
  }

  next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.nextItem();
    return this.token[this.peekCount]!;
  }
  backup(): void {
    this.peekCount++;
  }
  backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }
  backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }
  peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1]!;
    this.peekCount = 1;
    this.token[0] = this.nextItem();
    return this.token[0];
  }
  nextNonSpace(): Item {
    let t: Item;
    for (;;) {
      t = this.next();
      if (t.typ !== T.Space) break;
    }
    return t;
  }
  peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  errorf(msg: string): never {
    throw new TemplateParseError(`template: ${this.name}:${this.token[0]!.line}: ${msg}`);
  }
  expect(expected: T, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== expected) this.unexpected(t, context);
    return t;
  }
  expectOneOf(e1: T, e2: T, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== e1 && t.typ !== e2) this.unexpected(t, context);
    return t;
  }
  unexpected(t: Item, context: string): never {
    if (t.typ === T.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at ${this.name}:${this.actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(itemString(t) + extra);
    }
    this.errorf(`unexpected ${itemString(t)} in ${context}`);
  }

  parse(): ListNode {
    const root: ListNode = { k: 'list', nodes: [], pos: this.peek().pos };
    while (this.peek().typ !== T.EOF) {
      if (this.peek().typ === T.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === T.Define) {
          this.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.k === 'end' || n.k === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    return root;
  }

  parseDefinition(): void {
    const context = 'define clause';
    const nameTok = this.expectOneOf(T.String, T.RawString, context);
    const name = unquoteString(nameTok.val);
    if (name === null) this.errorf('invalid syntax');
    this.expect(T.RightDelim, context);
    const savedVars = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    if (end.k !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.vars = savedVars;
    this.addTree(name, list);
  }

  private addTree(name: string, list: ListNode): void {
    const existing = this.trees.get(name);
    if (!existing || isEmptyTree(existing)) this.trees.set(name, list);
    else if (!isEmptyTree(list)) this.errorf(`template: multiple definition of template ${goQuote(name)}`);
  }

  itemList(): [ListNode, Node] {
    const list: ListNode = { k: 'list', nodes: [], pos: this.peekNonSpace().pos };
    while (this.peekNonSpace().typ !== T.EOF) {
      const n = this.textOrAction();
      if (n.k === 'end' || n.k === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  textOrAction(): Node {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case T.Text:
        return { k: 'text', text: t.val, pos: t.pos };
      case T.LeftDelim: {
        this.actionLine = t.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      default:
        this.unexpected(t, 'input');
    }
  }

  action(): Node {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case T.Block:
        return this.blockControl();
      case T.Break:
        return this.breakControl(t.pos, 'break');
      case T.Continue:
        return this.breakControl(t.pos, 'continue');
      case T.Else:
        return this.elseControl();
      case T.End:
        return { k: 'end', pos: this.expect(T.RightDelim, 'end').pos };
      case T.If:
        return this.control('if');
      case T.Range:
        return this.control('range');
      case T.Template:
        return this.templateControl();
      case T.With:
        return this.control('with');
    }
    this.backup();
    const tok = this.peek();
    return { k: 'action', pipe: this.pipeline('command', T.RightDelim), pos: tok.pos };
  }

  breakControl(pos: number, kind: 'break' | 'continue'): Node {
    const t = this.nextNonSpace();
    if (t.typ !== T.RightDelim) this.unexpected(t, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`);
    return { k: kind, pos };
  }

  elseControl(): Node {
    const p = this.peekNonSpace();
    if (p.typ === T.If || p.typ === T.With) return { k: 'else', pos: p.pos };
    const t = this.expect(T.RightDelim, 'else');
    return { k: 'else', pos: t.pos };
  }

  control(context: 'if' | 'with' | 'range'): Node {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, T.RightDelim);
      if (context === 'range') this.rangeDepth++;
      let list: ListNode;
      let next: Node;
      try {
        [list, next] = this.itemList();
      } finally {
        if (context === 'range') this.rangeDepth--;
      }
      let elseList: ListNode | null = null;
      if (next.k === 'else') {
        if (context === 'if' && this.peek().typ === T.If) {
          this.next();
          elseList = { k: 'list', nodes: [this.control('if')], pos: next.pos };
        } else if (context === 'with' && this.peek().typ === T.With) {
          this.next();
          elseList = { k: 'list', nodes: [this.control('with')], pos: next.pos };
        } else {
          let end: Node;
          [elseList, end] = this.itemList();
          if (end.k !== 'end') this.errorf(`expected end; found ${nodeString(end)}`);
        }
      }
      return { k: context, pipe, list, elseList, pos: pipe.pos };
    } finally {
      this.vars.length = mark;
    }
  }

  blockControl(): Node {
    const context = 'block clause';
    const t = this.nextNonSpace();
    const name = this.parseTemplateName(t, context);
    const pipe = this.pipeline(context, T.RightDelim);
    const savedVars = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    if (end.k !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.vars = savedVars;
    this.addTree(name, list);
    return { k: 'template', name, pipe, pos: t.pos };
  }

  templateControl(): Node {
    const context = 'template clause';
    const t = this.nextNonSpace();
    const name = this.parseTemplateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== T.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, T.RightDelim);
    }
    return { k: 'template', name, pipe, pos: t.pos };
  }

  parseTemplateName(t: Item, context: string): string {
    if (t.typ === T.String || t.typ === T.RawString) {
      const s = unquoteString(t.val);
      if (s === null) this.errorf('invalid syntax');
      return s;
    }
    this.unexpected(t, context);
  }

  pipeline(context: string, end: T): PipeNode {
    const tok = this.peekNonSpace();
    const pipe: PipeNode = { k: 'pipe', pos: tok.pos, line: tok.line, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ === T.Variable) {
        this.next();
        const tokenAfterVariable = this.peek();
        const next = this.peekNonSpace();
        if (next.typ === T.Assign || next.typ === T.Declare) {
          pipe.isAssign = next.typ === T.Assign;
          this.nextNonSpace();
          pipe.decl.push({ name: v.val, pos: v.pos });
          this.vars.push(v.val);
        } else if (next.typ === T.Char && next.val === ',') {
          this.nextNonSpace();
          pipe.decl.push({ name: v.val, pos: v.pos });
          this.vars.push(v.val);
          if (context === 'range' && pipe.decl.length < 2) {
            const p = this.peekNonSpace().typ;
            if (p === T.Variable || p === T.RightDelim || p === T.RightParen) continue decls;
            this.errorf('range can only initialize variables');
          }
          this.errorf(`too many declarations in ${context}`);
        } else if (tokenAfterVariable.typ === T.Space) {
          this.backup3(v, tokenAfterVariable);
        } else {
          this.backup2(v);
        }
      }
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      switch (t.typ) {
        case end:
          this.checkPipeline(pipe, context);
          return pipe;
        case T.Bool:
        case T.CharConstant:
        case T.Dot:
        case T.Field:
        case T.Identifier:
        case T.Number:
        case T.Nil:
        case T.RawString:
        case T.String:
        case T.Variable:
        case T.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const k = pipe.cmds[i]!.args[0]!.k;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string')
        this.errorf(`non executable command in pipeline stage ${i + 1}`);
    }
  }

  command(): CommandNode {
    const cmd: CommandNode = { k: 'command', args: [], pos: this.peekNonSpace().pos };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.typ === T.Space) continue;
      if (t.typ === T.RightDelim || t.typ === T.RightParen) this.backup();
      else if (t.typ !== T.Pipe) this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  operand(): ArgNode | null {
    let node = this.term();
    if (!node) return null;
    if (this.peek().typ === T.Field) {
      const pos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().typ === T.Field) fields.push(this.next().val.slice(1));
      switch (node.k) {
        case 'field':
          node = { k: 'field', ident: [...node.ident, ...fields], pos };
          break;
        case 'var':
          node = { k: 'var', ident: [...node.ident, ...fields], pos };
          break;
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
        // eslint-disable-next-line no-fallthrough
        default:
          node = { k: 'chain', node, field: fields, pos };
      }
    }
    return node;
  }

  term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case T.Identifier:
        if (!this.hasFunction(t.val)) this.errorf(`function ${goQuote(t.val)} not defined`);
        return { k: 'ident', name: t.val, pos: t.pos };
      case T.Dot:
        return { k: 'dot', pos: t.pos };
      case T.Nil:
        return { k: 'nil', pos: t.pos };
      case T.Variable: {
        const ident = t.val.split('.');
        if (!this.vars.includes(ident[0]!)) this.errorf(`undefined variable ${goQuote(ident[0]!)}`);
        return { k: 'var', ident, pos: t.pos };
      }
      case T.Field:
        return { k: 'field', ident: t.val.slice(1).split('.'), pos: t.pos };
      case T.Bool:
        return { k: 'bool', v: t.val === 'true', pos: t.pos };
      case T.CharConstant:
      case T.Number: {
        const n = newNumber(t.pos, t.val, t.typ);
        if (typeof n === 'string') this.errorf(n);
        return n;
      }
      case T.LeftParen:
        return this.pipeline('parenthesized pipeline', T.RightParen);
      case T.String:
      case T.RawString: {
        const s = unquoteString(t.val);
        if (s === null) this.errorf('invalid syntax');
        return { k: 'string', quoted: t.val, text: s, pos: t.pos };
      }
    }
    this.backup();
    return null;
  }
}

function isEmptyTree(n: Node): boolean {
  switch (n.k) {
    case 'list':
      return n.nodes.every(isEmptyTree);
    case 'text':
      return n.text.trim() === '';
    default:
      return false;
  }
}

/** Parses template text. Throws TemplateParseError with Go's message. */
export function parseTemplate(name: string, text: string, hasFunction: (n: string) => boolean): ParsedTemplate {
  const trees = new Map<string, ListNode>();
  const p = new Parser(name, text, hasFunction, trees);
  const root = p.parse();
  const existing = trees.get(name);
  if (!existing || isEmptyTree(existing)) trees.set(name, root);
  else if (!isEmptyTree(root)) throw new TemplateParseError(`template: multiple definition of template ${goQuote(name)}`);
  return { name, text, root: trees.get(name)!, trees };
}
