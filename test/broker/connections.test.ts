// The broker's connection registry (broker/connections.ts) on its own: LIC-5's admission, a device
// taking over its own session (16.3), the open-connection counts (16.2) and revoked devices' ends
// (DEV-5), with the real device table (SQLite in a temp dir) and connections told by hand what
// aedes would report. test/broker/broker.test.ts and test/flow/broker-hardening.test.ts cover the wire.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from 'aedes';
import type { Session } from '../../appliance/broker/acl.ts';
import { createConnectionRegistry, type ConnectionRegistry } from '../../appliance/broker/connections.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { openDeviceTable, type DeviceTable } from './support.ts';

/** What the registry reads of an aedes client: whether it is closed, and how to close it. */
function connection(): Client {
  const made = { closed: false, close: () => void (made.closed = true) };
  return made as unknown as Client;
}

const device = (sn: string): Session => ({ role: 'device', sn });

let table: DeviceTable;
let gone: string[];
let stats: { connects: number };

function registry(deviceLimit?: number): ConnectionRegistry {
  return createConnectionRegistry({
    devices: table.cache,
    ingest: { handleDisconnect: (sn) => void gone.push(sn) },
    log: silentLogger(),
    deviceLimit: deviceLimit === undefined ? undefined : () => deviceLimit,
    stats,
  });
}

beforeEach(() => {
  table = openDeviceTable();
  gone = [];
  stats = { connects: 0 };
});

afterEach(() => table.close());

describe('connection registry: the license device cap (LIC-5)', () => {
  test('without a limit every device is admitted', () => {
    const connections = registry();
    for (const sn of ['A1', 'B2', 'C3']) connections.loggedIn(connection(), device(sn));
    assert.equal(connections.admitsDevice('D4'), true);
    assert.equal(connections.devicesConnected(), 3);
  });

  test('at the limit a new device is refused; one reconnecting is admitted; a place freed is a place taken', () => {
    const connections = registry(2);
    const a1 = connection();
    connections.loggedIn(a1, device('A1'));
    assert.equal(connections.admitsDevice('B2'), true);
    connections.loggedIn(connection(), device('B2'));
    assert.equal(connections.admitsDevice('C3'), false);
    assert.equal(connections.admitsDevice('A1'), true, 'a device taking over its own session');
    a1.close(); // closed, its disconnect not reported (yet): counted from the connection itself
    assert.equal(connections.devicesConnected(), 1);
    assert.equal(connections.admitsDevice('C3'), true);
  });

  test('pending serials and the admin user take no place', () => {
    const connections = registry(1);
    connections.loggedIn(connection(), { role: 'pending', sn: 'NEW-1' });
    connections.loggedIn(connection(), { role: 'admin' });
    assert.equal(connections.devicesConnected(), 0);
    assert.equal(connections.admitsDevice('A1'), true);
    connections.loggedIn(connection(), device('A1'));
    assert.equal(connections.admitsDevice('B2'), false);
  });
});

describe('connection registry: connections and disconnects (16.2, 16.3)', () => {
  test('the counts follow the open connections; one closed during its CONNECT steps is never counted', () => {
    const connections = registry();
    const [a1, b2, late] = [connection(), connection(), connection()];
    connections.loggedIn(a1, device('A1'));
    connections.loggedIn(b2, device('B2'));
    connections.onClientReady(a1);
    connections.onClientReady(b2);
    late.close();
    connections.onClientReady(late); // 'clientReady' after its disconnect
    assert.deepEqual([connections.openCount(), stats.connects], [2, 2]);
    b2.close(); // gone, its disconnect never reported: pruned when counted
    assert.deepEqual([connections.openCount(), stats.connects], [1, 2]);
    connections.onClientDisconnect(a1);
    assert.equal(connections.openCount(), 0);
    assert.deepEqual(gone, ['A1']);
  });

  test("a device's replaced connection is not its current one, and its end says nothing about the device", () => {
    const connections = registry();
    const [first, second] = [connection(), connection()];
    connections.loggedIn(first, device('A1'));
    connections.loggedIn(second, device('A1'));
    assert.equal(connections.isCurrent('A1', first), false);
    assert.equal(connections.isCurrent('A1', second), true);
    first.close();
    connections.onClientDisconnect(first);
    assert.deepEqual(gone, []);
    assert.equal(connections.isConnected('A1'), true);
    second.close();
    connections.onClientDisconnect(second);
    assert.deepEqual(gone, ['A1']);
    assert.equal(connections.isConnected('A1'), false);
  });

  test("the admin user's end is no device's; while stopping, no end is; a reset forgets every connection", () => {
    const connections = registry();
    const admin = connection();
    connections.loggedIn(admin, { role: 'admin' });
    connections.onClientDisconnect(admin);
    connections.loggedIn(connection(), device('A1'));
    const b2 = connection();
    connections.loggedIn(b2, device('B2'));
    connections.onClientReady(b2);
    connections.beginStopping();
    assert.equal(connections.stopping, true);
    connections.onClientDisconnect(b2);
    assert.deepEqual(gone, []);
    connections.reset();
    assert.equal(connections.stopping, false);
    assert.deepEqual([connections.isConnected('A1'), connections.devicesConnected(), connections.openCount()], [false, 0, 0]);
  });
});

describe('connection registry: revoked devices (DEV-5)', () => {
  test('removing, disabling or re-keying a device closes its connection; others, pending serials and the admin stay', async () => {
    const { service } = table;
    for (const sn of ['A1', 'B2', 'C3', 'D4']) await service.add({ sn, high_limit: 1000 });
    const connections = registry();
    const clients = new Map(['A1', 'B2', 'C3', 'D4', 'NEW-1', 'admin'].map((name) => [name, connection()]));
    for (const sn of ['A1', 'B2', 'C3', 'D4']) connections.loggedIn(clients.get(sn)!, device(sn));
    connections.loggedIn(clients.get('NEW-1')!, { role: 'pending', sn: 'NEW-1' });
    connections.loggedIn(clients.get('admin')!, { role: 'admin' });
    connections.closeRevoked();
    assert.deepEqual([...clients].filter(([, client]) => client.closed), [], 'nothing changed: nothing closed');

    service.remove('A1');
    service.update('B2', { enabled: false });
    service.resetPassword('C3');
    connections.closeRevoked();
    assert.deepEqual([...clients].filter(([, client]) => client.closed).map(([name]) => name), ['A1', 'B2', 'C3']);
  });
});
