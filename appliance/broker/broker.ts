// The embedded MQTT 3.1.1 broker (DEV-1, DEV-6): aedes behind our authenticate / authorize hooks,
// on TCP and, when a certificate is configured, TLS. Publishes from devices go straight into the
// ingest pipeline from authorizePublish, whose callback aedes waits for before the PUBACK (ING-6).
// What a connection may cost before and after login is bounded: packet size and the time to
// CONNECT (issue 16.1); the connection counts follow the connections that are open (16.2).
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from '../core/log.ts';
import { BROADCAST_CMD_TOPIC, cmdTopic } from '../contract/topics.ts';
import type { DeviceCommand } from '../contract/device-payload.ts';
import type { Ingest } from '../ingest/pipeline.ts';
import { decidePublish, maySubscribe, type Session } from './acl.ts';
import { CONNACK, createAuthenticator, type AuthenticatorDeps, type Refusal } from './authenticate.ts';
import { limitPacketSize, PacketTooLarge } from './packet-limit.ts';

export interface BrokerDeps extends AuthenticatorDeps {
  ingest: Ingest;
  log: Logger;
  host: string;
  port: number;
  tls?: { port: number; cert: string; key: string };
  /** LIC-5: how many distinct devices may be connected at once (the license's max_devices). Default: no limit. */
  deviceLimit?: () => number;
  /** `mqtt.max_packet_bytes`: the largest packet (remaining length) read from anyone. Default 16 KB. */
  maxPacketBytes?: number;
  /** `mqtt.connect_timeout_s` in ms: the CONNECT (and a TLS handshake) must arrive within it. Default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * Why a connection was refused: at CONNECT (authenticate.ts), or before it: a packet over the size
 * limit before login ('too_large'), no CONNECT within the connect timeout ('connect_timeout').
 */
export type BrokerRefusal = Refusal | 'too_large' | 'connect_timeout';

export interface BrokerStats {
  /** Open connections that completed their CONNECT (counted from the connections themselves). */
  readonly connected: number;
  connects: number;
  refused: Partial<Record<BrokerRefusal, number>>;
  aclViolations: number;
  deniedSubscriptions: number;
}

type AuthError = Error & { returnCode: number };
const authError = (message: string, returnCode: number) => Object.assign(new Error(message), { returnCode }) as AuthError;

/** aedes' error for a connection whose CONNECT did not arrive within `connectTimeout`. */
const CONNECT_TIMEOUT_MESSAGE = 'connect did not arrive in time';

export function createBroker(deps: BrokerDeps) {
  const log = deps.log.child({ stage: 'broker' });
  const authenticate = createAuthenticator(deps);
  const maxPacketBytes = deps.maxPacketBytes ?? 16_384;
  const connectTimeoutMs = deps.connectTimeoutMs ?? 10_000;
  const sessions = new WeakMap<Client, Session>();
  /**
   * The current connection of each device (and pending serial), from its successful login on, so a
   * takeover's old connection does not mark it offline. A closed connection may linger here when
   * aedes never reports its disconnect (closed during its CONNECT steps): every reader checks `closed`.
   */
  const currentClient = new Map<string, Client>();
  /**
   * Issue 16.2: the connections that completed their CONNECT and are open. aedes 1.2 can emit
   * 'clientReady' after 'clientDisconnect' for a connection closed during its CONNECT steps, so a
   * counter drifted upwards: a closed connection is never added, and one closed without its
   * disconnect being reported is pruned when counted.
   */
  const openClients = new Set<Client>();
  const emptyIdPersistent = new WeakSet<Client>();
  /** The credential a device connection was admitted with; a change (reset, removal) ends it. */
  const admittedWith = new WeakMap<Client, string | null>();
  const stats: BrokerStats = {
    get connected() {
      for (const client of openClients) if (client.closed) openClients.delete(client);
      return openClients.size;
    },
    connects: 0, refused: {}, aclViolations: 0, deniedSubscriptions: 0,
  };
  const countRefusal = (reason: BrokerRefusal) => (stats.refused[reason] = (stats.refused[reason] ?? 0) + 1);
  let unlimitedParserLogged = false;
  const servers: Server[] = [];
  let aedes: Aedes | null = null;
  /** While we close the connections ourselves, their wills and disconnects say nothing about the devices. */
  let stopping = false;

  const remoteOf = (client: Client) => {
    const conn = client.conn as { remoteAddress?: string };
    return conn?.remoteAddress ?? null;
  };

  function buildAedes(): Promise<Aedes> {
    return Aedes.createBroker({
      connectTimeout: connectTimeoutMs, // issue 16.1: aedes' default gave anyone 30 s before CONNECT
      // [MQTT-3.1.3-8]: a zero-byte client id with CleanSession 0 gets CONNACK 0x02.
      preConnect(client, packet, callback) {
        if (!packet.clientId && !packet.clean) emptyIdPersistent.add(client);
        callback(null, true);
      },
      authenticate(client, username, password, callback) {
        if (emptyIdPersistent.has(client)) {
          countRefusal('empty_client_id');
          return callback(authError('identifier rejected', CONNACK.IDENTIFIER_REJECTED) as never, false);
        }
        authenticate(username, password, remoteOf(client)).then(
          (result) => {
            // Gone while its password was checked: aedes drops it; it must not be counted (16.2).
            if (client.closed) return callback(null, false);
            if (!result.ok) {
              countRefusal(result.refusal);
              // debug: a flood of refused CONNECTs must not flood the log (the limiter sums them up, issue 16.4)
              log.debug({ username, remote: remoteOf(client), reason: result.refusal }, 'connection refused');
              return callback(authError(result.refusal, result.returnCode) as never, false);
            }
            if (result.session.role === 'device' && !admitsDevice(result.session.sn)) {
              countRefusal('license');
              log.warn({ username, remote: remoteOf(client), reason: 'license', connected: devicesConnected() }, 'connection refused: the license allows no more devices (20003)');
              return callback(authError('license: device limit reached (20003)', CONNACK.NOT_AUTHORIZED) as never, false);
            }
            sessions.set(client, result.session);
            if (result.session.role !== 'admin') {
              // Tracked from here, not from 'clientReady', so a change right after CONNACK still finds it.
              currentClient.set(result.session.sn, client);
              admittedWith.set(client, deps.devices.get(result.session.sn)?.password_hash ?? null);
            }
            callback(null, true);
          },
          (err) => {
            log.error({ err }, 'authentication failed');
            callback(authError('server unavailable', 3) as never, false);
          },
        );
      },
      authorizePublish(client, packet, callback) {
        const session = client && sessions.get(client);
        if (!client || !session) return callback(null); // the appliance's own publishes
        const decision = decidePublish(session, packet.topic);
        if (!decision.allow) {
          // DEV-6: outside its ACL → counted and disconnected (the error closes the connection).
          stats.aclViolations++;
          if (session.role !== 'admin') deps.ingest.countAclViolation(session.sn);
          log.warn({ session, topic: packet.topic, remote: remoteOf(client) }, decision.reason);
          return callback(new Error(decision.reason));
        }
        const payload = packet.payload as Buffer;
        if (decision.route === 'up') {
          // Issue 16.9: readings are not state; none is kept for later subscribers. An empty retained
          // publish is MQTT's "clear what is retained here": nothing to clear, and not a reading.
          const clearing = packet.retain && payload.length === 0;
          packet.retain = false;
          if (clearing) return callback(null);
          return deps.ingest.handleUp(decision.sn, payload, packet.qos, remoteOf(client), callback);
        }
        if (decision.route === 'status' && !stopping) {
          const isWill = (client as unknown as { will?: unknown }).will === packet;
          if (isWill && currentClient.get(decision.sn) !== client) {
            // Issue 16.3: the Will of a connection the device has replaced (aedes closes the old one when
            // it reconnects with the same client id) says nothing about the device: not passed to
            // ingest, and not published (its retained "offline" would stand for a connected device).
            log.debug({ sn: decision.sn, remote: remoteOf(client) }, 'will of a replaced connection ignored');
            return callback(new Error('will of a replaced connection'));
          }
          deps.ingest.handleStatus(decision.sn, payload, isWill);
        }
        callback(null);
      },
      authorizeSubscribe(client, subscription: Subscription, callback) {
        const session = sessions.get(client);
        if (session && maySubscribe(session, subscription.topic)) return callback(null, subscription);
        stats.deniedSubscriptions++;
        callback(null, null); // SUBACK 0x80 for this filter
      },
    });
  }

  /**
   * LIC-5: a device is admitted while fewer distinct devices than the license allows are connected;
   * a device reconnecting (taking over its own session) is always admitted, and devices already
   * connected are never dropped when the limit is lowered. Checked and counted in the same turn of
   * the event loop, so concurrent CONNECTs cannot both take the last place.
   */
  function admitsDevice(sn: string): boolean {
    if (!deps.deviceLimit || deviceConnected(sn)) return true;
    const limit = deps.deviceLimit();
    // currentClient holds at least every connected device: the exact (O(n)) count only near the limit.
    return currentClient.size < limit || devicesConnected() < limit;
  }

  /** A registered device (not a pending serial, not the admin user) whose current connection is open. */
  const deviceConnected = (sn: string): boolean => {
    const client = currentClient.get(sn);
    return !!client && !client.closed && sessions.get(client)?.role === 'device';
  };

  /** LIC-5: distinct registered devices connected now, from the connections themselves (16.2). */
  function devicesConnected(): number {
    let count = 0;
    for (const sn of currentClient.keys()) if (deviceConnected(sn)) count++;
    return count;
  }

  function onClientReady(client: Client) {
    if (client.closed) return; // issue 16.2: closed during its CONNECT steps, after its disconnect was reported
    openClients.add(client);
    stats.connects++;
  }

  function onClientDisconnect(client: Client) {
    openClients.delete(client);
    const session = sessions.get(client);
    if (!session || session.role === 'admin' || currentClient.get(session.sn) !== client) return;
    currentClient.delete(session.sn);
    if (!stopping) deps.ingest.handleDisconnect(session.sn);
  }

  /** Errors that end a connection: an oversized packet or a missing CONNECT is counted (16.1). */
  function onConnectionError(client: Client, err: Error) {
    if (err instanceof PacketTooLarge) {
      const session = sessions.get(client);
      if (!session) {
        countRefusal('too_large'); // before login: counted, not logged (anyone on the LAN can send these)
        log.debug({ remote: remoteOf(client), err: err.message }, 'connection refused: packet too large');
        return;
      }
      // A logged-in sender: no PUBACK, the connection ends (MQTT 3.1.1 has no other refusal).
      if (session.role !== 'admin' && err.cmd === 'publish') deps.ingest.countTooLarge(session.sn, err.announced);
      log.warn({ session, remote: remoteOf(client), err: err.message }, 'packet over mqtt.max_packet_bytes: connection closed');
      return;
    }
    if (err.message === CONNECT_TIMEOUT_MESSAGE) {
      countRefusal('connect_timeout');
      log.debug({ remote: remoteOf(client) }, 'connection closed: no CONNECT in time');
      return;
    }
    log.debug({ client: client.id, err: err.message }, 'client error');
  }

  /** Every new socket: aedes takes it, and its parser gets the packet size limit (16.1). */
  function accept(socket: Socket) {
    const client = aedes!.handle(socket);
    if (limitPacketSize(client, maxPacketBytes) || unlimitedParserLogged) return;
    unlimitedParserLogged = true;
    log.error('MQTT packets are not size-limited: the mqtt-packet parser is not the one packet-limit.ts was written for');
  }

  /** After device settings change: connections of removed or disabled devices, or of a replaced credential, end. */
  function closeRevoked() {
    for (const [sn, client] of currentClient) {
      const session = sessions.get(client);
      if (session?.role !== 'device') continue;
      const device = deps.devices.get(sn);
      if (device && device.enabled && device.password_hash === admittedWith.get(client)) continue;
      log.info({ sn, reason: !device ? 'removed' : !device.enabled ? 'disabled' : 'credential changed' }, 'closing device connection');
      client.close();
    }
  }

  function listen(server: Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, deps.host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  return {
    stats,
    ports: { mqtt: 0, mqtts: 0 },
    async start() {
      stopping = false;
      currentClient.clear();
      openClients.clear();
      deps.devices.onReload(closeRevoked);
      aedes = await buildAedes();
      aedes.on('clientReady', onClientReady);
      aedes.on('clientDisconnect', onClientDisconnect);
      aedes.on('clientError', onConnectionError);
      aedes.on('connectionError', onConnectionError);
      const tcp = createServer(accept);
      servers.push(tcp);
      this.ports.mqtt = await listen(tcp, deps.port);
      if (deps.tls) {
        // The handshake gets the CONNECT's time limit too (Node's default is 120 s). Node only reports a
        // handshake timeout ('tlsClientError'); a socket that never sent its hello stays open unless closed here.
        const tls = createTlsServer({ cert: readFileSync(deps.tls.cert), key: readFileSync(deps.tls.key), handshakeTimeout: connectTimeoutMs }, accept);
        tls.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
          socket.destroy();
          if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') countRefusal('connect_timeout');
          log.debug({ remote: socket.remoteAddress, err: err.message }, 'TLS handshake failed');
        });
        servers.push(tls);
        this.ports.mqtts = await listen(tls, deps.tls.port);
      }
      log.info({ mqtt: this.ports.mqtt, mqtts: this.ports.mqtts || undefined }, 'broker listening');
    },
    /** Stops accepting, then closes every connection. */
    async stop() {
      stopping = true;
      // close() only stops accepting; its callback waits for the open connections, which aedes closes.
      const closed = servers.map((server) => new Promise((resolve) => server.close(resolve)));
      servers.length = 0;
      if (aedes) await new Promise<void>((resolve) => aedes!.close(() => resolve()));
      aedes = null;
      await Promise.all(closed);
    },
    /** The packet size limit in force (issue 16.1). */
    limits: { maxPacketBytes, connectTimeoutMs },
    isConnected: (sn: string): boolean => currentClient.get(sn)?.closed === false,
    /** LIC-5: distinct registered devices connected now. */
    connectedDevices: devicesConnected,
    /** DEV-3: a command to one device (or all with sn '*'), QoS 1. */
    sendCommand(sn: string, command: DeviceCommand): Promise<void> {
      const topic = sn === '*' ? BROADCAST_CMD_TOPIC : cmdTopic(sn);
      const packet = { cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(command)), qos: 1, retain: false, dup: false } as PublishPacket;
      return new Promise((resolve, reject) => {
        if (!aedes) return reject(new Error('broker not running'));
        aedes.publish(packet, (err?: Error | null) => (err ? reject(err) : resolve()));
      });
    },
  };
}
export type Broker = ReturnType<typeof createBroker>;
