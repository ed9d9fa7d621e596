// API-6 WebSocket /ws/dashboard: the token (?token= or a Bearer header) is checked at the
// upgrade; a missing or bad one gets close code 4401 so the kiosk knows to log in again rather
// than retry forever.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { WS_CLOSE_UNAUTHORIZED } from '../../contract/live.ts';
import { bearerToken } from '../access.ts';
import type { ApiDeps } from '../deps.ts';

export function liveRoutes(deps: Pick<ApiDeps, 'hub' | 'users'>) {
  return async function register(app: FastifyInstance) {
    // access 'public' here: the check happens below, after the upgrade, so the browser sees a close code.
    app.get('/ws/dashboard', { websocket: true, schema: { hide: true }, config: { access: 'public', queryToken: true } }, (socket, request) => {
      const token = bearerToken(request);
      try {
        if (!token) throw new AppError('AUTH_TOKEN_EXPIRED', null, 'no token');
        const principal = deps.users.authenticate(token);
        if (principal.mustChangePassword) throw new AppError('AUTH_FORBIDDEN', null, 'change your password first');
        deps.hub.add(socket, principal.username);
      } catch (err) {
        const message = err instanceof AppError ? err.message : 'unauthorized';
        socket.close(WS_CLOSE_UNAUTHORIZED, message.slice(0, 120));
      }
    });
  };
}
