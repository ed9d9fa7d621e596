// The device-facing contract: DEV-1 topics, DEV-5 user names and derived passwords, DEV-3 commands,
// and the device settings schema shared by the CLI and the API.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import {
  BROADCAST_CMD_TOPIC, cmdTopic, deviceUsername, isValidSn, parseDeviceTopic, snFromUsername, statusTopic, upTopic,
} from '../../appliance/contract/topics.ts';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { DeviceCommand } from '../../appliance/contract/device-payload.ts';
import { DeviceCreate, DeviceUpdate } from '../../appliance/contract/device.ts';

describe('topics (DEV-1)', () => {
  test('device topics are built and parsed back', () => {
    assert.equal(upTopic('MCS-A001-20251217'), 'mcs/MCS-A001-20251217/up');
    assert.equal(statusTopic('A1'), 'mcs/A1/status');
    assert.equal(cmdTopic('A1'), 'mcs/A1/cmd');
    assert.deepEqual(parseDeviceTopic('mcs/MCS-A001-20251217/up'), { sn: 'MCS-A001-20251217', kind: 'up' });
    assert.deepEqual(parseDeviceTopic('mcs/A1/status'), { sn: 'A1', kind: 'status' });
    assert.deepEqual(parseDeviceTopic('mcs/A1/cmd'), { sn: 'A1', kind: 'cmd' });
  });

  test('the broadcast topic and malformed topics are not device topics', () => {
    for (const topic of [BROADCAST_CMD_TOPIC, 'mcs/A1/other', 'mcs/A1', 'mcs/a b/up', 'other/A1/up', 'mcs/A1/up/x', 'mcs/+/up', 'mcs/#']) {
      assert.equal(parseDeviceTopic(topic), null, topic);
    }
  });

  test('serial numbers: 1-32 characters from the allowed set, not the reserved word broadcast', () => {
    for (const sn of ['A', 'MCS-A001-20251217', 'a.b_c:d-e', 'X'.repeat(32)]) assert.equal(isValidSn(sn), true, sn);
    for (const sn of ['', '-A1', 'A 1', 'A/1', 'A+1', 'A#', 'X'.repeat(33), 'broadcast']) assert.equal(isValidSn(sn), false, sn);
  });
});

describe('credentials (DEV-5)', () => {
  test('user names are device_{sn} and map back to the serial', () => {
    assert.equal(deviceUsername('A1'), 'device_A1');
    assert.equal(snFromUsername('device_MCS-A001'), 'MCS-A001');
    for (const name of [undefined, '', 'admin', 'device_', 'device_a b', 'dev_A1', 'device_broadcast']) {
      assert.equal(snFromUsername(name), null, String(name));
    }
  });

  test('the derived password is the first 16 hex chars of SHA256(sn + factory_secret)', () => {
    const expected = createHash('sha256').update('MCS-A001-20251217' + 'secret').digest('hex').slice(0, 16);
    assert.equal(derivedDevicePassword('MCS-A001-20251217', 'secret'), expected);
    assert.match(expected, /^[0-9a-f]{16}$/);
    assert.notEqual(derivedDevicePassword('MCS-A001-20251217', 'other'), expected);
  });
});

describe('device commands (DEV-3)', () => {
  test('the four seed commands validate', () => {
    for (const cmd of [
      { cmd: 'debug', duration: 600 },
      { cmd: 'calib', k: 1.5, b: -10, t_comp: 0.1 },
      { cmd: 'reboot', delay: 5 },
      { cmd: 'ota', url: 'http://fw.example/1.2.bin', md5: 'd41d8cd98f00b204e9800998ecf8427e' },
    ]) {
      assert.equal(Value.Check(DeviceCommand, cmd), true, JSON.stringify(cmd));
    }
  });

  test('out-of-range or malformed commands are refused', () => {
    for (const cmd of [
      { cmd: 'debug', duration: 601 },
      { cmd: 'debug', duration: 0 },
      { cmd: 'calib', k: 1.5, b: -10 },
      { cmd: 'reboot', delay: -1 },
      { cmd: 'ota', url: 'http://fw.example/1.2.bin', md5: 'xyz' },
      { cmd: 'selfdestruct' },
    ]) {
      assert.equal(Value.Check(DeviceCommand, cmd), false, JSON.stringify(cmd));
    }
  });
});

describe('device settings schema', () => {
  test('DeviceCreate accepts a serial with settings and refuses unknown fields', () => {
    assert.equal(Value.Check(DeviceCreate, { sn: 'A1', name: 'x', calib: { k: 2 }, high_limit: null }), true);
    assert.equal(Value.Check(DeviceCreate, { sn: 'A1', colour: 'red' }), false);
    assert.equal(Value.Check(DeviceCreate, { sn: 'A1', calib: { slope: 2 } }), false);
    assert.equal(Value.Check(DeviceCreate, { sn: 'A1', password: 'short' }), false);
  });

  test('DeviceCreate refuses the reserved serial broadcast (its cmd topic is the broadcast topic)', () => {
    assert.equal(Value.Check(DeviceCreate, { sn: 'broadcast' }), false);
  });

  test('DeviceUpdate needs at least one field and never the serial', () => {
    assert.equal(Value.Check(DeviceUpdate, {}), false);
    assert.equal(Value.Check(DeviceUpdate, { sn: 'B2' }), false);
    assert.equal(Value.Check(DeviceUpdate, { low_limit: 5 }), true);
  });

  test('non-finite numbers are refused', () => {
    assert.equal(Value.Check(DeviceUpdate, { calib: { k: Infinity } }), false);
    assert.equal(Value.Check(DeviceUpdate, { calib: { b: NaN } }), false);
  });
});
