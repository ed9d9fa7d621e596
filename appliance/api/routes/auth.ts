// API-3 login (rate-limited), who am I, and changing one's own password (the forced change of
// API-4 goes through here too).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from '../../core/errors.ts';
import { Message } from '../../contract/api.ts';
import { LoginRequest, LoginResponse, Me, PasswordChange } from '../../contract/users.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';

export function authRoutes(deps: ApiDeps) {
  const audit = auditor(deps.audit, deps.clock);
  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['auth'];

    api.post('/api/auth/login', {
      schema: { tags, summary: 'log in; the token is valid 24 h', security: [], body: LoginRequest, response: { 200: LoginResponse } },
      config: { access: 'public', licensed: false },
    }, async (request) => deps.users.login(request.body.username, request.body.password, request.ip));

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
