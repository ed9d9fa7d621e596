// The LAN API (issue 4 builds it out): a fastify instance built without listen() so tests use
// inject(); app.ts listens. One error shape for every failure: {code, message, detail} with the
// seed's business codes; 5xx messages are not leaked.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { systemRoutes, type SystemDeps } from './routes/system.ts';

export type ApiDeps = SystemDeps;

export function createApiServer(deps: ApiDeps & { log: Logger }): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log.child({ stage: 'api' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    disableRequestLogging: true,
  });
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof AppError) {
      return reply.status(error.http).send({ code: error.code, message: error.message, detail: error.detail ?? null });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send({ code: 500, message: 'internal error', detail: null });
    }
    return reply.status(status).send({ code: status, message: (error as Error).message, detail: null });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ code: 404, message: `no route ${request.method} ${request.url}`, detail: null }));
  app.register(systemRoutes(deps));
  return app;
}
