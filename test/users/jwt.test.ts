// API-3 JWT HS256: signed and verified with the data dir's secret; forged, re-signed with another
// algorithm, or expired tokens are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createJwt, JWT_SECRET_FILE, loadJwtSecret } from '../../appliance/users/jwt.ts';
import { tempDir } from '../helpers/appliance.ts';

const now = Date.UTC(2026, 10, 24, 12);
const claims = { sub: 'admin', role: 'admin', ver: 0, iat: now / 1000, exp: now / 1000 + 86_400 };

test('a signed token verifies until it expires', () => {
  const jwt = createJwt(randomBytes(32));
  const token = jwt.sign(claims);
  assert.deepEqual(jwt.verify(token, now), { ok: true, claims });
  assert.deepEqual(jwt.verify(token, now + 86_400_000), { ok: false, reason: 'expired' });
});

test('a token with a changed payload, another key, or alg "none" is refused', () => {
  const jwt = createJwt(randomBytes(32));
  const [header, , signature] = jwt.sign(claims).split('.');
  const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'admin', sub: 'viewer' })).toString('base64url');
  assert.deepEqual(jwt.verify(`${header}.${promoted}.${signature}`, now), { ok: false, reason: 'signature' });
  assert.deepEqual(jwt.verify(createJwt(randomBytes(32)).sign(claims), now), { ok: false, reason: 'signature' });
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  assert.deepEqual(jwt.verify(`${none}.${promoted}.`, now), { ok: false, reason: 'malformed' });
  const hs512 = Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT' })).toString('base64url');
  const body = `${hs512}.${promoted}`;
  assert.equal(jwt.verify(`${body}.${createHmac('sha512', 'x').update(body).digest('base64url')}`, now).ok, false);
  assert.deepEqual(jwt.verify('not-a-token', now), { ok: false, reason: 'malformed' });
});

test('the secret is generated once in the data dir, readable by the owner only', () => {
  const temp = tempDir();
  try {
    const first = loadJwtSecret(temp.dir);
    assert.equal(first.length, 32);
    assert.deepEqual(loadJwtSecret(temp.dir), first);
    assert.equal(statSync(join(temp.dir, JWT_SECRET_FILE)).mode & 0o777, 0o600);
  } finally {
    temp.remove();
  }
});
