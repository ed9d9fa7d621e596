// LIC-1: the machine id from /etc/machine-id, the D-Bus fallback, or an override.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMachineId } from '../../licensing/machine-id.ts';
import { tempDir } from '../helpers/appliance.ts';

const ID = '0123456789abcdef0123456789abcdef';

test('the machine id comes from the first readable file, falling back to the D-Bus copy', () => {
  const temp = tempDir();
  try {
    const primary = join(temp.dir, 'machine-id');
    const dbus = join(temp.dir, 'dbus-machine-id');
    writeFileSync(dbus, `${ID}\n`);
    assert.deepEqual(readMachineId({ files: [primary, dbus] }), { ok: true, machineId: ID, source: dbus });
    writeFileSync(primary, `${ID.toUpperCase().replace('0', 'F')}\n`);
    const fromPrimary = readMachineId({ files: [primary, dbus] });
    assert.ok(fromPrimary.ok && fromPrimary.source === primary && fromPrimary.machineId === `f${ID.slice(1)}`);
  } finally {
    temp.remove();
  }
});

test('an empty or malformed machine id is an error naming what was tried, not a guess', () => {
  const temp = tempDir();
  try {
    const empty = join(temp.dir, 'machine-id');
    writeFileSync(empty, '\n');
    const result = readMachineId({ files: [empty, join(temp.dir, 'missing')] });
    assert.ok(!result.ok);
    assert.match(result.error, /not a machine id.*ENOENT/);
  } finally {
    temp.remove();
  }
});

test('an override wins and must itself be a machine id', () => {
  assert.deepEqual(readMachineId({ override: ID, files: [] }), { ok: true, machineId: ID, source: 'override' });
  assert.equal(readMachineId({ override: 'abc' }).ok, false);
});

test('the packaged single executable ignores the override (issue 16.5); from source it is honoured', () => {
  const temp = tempDir();
  try {
    const file = join(temp.dir, 'machine-id');
    writeFileSync(file, 'f'.repeat(32));
    assert.deepEqual(readMachineId({ override: ID, files: [file], packaged: true }),
      { ok: true, machineId: 'f'.repeat(32), source: file, ignoredOverride: ID });
    assert.deepEqual(readMachineId({ override: ID, files: [file], packaged: false }), { ok: true, machineId: ID, source: 'override' });
    // Running from source (tsx), as development and the test suite do: node:sea says no.
    assert.deepEqual(readMachineId({ override: ID, files: [file] }), { ok: true, machineId: ID, source: 'override' });
  } finally {
    temp.remove();
  }
});
