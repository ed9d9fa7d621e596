// API-4 first admin and API-3 user rules, on a real SQLite file.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { manualClock } from '../../appliance/core/clock.ts';
import type { Logger } from '../../appliance/core/log.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createUserRepository } from '../../appliance/storage/users.ts';
import { createJwt } from '../../appliance/users/jwt.ts';
import { createUserService } from '../../appliance/users/service.ts';
import { tempDir } from '../helpers/appliance.ts';

let temp: ReturnType<typeof tempDir>;
let db: Db;
const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
const log = {
  info: (fields: Record<string, unknown>, msg: string) => lines.push({ level: 'info', fields, msg }),
  warn: (fields: Record<string, unknown>, msg: string) => lines.push({ level: 'warn', fields, msg }),
} as unknown as Logger;

beforeEach(() => {
  temp = tempDir();
  db = openDb(dbFileIn(temp.dir));
  lines.length = 0;
});
afterEach(() => {
  db.close();
  temp.remove();
});

const service = () => createUserService({ users: createUserRepository(db), jwt: createJwt(randomBytes(32)), clock: manualClock(), log });

test('without a configured password the first admin gets a random one, logged once, that must be changed', async () => {
  const users = service();
  const { created, generated } = await users.ensureFirstAdmin('');
  assert.equal(created, true);
  assert.match(generated!, /^[A-Za-z0-9]{17}$/, 'letters and digits only: never a leading "-" that a shell takes for an option (issue 16.10)');
  assert.equal(lines.filter((l) => l.fields.password === generated).length, 1);
  const login = await users.login('admin', generated!, '127.0.0.1');
  assert.equal(login.must_change_password, true);
  assert.equal(users.authenticate(login.access_token).mustChangePassword, true);
  assert.deepEqual(await users.ensureFirstAdmin(''), { created: false, generated: null }, 'only on a box without users');
  assert.equal(lines.length, 1);
});

test('MCS_ADMIN_PASSWORD sets the first admin without a forced change and is never logged', async () => {
  const users = service();
  await users.ensureFirstAdmin('configured-pass-1');
  assert.equal(users.get('admin').must_change_password, false);
  assert.doesNotMatch(JSON.stringify(lines), /configured-pass-1/);
  assert.equal((await users.login('admin', 'configured-pass-1', '::1')).role, 'admin');
});

test('user names are unique regardless of case, and a new user must change the password set for them', async () => {
  const users = service();
  await users.create({ username: 'Op1', role: 'operator', password: 'operator-pass-1' });
  await assert.rejects(users.create({ username: 'op1', role: 'viewer', password: 'viewer-pass-1' }), /exists/);
  const login = await users.login('op1', 'operator-pass-1', '127.0.0.1');
  assert.equal(login.must_change_password, true);
});

test('logins running at once are counted before scrypt: no more wrong passwords are checked than the limit', async () => {
  const users = createUserService({
    users: createUserRepository(db), jwt: createJwt(randomBytes(32)), clock: manualClock(), log, loginLimits: { windowMs: 60_000, perAddress: 100, perUser: 3 },
  });
  await users.create({ username: 'target', role: 'viewer', password: 'right-pass-1' });
  const outcome = (promise: Promise<unknown>) => promise.then(() => 'ok', (err: { key?: string }) => err.key);
  const results = await Promise.all([
    ...Array.from({ length: 20 }, (_, i) => outcome(users.login('target', `wrong-${i}`, '10.0.0.1'))),
    outcome(users.login('target', 'right-pass-1', '10.0.0.1')),
  ]);
  assert.deepEqual(results.slice(0, 3), ['AUTH_BAD_CREDENTIALS', 'AUTH_BAD_CREDENTIALS', 'AUTH_BAD_CREDENTIALS']);
  assert.deepEqual(new Set(results.slice(3)), new Set(['TOO_MANY_LOGINS']), 'the rest, the right password included, were refused unchecked');
});
