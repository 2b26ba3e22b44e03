// Parsing of the value formats Loki's config and flags use: Prometheus/Go durations ("1h30m",
// "7d", "1w") and humanized byte sizes ("256KB", "1.5MiB", plain integers = bytes).

const DUR_UNITS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000,
};

/** Duration string → milliseconds. Accepts Go (`1h30m`, `1.5s`) and Prometheus (`7d`, `1w`) units; plain numbers are seconds. */
export function parseDurationMs(v: string | number): number {
  if (typeof v === 'number') return v * 1000;
  const s = v.trim();
  if (s === '0') return 0;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * DUR_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== s.length || pos === 0) throw new Error(`invalid duration "${v}"`);
  return total;
}

const BYTE_UNITS: Record<string, number> = {
  b: 1, kb: 1000, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
  k: 1000, m: 1e6, g: 1e9, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3,
};

/** Humanized byte size → bytes (Loki's flagext.ByteSize uses go-humanize: KB = 1000, KiB = 1024). */
export function parseBytes(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) throw new Error(`invalid byte size "${v}"`);
  const unit = m[2]!.toLowerCase();
  const mult = unit === '' ? 1 : BYTE_UNITS[unit];
  if (mult === undefined) throw new Error(`invalid byte size "${v}"`);
  return Math.round(Number(m[1]) * mult);
}

/** Milliseconds → Go time.Duration String() form (`1h0m0s`, `30m0s`, `0s`, `1.5s`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  let neg = ms < 0;
  if (neg) ms = -ms;
  let out = '';
  if (ms < 1000) {
    out = stripZeros((ms).toFixed(6)) + 'ms';
  } else {
    const h = Math.floor(ms / 3_600_000);
    const m = Math.floor((ms % 3_600_000) / 60_000);
    const s = (ms % 60_000) / 1000;
    if (h > 0) out += h + 'h';
    if (h > 0 || m > 0) out += m + 'm';
    out += stripZeros(s.toFixed(9)) + 's';
  }
  return (neg ? '-' : '') + out;
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Milliseconds → Prometheus model.Duration String() form (`30d1h`, `5m`, `1w`, `0s`): years and weeks only when exact. */
export function formatPromDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.trunc(ms);
  let out = '';
  const f = (unit: string, mult: number, exact: boolean): void => {
    if (exact && rest % mult !== 0) return;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += v + unit;
      rest -= v * mult;
    }
  };
  f('y', 31_536_000_000, true);
  f('w', 604_800_000, true);
  f('d', 86_400_000, false);
  f('h', 3_600_000, false);
  f('m', 60_000, false);
  f('s', 1000, false);
  f('ms', 1, false);
  return out;
}
