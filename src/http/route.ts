// Shared shape of Loki's read routes: GET and POST alike, tenant(s) resolved first, parameters
// merged from the URL and a form body, any error answered through sendError, JSON bodies sent
// with Loki's content type.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Params } from '../query/params.js';
import { sendError } from './errors.js';
import { requestParams } from './params.js';
import { readTenants } from './tenant.js';

/**
 * `tenants` holds every tenant the request reads (sorted); it has more than one only with
 * querier.multi_tenant_queries_enabled, and then `tenant` is the first of them: a handler must
 * answer for all of `tenants` as Loki's multi-tenant querier does.
 */
export type ReadHandler = (req: FastifyRequest, reply: FastifyReply, tenant: string, p: Params, tenants: string[]) => Promise<unknown> | unknown;

export function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

export function readRoute(app: FastifyInstance, authEnabled: boolean, url: string, h: ReadHandler, multiTenant = false): void {
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method, url,
      handler: async (req, reply) => {
        try {
          const tenants = readTenants(req, authEnabled, multiTenant);
          return await h(req, reply, tenants[0]!, requestParams(req), tenants);
        } catch (e) {
          return sendError(reply, e);
        }
      },
    });
  }
}
