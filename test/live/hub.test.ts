// API-6 hub logic with stand-in sockets: batches of changed devices once a second (empty ones as
// a heartbeat), slow clients skipped then re-synced with a snapshot, hopeless ones cut off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { createBus } from '../../appliance/core/bus.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { createLiveHub, DEAD_CLIENT_BYTES, SLOW_CLIENT_BYTES } from '../../appliance/live/hub.ts';
import { createLiveState } from '../../appliance/live/state.ts';
import type { Device } from '../../appliance/storage/devices.ts';

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: any[] = [];
  terminated = false;
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  terminate() {
    this.terminated = true;
    this.readyState = 3;
  }
  close() {
    this.readyState = 3;
  }
  ping() {}
}

function setup() {
  const bus = createBus();
  const devices = new Map([['A', { sn: 'A', name: 'A', location: '', gas: 'CH4', unit: 'ppm', pos_x: null, pos_y: null, high_limit: 100, low_limit: null } as Device]]);
  const live = createLiveState({ bus, latestAll: () => [], devices: { get: (sn) => devices.get(sn), all: () => devices.values() }, isOnline: () => true, activeAlarms: () => [] });
  const changeListeners: (() => void)[] = [];
  const hub = createLiveHub({
    bus, clock: manualClock(0), log: silentLogger(), live, listedAlarms: () => [], history: () => [], isKnownDevice: (sn) => devices.has(sn),
    onDevicesChanged: (listener) => changeListeners.push(listener),
  });
  live.start();
  hub.start();
  const reading = (ppm: number) => bus.emit('readings', [{ sn: 'A', ts: 1000 + ppm, receivedAt: 0, ppm, vRaw: 0, temp: 20, humi: null, bat: 90, rssi: -60, err: 0, overrange: false }]);
  return { hub, bus, reading, devices, devicesChanged: () => changeListeners.forEach((l) => l()), stop: () => (hub.stop(), live.stop()) };
}

test('a batch carries the devices that changed, and an empty batch still goes out as a heartbeat', () => {
  const { hub, reading, stop } = setup();
  const socket = new FakeSocket();
  hub.add(socket as unknown as WebSocket, 'kiosk');
  assert.equal(socket.sent[0].type, 'snapshot');
  reading(5);
  reading(7);
  hub.flush();
  assert.deepEqual(socket.sent[1].data, [{ sn: 'A', ppm: 7, status: 'ok', ts: new Date(1007).toISOString() }], 'coalesced to the newest value');
  hub.flush();
  assert.deepEqual([socket.sent[2].type, socket.sent[2].data], ['realtime', []]);
  stop();
});

test('a slow client is skipped while its buffer is full, then gets every device; a hopeless one is cut off', () => {
  const { hub, bus, reading, stop } = setup();
  const slow = new FakeSocket();
  const fast = new FakeSocket();
  hub.add(slow as unknown as WebSocket, 'slow');
  hub.add(fast as unknown as WebSocket, 'fast');
  slow.bufferedAmount = SLOW_CLIENT_BYTES + 1;
  reading(5);
  hub.flush();
  hub.flush();
  assert.equal(slow.sent.length, 1, 'only the first snapshot');
  assert.equal(fast.sent.length, 3);
  assert.equal(hub.stats.skippedSlow, 2);
  slow.bufferedAmount = 0;
  hub.flush();
  assert.deepEqual([slow.sent.at(-1).type, slow.sent.at(-1).data.map((d: { sn: string }) => d.sn)], ['realtime', ['A']], 're-synced with every device');
  assert.deepEqual(fast.sent.at(-1).data, [], 'the others get only what changed');
  hub.flush();
  assert.deepEqual(slow.sent.at(-1).data, []);

  slow.bufferedAmount = DEAD_CLIENT_BYTES + 1;
  bus.emit('device_status', { sn: 'A', status: 'offline', ts: 0, reason: 'timeout' });
  bus.emit('device_status', { sn: 'A', status: 'online', ts: 1, reason: 'reading' });
  hub.flushStatus();
  assert.equal(slow.terminated, true);
  assert.equal(hub.clientCount(), 1);
  assert.equal(fast.sent.at(-1).type, 'device_status');
  assert.deepEqual(fast.sent.at(-1).data.map((d: { status: string }) => d.status), ['offline', 'online'], 'gathered into one message');
  stop();
});

test('after a device change every client gets a fresh snapshot, once for a batch of changes', async () => {
  const { hub, devices, devicesChanged, stop } = setup();
  const socket = new FakeSocket();
  hub.add(socket as unknown as WebSocket, 'kiosk');
  devices.set('B', { ...devices.get('A')!, sn: 'B', pos_x: 50, pos_y: 50 });
  devicesChanged();
  devicesChanged();
  await new Promise((resolve) => setTimeout(resolve, 400));
  const snapshots = socket.sent.filter((m) => m.type === 'snapshot');
  assert.equal(snapshots.length, 2, 'the first on connect, one for both changes');
  assert.deepEqual(snapshots[1].data.devices.map((d: { sn: string }) => d.sn), ['A', 'B']);
  stop();
});
