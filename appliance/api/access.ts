// API-3 access control, declared per route and enforced in one hook: every /api and /ws route
// states who may call it (`config.access`), so a route that forgets is refused at start, not
// silently public. LIC-4: writes pass the license gate; data queries and exports pass its 24 h
// window (`licensedStart`).
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { AppError, type ErrorName } from '../core/errors.ts';
import { iso } from '../contract/api.ts';
import { roleRank, type Role } from '../contract/users.ts';
import type { Principal, UserService } from '../users/service.ts';

/** public: no token; self: any valid token, even one whose password must still be changed. */
export type Access = 'public' | 'self' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** The business code for invalid input on this route (API-2), e.g. DEVICE_INVALID (40004). */
    invalid?: ErrorName;
    /**
     * LIC-4: passes the license gate. Default: every method but GET. 'last_24h': a data query or
     * export that the route itself limits with `licensedStart()` (the last 24 h stay answered).
     */
    licensed?: boolean | 'last_24h';
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

/** LIC-4: while the license is locked, data queries and exports reach back this far, no further. */
export const LOCKED_QUERY_WINDOW_MS = 24 * 3_600_000;
/**
 * A start this much older than the window is moved to the window's start rather than refused: the
 * admin UI's "24 h" preset is computed in the browser a moment (or a clock skew) before the
 * appliance reads its clock, and must not be refused for a few seconds.
 */
export const LOCKED_QUERY_SLACK_MS = 5 * 60_000;

/**
 * LIC-4 for data queries and exports (routes declared `licensed: 'last_24h'`): a locked license
 * stops "data queries and exports beyond the last 24 h", not the last hour's trend of a leaking
 * detector. Returns the start to query from: unlocked, `from` as it is. Locked, a range starting
 * at or after now − 24 h is answered (a start up to LOCKED_QUERY_SLACK_MS earlier is moved to
 * now − 24 h); one reaching further back gets the license's 403 (its code 20001/20002/20004 and
 * what to do), saying that only the last 24 hours can be queried. A route whose start is optional
 * (`from` undefined) gets the window's start while locked.
 */
export function licensedStart(license: LicenseGate | undefined, range: { from: number; to?: number }, now: number): number;
export function licensedStart(license: LicenseGate | undefined, range: { from?: number; to?: number }, now: number): number | undefined;
export function licensedStart(license: LicenseGate | undefined, range: { from?: number; to?: number }, now: number): number | undefined {
  const refused = license?.apiError();
  if (!refused) return range.from;
  const earliest = now - LOCKED_QUERY_WINDOW_MS;
  const from = range.from === undefined ? earliest : range.from >= earliest - LOCKED_QUERY_SLACK_MS ? Math.max(range.from, earliest) : null;
  if (from !== null && (range.to === undefined || range.to > earliest)) return from;
  const detail = {
    ...(refused.detail as object | undefined),
    window_hours: LOCKED_QUERY_WINDOW_MS / 3_600_000,
    earliest: iso(earliest),
    ...(range.from !== undefined ? { start: iso(range.from) } : {}),
    ...(range.to !== undefined ? { end: iso(range.to) } : {}),
  };
  throw new AppError(refused.key, detail,
    `While the license is locked, only the last 24 hours can be queried or exported; choose a later start time, or restore the license to see older data. ${refused.message}`);
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
    // 'last_24h' routes check their range themselves (licensedStart), once it is parsed.
    if (licensed !== 'last_24h' && (licensed ?? request.method !== 'GET')) {
      const refused = deps.license?.apiError();
      if (refused) throw refused;
    }
  });
}
