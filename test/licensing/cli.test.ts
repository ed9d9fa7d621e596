// LIC-7: `mcs-license` keygen / issue / list / revoke / checkins on temp files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runLicenseCli } from '../../licensing/cli.ts';
import { verifyLicenseText } from '../../licensing/license-file.ts';
import { publicKeyFromPem } from '../../licensing/signing.ts';
import { openLicenseStore } from '../../licensing/server/store.ts';
import { tempDir } from '../helpers/appliance.ts';
import { MACHINE_A } from './support.ts';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runLicenseCli(args, { out: (t) => (out += t), err: (t) => (err += t), env: {}, now: () => Date.UTC(2026, 5, 1) });
  return { code, out, err };
}

test('keygen, issue, list and revoke: the issued file verifies with the generated public key and is recorded', async () => {
  const temp = tempDir();
  try {
    const db = join(temp.dir, 'licenses.db');
    const key = join(temp.dir, 'vendor-private-key.pem');
    assert.equal((await run(['keygen', '--out', temp.dir])).code, 0);
    assert.equal(statSync(key).mode & 0o777, 0o600, 'the private key is readable by its owner only');
    const again = await run(['keygen', '--out', temp.dir]);
    assert.equal(again.code, 64);
    assert.match(again.err, /refusing to overwrite/);

    const file = join(temp.dir, 'plant.key');
    const issued = await run(['issue', '--db', db, '--key', key, '--customer', 'Plant A', '--max-devices', '200', '--expires', '2027-06-30',
      '--machine-id', MACHINE_A, '--features', 'offline, sms', '--out', file]);
    assert.equal(issued.code, 0, issued.err);
    const result = verifyLicenseText(readFileSync(file, 'utf8'), publicKeyFromPem(readFileSync(join(temp.dir, 'vendor-public-key.pem'), 'utf8')));
    assert.ok(result.ok);
    assert.deepEqual([result.license.customer, result.license.max_devices, result.license.expire_date, result.license.machine_id, result.license.features, result.license.issued_at],
      ['Plant A', 200, '2027-06-30', MACHINE_A, ['offline', 'sms'], '2026-06-01T00:00:00.000Z']);
    assert.match(result.license.license_key, /^MCS-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);

    const listed = await run(['list', '--db', db]);
    assert.match(listed.out, new RegExp(`${result.license.license_key}  Plant A  200 devices  until 2027-06-30  bound ${MACHINE_A}`));
    const revoked = await run(['revoke', result.license.license_key, '--db', db, '--reason', 'contract ended']);
    assert.equal(revoked.code, 0);
    const store = openLicenseStore(db);
    assert.equal(store.get(result.license.license_key)!.revoke_reason, 'contract ended');
    store.close();
    assert.equal((await run(['revoke', 'MCS-NONE-NONE-NONE', '--db', db])).code, 64);
  } finally {
    temp.remove();
  }
});

test('issue refuses bad input with a usage error and writes nothing', async () => {
  const temp = tempDir();
  try {
    await run(['keygen', '--out', temp.dir]);
    const base = ['issue', '--db', join(temp.dir, 'l.db'), '--key', join(temp.dir, 'vendor-private-key.pem'), '--customer', 'X'];
    const cases: [string[], RegExp][] = [
      [['--max-devices', '0', '--expires', '2027-01-01'], /max-devices/],
      [['--max-devices', '5', '--expires', '2027-02-30'], /expires/],
      [['--max-devices', '5', '--expires', '2027-01-01', '--machine-id', 'xyz'], /machine-id/],
    ];
    for (const [args, message] of cases) {
      const r = await run([...base, ...args]);
      assert.equal(r.code, 64);
      assert.match(r.err, message);
    }
    assert.equal(existsSync(join(temp.dir, 'l.db')), false);
    const noKey = await run(['issue', '--key', join(temp.dir, 'none.pem'), '--customer', 'X', '--max-devices', '5', '--expires', '2027-01-01']);
    assert.match(noKey.err, /no private key/);
  } finally {
    temp.remove();
  }
});
