// Loki's log deletion API (registered only with compactor.retention_enabled, as Loki does;
// otherwise these paths answer 404): POST/PUT /loki/api/v1/delete adds a request (204 +
// X-Delete-Request-ID), GET lists the tenant's requests, DELETE cancels one by request_id.
// Like Loki, parameters come from the URL query only and errors are Go http.Error texts.
// The compactor (src/compactor) processes requests once delete_request_cancel_period passed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addDeleteRequest, cancelDeleteRequest, DELETION_NOT_AVAILABLE, DeleteRequestError, listDeleteRequests } from '../compactor/deletion.js';
import type { Compactor } from '../compactor/compactor.js';
import { HttpError, sendError } from './errors.js';
import type { Services } from './services.js';
import { tenantOf } from './tenant.js';

const PATH = '/loki/api/v1/delete';

export function registerDeleteRoutes(app: FastifyInstance, s: Services & { compactor: Compactor }): void {
  if (!s.config.compactor.retentionEnabled) return;
  const db = s.ingester.index;
  const query = (req: FastifyRequest): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, string | string[]>)) out[k] = Array.isArray(v) ? v[0]! : v;
    return out;
  };
  const guard = async <T>(req: FastifyRequest, reply: FastifyReply, fn: (tenant: string, q: Record<string, string>) => T): Promise<T | FastifyReply> => {
    try {
      const tenant = tenantOf(req, s.config.authEnabled);
      if (!s.compactor.deletionEnabled) throw new HttpError(403, DELETION_NOT_AVAILABLE, true);
      return fn(tenant, query(req));
    } catch (e) {
      if (e instanceof DeleteRequestError) return sendError(reply, new HttpError(e.status, e.message, true));
      if (!(e instanceof HttpError)) req.log.error({ err: (e as Error).message }, 'delete request handling failed');
      return sendError(reply, e instanceof HttpError ? e : new HttpError(500, (e as Error).message, true));
    }
  };
  const add = (req: FastifyRequest, reply: FastifyReply): Promise<unknown> =>
    guard(req, reply, (tenant, q) => {
      const id = addDeleteRequest(db, tenant, q, { maxIntervalMs: s.config.compactor.deleteMaxIntervalMs, nowMs: Date.now() });
      req.log.info({ delete_request_id: id, user: tenant, query: q.query }, 'delete request for user added');
      return reply.code(204).header('X-Delete-Request-ID', id).send();
    });
  app.post(PATH, add);
  app.put(PATH, add);
  app.get(PATH, (req, reply) => guard(req, reply, (tenant) => reply.type('application/json').send(JSON.stringify(listDeleteRequests(db, tenant)) + '\n')));
  app.delete(PATH, (req, reply) =>
    guard(req, reply, (tenant, q) => {
      cancelDeleteRequest(db, tenant, q.request_id ?? '', q.force === 'true', { cancelPeriodMs: s.config.compactor.deleteRequestCancelPeriodMs, nowMs: Date.now() });
      return reply.code(204).send();
    }),
  );
}
