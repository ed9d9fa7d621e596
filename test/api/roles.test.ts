// API-3: each role can do exactly what SPEC says — viewer reads, operator also acknowledges,
// queries, exports and sends commands, admin does everything — and gets 403 (10003) otherwise.
// Every /api route declares its access; one that forgets stops the server from starting.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { registerAccessControl } from '../../appliance/api/access.ts';
import { roleRank, type Role } from '../../appliance/contract/users.ts';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { reportSystemAlarm } from '../helpers/appliance.ts';

let api: ApiApp;
let alarmId: number;
before(async () => {
  api = await startApi();
  await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'ROLE-1', high_limit: 100 } });
  alarmId = (await reportSystemAlarm(api.app, 'DISK', 'disk', 'test')).id;
});
after(() => api.stop());

// [method, url, body, least role]
const routes: [string, string, unknown, Role][] = [
  ['GET', '/api/devices', undefined, 'viewer'],
  ['GET', '/api/devices/ROLE-1', undefined, 'viewer'],
  ['GET', '/api/devices/ROLE-1/realtime', undefined, 'viewer'],
  ['GET', '/api/alarms', undefined, 'viewer'],
  ['GET', '/api/alarms/stats?start=0', undefined, 'viewer'],
  ['GET', '/api/config/dashboard', undefined, 'viewer'],
  ['GET', '/api/system/stats', undefined, 'viewer'],
  ['GET', '/api/system/license', undefined, 'viewer'],
  ['GET', '/api/devices/ROLE-1/history?start=0&interval=1h', undefined, 'operator'],
  ['GET', '/api/devices/ROLE-1/export?start=0&end=1000', undefined, 'operator'],
  ['GET', '/api/alarms/export', undefined, 'operator'],
  ['POST', '/api/alarms/ack', { ids: [999_999] }, 'operator'],
  ['POST', '/api/devices/ROLE-1/command', { cmd: 'debug', duration: 60 }, 'operator'],
  ['POST', '/api/devices', { sn: 'ROLE-2', high_limit: 100 }, 'admin'],
  ['PUT', '/api/devices/ROLE-1', { name: 'x' }, 'admin'],
  ['POST', '/api/devices/positions', { positions: [{ sn: 'ROLE-1', x: 1, y: 2 }] }, 'admin'],
  ['GET', '/api/devices/pending', undefined, 'admin'],
  ['GET', '/api/config/alarm', undefined, 'admin'],
  ['PUT', '/api/config/dashboard', { title: 'x' }, 'admin'],
  ['GET', '/api/users', undefined, 'admin'],
  ['POST', '/api/users', { username: 'someone', role: 'viewer', password: 'password-1' }, 'admin'],
  ['GET', '/api/system/logs', undefined, 'admin'],
  ['GET', '/api/auth/kiosk-tokens', undefined, 'admin'],
];

for (const [method, url, body, least] of routes) {
  test(`${method} ${url}: ${least} and above may, others get 403 10003`, async () => {
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      const response = await api.call(method, url, { token: api.tokens[role], body });
      if (roleRank(role) < roleRank(least)) {
        assert.equal(response.status, 403, `${role}: ${response.text}`);
        assert.equal(response.body.code, 10003);
      } else {
        assert.notEqual(response.status, 403, `${role}: ${response.text}`);
        assert.notEqual(response.status, 401, `${role}: ${response.text}`);
      }
    }
  });
}

test('the operator acknowledges an alarm; the viewer may not', async () => {
  const refused = await api.call('POST', `/api/alarms/${alarmId}/ack`, { token: api.tokens.viewer, body: { comment: 'x' } });
  assert.equal(refused.status, 403);
  const ok = await api.call('POST', `/api/alarms/${alarmId}/ack`, { token: api.tokens.operator, body: { comment: 'checked' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.ack_by, 'operator');
});

test('an OTA command needs an admin even though other commands need only an operator', async () => {
  const ota = { cmd: 'ota', url: 'https://fw.example/v1.bin', md5: '0123456789abcdef0123456789abcdef' };
  const response = await api.call('POST', '/api/devices/ROLE-1/command', { token: api.tokens.operator, body: ota });
  assert.equal(response.status, 403);
  assert.equal(response.body.code, 10003);
});

test('a route that declares no access stops the server from starting', async () => {
  const app = Fastify();
  app.register(async (scope) => {
    registerAccessControl(scope, { users: {} as never });
    scope.get('/api/forgotten', async () => 'open');
  });
  await assert.rejects(async () => {
    await app.ready();
  }, /declares no access/);
});
