// API-3 login (rate-limited, audited: login-audit.ts), who am I, and changing one's own password (the forced change of
// API-4 goes through here too).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from '../../core/errors.ts';
import { Message } from '../../contract/api.ts';
import { LoginRequest, LoginResponse, Me, PasswordChange } from '../../contract/users.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';

export function authRoutes(deps: Pick<ApiDeps, 'audit' | 'clock' | 'logins' | 'users'>) {
  const audit = auditor(deps.audit, deps.clock);
  const { logins } = deps;
  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['auth'];

    api.post('/api/auth/login', {
      schema: { tags, summary: 'log in; the token is valid 24 h', security: [], body: LoginRequest, response: { 200: LoginResponse } },
      config: { access: 'public', licensed: false },
    }, async (request) => {
      const { username, password } = request.body;
      try {
        const session = await deps.users.login(username, password, request.ip);
        logins.succeeded(username, request.ip, session.role);
        return session;
      } catch (err) {
        // Issue 16.11: failed logins and lock-outs audited, aggregated (login-audit.ts); never the password.
        if (err instanceof AppError && err.key === 'AUTH_BAD_CREDENTIALS') logins.failed(username, deps.users.exists(username), request.ip);
        if (err instanceof AppError && err.key === 'TOO_MANY_LOGINS') {
          logins.refused(username, deps.users.exists(username), request.ip, (err.detail as { retry_after_s: number }).retry_after_s);
        }
        throw err;
      }
    });

    api.get('/api/auth/me', {
      schema: { tags, summary: 'the caller', response: { 200: Me } },
      config: { access: 'self' },
    }, async (request) => {
      const p = request.principal!;
      return { username: p.username, role: p.role, kind: p.kind, must_change_password: p.mustChangePassword };
    });

    api.post('/api/auth/password', {
      schema: { tags, summary: "change the caller's own password", body: PasswordChange, response: { 200: Message } },
      config: { access: 'self', licensed: false },
    }, async (request) => {
      const p = request.principal!;
      if (p.kind !== 'user') throw new AppError('AUTH_FORBIDDEN', null, 'a kiosk token has no password');
      await deps.users.changeOwnPassword(p.username, request.body.current_password, request.body.new_password);
      audit(request, 'user.password', p.username);
      return { message: 'password changed; log in again' };
    });
  };
}
