// DEV-6: a device publishes only mcs/{its sn}/up and /status and subscribes only its cmd topic and
// the broadcast; the admin debug user may only send commands.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decidePublish, maySubscribe, type Session } from '../../appliance/broker/acl.ts';

const device: Session = { role: 'device', sn: 'MCS-A001' };
const pending: Session = { role: 'pending', sn: 'NEW-1' };
const admin: Session = { role: 'admin' };

describe('decidePublish (DEV-6)', () => {
  test('a device may publish its own up and status topics', () => {
    assert.deepEqual(decidePublish(device, 'mcs/MCS-A001/up'), { allow: true, route: 'up', sn: 'MCS-A001' });
    assert.deepEqual(decidePublish(device, 'mcs/MCS-A001/status'), { allow: true, route: 'status', sn: 'MCS-A001' });
  });

  test("a device may not publish to another device's topics", () => {
    for (const topic of ['mcs/MCS-A002/up', 'mcs/MCS-A002/status', 'mcs/mcs-a001/up']) {
      const decision = decidePublish(device, topic);
      assert.equal(decision.allow, false, topic);
    }
  });

  test('a device may not publish commands, to itself or to everyone', () => {
    assert.equal(decidePublish(device, 'mcs/MCS-A001/cmd').allow, false);
    assert.equal(decidePublish(device, 'mcs/broadcast/cmd').allow, false);
  });

  test('odd topics that only look like its own are refused', () => {
    for (const topic of [
      'mcs/MCS-A001/up/',
      'mcs/MCS-A001/up/extra',
      'mcs/MCS-A001/upx',
      'mcs/MCS-A001',
      'mcs//MCS-A001/up',
      '/mcs/MCS-A001/up',
      'MCS/MCS-A001/up',
      'xmcs/MCS-A001/up',
      'mcs/MCS-A001/../MCS-A002/up',
      'mcs/MCS-A001/status/up',
      '',
      'up',
    ]) {
      assert.equal(decidePublish(device, topic).allow, false, `'${topic}' was allowed`);
    }
  });

  test('a refusal says which device and topic', () => {
    const decision = decidePublish(device, 'mcs/MCS-A002/up');
    assert.ok(!decision.allow);
    assert.match(decision.reason, /MCS-A001/);
    assert.match(decision.reason, /mcs\/MCS-A002\/up/);
  });

  test('a pending serial may publish its own readings (to be listed, ING-3) and nothing else', () => {
    assert.deepEqual(decidePublish(pending, 'mcs/NEW-1/up'), { allow: true, route: 'up', sn: 'NEW-1' });
    assert.equal(decidePublish(pending, 'mcs/MCS-A001/up').allow, false);
    assert.equal(decidePublish(pending, 'mcs/NEW-1/cmd').allow, false);
  });

  test('the admin user may publish commands only', () => {
    assert.deepEqual(decidePublish(admin, 'mcs/MCS-A001/cmd'), { allow: true, route: 'forward' });
    assert.deepEqual(decidePublish(admin, 'mcs/broadcast/cmd'), { allow: true, route: 'forward' });
    for (const topic of ['mcs/MCS-A001/up', 'mcs/MCS-A001/status', 'other/topic', 'mcs/MCS-A001/cmd/x']) {
      assert.equal(decidePublish(admin, topic).allow, false, topic);
    }
  });
});

describe('maySubscribe (DEV-6)', () => {
  test('a device may subscribe to its own command topic and the broadcast', () => {
    assert.equal(maySubscribe(device, 'mcs/MCS-A001/cmd'), true);
    assert.equal(maySubscribe(device, 'mcs/broadcast/cmd'), true);
  });

  test("a device may not subscribe to other devices' topics, its own data or wildcards", () => {
    for (const filter of [
      'mcs/MCS-A002/cmd',
      'mcs/MCS-A001/up',
      'mcs/MCS-A001/status',
      'mcs/#',
      '#',
      'mcs/+/cmd',
      'mcs/MCS-A001/+',
      'mcs/MCS-A001/#',
      '$SYS/#',
    ]) {
      assert.equal(maySubscribe(device, filter), false, `'${filter}' was allowed`);
    }
  });

  test('a pending serial is held to the same rule for its own serial', () => {
    assert.equal(maySubscribe(pending, 'mcs/NEW-1/cmd'), true);
    assert.equal(maySubscribe(pending, 'mcs/MCS-A001/cmd'), false);
  });
});
