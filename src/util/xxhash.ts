// XXH64 (seed 0, as github.com/cespare/xxhash Sum64) and Prometheus' labels.StableHash on top of
// it. Loki orders log entries with equal timestamps from different streams by this hash of the
// stream's labels (iter.lessAscending/lessDescending), so the limit cut at a tie needs it. BigInt
// arithmetic: this runs once per stream and query, never per line.
import type { Labels } from './labels.js';

const M = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
const round = (acc: bigint, input: bigint): bigint => (rotl((acc + input * P2) & M, 31n) * P1) & M;
const mergeRound = (acc: bigint, val: bigint): bigint => (((acc ^ round(0n, val)) * P1) & M) + P4 & M;

function u64(b: Uint8Array, i: number): bigint {
  const lo = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
  const hi = (b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function u32(b: Uint8Array, i: number): bigint {
  return BigInt((b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0);
}

/** XXH64 of `b` with seed 0. */
export function xxhash64(b: Uint8Array): bigint {
  const n = b.length;
  let i = 0;
  let h: bigint;
  if (n >= 32) {
    let v1 = (P1 + P2) & M;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (0n - P1) & M;
    for (; i + 32 <= n; i += 32) {
      v1 = round(v1, u64(b, i));
      v2 = round(v2, u64(b, i + 8));
      v3 = round(v3, u64(b, i + 16));
      v4 = round(v4, u64(b, i + 24));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = P5;
  }
  h = (h + BigInt(n)) & M;
  for (; i + 8 <= n; i += 8) h = ((rotl(h ^ round(0n, u64(b, i)), 27n) * P1) & M) + P4 & M;
  if (i + 4 <= n) {
    h = ((rotl(h ^ ((u32(b, i) * P1) & M), 23n) * P2) & M) + P3 & M;
    i += 4;
  }
  for (; i < n; i++) h = (rotl(h ^ ((BigInt(b[i]!) * P5) & M), 11n) * P1) & M;
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  h ^= h >> 32n;
  return h;
}

const enc = new TextEncoder();

/** Prometheus labels.StableHash: XXH64 over `name 0xff value 0xff` for each label in order. */
export function stableLabelsHash(labels: Labels): bigint {
  const parts: Uint8Array[] = [];
  let len = 0;
  for (const l of labels) {
    const n = enc.encode(l.name);
    const v = enc.encode(l.value);
    parts.push(n, v);
    len += n.length + v.length + 2;
  }
  const buf = new Uint8Array(len);
  let o = 0;
  for (let k = 0; k < parts.length; k++) {
    buf.set(parts[k]!, o);
    o += parts[k]!.length;
    buf[o++] = 0xff;
  }
  return xxhash64(buf);
}
