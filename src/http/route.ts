// Shared shape of Loki's read routes: GET and POST alike, tenant resolved first, parameters
// merged from the URL and a form body, any error answered through sendError, JSON bodies sent
// with Loki's content type.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Params } from '../query/params.js';
import { sendError } from './errors.js';
import { requestParams } from './params.js';
import { tenantOf } from './tenant.js';

export type ReadHandler = (req: FastifyRequest, reply: FastifyReply, tenant: string, p: Params) => Promise<unknown> | unknown;

export function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

export function readRoute(app: FastifyInstance, authEnabled: boolean, url: string, h: ReadHandler): void {
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method, url,
      handler: async (req, reply) => {
        try {
          return await h(req, reply, tenantOf(req, authEnabled), requestParams(req));
        } catch (e) {
          return sendError(reply, e);
        }
      },
    });
  }
}
