// Nanosecond timestamps (bigint at the edges) and the Go time formats Loki puts in its messages.

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function parts(ns: bigint): { d: Date; frac: string } {
  let ms = ns / 1_000_000n;
  let rem = ns - ms * 1_000_000n;
  if (rem < 0n) {
    rem += 1_000_000n;
    ms -= 1n;
  }
  const d = new Date(Number(ms));
  const nanos = BigInt(d.getUTCMilliseconds()) * 1_000_000n + rem;
  const frac = nanos === 0n ? '' : '.' + String(nanos).padStart(9, '0').replace(/0+$/, '');
  return { d, frac };
}

function ymdhms(d: Date, dateSep: string, mid: string): string {
  return `${d.getUTCFullYear()}${dateSep}${pad(d.getUTCMonth() + 1)}${dateSep}${pad(d.getUTCDate())}${mid}${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Go time.Time.String() in UTC: `2026-11-20 00:00:00.5 +0000 UTC`. */
export function goTimeString(ns: bigint): string {
  const { d, frac } = parts(ns);
  return `${ymdhms(d, '-', ' ')}${frac} +0000 UTC`;
}

/** Go time.RFC3339 in UTC (whole seconds): `2026-11-20T00:00:00Z`. */
export function rfc3339(ns: bigint): string {
  return ymdhms(parts(ns).d, '-', 'T') + 'Z';
}

/** Go time.RFC3339Nano in UTC: `2026-11-20T00:00:00.123Z`. */
export function rfc3339Nano(ns: bigint): string {
  const { d, frac } = parts(ns);
  return ymdhms(d, '-', 'T') + frac + 'Z';
}

/** UTC day of a timestamp as `yyyy-mm-dd` (for chunk paths). */
export function dayOf(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
