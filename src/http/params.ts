// Request parameters as Loki reads them: URL query merged with a form-encoded POST body (Go's
// r.Form), repeated keys kept as arrays.
import type { FastifyRequest } from 'fastify';
import type { Params } from '../query/params.js';

export function requestParams(req: FastifyRequest): Params {
  const out: Params = {};
  const add = (k: string, v: string): void => {
    const cur = out[k];
    if (cur === undefined) out[k] = v;
    else if (Array.isArray(cur)) cur.push(v);
    else out[k] = [cur, v];
  };
  const body = req.body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const ct = String(req.headers['content-type'] ?? '');
    if (ct.startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(body.toString())) add(k, v);
    }
  }
  const q = req.query as Record<string, string | string[]> | undefined;
  if (q) {
    for (const [k, v] of Object.entries(q)) {
      if (Array.isArray(v)) for (const x of v) add(k, x);
      else add(k, v);
    }
  }
  return out;
}

export function paramList(p: Params, ...names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const v = p[n];
    if (v === undefined) continue;
    if (Array.isArray(v)) out.push(...v);
    else out.push(v);
  }
  return out;
}
