// The embedded MQTT 3.1.1 broker (DEV-1, DEV-6): aedes behind our authenticate / authorize hooks,
// on TCP and, when a certificate is configured, TLS. Publishes from devices go straight into the
// ingest pipeline from authorizePublish, whose callback aedes waits for before the PUBACK (ING-6).
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from '../core/log.ts';
import { BROADCAST_CMD_TOPIC, cmdTopic } from '../contract/topics.ts';
import type { DeviceCommand } from '../contract/device-payload.ts';
import type { Ingest } from '../ingest/pipeline.ts';
import { decidePublish, maySubscribe, type Session } from './acl.ts';
import { CONNACK, createAuthenticator, type AuthenticatorDeps, type Refusal } from './authenticate.ts';

export interface BrokerDeps extends AuthenticatorDeps {
  ingest: Ingest;
  log: Logger;
  host: string;
  port: number;
  tls?: { port: number; cert: string; key: string };
  /** LIC-5: how many distinct devices may be connected at once (the license's max_devices). Default: no limit. */
  deviceLimit?: () => number;
}

export interface BrokerStats {
  connected: number;
  connects: number;
  refused: Partial<Record<Refusal, number>>;
  aclViolations: number;
  deniedSubscriptions: number;
}

type AuthError = Error & { returnCode: number };
const authError = (message: string, returnCode: number) => Object.assign(new Error(message), { returnCode }) as AuthError;

export function createBroker(deps: BrokerDeps) {
  const log = deps.log.child({ stage: 'broker' });
  const authenticate = createAuthenticator(deps);
  const sessions = new WeakMap<Client, Session>();
  /** The current connection of each device, so a takeover's old connection does not mark it offline. */
  const currentClient = new Map<string, Client>();
  /** LIC-5: the registered devices connected now (pending serials and the admin user do not count). */
  const connectedDevices = new Set<string>();
  const emptyIdPersistent = new WeakSet<Client>();
  /** The credential a device connection was admitted with; a change (reset, removal) ends it. */
  const admittedWith = new WeakMap<Client, string | null>();
  const stats: BrokerStats = { connected: 0, connects: 0, refused: {}, aclViolations: 0, deniedSubscriptions: 0 };
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
      // [MQTT-3.1.3-8]: a zero-byte client id with CleanSession 0 gets CONNACK 0x02.
      preConnect(client, packet, callback) {
        if (!packet.clientId && !packet.clean) emptyIdPersistent.add(client);
        callback(null, true);
      },
      authenticate(client, username, password, callback) {
        if (emptyIdPersistent.has(client)) {
          stats.refused.empty_client_id = (stats.refused.empty_client_id ?? 0) + 1;
          return callback(authError('identifier rejected', CONNACK.IDENTIFIER_REJECTED) as never, false);
        }
        authenticate(username, password).then(
          (result) => {
            if (!result.ok) {
              stats.refused[result.refusal] = (stats.refused[result.refusal] ?? 0) + 1;
              log.info({ username, remote: remoteOf(client), reason: result.refusal }, 'connection refused');
              return callback(authError(result.refusal, result.returnCode) as never, false);
            }
            if (result.session.role === 'device' && !admitsDevice(result.session.sn)) {
              stats.refused.license = (stats.refused.license ?? 0) + 1;
              log.warn({ username, remote: remoteOf(client), reason: 'license', connected: connectedDevices.size }, 'connection refused: the license allows no more devices (20003)');
              return callback(authError('license: device limit reached (20003)', CONNACK.NOT_AUTHORIZED) as never, false);
            }
            sessions.set(client, result.session);
            if (result.session.role === 'device') connectedDevices.add(result.session.sn);
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
        if (decision.route === 'up') {
          return deps.ingest.handleUp(decision.sn, packet.payload as Buffer, packet.qos, remoteOf(client), callback);
        }
        if (decision.route === 'status' && !stopping) {
          const isWill = (client as unknown as { will?: unknown }).will === packet;
          deps.ingest.handleStatus(decision.sn, packet.payload as Buffer, isWill);
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
    if (!deps.deviceLimit || connectedDevices.has(sn)) return true;
    const limit = deps.deviceLimit();
    if (connectedDevices.size >= limit) {
      // A connection that closed before aedes registered it never reports a disconnect: free its place.
      for (const other of connectedDevices) if (currentClient.get(other)?.closed !== false) connectedDevices.delete(other);
    }
    return connectedDevices.size < limit;
  }

  function onClientReady() {
    stats.connected++;
    stats.connects++;
  }

  function onClientDisconnect(client: Client) {
    stats.connected = Math.max(0, stats.connected - 1);
    const session = sessions.get(client);
    if (!session || session.role === 'admin' || currentClient.get(session.sn) !== client) return;
    currentClient.delete(session.sn);
    connectedDevices.delete(session.sn);
    if (!stopping) deps.ingest.handleDisconnect(session.sn);
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
      connectedDevices.clear();
      deps.devices.onReload(closeRevoked);
      aedes = await buildAedes();
      aedes.on('clientReady', onClientReady);
      aedes.on('clientDisconnect', onClientDisconnect);
      aedes.on('clientError', (client, err) => log.debug({ client: client.id, err: err.message }, 'client error'));
      const tcp = createServer(aedes.handle);
      servers.push(tcp);
      this.ports.mqtt = await listen(tcp, deps.port);
      if (deps.tls) {
        const tls = createTlsServer({ cert: readFileSync(deps.tls.cert), key: readFileSync(deps.tls.key) }, aedes.handle);
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
    isConnected: (sn: string): boolean => currentClient.has(sn),
    /** LIC-5: distinct registered devices connected now. */
    connectedDevices: (): number => connectedDevices.size,
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
