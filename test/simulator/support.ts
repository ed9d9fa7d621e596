// Real parts for the simulator tests: an aedes broker on an ephemeral loopback port with DEV-5
// credentials and the DEV-6 ACL, and a real mqtt observer client that records what it sees.
import net from 'node:net';
import { Aedes, type AedesOptions, type Client, type AuthenticateError, type ConnectPacket } from 'aedes';
import { connect, type MqttClient } from 'mqtt';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { snFromUsername } from '../../appliance/contract/topics.ts';
import { MAX_UP_PAYLOAD_BYTES, UpPayload } from '../../appliance/contract/device-payload.ts';
import { Value } from '@sinclair/typebox/value';

export const FACTORY_SECRET = 'test-factory-secret';
export const OBSERVER = { username: 'observer', password: 'observer-pw' };

export interface TestBroker {
  url: string;
  aedes: Aedes;
  /** CONNECT packets in arrival order (will, clientId, username, clean, protocolVersion). */
  connects: ConnectPacket[];
  refused: string[];
  aclViolations: string[];
  close(): Promise<void>;
}

export async function startBroker(extra: Partial<AedesOptions> = {}): Promise<TestBroker> {
  const connects: ConnectPacket[] = [];
  const refused: string[] = [];
  const aclViolations: string[] = [];
  const deviceOf = new WeakMap<Client, string>();
  const aedes = await Aedes.createBroker({
    preConnect(_client, packet, done) {
      connects.push(packet);
      done(null, true);
    },
    // DEV-5: device_{sn} with the derived password, plus one internal observer user.
    authenticate(client, username, password, done) {
      const sn = snFromUsername(username);
      const given = password?.toString();
      const ok =
        (username === OBSERVER.username && given === OBSERVER.password) ||
        (sn !== null && given === derivedDevicePassword(sn, FACTORY_SECRET));
      if (ok) {
        if (sn !== null) deviceOf.set(client, sn);
        return done(null, true);
      }
      refused.push(username ?? '');
      const err = new Error('bad username or password') as AuthenticateError;
      err.returnCode = 4;
      done(err, false);
    },
    // DEV-6: a device publishes only its own up and status topics; a violation disconnects it.
    authorizePublish(client, packet, done) {
      const sn = client ? deviceOf.get(client) : undefined;
      if (!sn || packet.topic === `mcs/${sn}/up` || packet.topic === `mcs/${sn}/status`) return done(null);
      aclViolations.push(`${sn} -> ${packet.topic}`);
      done(new Error('not authorized'));
    },
    ...extra,
  });
  const server = net.createServer(aedes.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    aedes,
    connects,
    refused,
    aclViolations,
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Observed {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface Observer {
  client: MqttClient;
  messages: Observed[];
  /** Resolves with the messages once `pred` holds, or rejects after `timeoutMs`. */
  waitFor(pred: (msgs: Observed[]) => boolean, timeoutMs?: number): Promise<Observed[]>;
  on(topic: string): Observed[];
  close(): Promise<void>;
}

let observerCount = 0;

export async function observe(url: string, topics: string[]): Promise<Observer> {
  const client = connect(url, {
    clientId: `observer-${++observerCount}`,
    ...OBSERVER,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const messages: Observed[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, retain: packet.retain });
    waiters.forEach((w) => w());
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return {
    client,
    messages,
    on: (topic) => messages.filter((m) => m.topic === topic),
    waitFor(pred, timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pred(messages)) return;
          cleanup();
          resolve(messages);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out; saw ${messages.length} messages: ${messages.map((m) => m.topic).join(', ')}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => client.endAsync(),
  };
}

/** Resolves when `pred` holds, polling every few ms (for state that has no event). */
export async function until(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** ING-1 as the appliance's edge applies it: size, JSON, then the DEV-2 schema. */
export function acceptsUp(payload: Buffer): boolean {
  if (payload.length > MAX_UP_PAYLOAD_BYTES) return false;
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch {
    return false;
  }
  return Value.Check(UpPayload, value);
}
