// Progress display on stderr for long CLI transfers: a redrawn bar on a terminal (bytes, lines/s,
// ETA), a plain line every few seconds when stderr is a file or pipe, nothing with --quiet.

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${u[i]}`;
}

export function fmtDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export interface ProgressState {
  lines: number;
  bytes: number;
  /** 0..1 or NaN when unknown */
  fraction: number;
}

export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private readonly tty: boolean;
  private readonly linesAtStart: number;

  constructor(
    private readonly out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean },
    private readonly enabled: boolean,
    private readonly label: string,
    initialLines = 0,
    private readonly intervalMs = (out as { isTTY?: boolean }).isTTY ? 200 : 5000,
  ) {
    this.tty = !!(out as { isTTY?: boolean }).isTTY;
    this.linesAtStart = initialLines;
  }

  update(s: ProgressState, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const rate = (s.lines - this.linesAtStart) / secs;
    const known = Number.isFinite(s.fraction);
    const frac = known ? Math.min(1, Math.max(0, s.fraction)) : 0;
    const eta = known && frac > this.startFrac ? (secs * (1 - frac)) / (frac - this.startFrac) : NaN;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = known ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(1).padStart(5)}%` : '[running]';
    const text = `${this.label} ${bar} ${fmtBytes(s.bytes)} ${s.lines.toLocaleString('en-US')} lines ${Math.round(rate).toLocaleString('en-US')} lines/s ETA ${known ? fmtDuration(eta) : '?'}`;
    if (this.tty) {
      this.out.write(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else {
      this.out.write(text + '\n');
    }
  }

  private startFrac = 0;

  /** Sets the fraction reached before this run (resume), so the ETA uses this run's speed only. */
  setStartFraction(f: number): void {
    this.startFrac = Number.isFinite(f) ? f : 0;
  }

  done(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
