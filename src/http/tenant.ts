// Tenant resolution as Loki does it: with auth enabled the X-Scope-OrgID header is required
// (401 "no org id"); with auth disabled every request belongs to the single tenant "fake".
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

export const NO_AUTH_TENANT = 'fake';

export function tenantOf(req: FastifyRequest, authEnabled: boolean): string {
  if (!authEnabled) return NO_AUTH_TENANT;
  const h = req.headers['x-scope-orgid'];
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) throw new HttpError(401, 'no org id', true);
  return v.trim();
}

/** Query-side tenants: `a|b|c` reads several tenants at once. */
export function tenantsOf(req: FastifyRequest, authEnabled: boolean): string[] {
  const t = tenantOf(req, authEnabled);
  return [...new Set(t.split('|').filter(Boolean))].sort();
}
