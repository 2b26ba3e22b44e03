// The Go value model used by the template engine. Go templates are dynamically typed over Go
// values, and their printed output depends on the Go type (int vs int64 vs float64, time.Time,
// maps, slices), so every value carries enough of its Go type to print, compare and convert it
// the way Go's text/template, fmt and sprig do. Representation: JS string = Go string, JS number
// = float64, boolean = bool, GoInt = any Go integer type (bigint payload, exact 64-bit), GoTime =
// time.Time, GoMap/LabelsMap = maps, GoSlice = slices, null = nil, undefined = an invalid
// reflect.Value (a "<no value>").

export type IntType = 'int' | 'int64' | 'int32' | 'uint8' | 'uint64';

export class GoInt {
  constructor(
    readonly v: bigint,
    readonly t: IntType,
  ) {}
}

/** A time zone: a fixed offset (seconds east of UTC) or an IANA zone resolved through Intl. */
export interface GoLocation {
  readonly name: string;
  /** Offset (seconds east of UTC) and abbreviation in effect at a Unix second. */
  lookup(sec: number): { offset: number; abbrev: string };
}

export class GoTime {
  constructor(
    /** Unix seconds (may be far negative for the zero time). */
    readonly sec: number,
    /** Nanoseconds within the second, 0..999999999. */
    readonly nsec: number,
    readonly loc: GoLocation,
    /** Monotonic clock reading in ns since process start, only for time.Now(). */
    readonly mono?: number,
  ) {}
}

export class GoMap {
  constructor(
    readonly m: Map<string, GoValue>,
    readonly elem: string,
  ) {}
}

/** The template's data: Loki executes over a map[string]string of the entry's labels. */
export class LabelsMap {
  rec: Record<string, string>;
  constructor(rec: Record<string, string>) {
    this.rec = rec;
  }
}

export class GoSlice {
  constructor(
    readonly a: GoValue[],
    readonly elem: string,
  ) {}
}

export type GoValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | GoInt
  | GoTime
  | GoMap
  | LabelsMap
  | GoSlice;

export function goInt(n: number | bigint, t: IntType = 'int'): GoInt {
  return new GoInt(typeof n === 'bigint' ? n : BigInt(Math.trunc(n)), t);
}

/** Go's reflect type name of a value, as fmt prints it in `%!v(TYPE=...)`. */
export function typeName(v: GoValue): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v === null || v === undefined) return '<nil>';
  if (v instanceof GoInt) return v.t;
  if (v instanceof GoTime) return 'time.Time';
  if (v instanceof LabelsMap) return 'map[string]string';
  if (v instanceof GoMap) return 'map[string]' + v.elem;
  return '[]' + v.elem;
}

export function isUnsigned(t: IntType): boolean {
  return t === 'uint8' || t === 'uint64';
}

/** Wraps an int64 result the way Go overflows (two's complement). */
export function wrapInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** Go's template truth: empty string/map/slice, zero numbers, false, nil are false. */
export function isTrue(v: GoValue): boolean {
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v === null || v === undefined) return false;
  if (v instanceof GoInt) return v.v !== 0n;
  if (v instanceof GoTime) return true;
  if (v instanceof LabelsMap) {
    for (const k in v.rec) if (typeof v.rec[k] === 'string') return true;
    return false;
  }
  if (v instanceof GoMap) return v.m.size > 0;
  return v.a.length > 0;
}

/** UTF-8 byte length of a JS string (Go's len of a string). */
export function byteLen(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    n = Buffer.byteLength(s, 'utf8');
    break;
  }
  return n;
}

export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * Decodes bytes as Go would print them: valid UTF-8 sequences become their characters, every
 * byte of an invalid sequence becomes U+FFFD (Go's JSON encoding of invalid bytes).
 */
export function goBytesToString(b: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < b.length; i++)
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii) return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    let min = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      out += '\ufffd';
      i++;
      continue;
    }
    if (i + need >= b.length) {
      out += '\ufffd';
      i++;
      continue;
    }
    let ok = true;
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k]!;
      if ((cc & 0xc0) !== 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      out += '\ufffd';
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

/** Go's s[start:end] on the UTF-8 bytes of s. */
export function byteSlice(s: string, start: number, end: number): string {
  if (isAscii(s)) return s.slice(start, end);
  const b = Buffer.from(s, 'utf8');
  return goBytesToString(b.subarray(start, end));
}

/** Compares two strings by their UTF-8 bytes (Go's string ordering). */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after all BMP chars in UTF-8 order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
