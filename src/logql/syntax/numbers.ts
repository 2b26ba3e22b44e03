// Go number conversions the LogQL front end needs: strconv.ParseFloat's accepted syntax (with its
// error text), and the float formats Loki prints: fmt's %v (`1e+06`, `0.5`), strconv 'f' with
// shortest precision (`1000000`), and %f (`1.000000`).

/** Go strconv.ParseFloat(s, 64); throws Error(`strconv.ParseFloat: parsing "s": invalid syntax`). */
export function goParseFloat(s: string): number {
  const bad = (): Error => new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
  let body = s;
  let sign = 1;
  if (body[0] === '+' || body[0] === '-') {
    if (body[0] === '-') sign = -1;
    body = body.slice(1);
  }
  const lower = body.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (/^0x/i.test(body)) {
    const m = /^0x([0-9a-f_]*)(?:\.([0-9a-f_]*))?p([+-]?[0-9_]+)$/i.exec(body);
    if (!m || !underscoreOK(body)) throw bad();
    const intPart = (m[1] ?? '').replaceAll('_', '');
    const fracPart = (m[2] ?? '').replaceAll('_', '');
    if (intPart === '' && fracPart === '') throw bad();
    let mant = 0;
    for (const c of intPart + fracPart) mant = mant * 16 + parseInt(c, 16);
    const exp = Number(m[3]!.replaceAll('_', '')) - 4 * fracPart.length;
    return sign * mant * Math.pow(2, exp);
  }
  if (!/^([0-9_]+\.?[0-9_]*|\.[0-9_]+)([eE][+-]?[0-9_]+)?$/.test(body)) throw bad();
  if (body.includes('_') && !underscoreOK(body)) throw bad();
  const v = Number(body.replaceAll('_', ''));
  if (Number.isNaN(v)) throw bad();
  if (!Number.isFinite(v)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: value out of range`);
  return sign * v;
}

function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && /[bBoOxX]/.test(s[1]!)) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** Go fmt's %v for a float64 (strconv 'g' with shortest digits: exponent form when exp < -4 || exp >= 6). */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  // Shortest round-trip digits via JS, then lay them out Go's way.
  const [mant, e] = v.toExponential().split('e') as [string, string];
  const e10 = Number(e);
  if (e10 < -4 || e10 >= 6) {
    const es = Math.abs(e10) < 10 ? '0' + Math.abs(e10) : String(Math.abs(e10));
    return `${mant}e${e10 < 0 ? '-' : '+'}${es}`;
  }
  return formatGoFloatF(v);
}

/** strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent. */
export function formatGoFloatF(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const [mant, e] = Math.abs(v).toExponential().split('e') as [string, string];
  const e10 = Number(e);
  const digits = mant.replace('.', '');
  let out: string;
  if (e10 >= 0) {
    if (digits.length <= e10 + 1) out = digits + '0'.repeat(e10 + 1 - digits.length);
    else out = digits.slice(0, e10 + 1) + '.' + digits.slice(e10 + 1);
  } else {
    out = '0.' + '0'.repeat(-e10 - 1) + digits;
  }
  return (neg ? '-' : '') + out;
}

/** Go's %f (six decimals). */
export function formatGoFloatFixed6(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return v.toFixed(6);
}
