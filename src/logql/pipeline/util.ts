// Small helpers shared by the pipeline stages: Loki's label-key sanitizing for extracted keys
// (pkg/logql/log/util.go), a bounded intern cache for sanitized keys, and label-name validity
// (Prometheus' UTF-8 validation scheme: any non-empty valid UTF-8 string).

function isAllowed(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57);
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Loki's sanitizeLabelKey. */
export function sanitizeLabelKey(key: string, isPrefix: boolean): string {
  if (key.length === 0) return key;
  if (SIMPLE_KEY.test(key)) return key;
  key = key.trim();
  if (key.length === 0) return key;
  let out = '';
  if (isPrefix) {
    const c = key.charCodeAt(0);
    if (c >= 48 && c <= 57) out = '_';
  }
  for (const ch of key) {
    const c = ch.charCodeAt(0);
    out += ch.length === 1 && isAllowed(c) ? ch : '_';
  }
  return out;
}

/** Loki's appendSanitized: appends the sanitized key to `to`. */
export function appendSanitized(to: string, key: string): string {
  key = key.trim();
  if (key.length === 0) return to;
  if (to.length === 0) {
    const c = key.charCodeAt(0);
    if (c >= 48 && c <= 57) to = '_';
  }
  if (SIMPLE_KEY.test(key) || /^[A-Za-z0-9_]+$/.test(key)) return to + key;
  for (const ch of key) {
    const c = ch.charCodeAt(0);
    to += ch.length === 1 && isAllowed(c) ? ch : '_';
  }
  return to;
}

/** Bounded string→string cache (Loki interns at most 1024 keys per stage). */
export class InternCache {
  private readonly m = new Map<string, string>();
  get(k: string): string | undefined {
    return this.m.get(k);
  }
  set(k: string, v: string): void {
    if (this.m.size < 1024) this.m.set(k, v);
  }
}

export function isValidLabelName(n: string): boolean {
  if (n.length === 0) return false;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = n.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}
