// PKG-3: the systemd notify protocol, against a datagram socket the test plays systemd's part on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createSocket } from 'unix-dgram';
import { createSdNotifier, watchdogIntervalMs } from '../../appliance/core/sd-notify.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { eventually, tempDir } from '../helpers/appliance.ts';

test('the watchdog interval is half of WATCHDOG_USEC, and only for the process WATCHDOG_PID names', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '43' }, 42), null);
  assert.equal(watchdogIntervalMs({}, 42), null);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 42), null);
});

test('without NOTIFY_SOCKET, or with an abstract one, nothing is sent and nothing fails', async () => {
  for (const env of [{}, { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }]) {
    const notifier = await createSdNotifier({ env, log: silentLogger() });
    assert.equal(notifier.enabled, false);
    notifier.ready();
    notifier.stopping();
    notifier.close();
  }
});

test('READY=1 with MAINPID, WATCHDOG=1 at half the interval until STOPPING=1', async () => {
  const temp = tempDir();
  const messages: string[] = [];
  const systemd = createSocket('unix_dgram', (message) => messages.push(message.toString()));
  const path = join(temp.dir, 'notify');
  systemd.bind(path);
  try {
    const notifier = await createSdNotifier({ env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: '100000' }, log: silentLogger(), pid: 4321 });
    assert.equal(notifier.watchdogIntervalMs, 50);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(messages, [], 'no watchdog before READY');
    notifier.ready('serving');
    await eventually(() => messages.filter((m) => m === 'WATCHDOG=1').length >= 3, 2000, 'watchdog pings');
    assert.equal(messages[0], 'READY=1\nMAINPID=4321\nSTATUS=serving');
    notifier.stopping();
    await eventually(() => messages.at(-1) === 'STOPPING=1', 1000, 'STOPPING=1');
    const count = messages.length;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(messages.length, count, 'no watchdog after STOPPING');
    notifier.close();
  } finally {
    systemd.close();
    temp.remove();
  }
});
