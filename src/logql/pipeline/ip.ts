// IP matching for `|= ip("...")` line filters and `label = ip("...")` label filters, following
// Loki's pkg/logql/log/ip.go: the pattern is a single address, a CIDR prefix or an `a-b` range
// (Go net/netip + netipx parsing rules), and a line matches when any IP-looking token found by
// Loki's IPv4/IPv6 prefix hints parses and falls inside the pattern.
import { goQuote } from '../../util/labels.js';

export interface Addr {
  /** 32 or 128 */
  bits: number;
  value: bigint;
}

function parseIPv4(s: string): Addr | null {
  let val = 0n;
  let fields = 0;
  let i = 0;
  while (true) {
    if (i >= s.length) return null;
    let n = 0;
    let digits = 0;
    const start = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
      n = n * 10 + (s.charCodeAt(i) - 48);
      digits++;
      i++;
      if (n > 255) return null;
    }
    if (digits === 0) return null;
    if (digits > 1 && s.charCodeAt(start) === 48) return null; // leading zero
    val = (val << 8n) | BigInt(n);
    fields++;
    if (fields === 4) break;
    if (i >= s.length || s[i] !== '.') return null;
    i++;
  }
  if (i !== s.length) return null;
  return { bits: 32, value: val };
}

function parseIPv6(s: string): Addr | null {
  if (s.indexOf('%') >= 0) return null; // zones are never produced by the line scanner
  const groups: number[] = [];
  let ellipsis = -1;
  let i = 0;
  if (s.length >= 2 && s[0] === ':' && s[1] === ':') {
    ellipsis = 0;
    i = 2;
    if (i === s.length) return { bits: 128, value: 0n };
  }
  while (i < s.length) {
    // hex group
    let n = 0;
    let digits = 0;
    const start = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      n = n * 16 + d;
      digits++;
      i++;
      if (digits > 4) return null;
    }
    if (digits === 0) return null;
    if (i < s.length && s[i] === '.') {
      // embedded IPv4 at the end
      if (ellipsis < 0 && groups.length !== 6) return null;
      if (groups.length + 2 > 8) return null;
      const v4 = parseIPv4(s.slice(start));
      if (!v4) return null;
      groups.push(Number(v4.value >> 16n) & 0xffff, Number(v4.value) & 0xffff);
      i = s.length;
      break;
    }
    groups.push(n);
    if (i === s.length) break;
    if (s[i] !== ':') return null;
    i++;
    if (i < s.length && s[i] === ':') {
      if (ellipsis >= 0) return null;
      ellipsis = groups.length;
      i++;
      if (i === s.length) break;
    } else if (i === s.length) {
      return null;
    }
    if (groups.length >= 8) return null;
  }
  if (groups.length > 8) return null;
  if (ellipsis < 0) {
    if (groups.length !== 8) return null;
  } else {
    if (groups.length >= 8) return null;
    const fill = 8 - groups.length;
    groups.splice(ellipsis, 0, ...new Array<number>(fill).fill(0));
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return { bits: 128, value: v };
}

/** Go's netip.ParseAddr (without zones). */
export function parseAddr(s: string): Addr | null {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '.') return parseIPv4(s);
    if (c === ':') return parseIPv6(s);
    if (c === '%') return null;
  }
  return null;
}

function compareAddr(a: Addr, b: Addr): number {
  if (a.bits !== b.bits) return a.bits < b.bits ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

export type IPMatcher =
  | { kind: 'addr'; addr: Addr }
  | { kind: 'prefix'; addr: Addr; prefixBits: number }
  | { kind: 'range'; from: Addr; to: Addr };

function parsePrefix(s: string): IPMatcher | null {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return null;
  const addr = parseAddr(s.slice(0, slash));
  if (!addr) return null;
  const bitsStr = s.slice(slash + 1);
  if (!/^[0-9]+$/.test(bitsStr)) return null;
  if (bitsStr.length > 1 && bitsStr[0] === '0') return null;
  const bits = Number(bitsStr);
  if (bits > addr.bits) return null;
  return { kind: 'prefix', addr, prefixBits: bits };
}

function parseRange(s: string): IPMatcher | null {
  const h = s.indexOf('-');
  if (h < 0) return null;
  const from = parseAddr(s.slice(0, h));
  const to = parseAddr(s.slice(h + 1));
  if (!from || !to) return null;
  if (from.bits !== to.bits || compareAddr(to, from) < 0) return null;
  return { kind: 'range', from, to };
}

export class IPPatternError extends Error {}

/** Loki's getMatcher: single address, then CIDR, then range. Throws with Loki's message. */
export function parseIPPattern(pattern: string): IPMatcher {
  const a = parseAddr(pattern);
  if (a) return { kind: 'addr', addr: a };
  const p = parsePrefix(pattern);
  if (p) return p;
  const r = parseRange(pattern);
  if (r) return r;
  throw new IPPatternError('ip: invalid pattern: ' + goQuote(pattern));
}

export function ipMatches(m: IPMatcher, ip: Addr): boolean {
  switch (m.kind) {
    case 'addr':
      return compareAddr(m.addr, ip) === 0;
    case 'range':
      return compareAddr(m.from, ip) <= 0 && compareAddr(m.to, ip) >= 0;
    case 'prefix': {
      if (m.addr.bits !== ip.bits) return false;
      const shift = BigInt(m.addr.bits - m.prefixBits);
      return m.addr.value >> shift === ip.value >> shift;
    }
  }
}

function isDigitC(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHexC(c: number): boolean {
  return isDigitC(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isV4Char(c: number): boolean {
  return isDigitC(c) || c === 46;
}
function isV6Char(c: number): boolean {
  return isHexC(c) || c === 58 || c === 46;
}

/** Loki's ipFilter.filter: any IP-looking token in `line` matching the pattern. */
export function lineHasMatchingIP(m: IPMatcher, line: string): boolean {
  const n = line.length;
  if (n === 0) return false;
  const at = (i: number): number => (i < n ? line.charCodeAt(i) : 0);
  for (let i = 0; i < n; i++) {
    const c0 = line.charCodeAt(i);
    if (i + 3 < n && isDigitC(c0) && (at(i + 1) === 46 || at(i + 2) === 46 || at(i + 3) === 46)) {
      let j = i;
      while (j < n && isV4Char(line.charCodeAt(j))) j++;
      const ip = parseAddr(line.slice(i, j));
      if (ip && ipMatches(m, ip)) return true;
      i += j - i;
      continue;
    }
    const c1 = at(i + 1), c2 = at(i + 2), c3 = at(i + 3), c4 = at(i + 4);
    const hint =
      (c0 === 58 && c1 === 58 && isHexC(c2)) ||
      (isHexC(c0) && c1 === 58) ||
      (isHexC(c0) && isHexC(c1) && c2 === 58) ||
      (isHexC(c0) && isHexC(c1) && isHexC(c2) && c3 === 58) ||
      (isHexC(c0) && isHexC(c1) && isHexC(c2) && isHexC(c3) && c4 === 58);
    if (hint) {
      let j = i;
      while (j < n && isV6Char(line.charCodeAt(j))) j++;
      const ip = parseAddr(line.slice(i, j));
      if (ip && ipMatches(m, ip)) return true;
      i += j - i;
      continue;
    }
  }
  return false;
}
