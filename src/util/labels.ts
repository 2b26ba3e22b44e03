// Label sets: the sorted (name, value) lists that identify streams and series, their
// Prometheus text form (`{a="b", c="d"}`, values quoted as Go's strconv.Quote does), and a
// stable 64-bit fingerprint. Used by push, index, logql and query alike.

export interface Label {
  name: string;
  value: string;
}

/** Label list sorted by name, names unique. */
export type Labels = Label[];

/** One shared, frozen empty label list (entries without structured metadata); never mutated. */
export const NO_LABELS: Labels = Object.freeze([]) as unknown as Labels;

export function sortLabels(labels: Labels): Labels {
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function labelsFromObject(obj: Record<string, string>): Labels {
  const out: Labels = [];
  for (const name of Object.keys(obj)) out.push({ name, value: obj[name]! });
  return sortLabels(out);
}

export function labelsToObject(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

export function getLabel(labels: Labels, name: string): string | undefined {
  for (const l of labels) if (l.name === name) return l.value;
  return undefined;
}

function isPrintable(cp: number): boolean {
  // Approximation of Go's unicode.IsPrint for the characters that occur in practice:
  // control characters, surrogates, and a few format/separator code points are not printable.
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return false;
  if (cp === 0xad) return false; // soft hyphen (Cf)
  if (cp >= 0x2028 && cp <= 0x2029) return false;
  if (cp >= 0x200b && cp <= 0x200f) return false;
  if (cp >= 0x202a && cp <= 0x202e) return false;
  if (cp >= 0x2060 && cp <= 0x206f) return false;
  if (cp === 0xfeff) return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  if (cp === 0xfffd) return true;
  if (cp >= 0xfff9 && cp <= 0xfffb) return false;
  if (cp >= 0xe000 && cp <= 0xf8ff) return false; // private use
  if (cp === 0x2000 || (cp > 0x2000 && cp <= 0x200a) || cp === 0x3000 || cp === 0x1680 || cp === 0x205f || cp === 0xa0) {
    // Go's IsPrint accepts only U+0020 as a space character.
    return false;
  }
  return true;
}

const SIMPLE_QUOTE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/** Go's strconv.Quote: a double-quoted string with Go escapes. */
export function goQuote(s: string): string {
  if (SIMPLE_QUOTE.test(s)) return '"' + s + '"';
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (isPrintable(cp)) { out += ch; continue; }
    if (cp < 0x80) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp === 0xfffd) out += ch;
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** Prometheus text form: `{a="b", c="d"}`; `{}` when empty. */
export function labelsToString(labels: Labels): string {
  if (labels.length === 0) return '{}';
  let s = '{';
  for (let i = 0; i < labels.length; i++) {
    if (i > 0) s += ', ';
    s += labels[i]!.name + '=' + goQuote(labels[i]!.value);
  }
  return s + '}';
}

/**
 * Compact identity key for a sorted label set (not for display). Uses separators that cannot
 * appear in label names, so two different sets never share a key.
 */
export function labelsKey(labels: Labels): string {
  let s = '';
  for (const l of labels) s += l.name + '\x00' + l.value + '\x01';
  return s;
}

/** FNV-1a 64-bit over the key bytes, as a 16-hex-digit string: the stream fingerprint. */
export function fingerprint(labels: Labels): string {
  let h = 0xcbf29ce484222325n;
  const key = Buffer.from(labelsKey(labels), 'utf8');
  // Two 32-bit halves keep this fast without bigint per byte.
  let hi = Number(h >> 32n) >>> 0;
  let lo = Number(h & 0xffffffffn) >>> 0;
  for (let i = 0; i < key.length; i++) {
    lo ^= key[i]!;
    // multiply (hi,lo) by FNV prime 0x100000001b3 = 2^40 + 0x1b3
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    const newLo = loMul >>> 0;
    const newHi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) >>> 0;
    hi = newHi;
    lo = newLo;
  }
  h = (BigInt(hi) << 32n) | BigInt(lo);
  return h.toString(16).padStart(16, '0');
}

function unquoteGo(s: string, start: number): [string, number] {
  // s[start] is the opening quote; returns [value, index after closing quote]
  let out = '';
  let i = start + 1;
  const bytes: number[] = [];
  const flushBytes = (): void => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') {
      flushBytes();
      return [out, i + 1];
    }
    if (c !== '\\') {
      flushBytes();
      out += c;
      i++;
      continue;
    }
    const n = s[i + 1];
    i += 2;
    switch (n) {
      case 'n': flushBytes(); out += '\n'; break;
      case 't': flushBytes(); out += '\t'; break;
      case 'r': flushBytes(); out += '\r'; break;
      case 'a': flushBytes(); out += '\x07'; break;
      case 'b': flushBytes(); out += '\b'; break;
      case 'f': flushBytes(); out += '\f'; break;
      case 'v': flushBytes(); out += '\v'; break;
      case '\\': flushBytes(); out += '\\'; break;
      case '"': flushBytes(); out += '"'; break;
      case "'": flushBytes(); out += "'"; break;
      case 'x': bytes.push(parseInt(s.slice(i, i + 2), 16)); i += 2; break;
      case 'u': flushBytes(); out += String.fromCodePoint(parseInt(s.slice(i, i + 4), 16)); i += 4; break;
      case 'U': flushBytes(); out += String.fromCodePoint(parseInt(s.slice(i, i + 8), 16)); i += 8; break;
      default:
        if (n !== undefined && n >= '0' && n <= '7') {
          bytes.push(parseInt(s.slice(i - 1, i + 2), 8));
          i += 2;
        } else throw new Error(`invalid escape \\${n} in label value`);
    }
  }
  throw new Error('unterminated label value');
}

/** Parses our own label string form (labelsToString output) back into Labels. */
export function parseLabelsString(s: string): Labels {
  const out: Labels = [];
  let i = s.indexOf('{') + 1;
  while (i < s.length) {
    while (s[i] === ' ' || s[i] === ',') i++;
    if (s[i] === '}') break;
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`invalid label string ${s}`);
    const name = s.slice(i, eq).trim();
    const [value, next] = unquoteGo(s, eq + 1);
    out.push({ name, value });
    i = next;
  }
  return sortLabels(out);
}
