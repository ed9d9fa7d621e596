// `mcs-edge license …` (LIC-1, LIC-2): the machine id for the vendor, and a license file checked
// before the installer puts it in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runLicenseCommand } from '../../appliance/cli/license.ts';
import { DEV_MACHINE_ID, writeDevLicense } from '../../licensing/dev-license.ts';
import { tempDir, testConfig } from '../helpers/appliance.ts';

function capture() {
  let text = '';
  return { stream: new Writable({ write(chunk, _enc, done) { text += chunk; done(); } }), text: () => text };
}

async function license(args: string[], machineId: string, publicKeyPem?: string) {
  const temp = tempDir();
  const out = capture();
  const err = capture();
  try {
    const config = testConfig(temp.dir, { license: { machine_id: machineId } });
    const code = await runLicenseCommand(args, config, { out: out.stream, err: err.stream, publicKeyPem });
    return { code, out: out.text(), err: err.text() };
  } finally {
    temp.remove();
  }
}

test('machine-id prints the id a license is bound to', async () => {
  const answer = await license(['machine-id'], DEV_MACHINE_ID);
  assert.deepEqual([answer.code, answer.out], [0, `${DEV_MACHINE_ID}\n`]);
});

test('check accepts a signed license for this machine and refuses another machine, an edited file and a missing one', async () => {
  const temp = tempDir();
  try {
    const { publicPem } = writeDevLicense(temp.dir, 50);
    const file = join(temp.dir, 'license.key');
    const valid = await license(['check', file], DEV_MACHINE_ID, publicPem);
    assert.equal(valid.code, 0, valid.err);
    assert.match(valid.out, /license MCS-\*{4}-\*{4}-0001 for Development: 50 devices, expires 2099-12-31/);

    const foreign = await license(['check', file], 'ab'.repeat(16), publicPem);
    assert.equal(foreign.code, 1);
    assert.match(foreign.err, /is for machine dec0.*this machine is abab/);

    const edited = join(temp.dir, 'edited.key');
    writeFileSync(edited, readFileSync(file, 'utf8').replace('"max_devices": 50', '"max_devices": 5000').replace('"max_devices":50', '"max_devices":5000'));
    assert.notEqual(readFileSync(edited, 'utf8'), readFileSync(file, 'utf8'), 'the edit took');
    const refused = await license(['check', edited], DEV_MACHINE_ID, publicPem);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /is not a valid license/);

    const vendorKey = await license(['check', file], DEV_MACHINE_ID);
    assert.equal(vendorKey.code, 1, "a development license is not valid under the vendor's key");

    const missing = await license(['check', join(temp.dir, 'nope.key')], DEV_MACHINE_ID, publicPem);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read/);
  } finally {
    temp.remove();
  }
});

test('no command or an unknown one is a usage error', async () => {
  assert.equal((await license([], DEV_MACHINE_ID)).code, 64);
  const unknown = await license(['steal'], DEV_MACHINE_ID);
  assert.equal(unknown.code, 64);
  assert.match(unknown.err, /unknown license command 'steal'/);
});
