// API-3 user management (admin) and kiosk viewer tokens; every change audited (API-5).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { iso, isoOrNull, Message } from '../../contract/api.ts';
import { KioskTokenCreate, KioskTokenCreated, KioskTokenView, USERNAME_PATTERN, UserCreate, UserUpdate, UserView } from '../../contract/users.ts';
import type { KioskToken, User } from '../../storage/users.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';

export function userView(user: User): UserView {
  return {
    username: user.username, role: user.role, enabled: user.enabled, must_change_password: user.must_change_password,
    last_login_at: isoOrNull(user.last_login_at), created_at: iso(user.created_at), updated_at: iso(user.updated_at),
  };
}

const kioskView = (t: KioskToken) => ({ id: t.id, name: t.name, created_by: t.created_by, created_at: iso(t.created_at), last_used_at: isoOrNull(t.last_used_at) });

const UsernameParams = Type.Object({ username: Type.String({ pattern: USERNAME_PATTERN }) });

export function userRoutes(deps: Pick<ApiDeps, 'audit' | 'clock' | 'users'>) {
  const audit = auditor(deps.audit, deps.clock);
  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['users'];
    const admin = { access: 'admin' as const };

    api.get('/api/users', { schema: { tags, response: { 200: Type.Object({ data: Type.Array(UserView) }) } }, config: admin },
      async () => ({ data: deps.users.list().map(userView) }));

    api.post('/api/users', {
      schema: { tags, summary: 'add a user; they change the password at first login', body: UserCreate, response: { 201: UserView } },
      config: admin,
    }, async (request, reply) => {
      const view = userView(await deps.users.create(request.body));
      audit(request, 'user.create', view.username, null, view);
      return reply.status(201).send(view);
    });

    api.put('/api/users/:username', {
      schema: { tags, summary: 'change role, enable/disable, or set a new password (to be changed at next login)', params: UsernameParams, body: UserUpdate, response: { 200: UserView } },
      config: admin,
    }, async (request) => {
      const { before, after } = await deps.users.update(request.params.username, request.body);
      const view = userView(after);
      audit(request, request.body.password ? 'user.update_password' : 'user.update', view.username, userView(before), view);
      return view;
    });

    api.delete('/api/users/:username', { schema: { tags, params: UsernameParams, response: { 200: Message } }, config: admin }, async (request) => {
      const removed = deps.users.remove(request.params.username);
      audit(request, 'user.delete', removed.username, userView(removed), null);
      return { message: `user ${removed.username} removed` };
    });

    api.get('/api/auth/kiosk-tokens', { schema: { tags, response: { 200: Type.Object({ data: Type.Array(KioskTokenView) }) } }, config: admin },
      async () => ({ data: deps.users.kioskTokens().map(kioskView) }));

    api.post('/api/auth/kiosk-tokens', {
      schema: { tags, summary: 'a long-lived viewer token for a kiosk screen (shown once)', body: KioskTokenCreate, response: { 201: KioskTokenCreated } },
      config: admin,
    }, async (request, reply) => {
      const { kiosk, token } = deps.users.createKioskToken(request.body.name, request.principal!.username);
      audit(request, 'kiosk_token.create', String(kiosk.id), null, kioskView(kiosk));
      return reply.status(201).send({ id: kiosk.id, name: kiosk.name, token });
    });

    api.delete('/api/auth/kiosk-tokens/:id', {
      schema: { tags, params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: { 200: Message } },
      config: admin,
    }, async (request) => {
      const revoked = deps.users.revokeKioskToken(request.params.id);
      audit(request, 'kiosk_token.revoke', String(revoked.id), kioskView(revoked), null);
      return { message: `kiosk token ${revoked.id} revoked` };
    });
  };
}
