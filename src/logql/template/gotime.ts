// Go's time package as far as Loki templates need it: locations (UTC, Local = UTC as in Loki's
// container, fixed offsets, IANA zones through Intl), Time.Format / time.ParseInLocation with Go
// reference layouts ("2006-01-02T15:04:05Z07:00"), Time.String(), and time.ParseDuration.
// Layouts are split into chunks once and cached, so formatting per log line does no parsing.
import { GoTime, type GoLocation } from './values.js';

// ---------------------------------------------------------------- locations

class FixedLocation implements GoLocation {
  constructor(
    readonly name: string,
    readonly abbrev: string,
    readonly offset: number,
  ) {}
  lookup(): { offset: number; abbrev: string } {
    return { offset: this.offset, abbrev: this.abbrev };
  }
}

export const UTC: GoLocation = new FixedLocation('UTC', 'UTC', 0);
/** Loki's container has no TZ: Go's Local is UTC (abbreviation "UTC"). */
export const Local: GoLocation = new FixedLocation('Local', 'UTC', 0);

export function fixedZone(name: string, offset: number): GoLocation {
  return new FixedLocation(name, name, offset);
}

class IanaLocation implements GoLocation {
  private readonly dtf: Intl.DateTimeFormat;
  private readonly abbr: Intl.DateTimeFormat;
  private readonly cache = new Map<number, { offset: number; abbrev: string }>();
  constructor(readonly name: string) {
    this.dtf = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    this.abbr = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'short' });
  }
  lookup(sec: number): { offset: number; abbrev: string } {
    // Offsets change at most at hour boundaries in practice: cache per hour.
    const key = Math.floor(sec / 3600);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const ms = sec * 1000;
    const parts = this.dtf.formatToParts(new Date(ms));
    let y = 0;
    let mo = 0;
    let d = 0;
    let h = 0;
    let mi = 0;
    let s = 0;
    let bc = false;
    for (const p of parts) {
      switch (p.type) {
        case 'year':
          y = parseInt(p.value, 10);
          break;
        case 'month':
          mo = parseInt(p.value, 10);
          break;
        case 'day':
          d = parseInt(p.value, 10);
          break;
        case 'hour':
          h = parseInt(p.value, 10);
          break;
        case 'minute':
          mi = parseInt(p.value, 10);
          break;
        case 'second':
          s = parseInt(p.value, 10);
          break;
        case 'era':
          bc = p.value.startsWith('B');
          break;
      }
    }
    if (bc) y = 1 - y;
    const wall = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    const offset = wall - Math.floor(sec);
    let abbrev = '';
    const zn = this.abbr.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? '';
    if (/^[A-Z]{3,5}$/.test(zn) && zn !== 'GMT') abbrev = zn;
    else if (offset === 0) abbrev = this.name === 'UTC' ? 'UTC' : 'GMT';
    else {
      const a = Math.abs(offset);
      const hh = Math.floor(a / 3600);
      const mm = Math.floor((a % 3600) / 60);
      abbrev = (offset < 0 ? '-' : '+') + pad2(hh) + (mm ? pad2(mm) : '');
    }
    const r = { offset, abbrev };
    if (this.cache.size > 10000) this.cache.clear();
    this.cache.set(key, r);
    return r;
  }
}

const zoneCache = new Map<string, GoLocation | null>();

/** time.LoadLocation: null when the zone is unknown. */
export function loadLocation(name: string): GoLocation | null {
  if (name === '' || name === 'UTC') return UTC;
  if (name === 'Local') return Local;
  const hit = zoneCache.get(name);
  if (hit !== undefined) return hit;
  let loc: GoLocation | null = null;
  if (/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name) && !name.includes('..')) {
    try {
      const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
      // Zone files are case-sensitive on Linux: reject case-mangled names Intl would accept.
      if (resolved.toLowerCase() === name.toLowerCase() ? resolved === name || name !== name.toLowerCase() : true)
        loc = new IanaLocation(name);
    } catch {
      loc = null;
    }
  }
  if (zoneCache.size > 1000) zoneCache.clear();
  zoneCache.set(name, loc);
  return loc;
}

// ---------------------------------------------------------------- calendar

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [m <= 2 ? y + 1 : y, m, d];
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

const daysBefore = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

function daysIn(m: number, y: number): number {
  if (m === 2 && isLeap(y)) return 29;
  return daysBefore[m]! - daysBefore[m - 1]!;
}

const longDayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const shortDayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const shortMonthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const longMonthNames = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

// ---------------------------------------------------------------- layouts

const enum Std {
  None = 0,
  LongMonth,
  Month,
  NumMonth,
  ZeroMonth,
  LongWeekDay,
  WeekDay,
  Day,
  UnderDay,
  ZeroDay,
  UnderYearDay,
  ZeroYearDay,
  Hour,
  Hour12,
  ZeroHour12,
  Minute,
  ZeroMinute,
  Second,
  ZeroSecond,
  LongYear,
  Year,
  PM,
  pm,
  TZ,
  ISO8601TZ,
  ISO8601SecondsTZ,
  ISO8601ShortTZ,
  ISO8601ColonTZ,
  ISO8601ColonSecondsTZ,
  NumTZ,
  NumSecondsTz,
  NumShortTZ,
  NumColonTZ,
  NumColonSecondsTZ,
  FracSecond0,
  FracSecond9,
}

interface Chunk {
  prefix: string;
  std: Std;
  /** fractional second digits and separator */
  n: number;
  sep: string;
}

const std0x = [Std.ZeroMonth, Std.ZeroDay, Std.ZeroHour12, Std.ZeroMinute, Std.ZeroSecond, Std.Year];

function startsWithLower(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 97 && c <= 122;
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** Go's nextStdChunk: [prefix, std, n, sep, suffix]. */
function nextStdChunk(layout: string): [string, Std, number, string, string] {
  const L = layout.length;
  for (let i = 0; i < L; i++) {
    const c = layout[i];
    switch (c) {
      case 'J':
        if (layout.startsWith('Jan', i)) {
          if (layout.startsWith('January', i)) return [layout.slice(0, i), Std.LongMonth, 0, '', layout.slice(i + 7)];
          if (!startsWithLower(layout, i + 3)) return [layout.slice(0, i), Std.Month, 0, '', layout.slice(i + 3)];
        }
        break;
      case 'M':
        if (layout.startsWith('Mon', i)) {
          if (layout.startsWith('Monday', i)) return [layout.slice(0, i), Std.LongWeekDay, 0, '', layout.slice(i + 6)];
          if (!startsWithLower(layout, i + 3)) return [layout.slice(0, i), Std.WeekDay, 0, '', layout.slice(i + 3)];
        }
        if (layout.startsWith('MST', i)) return [layout.slice(0, i), Std.TZ, 0, '', layout.slice(i + 3)];
        break;
      case '0':
        if (i + 1 < L && layout[i + 1]! >= '1' && layout[i + 1]! <= '6')
          return [layout.slice(0, i), std0x[layout.charCodeAt(i + 1) - 49]!, 0, '', layout.slice(i + 2)];
        if (layout.startsWith('002', i)) return [layout.slice(0, i), Std.ZeroYearDay, 0, '', layout.slice(i + 3)];
        break;
      case '1':
        if (layout[i + 1] === '5') return [layout.slice(0, i), Std.Hour, 0, '', layout.slice(i + 2)];
        return [layout.slice(0, i), Std.NumMonth, 0, '', layout.slice(i + 1)];
      case '2':
        if (layout.startsWith('2006', i)) return [layout.slice(0, i), Std.LongYear, 0, '', layout.slice(i + 4)];
        return [layout.slice(0, i), Std.Day, 0, '', layout.slice(i + 1)];
      case '_':
        if (layout[i + 1] === '2') {
          if (layout.startsWith('2006', i + 1))
            return [layout.slice(0, i + 1), Std.LongYear, 0, '', layout.slice(i + 5)];
          return [layout.slice(0, i), Std.UnderDay, 0, '', layout.slice(i + 2)];
        }
        if (layout[i + 1] === '_' && layout[i + 2] === '2')
          return [layout.slice(0, i), Std.UnderYearDay, 0, '', layout.slice(i + 3)];
        break;
      case '3':
        return [layout.slice(0, i), Std.Hour12, 0, '', layout.slice(i + 1)];
      case '4':
        return [layout.slice(0, i), Std.Minute, 0, '', layout.slice(i + 1)];
      case '5':
        return [layout.slice(0, i), Std.Second, 0, '', layout.slice(i + 1)];
      case 'P':
        if (layout[i + 1] === 'M') return [layout.slice(0, i), Std.PM, 0, '', layout.slice(i + 2)];
        break;
      case 'p':
        if (layout[i + 1] === 'm') return [layout.slice(0, i), Std.pm, 0, '', layout.slice(i + 2)];
        break;
      case '-':
        if (layout.startsWith('-070000', i)) return [layout.slice(0, i), Std.NumSecondsTz, 0, '', layout.slice(i + 7)];
        if (layout.startsWith('-07:00:00', i))
          return [layout.slice(0, i), Std.NumColonSecondsTZ, 0, '', layout.slice(i + 9)];
        if (layout.startsWith('-0700', i)) return [layout.slice(0, i), Std.NumTZ, 0, '', layout.slice(i + 5)];
        if (layout.startsWith('-07:00', i)) return [layout.slice(0, i), Std.NumColonTZ, 0, '', layout.slice(i + 6)];
        if (layout.startsWith('-07', i)) return [layout.slice(0, i), Std.NumShortTZ, 0, '', layout.slice(i + 3)];
        break;
      case 'Z':
        if (layout.startsWith('Z070000', i))
          return [layout.slice(0, i), Std.ISO8601SecondsTZ, 0, '', layout.slice(i + 7)];
        if (layout.startsWith('Z07:00:00', i))
          return [layout.slice(0, i), Std.ISO8601ColonSecondsTZ, 0, '', layout.slice(i + 9)];
        if (layout.startsWith('Z0700', i)) return [layout.slice(0, i), Std.ISO8601TZ, 0, '', layout.slice(i + 5)];
        if (layout.startsWith('Z07:00', i)) return [layout.slice(0, i), Std.ISO8601ColonTZ, 0, '', layout.slice(i + 6)];
        if (layout.startsWith('Z07', i)) return [layout.slice(0, i), Std.ISO8601ShortTZ, 0, '', layout.slice(i + 3)];
        break;
      case '.':
      case ',':
        if (i + 1 < L && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
          const ch = layout[i + 1];
          let j = i + 1;
          while (j < L && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            const code = ch === '9' ? Std.FracSecond9 : Std.FracSecond0;
            return [layout.slice(0, i), code, j - (i + 1), c, layout.slice(j)];
          }
        }
        break;
    }
  }
  return [layout, Std.None, 0, '', ''];
}

const layoutCache = new Map<string, Chunk[]>();

function compileLayout(layout: string): Chunk[] {
  let chunks = layoutCache.get(layout);
  if (chunks) return chunks;
  chunks = [];
  let rest = layout;
  for (;;) {
    const [prefix, std, n, sep, suffix] = nextStdChunk(rest);
    chunks.push({ prefix, std, n, sep });
    if (std === Std.None) break;
    rest = suffix;
  }
  if (layoutCache.size > 500) layoutCache.clear();
  layoutCache.set(layout, chunks);
  return chunks;
}

function appendInt(x: number, width: number): string {
  let s = '';
  if (x < 0) {
    s = '-';
    x = -x;
  }
  const d = String(x);
  return s + (d.length < width ? '0'.repeat(width - d.length) + d : d);
}

/** Calendar fields of a time in its location. */
interface Fields {
  year: number;
  month: number;
  day: number;
  yday: number;
  wday: number;
  hour: number;
  min: number;
  sec: number;
  offset: number;
  abbrev: string;
}

function fields(t: GoTime): Fields {
  const { offset, abbrev } = t.loc.lookup(t.sec);
  const local = t.sec + offset;
  const days = Math.floor(local / 86400);
  const sod = local - days * 86400;
  const [year, month, day] = civilFromDays(days);
  const yday = daysBefore[month - 1]! + day + (month > 2 && isLeap(year) ? 1 : 0);
  const wday = (((days + 4) % 7) + 7) % 7;
  return {
    year,
    month,
    day,
    yday,
    wday,
    hour: Math.floor(sod / 3600),
    min: Math.floor((sod % 3600) / 60),
    sec: sod % 60,
    offset,
    abbrev,
  };
}

/** time.Time.Format. */
export function formatTime(t: GoTime, layout: string): string {
  const chunks = compileLayout(layout);
  const f = fields(t);
  let b = '';
  for (const ch of chunks) {
    b += ch.prefix;
    switch (ch.std) {
      case Std.None:
        break;
      case Std.Year: {
        let y = f.year % 100;
        if (y < 0) y = -y;
        b += appendInt(y, 2);
        break;
      }
      case Std.LongYear:
        b += appendInt(f.year, 4);
        break;
      case Std.Month:
        b += shortMonthNames[f.month - 1];
        break;
      case Std.LongMonth:
        b += longMonthNames[f.month - 1];
        break;
      case Std.NumMonth:
        b += appendInt(f.month, 0);
        break;
      case Std.ZeroMonth:
        b += appendInt(f.month, 2);
        break;
      case Std.WeekDay:
        b += shortDayNames[f.wday];
        break;
      case Std.LongWeekDay:
        b += longDayNames[f.wday];
        break;
      case Std.Day:
        b += appendInt(f.day, 0);
        break;
      case Std.UnderDay:
        if (f.day < 10) b += ' ';
        b += appendInt(f.day, 0);
        break;
      case Std.ZeroDay:
        b += appendInt(f.day, 2);
        break;
      case Std.UnderYearDay:
        if (f.yday < 100) {
          b += ' ';
          if (f.yday < 10) b += ' ';
        }
        b += appendInt(f.yday, 0);
        break;
      case Std.ZeroYearDay:
        b += appendInt(f.yday, 3);
        break;
      case Std.Hour:
        b += appendInt(f.hour, 2);
        break;
      case Std.Hour12:
      case Std.ZeroHour12: {
        let hr = f.hour % 12;
        if (hr === 0) hr = 12;
        b += appendInt(hr, ch.std === Std.ZeroHour12 ? 2 : 0);
        break;
      }
      case Std.Minute:
        b += appendInt(f.min, 0);
        break;
      case Std.ZeroMinute:
        b += appendInt(f.min, 2);
        break;
      case Std.Second:
        b += appendInt(f.sec, 0);
        break;
      case Std.ZeroSecond:
        b += appendInt(f.sec, 2);
        break;
      case Std.PM:
        b += f.hour >= 12 ? 'PM' : 'AM';
        break;
      case Std.pm:
        b += f.hour >= 12 ? 'pm' : 'am';
        break;
      case Std.ISO8601TZ:
      case Std.ISO8601ColonTZ:
      case Std.ISO8601SecondsTZ:
      case Std.ISO8601ShortTZ:
      case Std.ISO8601ColonSecondsTZ:
      case Std.NumTZ:
      case Std.NumColonTZ:
      case Std.NumSecondsTz:
      case Std.NumShortTZ:
      case Std.NumColonSecondsTZ: {
        const s = ch.std;
        const iso =
          s === Std.ISO8601TZ ||
          s === Std.ISO8601ColonTZ ||
          s === Std.ISO8601SecondsTZ ||
          s === Std.ISO8601ShortTZ ||
          s === Std.ISO8601ColonSecondsTZ;
        if (f.offset === 0 && iso) {
          b += 'Z';
          break;
        }
        let zone = Math.trunc(f.offset / 60);
        let absoffset = f.offset;
        if (zone < 0) {
          b += '-';
          zone = -zone;
          absoffset = -absoffset;
        } else b += '+';
        b += appendInt(Math.floor(zone / 60), 2);
        const colon =
          s === Std.ISO8601ColonTZ ||
          s === Std.NumColonTZ ||
          s === Std.ISO8601ColonSecondsTZ ||
          s === Std.NumColonSecondsTZ;
        if (colon) b += ':';
        if (s !== Std.NumShortTZ && s !== Std.ISO8601ShortTZ) b += appendInt(zone % 60, 2);
        if (
          s === Std.ISO8601SecondsTZ ||
          s === Std.NumSecondsTz ||
          s === Std.NumColonSecondsTZ ||
          s === Std.ISO8601ColonSecondsTZ
        ) {
          if (s === Std.NumColonSecondsTZ || s === Std.ISO8601ColonSecondsTZ) b += ':';
          b += appendInt(absoffset % 60, 2);
        }
        break;
      }
      case Std.TZ:
        if (f.abbrev !== '') {
          b += f.abbrev;
          break;
        }
        {
          let zone = Math.trunc(f.offset / 60);
          if (zone < 0) {
            b += '-';
            zone = -zone;
          } else b += '+';
          b += appendInt(Math.floor(zone / 60), 2) + appendInt(zone % 60, 2);
        }
        break;
      case Std.FracSecond0:
      case Std.FracSecond9: {
        const digits = String(t.nsec).padStart(9, '0').slice(0, ch.n);
        if (ch.std === Std.FracSecond0) {
          b += ch.sep + digits;
        } else {
          let end = digits.length;
          while (end > 0 && digits.charCodeAt(end - 1) === 48) end--;
          if (end > 0) b += ch.sep + digits.slice(0, end);
        }
        break;
      }
    }
  }
  return b;
}

// ---------------------------------------------------------------- constructors

/** time.Unix(sec, nsec) in Local. */
export function unixTime(sec: bigint, nsec: bigint, loc: GoLocation = Local): GoTime {
  let total = sec * 1_000_000_000n + nsec;
  const s = total >= 0n ? total / 1_000_000_000n : -((-total + 999_999_999n) / 1_000_000_000n);
  total -= s * 1_000_000_000n;
  return new GoTime(Number(s), Number(total), loc);
}

export function unixNanos(ns: bigint, loc: GoLocation = Local): GoTime {
  return unixTime(0n, ns, loc);
}

const procStart = process.hrtime.bigint();

/** time.Now() (with a monotonic reading, which String() prints as m=+...). */
export function now(): GoTime {
  const ms = Date.now();
  const hr = process.hrtime.bigint() - procStart;
  const sec = Math.floor(ms / 1000);
  return new GoTime(sec, (ms - sec * 1000) * 1e6, Local, Number(hr));
}

/** The zero time.Time (January 1, year 1, 00:00:00 UTC). */
export const zeroTime = new GoTime(-62135596800, 0, UTC);

export function withLocation(t: GoTime, loc: GoLocation): GoTime {
  return new GoTime(t.sec, t.nsec, loc);
}

/** Unix seconds (t.Unix()). */
export function unixSeconds(t: GoTime): bigint {
  return BigInt(t.sec);
}

export function unixNanosOf(t: GoTime): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
}

