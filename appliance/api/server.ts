// The LAN API (API-1..API-7): a fastify instance built without listen() so tests use inject();
// app.ts listens. One error shape for every failure: {code, message, detail} with the seed's
// business codes; 5xx messages are not leaked. Every route has TypeBox schemas for input and
// output, which also make the OpenAPI document at /api/docs.
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import { AppError, ErrorCodes } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { registerAccessControl } from './access.ts';
import type { ApiDeps } from './deps.ts';
import { appErrorProblems, problemsSentence, validationProblems, validatorCompiler } from './validation.ts';
import { alarmRoutes } from './routes/alarms.ts';
import { calibrationRoutes } from './routes/calibration.ts';
import { maskRoutes } from './routes/masks.ts';
import { exposureRoutes } from './routes/exposure.ts';
import { authRoutes } from './routes/auth.ts';
import { configRoutes } from './routes/config.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { deviceRoutes } from './routes/devices.ts';
import { liveRoutes } from './routes/live.ts';
import { storageRoutes } from './routes/storage.ts';
import { systemRoutes } from './routes/system.ts';
import { userRoutes } from './routes/users.ts';
import { uiRoutes } from './routes/ui.ts';
import { uplinkRoutes } from './routes/uplink.ts';

export type { ApiDeps };

/** Bodies above this are refused (API-2); the floor-plan upload has its own 5 MB limit. */
export const BODY_LIMIT = 256 * 1024;

/** fastify's own client errors (bad JSON, too large, wrong media type) in the one shape. */
function clientError(error: FastifyError, invalid: AppError['key']): AppError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(invalid, { limit_bytes: BODY_LIMIT }, `request body too large (at most ${BODY_LIMIT} bytes)`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(invalid, { content_type: 'application/json' }, 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError(invalid, null, 'the body is not valid JSON');
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/.test(error.message))) {
    return new AppError(invalid, null, 'the body is not valid JSON');
  }
  return null;
}

export function createApiServer(deps: ApiDeps & { log: Logger }): FastifyInstance {
  const { tls_cert: tlsCert, tls_key: tlsKey } = deps.config.http;
  // PKG-2: the installer's certificate (self-signed for the LAN, or the plant's own) makes the
  // admin UI, the kiosk and the API HTTPS on the same port.
  const https = tlsCert && tlsKey ? { https: { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) } } : {};
  const app = Fastify({
    ...(https as object),
    loggerInstance: deps.log.child({ stage: 'api' }) as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }), // OPS-3: no log line per request
    trustProxy: false,
    routerOptions: { maxParamLength: 200 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const invalid = request.routeOptions?.config?.invalid ?? 'REQUEST_INVALID';
    // Invalid input is always 400, with the area's business code (API-2), whatever that code's usual status.
    // Issue 16.11: the detail lists structured problems (field, rule, limit) the UI words in both languages.
    const problems = error.validation ? validationProblems(error) : null;
    const badInput = problems
      ? new AppError(invalid, problems, `invalid request: ${problemsSentence(problems)}`)
      : clientError(error, invalid);
    const known = error instanceof AppError ? error : badInput;
    if (known) {
      if (known.key === 'TOO_MANY_LOGINS') reply.header('retry-after', String((known.detail as { retry_after_s: number }).retry_after_s));
      const listed = known.http === 400 && known !== badInput ? appErrorProblems(known.detail, ErrorCodes[known.key].message) : null;
      return reply.status(badInput ? 400 : known.http).send({ code: known.code, message: listed?.message ?? known.message, detail: listed?.detail ?? known.detail ?? null });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error, url: request.url }, 'request failed');
      return reply.status(500).send({ code: 500, message: 'internal error', detail: null });
    }
    return reply.status(status).send({ code: status, message: error.message, detail: null });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 404, message: `no route ${request.method} ${request.url.split('?')[0]}`, detail: null }));

  app.register(swagger, {
    openapi: {
      info: { title: 'MCS Edge API', version: deps.figures.version, description: 'LAN API of the MCS Edge appliance (SPEC API-1..API-7)' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  app.register(websocket, { options: { maxPayload: 4096 } });
  app.register(async (api) => {
    registerAccessControl(api, deps);
    api.get('/api/docs', { schema: { hide: true }, config: { access: 'public' } }, async () => api.swagger());
    api.register(authRoutes(deps));
    api.register(userRoutes(deps));
    api.register(deviceRoutes(deps));
    api.register(alarmRoutes(deps));
    api.register(calibrationRoutes(deps));
    if (deps.masks) api.register(maskRoutes({ ...deps, masks: deps.masks }));
    api.register(exposureRoutes(deps));
    api.register(configRoutes(deps));
    api.register(dashboardRoutes(deps));
    api.register(systemRoutes(deps));
    api.register(storageRoutes(deps));
    if (deps.uplink) api.register(uplinkRoutes({ ...deps, uplink: deps.uplink }));
    api.register(liveRoutes(deps));
  });
  app.register(uiRoutes()); // UI-1: the kiosk and admin app (ui/dist)
  return app;
}
