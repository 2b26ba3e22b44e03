// Builds the Fastify server: body parsers (raw bytes for push, form bodies for queries), the
// route groups, Loki's 404 text, and the shared services they receive.
import { readBody } from './body.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Services } from './services.js';
import { registerPushRoutes } from './push.routes.js';
import { registerQueryRoutes } from './query.routes.js';
import { registerLabelRoutes } from './labels.routes.js';
import { registerOpsRoutes } from './ops.routes.js';
import { registerDrilldownRoutes } from './drilldown.routes.js';
import { registerDeleteRoutes } from './delete.routes.js';
import { registerTailRoutes } from './tail.routes.js';
import { registerDrilldownLimitsRoutes } from './drilldown-limits.routes.js';
import { sendError } from './errors.js';
import { isPushPath, pushBodyTooLarge, registerLimitsHooks } from '../limits/http.js';
import { tlsOptions } from '../limits/auth.js';

export function buildApp(s: Services, logger: FastifyBaseLogger, isReady: () => boolean): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
    // One log line per request would be noise on a busy push endpoint: log events, not requests.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
    ...(s.config.server.tls.certFile ? { https: tlsOptions(s.config.server.tls) } : {}),
  }) as unknown as FastifyInstance;
  registerLimitsHooks(app, s);
  // Every body arrives as raw bytes: push decoders need them as they are, and query routes
  // read form-encoded POST bodies through requestParams().
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', readBody);
  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).type('text/plain; charset=utf-8').header('X-Content-Type-Options', 'nosniff').send('404 page not found\n');
  });
  app.setErrorHandler((err, req, reply) => {
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && isPushPath(req.url)) {
      return sendError(reply, pushBodyTooLarge(req, s.config.server.bodyLimitBytes));
    }
    return sendError(reply, Object.assign(new Error(e.message), { status: e.statusCode ?? 500 }));
  });
  registerPushRoutes(app, s);
  registerQueryRoutes(app, s);
  registerLabelRoutes(app, s);
  registerOpsRoutes(app, s, isReady);
  registerDrilldownRoutes(app, s);
  registerDeleteRoutes(app, s);
  registerTailRoutes(app, s);
  registerDrilldownLimitsRoutes(app, s);
  return app;
}
