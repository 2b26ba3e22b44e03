// HTTP wiring of the limits: the auth gate (auth.ts), query admission through the scheduler
// for every route Loki's query frontend queues, and the 413 answer for push bodies over
// distributor.max_recv_msg_size with the exact text Loki's push parser produces.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../http/services.js';
import { HttpError } from '../http/errors.js';
import { orgIdHeader, NO_AUTH_TENANT } from '../http/tenant.js';
import { registerAuth } from './auth.js';
import { TooManyOutstandingError } from './scheduler.js';

/** Paths Loki's query frontend puts through its queue (querier.max_concurrent applies). */
const QUEUED = new Set([
  '/loki/api/v1/query_range', '/loki/api/v1/query', '/loki/api/v1/labels', '/loki/api/v1/label', '/loki/api/v1/series',
  '/loki/api/v1/index/stats', '/loki/api/v1/index/volume', '/loki/api/v1/index/volume_range', '/loki/api/v1/patterns',
  '/loki/api/v1/detected_labels', '/loki/api/v1/detected_fields', '/api/prom/query', '/api/prom/label', '/api/prom/series',
]);

export function isQueuedPath(path: string): boolean {
  if (QUEUED.has(path)) return true;
  // /label/<name>/values and /detected_field/<name>/values
  return /^\/(loki\/api\/v1|api\/prom)\/label\/[^/]+\/values$/.test(path) || /^\/loki\/api\/v1\/detected_field\/[^/]+\/values$/.test(path);
}

export function registerLimitsHooks(app: FastifyInstance, s: Services): void {
  registerAuth(app, s.config);
  const scheduler = s.scheduler;
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (!isQueuedPath(path)) return;
    const tenant = s.config.authEnabled ? orgIdHeader(req) : NO_AUTH_TENANT;
    const gone = new AbortController();
    const onClose = (): void => gone.abort(new Error('client closed'));
    reply.raw.once('close', onClose);
    let release: () => void;
    try {
      release = await scheduler.acquire(tenant, gone.signal);
    } catch (e) {
      reply.raw.off('close', onClose);
      if (e instanceof TooManyOutstandingError) {
        return reply.code(429).header('Content-Type', 'text/plain; charset=utf-8').header('X-Content-Type-Options', 'nosniff').send(e.message);
      }
      // The client left while queued: nothing to answer.
      return reply.code(499).send();
    }
    reply.raw.off('close', onClose);
    if (reply.raw.writableEnded || reply.raw.destroyed) {
      release();
      return;
    }
    reply.raw.once('close', release);
  });
}

/**
 * Loki's answer to a push body over max_recv_msg_size (pkg/loghttp/push parsePushRequestBody):
 * an unsupported Content-Encoding or a bad Content-Type is reported first (400); otherwise 413
 * `request body too large: message size too large than max (N vs MAX)`, where N is the
 * Content-Length for protobuf bodies that declare one, else MAX+1 (what the limited reader saw).
 */
export function pushBodyTooLarge(req: FastifyRequest, maxBytes: number): HttpError {
  const ce = (req.headers['content-encoding'] ?? '') as string;
  if (ce !== '' && ce !== 'snappy' && ce !== 'gzip' && ce !== 'deflate') return new HttpError(400, `Content-Encoding ${JSON.stringify(ce)} not supported`, true);
  const ct = String(req.headers['content-type'] ?? '');
  const semi = ct.indexOf(';');
  const mt = (semi >= 0 ? ct.slice(0, semi) : ct).trim().toLowerCase();
  if (mt === '') return new HttpError(400, 'mime: no media type', true);
  const cl = Number(req.headers['content-length']);
  const size = mt !== 'application/json' && Number.isFinite(cl) && cl > maxBytes ? cl : maxBytes + 1;
  return new HttpError(413, `request body too large: message size too large than max (${size} vs ${maxBytes})`, true);
}

export function isPushPath(url: string): boolean {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path === '/loki/api/v1/push' || path === '/api/prom/push' || path === '/otlp/v1/logs';
}
