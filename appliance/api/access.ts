// API-3 access control, declared per route and enforced in one hook: every /api and /ws route
// states who may call it (`config.access`), so a route that forgets is refused at start, not
// silently public. LIC-4: writes and data queries also pass the license gate.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { AppError, type ErrorName } from '../core/errors.ts';
import { roleRank, type Role } from '../contract/users.ts';
import type { Principal, UserService } from '../users/service.ts';

/** public: no token; self: any valid token, even one whose password must still be changed. */
export type Access = 'public' | 'self' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** The business code for invalid input on this route (API-2), e.g. DEVICE_INVALID (40004). */
    invalid?: ErrorName;
    /** LIC-4: passes the license gate. Default: every method but GET. */
    licensed?: boolean;
    /** The token may come as ?token= (an <img> or a WebSocket cannot set a header). */
    queryToken?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface LicenseGate {
  /** null when allowed, else the 403 to answer (20001-20004). */
  apiError(): AppError | null;
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  if (request.routeOptions.config.queryToken) {
    const token = (request.query as { token?: unknown } | undefined)?.token;
    if (typeof token === 'string' && token) return token;
  }
  return null;
}

export function registerAccessControl(app: FastifyInstance, deps: { users: UserService; license?: LicenseGate }) {
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route: RouteOptions) => {
    const guarded = route.url.startsWith('/api') || route.url.startsWith('/ws') || route.url === '/metrics';
    if (guarded && !route.config?.access && !route.url.startsWith('/api/docs')) {
      throw new Error(`route ${route.method} ${route.url} declares no access (API-3)`);
    }
  });

  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    const { access, licensed } = request.routeOptions.config;
    if (!access || access === 'public') return;
    const token = bearerToken(request);
    if (!token) throw new AppError('AUTH_TOKEN_EXPIRED', 'log in first (Authorization: Bearer <token>)');
    const principal = deps.users.authenticate(token);
    request.principal = principal;
    if (access === 'self') return;
    if (principal.mustChangePassword) {
      throw new AppError('AUTH_FORBIDDEN', { must_change_password: true }, 'change your password first (POST /api/auth/password)');
    }
    if (roleRank(principal.role) < roleRank(access)) {
      throw new AppError('AUTH_FORBIDDEN', { required: access, role: principal.role });
    }
    if (licensed ?? request.method !== 'GET') {
      const refused = deps.license?.apiError();
      if (refused) throw refused;
    }
  });
}