/** time.Time.String(). */
export function timeString(t: GoTime): string {
  let s = formatTime(t, '2006-01-02 15:04:05.999999999 -0700 MST');
  if (t.mono !== undefined) {
    const m = t.mono;
    const sign = m < 0 ? '-' : '+';
    const a = Math.abs(m);
    const sec = Math.floor(a / 1e9);
    const frac = String(Math.round(a - sec * 1e9)).padStart(9, '0');
    s += ' m=' + sign + sec + '.' + frac;
  }
  return s;
}

// ---------------------------------------------------------------- parsing

function lookupName(names: string[], val: string): [number, string] | null {
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (val.length >= n.length && val.slice(0, n.length).toLowerCase() === n.toLowerCase())
      return [i, val.slice(n.length)];
  }
  return null;
}

/** getnum: 1 or 2 digit number (2 required when fixed). */
function getnum(s: string, fixed: boolean): [number, string] | null {
  if (!isDigitAt(s, 0)) return null;
  if (!isDigitAt(s, 1)) {
    if (fixed) return null;
    return [s.charCodeAt(0) - 48, s.slice(1)];
  }
  return [(s.charCodeAt(0) - 48) * 10 + (s.charCodeAt(1) - 48), s.slice(2)];
}

function getnum3(s: string, fixed: boolean): [number, string] | null {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + s.charCodeAt(i) - 48;
  if (i === 0 || (fixed && i !== 3)) return null;
  return [n, s.slice(i)];
}

