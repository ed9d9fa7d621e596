// DEV-3: what a detector does with each command it is sent (fast: bytes in, actions and events out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCommandHandler } from '../../simulator/command-handler.ts';
import type { Calibration, DetectorEvent } from '../../simulator/types.ts';

const MD5 = '0123456789abcdef0123456789abcdef';

function setup() {
  const done: string[] = [];
  const logs: string[] = [];
  const events: DetectorEvent[] = [];
  const handle = createCommandHandler({
    log: (line) => logs.push(line),
    emit: (e) => events.push(e),
    debug: (s) => done.push(`debug ${s}`),
    calibrate: (c: Calibration) => done.push(`calib ${c.k} ${c.b} ${c.t_comp}`),
    reboot: (s) => done.push(`reboot ${s}`),
  });
  const send = (command: unknown, topic = 'mcs/SIM-1/cmd') =>
    handle(topic, Buffer.from(typeof command === 'string' ? command : JSON.stringify(command)));
  return { done, logs, events, send };
}

test('debug, calib and reboot commands reach their action, each reported as a command event', () => {
  const { done, events, send } = setup();
  send({ cmd: 'debug', duration: 30 });
  send({ cmd: 'calib', k: 1.5, b: -10, t_comp: 0.1 });
  send({ cmd: 'reboot', delay: 5 }, 'mcs/broadcast/cmd');
  assert.deepEqual(done, ['debug 30', 'calib 1.5 -10 0.1', 'reboot 5']);
  assert.deepEqual(events.map((e) => e.type === 'command' && e.ok), [true, true, true]);
  assert.deepEqual(events[1], { type: 'command', command: { cmd: 'calib', k: 1.5, b: -10, t_comp: 0.1 }, ok: true });
});

test('a debug duration above 600 s reaches the schedule as 600 s', () => {
  const { done, send } = setup();
  send({ cmd: 'debug', duration: 5000 });
  assert.deepEqual(done, ['debug 600']);
});

test('an OTA command is logged and ignored: updates are not simulated', () => {
  const { done, logs, events, send } = setup();
  send({ cmd: 'ota', url: 'http://x/fw.bin', md5: MD5 });
  assert.deepEqual(done, []);
  assert.equal(events.length, 1);
  assert.match(logs[0], new RegExp(`^ota http://x/fw\\.bin md5=${MD5}: not simulated, ignored$`));
});

test('a command that cannot be read is reported with its raw text, logged with the reason, and does nothing', () => {
  const { done, logs, events, send } = setup();
  send('{not json');
  send({ cmd: 'selfdestruct' });
  assert.deepEqual(done, []);
  assert.deepEqual(events, [
    { type: 'command', command: '{not json', ok: false },
    { type: 'command', command: '{"cmd":"selfdestruct"}', ok: false },
  ]);
  assert.deepEqual(logs, [
    'ignored command on mcs/SIM-1/cmd: not JSON',
    'ignored command on mcs/SIM-1/cmd: unknown or invalid command selfdestruct',
  ]);
});
