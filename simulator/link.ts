// DEV-1 / DEV-5 / DEV-6: one MQTT 3.1.1 session of a detector. clientId = sn, username
// device_{sn}, clean session, retained Last Will {"status":"offline"} on mcs/{sn}/status (QoS 1);
// on CONNACK it announces itself online (retained) and subscribes its command topics. mqtt.js
// never reconnects on its own here (reconnectPeriod 0): the detector owns retries and buffering.
import { connect } from 'mqtt';
import { BROADCAST_CMD_TOPIC, cmdTopic, deviceUsername, statusTopic, upTopic } from '../appliance/contract/topics.ts';
import type { PublishOutcome } from './types.ts';

export interface LinkOptions {
  sn: string;
  url: string;
  password: string;
  /** Device time in unix seconds, for the status payloads. */
  nowS: () => number;
  keepaliveS?: number;
  connectTimeoutMs?: number;
}

export interface LinkHandlers {
  onConnect(): void;
  /** CONNACK with a non-zero return code (4 bad username or password, 5 not authorized, ...). */
  onRefused(code: number, message: string): void;
  onCommand(topic: string, payload: Buffer): void;
  /** The connection ended without close() being called: network loss, broker kick, refusal. */
  onClose(reason: string, wasConnected: boolean): void;
}

export interface Link {
  readonly connected: boolean;
  publishUp(payload: string | Buffer, qos: 0 | 1): Promise<PublishOutcome>;
  publish(topic: string, payload: string | Buffer, qos: 0 | 1, retain?: boolean): Promise<PublishOutcome>;
  /** Cuts the socket without DISCONNECT: the broker publishes the Last Will. */
  drop(): void;
  /** Retained offline status, then DISCONNECT; never waits more than a few seconds. */
  close(): Promise<void>;
}

export const statusPayload = (status: 'online' | 'offline', ts: number) => JSON.stringify({ status, ts });

export function openLink(o: LinkOptions, h: LinkHandlers): Link {
  let connected = false;
  let closed = false;
  let lastError = '';
  const client = connect(o.url, {
    clientId: o.sn,
    username: deviceUsername(o.sn),
    password: o.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    keepalive: o.keepaliveS ?? 60,
    connectTimeout: o.connectTimeoutMs ?? 30_000,
    will: { topic: statusTopic(o.sn), payload: Buffer.from(statusPayload('offline', o.nowS())), qos: 1, retain: true },
  });

  client.on('connect', () => {
    connected = true;
    client.publish(statusTopic(o.sn), statusPayload('online', o.nowS()), { qos: 1, retain: true });
    client.subscribe([cmdTopic(o.sn), BROADCAST_CMD_TOPIC], { qos: 1 }, (err) => {
      if (err) lastError = `subscribe failed: ${err.message}`;
    });
    h.onConnect();
  });
  client.on('message', (topic, payload) => h.onCommand(topic, payload));
  client.on('error', (err) => {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') h.onRefused(code, err.message);
    lastError = err.message;
  });
  client.on('close', () => {
    if (closed) return;
    closed = true;
    const wasConnected = connected;
    connected = false;
    client.end(true); // fails the callbacks of anything still in flight
    h.onClose(lastError || (wasConnected ? 'connection lost' : 'connection closed'), wasConnected);
  });

  function publish(topic: string, payload: string | Buffer, qos: 0 | 1, retain = false): Promise<PublishOutcome> {
    if (!connected) return Promise.resolve('failed');
    return new Promise((resolve) => {
      client.publish(topic, payload, { qos, retain }, (err) => resolve(err ? 'failed' : qos === 1 ? 'acked' : 'sent'));
    });
  }

  return {
    get connected() {
      return connected;
    },
    publishUp: (payload, qos) => publish(upTopic(o.sn), payload, qos),
    publish,
    drop() {
      client.stream?.destroy();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (connected) {
        connected = false;
        await within(1000, new Promise<void>((resolve) => {
          client.publish(statusTopic(o.sn), statusPayload('offline', o.nowS()), { qos: 1, retain: true }, () => resolve());
        }));
        const ended = await within(2000, new Promise<void>((resolve) => client.end(false, {}, () => resolve())));
        if (ended) return;
      }
      client.end(true);
      client.stream?.destroy();
    },
  };
}

/** Resolves true if `p` settled within `ms`, false otherwise; leaves no timer behind. */
function within(ms: number, p: Promise<void>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  return Promise.race([p.then(() => true), timeout]).finally(() => clearTimeout(timer));
}
