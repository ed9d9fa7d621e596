// The embedded MQTT 3.1.1 broker (DEV-1, DEV-6): aedes behind our authenticate / authorize hooks,
// on TCP and, when a certificate is configured, TLS. Publishes from devices go straight into the
// ingest pipeline from authorizePublish, whose callback aedes waits for before the PUBACK (ING-6).
// What a connection may cost before and after login is bounded: packet size and the time to
// CONNECT (issue 16.1); the connection counts follow the connections that are open (16.2).
// This module composes the pieces: the connection registry (connections.ts), the aedes instance
// with its hooks (hooks.ts), the errors that end a connection (connection-errors.ts) and the
// TCP/TLS listeners (listeners.ts); it owns the counters and the start/stop order.
import type { Aedes, PublishPacket } from 'aedes';
import type { Logger } from '../core/log.ts';
import { BROADCAST_CMD_TOPIC, cmdTopic } from '../contract/topics.ts';
import type { DeviceCommand } from '../contract/device-payload.ts';
import type { Ingest } from '../ingest/pipeline.ts';
import { createAuthenticator, type AuthenticatorDeps, type Refusal } from './authenticate.ts';
import { createConnectionErrors, type EarlyRefusal } from './connection-errors.ts';
import { createConnectionRegistry } from './connections.ts';
import { buildAedes } from './hooks.ts';
import { createListeners } from './listeners.ts';

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
export type BrokerRefusal = Refusal | EarlyRefusal;

export interface BrokerStats {
  /** Open connections that completed their CONNECT (counted from the connections themselves). */
  readonly connected: number;
  connects: number;
  refused: Partial<Record<BrokerRefusal, number>>;
  aclViolations: number;
  deniedSubscriptions: number;
}

export function createBroker(deps: BrokerDeps) {
  const log = deps.log.child({ stage: 'broker' });
  const maxPacketBytes = deps.maxPacketBytes ?? 16_384;
  const connectTimeoutMs = deps.connectTimeoutMs ?? 10_000;
  const stats: BrokerStats = {
    get connected() {
      return connections.openCount();
    },
    connects: 0, refused: {}, aclViolations: 0, deniedSubscriptions: 0,
  };
  const countRefusal = (reason: BrokerRefusal) => (stats.refused[reason] = (stats.refused[reason] ?? 0) + 1);
  const connections = createConnectionRegistry({ devices: deps.devices, ingest: deps.ingest, log, deviceLimit: deps.deviceLimit, stats });
  const errors = createConnectionErrors({ sessionOf: connections.sessionOf, countRefusal, ingest: deps.ingest, log });
  const authenticate = createAuthenticator(deps);
  let aedes: Aedes | null = null;
  const listeners = createListeners({
    host: deps.host, log, maxPacketBytes, connectTimeoutMs,
    handle: (socket) => aedes!.handle(socket),
    onTlsClientError: errors.onTlsClientError,
  });

  return {
    stats,
    ports: { mqtt: 0, mqtts: 0 },
    async start() {
      connections.reset();
      deps.devices.onReload(connections.closeRevoked);
      aedes = await buildAedes({ authenticate, connections, ingest: deps.ingest, log, stats, countRefusal, connectTimeoutMs });
      aedes.on('clientReady', connections.onClientReady);
      aedes.on('clientDisconnect', connections.onClientDisconnect);
      aedes.on('clientError', errors.onConnectionError);
      aedes.on('connectionError', errors.onConnectionError);
      this.ports.mqtt = await listeners.tcp(deps.port);
      if (deps.tls) this.ports.mqtts = await listeners.tls(deps.tls);
      log.info({ mqtt: this.ports.mqtt, mqtts: this.ports.mqtts || undefined }, 'broker listening');
    },
    /** Stops accepting, then closes every connection. */
    async stop() {
      connections.beginStopping();
      // Closing the listeners only stops accepting; they are closed once the open connections, which aedes closes, are.
      const closed = listeners.close();
      if (aedes) await new Promise<void>((resolve) => aedes!.close(() => resolve()));
      aedes = null;
      await closed;
    },
    /** The packet size limit in force (issue 16.1). */
    limits: { maxPacketBytes, connectTimeoutMs },
    isConnected: connections.isConnected,
    /** LIC-5: distinct registered devices connected now. */
    connectedDevices: connections.devicesConnected,
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
