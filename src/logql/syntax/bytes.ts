// Humanized byte sizes as LogQL understands them (github.com/dustin/go-humanize semantics):
// parseHumanBytes("20MB") = 20_000_000, "1.5KiB" = 1536; formatHumanBytes is humanize.Bytes with
// spaces removed, which is how Loki prints a bytes label filter (`size>20MB`).

const SIZE_TABLE: Record<string, number> = {
  b: 1,
  kib: 1024,
  kb: 1000,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
  pib: 1024 ** 5,
  pb: 1000 ** 5,
  eib: 1024 ** 6,
  eb: 1000 ** 6,
  '': 1,
  ki: 1024,
  k: 1000,
  mi: 1024 ** 2,
  m: 1000 ** 2,
  gi: 1024 ** 3,
  g: 1000 ** 3,
  ti: 1024 ** 4,
  t: 1000 ** 4,
  pi: 1024 ** 5,
  p: 1000 ** 5,
  ei: 1024 ** 6,
  e: 1000 ** 6,
};

export class BytesError extends Error {}

const MAX_UINT64 = 18446744073709551615;

/** humanize.ParseBytes: returns the byte count (a JS number; exact below 2^53) or throws BytesError. */
export function parseHumanBytes(s: string): number {
  let end = 0;
  let hasComma = false;
  for (const ch of s) {
    if (!(/\p{Nd}/u.test(ch) || ch === '.' || ch === ',')) break;
    if (ch === ',') hasComma = true;
    end += ch.length;
  }
  let num = s.slice(0, end);
  if (hasComma) num = num.replaceAll(',', '');
  if (!/^(\d+\.?\d*|\.\d+)$/.test(num)) throw new BytesError(`strconv.ParseFloat: parsing "${num}": invalid syntax`);
  let f = Number(num);
  const extra = s.slice(end).trim().toLowerCase();
  const m = SIZE_TABLE[extra];
  if (m === undefined) throw new BytesError(`unhandled size name: ${extra}`);
  f *= m;
  if (f >= MAX_UINT64) throw new BytesError(`too large: ${s}`);
  return Math.trunc(f);
}

const SI_SIZES = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** humanize.Bytes without the space: 5 -> "5B", 1000 -> "1.0kB", 20_000_000 -> "20MB". */
export function formatHumanBytes(n: number): string {
  if (n < 10) return `${n}B`;
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const suffix = SI_SIZES[e] ?? 'EB';
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return (val < 10 ? val.toFixed(1) : val.toFixed(0)) + suffix;
}