function parseNanoseconds(value: string, nbytes: number): number | null {
  if (value[0] !== '.' && value[0] !== ',') return null;
  if (nbytes > 10) {
    value = value.slice(0, 10);
    nbytes = 10;
  }
  const digits = value.slice(1, nbytes);
  if (!/^[0-9]*$/.test(digits)) return null;
  let ns = parseInt(digits || '0', 10);
  for (let i = 0; i < 10 - nbytes; i++) ns *= 10;
  return ns;
}

function parseTimeZone(value: string): number {
  if (value.length < 3) return 0;
  if (value.startsWith('ChST') || value.startsWith('MeST')) return 4;
  if (value.startsWith('GMT')) {
    // GMT followed by an optional signed hour offset
    let n = 3;
    const m = /^GMT([+-])(\d{1,2})/.exec(value);
    if (m) {
      const h = parseInt(m[2]!, 10);
      if (h <= 23) n = 3 + 1 + m[2]!.length;
    }
    return n;
  }
  if (value[0] === '+' || value[0] === '-') {
    const m = /^[+-]\d\d(\d\d)?/.exec(value);
    return m ? m[0].length : 0;
  }
  let nUpper = 0;
  for (; nUpper < 6 && nUpper < value.length; nUpper++) {
    const c = value.charCodeAt(nUpper);
    if (c < 65 || c > 90) break;
  }
  switch (nUpper) {
    case 0:
    case 1:
    case 2:
    case 6:
      return 0;
    case 5:
      return value[4] === 'T' ? 5 : 0;
    case 4:
      return value[3] === 'T' || value.startsWith('WITA') ? 4 : 0;
    case 3:
      return 3;
  }
  return 0;
}

