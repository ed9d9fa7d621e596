// LIC-3: the check-in client against the real license server, a fake server and no server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkIn } from '../../licensing/checkin.ts';
import { signJson } from '../../licensing/signing.ts';
import { startHttpServer } from '../notify/support.ts';
import { licenseFields, MACHINE_A, startLicenseServer, vendorKeys, type RunningLicenseServer } from './support.ts';
import { freePort } from '../helpers/appliance.ts';

const keys = vendorKeys();
let server: RunningLicenseServer;
const license = licenseFields();
const options = () => ({ machineId: MACHINE_A, licenseKey: license.license_key, version: '0.1.0', publicKey: keys.publicKey, timeoutMs: 2000 });

before(async () => {
  server = await startLicenseServer(keys);
  server.store.add(license);
});
after(() => server.close());

describe('check-in client', () => {
  test("the vendor's server answers valid, signed for this machine, license and request", async () => {
    const outcome = await checkIn({ serverUrl: server.url, ...options() });
    assert.equal(outcome.kind, 'answer');
    assert.ok(outcome.kind === 'answer' && outcome.answer.valid && outcome.signed.signature.length === 88);
  });

  test('a fake server answering valid:true without the signature is untrusted, not valid', async () => {
    const fake = await startHttpServer((request) => {
      const body = JSON.parse(request.body);
      return { json: { valid: true, token_expire: 4_000_000_000, message: 'OK', code: 0, reason: 'ok', license_key: body.license_key, machine_id: body.machine_id, server_time: Date.now(), nonce: body.nonce } };
    });
    try {
      const outcome = await checkIn({ serverUrl: fake.url, ...options() });
      assert.deepEqual(outcome, { kind: 'untrusted', problem: "HTTP 200: answer not signed by the vendor's key" });
    } finally {
      await fake.close();
    }
  });

  test('a fake server signing with its own key, or replaying a genuine answer, is untrusted', async () => {
    const other = vendorKeys();
    const genuine = await checkIn({ serverUrl: server.url, ...options() });
    assert.equal(genuine.kind, 'answer');
    const fake = await startHttpServer((request) => {
      const body = JSON.parse(request.body);
      if (body.version === 'replay') return { json: genuine.kind === 'answer' ? genuine.signed : {} };
      const answer = { valid: true, token_expire: 4_000_000_000, message: 'OK', code: 0, reason: 'ok', license_key: body.license_key, machine_id: body.machine_id, server_time: 1, nonce: body.nonce };
      return { json: { ...answer, signature: signJson(answer, other.privateKey) } };
    });
    try {
      const selfSigned = await checkIn({ serverUrl: fake.url, ...options() });
      assert.deepEqual(selfSigned, { kind: 'untrusted', problem: "HTTP 200: signature does not match the vendor's key" });
      const replayed = await checkIn({ serverUrl: fake.url, ...options(), version: 'replay' });
      assert.deepEqual(replayed, { kind: 'untrusted', problem: 'HTTP 200: answer is not for this request (replayed)' });
    } finally {
      await fake.close();
    }
  });

  test('no server listening, a server error and a hung server are unreachable (grace), not refusals', async () => {
    const port = await freePort();
    const none = await checkIn({ serverUrl: `http://127.0.0.1:${port}`, ...options() });
    assert.equal(none.kind, 'unreachable');
    assert.match(none.kind === 'unreachable' ? none.problem : '', /ECONNREFUSED/);
    const broken = await startHttpServer(() => ({ status: 502, text: 'bad gateway' }));
    const hung = await startHttpServer(() => 'never');
    try {
      assert.deepEqual(await checkIn({ serverUrl: broken.url, ...options() }), { kind: 'unreachable', problem: 'server error HTTP 502' });
      const started = Date.now();
      const timedOut = await checkIn({ serverUrl: hung.url, ...options(), timeoutMs: 200 });
      assert.equal(timedOut.kind, 'unreachable');
      assert.ok(Date.now() - started < 2000);
    } finally {
      await broken.close();
      await hung.close();
    }
  });
});
