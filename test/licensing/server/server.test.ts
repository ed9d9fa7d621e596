// LIC-7: the vendor's license server through HTTP on loopback: binding to the first machine,
// refusing a second, revocation, expiry, unknown keys, every answer signed, every check-in logged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyCheckinAnswer, type SignedCheckinAnswer } from '../../../licensing/checkin.ts';
import { TOKEN_VALID_MS } from '../../../licensing/gate.ts';
import { licenseFields, MACHINE_A, MACHINE_B, startLicenseServer, vendorKeys, type RunningLicenseServer } from '../support.ts';

const keys = vendorKeys();
let now = Date.UTC(2026, 5, 1, 3);
let server: RunningLicenseServer;

before(async () => {
  server = await startLicenseServer(keys, { now: () => now });
});
after(() => server.close());

async function verify(license_key: string, machine_id: string, nonce = 'n1'): Promise<SignedCheckinAnswer> {
  const response = await fetch(`${server.url}/api/verify`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ machine_id, license_key, version: '0.1.0', nonce }),
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as SignedCheckinAnswer;
  const checked = verifyCheckinAnswer(body, keys.publicKey, { machineId: machine_id, licenseKey: license_key, nonce });
  assert.ok(checked.ok, `answer signed for this request: ${!checked.ok && checked.problem}`);
  return body;
}

describe('license server', () => {
  test('an unbound license is bound to the first machine that activates it; a second machine is refused with 20004 and the first keeps working', async () => {
    const license = licenseFields({ machine_id: null });
    server.store.add(license);
    const first = await verify(license.license_key, MACHINE_A);
    assert.deepEqual([first.valid, first.code, first.reason], [true, 0, 'ok']);
    assert.equal(first.token_expire, Math.floor((now + TOKEN_VALID_MS) / 1000), 'the token runs 24 h');
    assert.equal(server.store.get(license.license_key)!.bound_machine, MACHINE_A);
    const second = await verify(license.license_key, MACHINE_B);
    assert.deepEqual([second.valid, second.code, second.reason, second.token_expire], [false, 20004, 'machine_mismatch', 0]);
    assert.equal((await verify(license.license_key, MACHINE_A)).valid, true);
  });

  test('a license issued for a machine is refused for any other from the start', async () => {
    const license = licenseFields({ machine_id: MACHINE_A });
    server.store.add(license);
    assert.equal((await verify(license.license_key, MACHINE_B)).code, 20004);
    assert.equal((await verify(license.license_key, MACHINE_A)).valid, true);
  });

  test('a revoked license is refused with 20001 and reason revoked; an expired one with 20002; an unknown key with 20001', async () => {
    const revoked = licenseFields();
    server.store.add(revoked);
    assert.equal((await verify(revoked.license_key, MACHINE_A)).valid, true);
    assert.equal(server.store.revoke(revoked.license_key, now, 'unpaid'), true);
    const answer = await verify(revoked.license_key, MACHINE_A);
    assert.deepEqual([answer.valid, answer.code, answer.reason, answer.message], [false, 20001, 'revoked', 'license revoked (unpaid)']);
    const expired = licenseFields({ expire_date: '2026-05-31' });
    server.store.add(expired);
    assert.deepEqual([(await verify(expired.license_key, MACHINE_A)).code, (await verify(expired.license_key, MACHINE_A)).reason], [20002, 'expired']);
    const unknown = await verify('MCS-NONE-NONE-NONE', MACHINE_A);
    assert.deepEqual([unknown.valid, unknown.code, unknown.reason], [false, 20001, 'unknown_key']);
  });

  test('every check-in is logged with machine, version, address and result', async () => {
    const license = licenseFields();
    server.store.add(license);
    now += 1000;
    await verify(license.license_key, MACHINE_A);
    await verify(license.license_key, MACHINE_B);
    const log = server.store.checkins(license.license_key);
    assert.deepEqual(log.map((c) => [c.machine_id, c.version, c.valid, c.code, c.reason, c.ts]), [
      [MACHINE_A, '0.1.0', 1, 0, 'ok', now],
      [MACHINE_B, '0.1.0', 0, 20004, 'machine_mismatch', now],
    ]);
    assert.equal(log[0].remote, '127.0.0.1');
  });

  test('a malformed request gets 400 and is not logged as a check-in', async () => {
    const before = server.store.checkins().length;
    const response = await fetch(`${server.url}/api/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"machine_id":1}' });
    assert.equal(response.status, 400);
    assert.equal(server.store.checkins().length, before);
  });
});