/**
 * time.ParseInLocation. Returns the time, or an error text (callers that ignore errors use the
 * zero time).
 */
export function parseInLocation(layout: string, value: string, local: GoLocation): GoTime | string {
  const chunks = compileLayout(layout);
  const alayout = layout;
  const avalue = value;
  const err = (msg = ''): string =>
    msg ? `parsing time ${JSON.stringify(avalue)}${msg}` : `parsing time ${JSON.stringify(avalue)} as ${JSON.stringify(alayout)}: cannot parse`;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let zoneOffset = -1;
  let zoneName = '';
  let utcZ = false;
  let pmSet = false;
  let amSet = false;
  for (let ci = 0; ci < chunks.length; ci++) {
    const ch = chunks[ci]!;
    if (!value.startsWith(ch.prefix)) return err();
    value = value.slice(ch.prefix.length);
    if (ch.std === Std.None) {
      if (value.length !== 0) return err(': extra text: ' + JSON.stringify(value));
      break;
    }
    const hold = value;
    let bad = false;
    let r: [number, string] | null;
    switch (ch.std) {
      case Std.Year: {
        if (value.length < 2 || !isDigitAt(value, 0) || !isDigitAt(value, 1)) {
          bad = true;
          break;
        }
        year = parseInt(value.slice(0, 2), 10);
        value = value.slice(2);
        year += year >= 69 ? 1900 : 2000;
        break;
      }
      case Std.LongYear:
        if (value.length < 4 || !/^\d{4}/.test(value)) {
          bad = true;
          break;
        }
        year = parseInt(value.slice(0, 4), 10);
        value = value.slice(4);
        break;
      case Std.Month:
        r = lookupName(shortMonthNames, value);
        if (!r) bad = true;
        else [month, value] = [r[0] + 1, r[1]];
        break;
      case Std.LongMonth:
        r = lookupName(longMonthNames, value);
        if (!r) bad = true;
        else [month, value] = [r[0] + 1, r[1]];
        break;
      case Std.NumMonth:
      case Std.ZeroMonth:
        r = getnum(value, ch.std === Std.ZeroMonth);
        if (!r || r[0] <= 0 || r[0] > 12) bad = true;
        else [month, value] = r;
        break;
      case Std.WeekDay:
        r = lookupName(shortDayNames, value);
        if (!r) bad = true;
        else value = r[1];
        break;
      case Std.LongWeekDay:
        r = lookupName(longDayNames, value);
        if (!r) bad = true;
        else value = r[1];
        break;
      case Std.Day:
      case Std.UnderDay:
      case Std.ZeroDay:
        if (ch.std === Std.UnderDay && value[0] === ' ') value = value.slice(1);
        r = getnum(value, ch.std === Std.ZeroDay);
        if (!r) bad = true;
        else [day, value] = r;
        break;
      case Std.UnderYearDay:
      case Std.ZeroYearDay:
        for (let i = 0; i < 2; i++) if (ch.std === Std.UnderYearDay && value[0] === ' ') value = value.slice(1);
        r = getnum3(value, ch.std === Std.ZeroYearDay);
        if (!r || r[0] < 1 || r[0] > 366) bad = true;
        else [yday, value] = r;
        break;
      case Std.Hour:
        r = getnum(value, false);
        if (!r || r[0] < 0 || r[0] > 23) bad = true;
        else [hour, value] = r;
        break;
      case Std.Hour12:
      case Std.ZeroHour12:
        r = getnum(value, ch.std === Std.ZeroHour12);
        if (!r || r[0] < 0 || r[0] > 12) bad = true;
        else [hour, value] = r;
        break;
      case Std.Minute:
      case Std.ZeroMinute:
        r = getnum(value, ch.std === Std.ZeroMinute);
        if (!r || r[0] < 0 || r[0] > 59) bad = true;
        else [min, value] = r;
        break;
      case Std.Second:
      case Std.ZeroSecond: {
        r = getnum(value, ch.std === Std.ZeroSecond);
        if (!r || r[0] < 0 || r[0] > 59) {
          bad = true;
          break;
        }
        [sec, value] = r;
        if (value.length >= 2 && (value[0] === '.' || value[0] === ',') && isDigitAt(value, 1)) {
          const next = chunks[ci + 1];
          if (next && next.prefix === '' && (next.std === Std.FracSecond0 || next.std === Std.FracSecond9)) break;
          let n = 2;
          while (n < value.length && isDigitAt(value, n)) n++;
          const ns = parseNanoseconds(value, n);
          if (ns === null) {
            bad = true;
            break;
          }
          nsec = ns;
          value = value.slice(n);
        }
        break;
      }
      case Std.PM:
        if (value.length < 2) bad = true;
        else {
          const p = value.slice(0, 2);
          if (p === 'PM') pmSet = true;
          else if (p === 'AM') amSet = true;
          else bad = true;
          value = value.slice(2);
        }
        break;
      case Std.pm:
        if (value.length < 2) bad = true;
        else {
          const p = value.slice(0, 2);
          if (p === 'pm') pmSet = true;
          else if (p === 'am') amSet = true;
          else bad = true;
          value = value.slice(2);
        }
        break;
      case Std.ISO8601TZ:
      case Std.ISO8601ShortTZ:
      case Std.ISO8601ColonTZ:
      case Std.ISO8601SecondsTZ:
      case Std.ISO8601ColonSecondsTZ:
      case Std.NumTZ:
      case Std.NumShortTZ:
      case Std.NumColonTZ:
      case Std.NumSecondsTz:
      case Std.NumColonSecondsTZ: {
        const s = ch.std;
        const iso = s >= Std.ISO8601TZ && s <= Std.ISO8601ColonSecondsTZ;
        if (iso && value[0] === 'Z') {
          value = value.slice(1);
          utcZ = true;
          break;
        }
        let re: RegExp;
        if (s === Std.ISO8601ColonTZ || s === Std.NumColonTZ) re = /^([+-])(\d\d):(\d\d)/;
        else if (s === Std.NumShortTZ || s === Std.ISO8601ShortTZ) re = /^([+-])(\d\d)/;
        else if (s === Std.ISO8601ColonSecondsTZ || s === Std.NumColonSecondsTZ) re = /^([+-])(\d\d):(\d\d):(\d\d)/;
        else if (s === Std.ISO8601SecondsTZ || s === Std.NumSecondsTz) re = /^([+-])(\d\d)(\d\d)(\d\d)/;
        else re = /^([+-])(\d\d)(\d\d)/;
        const m = re.exec(value);
        if (!m) {
          bad = true;
          break;
        }
        const hh = parseInt(m[2]!, 10);
        const mm = m[3] ? parseInt(m[3], 10) : 0;
        const ss = m[4] ? parseInt(m[4], 10) : 0;
        if (hh > 24 || mm > 60 || ss > 60) {
          bad = true;
          break;
        }
        zoneOffset = (hh * 60 + mm) * 60 + ss;
        if (m[1] === '-') zoneOffset = -zoneOffset;
        value = value.slice(m[0].length);
        break;
      }
      case Std.TZ: {
        if (value.length >= 3 && value.startsWith('UTC')) {
          utcZ = true;
          value = value.slice(3);
          break;
        }
        const n = parseTimeZone(value);
        if (n === 0) {
          bad = true;
          break;
        }
        zoneName = value.slice(0, n);
        value = value.slice(n);
        break;
      }
      case Std.FracSecond0: {
        const ndigit = 1 + ch.n;
        if (value.length < ndigit) {
          bad = true;
          break;
        }
        const ns = parseNanoseconds(value, ndigit);
        if (ns === null) {
          bad = true;
          break;
        }
        nsec = ns;
        value = value.slice(ndigit);
        break;
      }
      case Std.FracSecond9: {
        if (value.length < 2 || (value[0] !== '.' && value[0] !== ',') || !isDigitAt(value, 1)) break;
        let i = 0;
        while (i + 1 < value.length && isDigitAt(value, i + 1)) i++;
        const ns = parseNanoseconds(value, 1 + i);
        if (ns === null) {
          bad = true;
          break;
        }
        nsec = ns;
        value = value.slice(1 + i);
        break;
      }
    }
    if (bad) return err(` as ${JSON.stringify(alayout)}: cannot parse ${JSON.stringify(hold)}`);
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;
  if (yday >= 0) {
    let m = 0;
    let d = yday;
    if (isLeap(year)) {
      if (d === 31 + 29) {
        m = 2;
        d = 29;
      } else if (d > 31 + 29) d--;
    }
    if (m === 0) {
      m = Math.floor(d / 31) + 1;
      if (m > 12) m = 12;
      if (daysBefore[m]! < d) m++;
      d -= daysBefore[m - 1]!;
    }
    if (month >= 0 && month !== m) return err(': day-of-year does not match month');
    month = m;
    if (day >= 0 && day !== d) return err(': day-of-year does not match day');
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) return err(': day out of range');
  const wallSec = daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
  if (utcZ) return new GoTime(wallSec, nsec, UTC);
  if (zoneOffset !== -1) {
    const t = wallSec - zoneOffset;
    const l = local.lookup(t);
    if (l.offset === zoneOffset && (zoneName === '' || l.abbrev === zoneName)) return new GoTime(t, nsec, local);
    return new GoTime(t, nsec, fixedZone(zoneName, zoneOffset));
  }
  if (zoneName !== '') {
    const l = local.lookup(wallSec);
    if (l.abbrev === zoneName) return new GoTime(wallSec - l.offset, nsec, local);
    let off = 0;
    const m = /^GMT([+-]\d+)$/.exec(zoneName);
    if (m) off = parseInt(m[1]!, 10) * 3600;
    return new GoTime(wallSec - off, nsec, fixedZone(zoneName, off));
  }
  // Wall clock in `local`: find the offset in effect (two passes handle DST edges).
  let off = local.lookup(wallSec).offset;
  off = local.lookup(wallSec - off).offset;
  return new GoTime(wallSec - off, nsec, local);
}

// ---------------------------------------------------------------- durations

const unitMap: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n,
  'μs': 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

function tquote(s: string): string {
  return '"' + s.replace(/["\\]/g, (c) => '\\' + c) + '"';
}

const MAXI64 = (1n << 63n) - 1n;

/** time.ParseDuration: nanoseconds, or an error text. */
export function parseDuration(orig: string): bigint | string {
  let s = orig;
  let d = 0n;
  let neg = false;
  const invalid = 'time: invalid duration ' + tquote(orig);
  if (s !== '') {
    const c = s[0];
    if (c === '-' || c === '+') {
      neg = c === '-';
      s = s.slice(1);
    }
  }
  if (s === '0') return 0n;
  if (s === '') return invalid;
  while (s !== '') {
    let v = 0n;
    let f = 0n;
    let scale = 1;
    if (!(s[0] === '.' || isDigitAt(s, 0))) return invalid;
    let i = 0;
    while (i < s.length && isDigitAt(s, i)) {
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > 1n << 63n) return invalid;
      i++;
    }
    const pre = i > 0;
    s = s.slice(i);
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      while (j < s.length && isDigitAt(s, j)) {
        if (!overflow) {
          if (f > MAXI64 / 10n) overflow = true;
          else {
            f = f * 10n + BigInt(s.charCodeAt(j) - 48);
            scale *= 10;
          }
        }
        j++;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) return invalid;
    i = 0;
    while (i < s.length && !(s[i] === '.' || isDigitAt(s, i))) i++;
    if (i === 0) return 'time: missing unit in duration ' + tquote(orig);
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = unitMap[u];
    if (unit === undefined) return 'time: unknown unit ' + tquote(u) + ' in duration ' + tquote(orig);
    if (v > (1n << 63n) / unit) return invalid;
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > 1n << 63n) return invalid;
    }
    d += v;
    if (d > 1n << 63n) return invalid;
  }
  if (neg) return -d;
  if (d > MAXI64) return invalid;
  return d;
}

/** Duration.Seconds(). */
export function durationSeconds(d: bigint): number {
  const sec = d / 1_000_000_000n;
  const nsec = d % 1_000_000_000n;
  return Number(sec) + Number(nsec) / 1e9;
}
