// Tenant resolution as Loki (dskit tenant/user packages) does it. With auth enabled the
// X-Scope-OrgID header is required (the auth hook answers 401 "no org id" before any body is
// read); with auth disabled every request belongs to the single tenant "fake". IDs are checked
// with dskit's rules (allowed characters, length, "." / ".."); `a|b` names several tenants:
// reads span them all with querier.multi_tenant_queries_enabled, else they fail as in Loki.
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

export const NO_AUTH_TENANT = 'fake';
export const MAX_TENANT_ID_LENGTH = 150;

const VALID = new Uint8Array(256);
for (let c = 0x61; c <= 0x7a; c++) VALID[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) VALID[c] = 1;
for (let c = 0x30; c <= 0x39; c++) VALID[c] = 1;
for (const ch of "!-_.*'()") VALID[ch.charCodeAt(0)] = 1;

/** dskit ValidTenantID: null when valid, else Loki's error text. */
export function tenantIdError(id: string): string | null {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c > 255 || !VALID[c]) return `tenant ID '${id}' contains unsupported character '${id[i]}'`;
  }
  if (id.length > MAX_TENANT_ID_LENGTH) return `tenant ID is too long: max ${MAX_TENANT_ID_LENGTH} characters`;
  if (id === '.' || id === '..') return "tenant ID is '.' or '..'";
  return null;
}

/** The raw X-Scope-OrgID value ('' when absent). */
export function orgIdHeader(req: FastifyRequest): string {
  const h = req.headers['x-scope-orgid'];
  const v = Array.isArray(h) ? h[0] : h;
  return (v ?? '').trim();
}

/** Drops `:key=value` tenant metadata (dskit TrimMetadata). */
function trimMetadata(id: string): string {
  const i = id.indexOf(':');
  return i < 0 ? id : id.slice(0, i);
}

/** dskit tenant.TenantIDs: every ID validated, sorted, de-duplicated. Throws the Go error text. */
export function parseTenantIds(orgId: string): string[] {
  const ids = orgId.split('|').map(trimMetadata);
  for (const id of ids) {
    const err = tenantIdError(id);
    if (err) throw new Error(err);
  }
  return [...new Set(ids)].sort();
}

/** dskit tenant.TenantID: the first ID validated; any different further ID is an error. */
export function parseSingleTenantId(orgId: string): string {
  const ids = orgId.split('|').map(trimMetadata);
  const first = ids[0]!;
  const err = tenantIdError(first);
  if (err) throw new Error(err);
  for (let i = 1; i < ids.length; i++) if (ids[i] !== first) throw new Error('multiple org IDs present');
  return first;
}

function requireOrgId(req: FastifyRequest, newline: boolean): string {
  const v = orgIdHeader(req);
  if (!v) throw new HttpError(401, 'no org id', newline);
  return v;
}

/** Push side (distributor): one tenant; bad or several IDs → 400 with Go's http.Error newline. */
export function pushTenantOf(req: FastifyRequest, authEnabled: boolean): string {
  if (!authEnabled) return NO_AUTH_TENANT;
  try {
    return parseSingleTenantId(requireOrgId(req, true));
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, (e as Error).message, true);
  }
}

/**
 * Query side, endpoints reading one tenant: an invalid ID is a 400 (frontend limits middleware);
 * several IDs reach the single-tenant querier, which fails with 500 "multiple org IDs present".
 */
export function tenantOf(req: FastifyRequest, authEnabled: boolean): string {
  const ids = tenantsOf(req, authEnabled);
  if (ids.length > 1) throw new HttpError(500, 'multiple org IDs present');
  return ids[0]!;
}

/** Query side: every tenant named by X-Scope-OrgID (`a|b|c`), validated, sorted, de-duplicated. */
export function tenantsOf(req: FastifyRequest, authEnabled: boolean): string[] {
  if (!authEnabled) return [NO_AUTH_TENANT];
  try {
    return parseTenantIds(requireOrgId(req, false));
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, (e as Error).message);
  }
}

/**
 * Query side: the tenants a read spans. With `multiTenant` (querier.multi_tenant_queries_enabled)
 * every ID of `a|b|c`; without it, one tenant, or Loki's 500 "multiple org IDs present".
 */
export function readTenants(req: FastifyRequest, authEnabled: boolean, multiTenant: boolean): string[] {
  if (!multiTenant) return [tenantOf(req, authEnabled)];
  return tenantsOf(req, authEnabled);
}
