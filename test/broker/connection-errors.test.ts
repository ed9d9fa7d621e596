// Issue 16.1: how the errors that end a connection are counted (broker/connection-errors.ts), fed
// the errors aedes and Node's TLS server report. test/flow/broker-hardening.test.ts covers the wire.
import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Client } from 'aedes';
import type { TLSSocket } from 'node:tls';
import type { Session } from '../../appliance/broker/acl.ts';
import { CONNECT_TIMEOUT_MESSAGE, createConnectionErrors, type EarlyRefusal } from '../../appliance/broker/connection-errors.ts';
import { PacketTooLarge } from '../../appliance/broker/packet-limit.ts';
import { captureLogger } from '../helpers/appliance.ts';

const sessions = new Map<Client, Session>();
const client = (session?: Session) => {
  const made = { id: 'client-1', conn: { remoteAddress: '192.0.2.7' } } as unknown as Client;
  if (session) sessions.set(made, session);
  return made;
};

let refused: EarlyRefusal[];
let tooLarge: [string, number][];
let logged: ReturnType<typeof captureLogger>;
let errors: ReturnType<typeof createConnectionErrors>;

beforeEach(() => {
  refused = [];
  tooLarge = [];
  logged = captureLogger();
  errors = createConnectionErrors({
    sessionOf: (c) => sessions.get(c),
    countRefusal: (reason) => void refused.push(reason),
    ingest: { countTooLarge: (sn, bytes) => void tooLarge.push([sn, bytes]) },
    log: logged.log,
  });
});

describe('connection errors', () => {
  test("aedes' connect timeout error is the message this module recognises", () => {
    // The string is aedes' own (lib/client.js); an upgrade that rewords it would lose the count silently.
    const source = readFileSync(new URL('../../node_modules/aedes/lib/client.js', import.meta.url), 'utf8');
    assert.ok(source.includes(`'${CONNECT_TIMEOUT_MESSAGE}'`));
  });

  test('before login, an oversized packet and a missing CONNECT are refusals, counted and not warned about', () => {
    errors.onConnectionError(client(), new PacketTooLarge('connect', 268_435_455, 16_384));
    errors.onConnectionError(client(), new Error(CONNECT_TIMEOUT_MESSAGE));
    assert.deepEqual(refused, ['too_large', 'connect_timeout']);
    assert.deepEqual(tooLarge, []);
    assert.deepEqual(logged.lines, []);
  });

  test("a logged-in device's oversized PUBLISH is counted against it and warned about; not a refusal", () => {
    errors.onConnectionError(client({ role: 'device', sn: 'A1' }), new PacketTooLarge('publish', 20_000, 16_384));
    assert.deepEqual(refused, []);
    assert.deepEqual(tooLarge, [['A1', 20_000]]);
    assert.deepEqual(logged.lines.map((line) => line.msg), ['packet over mqtt.max_packet_bytes: connection closed']);
  });

  test("another oversized packet after login, or the admin user's, is warned about and counted against no device", () => {
    errors.onConnectionError(client({ role: 'device', sn: 'A1' }), new PacketTooLarge('subscribe', 20_000, 16_384));
    errors.onConnectionError(client({ role: 'admin' }), new PacketTooLarge('publish', 20_000, 16_384));
    assert.deepEqual([refused, tooLarge], [[], []]);
    assert.equal(logged.lines.length, 2);
  });

  test('any other error is neither counted nor warned about', () => {
    errors.onConnectionError(client({ role: 'device', sn: 'A1' }), new Error('read ECONNRESET'));
    errors.onConnectionError(client(), new Error('Invalid header flag bits'));
    assert.deepEqual([refused, tooLarge, logged.lines], [[], [], []]);
  });

  test('a failed TLS handshake closes the socket; only one that timed out is a missing CONNECT', () => {
    const sockets = [0, 1].map(() => {
      const socket = { remoteAddress: '192.0.2.7', destroyed: false, destroy() { this.destroyed = true; } };
      return socket as unknown as TLSSocket & { destroyed: boolean };
    });
    errors.onTlsClientError(Object.assign(new Error('TLS handshake timeout'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' }), sockets[0]!);
    errors.onTlsClientError(Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), sockets[1]!);
    assert.deepEqual(sockets.map((socket) => socket.destroyed), [true, true]);
    assert.deepEqual(refused, ['connect_timeout']);
  });
});
