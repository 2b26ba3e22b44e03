// Request gatekeeping that runs before any body is read (Fastify onRequest hook):
// 1. optional HTTP basic auth and/or bearer token (Bramble's server.http_auth; the password and
//    token live in files so they stay out of the config) → 401 with WWW-Authenticate;
// 2. with auth_enabled, Loki's auth middleware on tenant-scoped routes: no X-Scope-OrgID → 401
//    "no org id\n" (Go http.Error), exactly as dskit's AuthenticateUser answers.
// Also loads the TLS material for server.http_tls_config.
import { readFileSync } from 'node:fs';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config, HttpTlsConfig } from '../config/config.js';
import { orgIdHeader } from '../http/tenant.js';

/** Routes Loki serves without its auth middleware (no tenant involved). */
const UNSCOPED = new Set(['/loki/api/v1/status/buildinfo', '/loki/api/v1/format_query']);

/** Does Loki wrap this path in its tenant auth middleware? */
export function isTenantScoped(path: string): boolean {
  if (UNSCOPED.has(path)) return false;
  return path.startsWith('/loki/api/') || path.startsWith('/api/prom/') || path.startsWith('/otlp/') || path === '/flush/tenant';
}

function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time comparison of two secrets of any length. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b)) && a.length === b.length;
}

export interface Credentials {
  basic: { username: string; password: string } | null;
  bearer: string | null;
}

export function loadCredentials(c: Config): Credentials {
  const a = c.server.httpAuth;
  const basic = a.basicUsername ? { username: a.basicUsername, password: readSecret(a.basicPasswordFile, 'server.http_auth.basic.password_file') } : null;
  const bearer = a.bearerTokenFile ? readSecret(a.bearerTokenFile, 'server.http_auth.bearer_token_file') : null;
  if (bearer === '') throw new Error('server.http_auth.bearer_token_file is empty');
  if (basic && basic.password === '') throw new Error('server.http_auth.basic.password_file is empty');
  return { basic, bearer };
}

/** Checks the Authorization header against the configured credentials. */
export function authorized(header: string | undefined, cred: Credentials): boolean {
  if (!header) return false;
  const sp = header.indexOf(' ');
  if (sp < 0) return false;
  const scheme = header.slice(0, sp).toLowerCase();
  const value = header.slice(sp + 1).trim();
  if (scheme === 'bearer' && cred.bearer !== null) return sameSecret(value, cred.bearer);
  if (scheme === 'basic' && cred.basic !== null) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    // Evaluate both comparisons so timing does not reveal which part was wrong.
    const u = sameSecret(decoded.slice(0, colon), cred.basic.username);
    const p = sameSecret(decoded.slice(colon + 1), cred.basic.password);
    return u && p;
  }
  return false;
}

function challenge(cred: Credentials): string[] {
  const out: string[] = [];
  if (cred.basic) out.push('Basic realm="bramble", charset="UTF-8"');
  if (cred.bearer !== null) out.push('Bearer realm="bramble"');
  return out;
}

function deny(reply: FastifyReply, status: number, body: string, headers: Record<string, string | string[]> = {}): FastifyReply {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(status).header('Content-Type', 'text/plain; charset=utf-8').header('X-Content-Type-Options', 'nosniff').send(body);
}

/** Installs the onRequest gate. /ready stays open for health checks. */
export function registerAuth(app: FastifyInstance, c: Config): void {
  const cred = loadCredentials(c);
  const httpAuth = cred.basic !== null || cred.bearer !== null;
  const authEnabled = c.authEnabled;
  if (!httpAuth && !authEnabled) return;
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (httpAuth && path !== '/ready' && !authorized(req.headers.authorization, cred)) {
      return deny(reply, 401, 'Unauthorized\n', { 'WWW-Authenticate': challenge(cred) });
    }
    if (authEnabled && isTenantScoped(path) && orgIdHeader(req) === '') {
      return deny(reply, 401, 'no org id\n');
    }
  });
}

/** Node https options for server.http_tls_config, or null when TLS is off. */
export function tlsOptions(t: HttpTlsConfig): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean } | null {
  if (!t.certFile) return null;
  const read = (f: string, what: string): Buffer => {
    try {
      return readFileSync(f);
    } catch (e) {
      throw new Error(`cannot read server.http_tls_config.${what} ${f}: ${(e as Error).message}`);
    }
  };
  const mode = t.clientAuthType || (t.clientCaFile ? 'RequireAndVerifyClientCert' : 'NoClientCert');
  const modes: Record<string, [boolean, boolean]> = {
    NoClientCert: [false, false],
    RequestClientCert: [true, false],
    RequireAnyClientCert: [true, false],
    VerifyClientCertIfGiven: [true, false],
    RequireAndVerifyClientCert: [true, true],
  };
  const m = modes[mode];
  if (!m) throw new Error(`server.http_tls_config.client_auth_type: unknown value "${mode}" (${Object.keys(modes).join(', ')})`);
  const out: { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean } = {
    cert: read(t.certFile, 'cert_file'),
    key: read(t.keyFile, 'key_file'),
    requestCert: m[0],
    rejectUnauthorized: m[1],
  };
  if (t.clientCaFile) out.ca = read(t.clientCaFile, 'client_ca_file');
  return out;
}
