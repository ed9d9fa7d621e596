// SYNC-4: one MQTT connection to a cloud broker, shared by the MQTT and the Aliyun transports. It
// owns the connection (clean session: the box keeps its own durable queue, SYNC-1), reconnects with
// exponential backoff and full jitter (./backoff.ts) instead of mqtt.js's fixed reconnectPeriod,
// keeps at most `inflight` QoS 1 publishes unacknowledged, and finds a frozen link (no TCP reset) by
// keepalive: mqtt.js pings after `keepalive` without an answer and gives up 1.5× keepalive after the
// last packet it received, which closes the connection here.
//
// publishAll() resolves only when EVERY message got its PUBACK, and rejects at once when the link is
// declared down: nothing waits on a dead connection, the sender sends the frame again later.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../core/log.ts';
import type { TransportState } from '../../contract/uplink.ts';
import { createBackoff, type BackoffOptions } from './backoff.ts';
import { probeConnection } from './mqtt-probe.ts';
import { BrokerDisconnect, UplinkTransportError, describeFailure, failed, say, whereOf, words, type Words } from './failures.ts';

export interface OutgoingMessage {
  topic: string;
  payload: Buffer;
}

export interface MqttLinkSettings {
  /** mqtt://, mqtts://, ws:// or wss:// with host and port; never credentials. */
  url: string;
  /** Options for each connection attempt (Aliyun signs every CONNECT with the time of the attempt). */
  options(): IClientOptions;
  keepaliveS: number;
  inflight: number;
  /** Subscribed (QoS 1) after every connect, e.g. the cloud-command topic. */
  subscriptions: string[];
  onMessage?(topic: string, payload: Buffer): void;
}

export interface LinkTuning {
  backoff?: BackoffOptions;
  /** One CONNECT's bound (default 15 s). */
  connectTimeoutMs?: number;
  /** A connection up at least this long counts as good: the next failure waits from the first window again (default 10 s). */
  stableMs?: number;
  /** A PUBACK not back by then fails its send (default max(60 s, 3× keepalive)). */
  ackTimeoutMs?: number;
}

export interface MqttLink {
  start(): void;
  state(): TransportState;
  onState(handler: (state: TransportState) => void): void;
  /** Publishes QoS 1; resolves with the PUBLISH packets' bytes once every PUBACK arrived. */
  publishAll(messages: OutgoingMessage[]): Promise<number>;
  /** A reply that needs no acknowledgement (Aliyun service replies): best effort, QoS 0. */
  publishReply(topic: string, payload: Buffer): void;
  /**
   * The admin's test button: a started link answers from its running connection (a second
   * connection with the same client id would take the session over and drop the running one);
   * otherwise (a transport made for the test) a one-off connection.
   */
  test(describeSuccess: (where: string) => Words): Promise<string>;
  close(): Promise<void>;
  readonly where: string;
}

interface Connection {
  client: MqttClient;
  up: boolean;
  upAt: number;
  closed: boolean;
  lastError: unknown;
  pending: Set<(err: Error) => void>;
}

/** The bytes of a QoS 1 PUBLISH packet: fixed header, topic, packet id (MQTT 5: + properties length), payload. */
export function publishPacketBytes(topic: string, payload: Buffer, protocolVersion: number): number {
  const remaining = 2 + Buffer.byteLength(topic) + 2 + (protocolVersion === 5 ? 1 : 0) + payload.length;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  return 1 + lengthBytes + remaining;
}

/** At most `size` holders; the waiting ones are refused together when the link goes down. */
function createWindow(size: number) {
  let inUse = 0;
  let waiting: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  return {
    acquire(): Promise<void> {
      if (inUse < size) {
        inUse += 1;
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    release() {
      const next = waiting.shift();
      if (next) next.resolve();
      else inUse -= 1;
    },
    refuseWaiting(err: Error) {
      const refused = waiting;
      waiting = [];
      for (const waiter of refused) waiter.reject(err);
    },
  };
}

export function createMqttLink(settings: MqttLinkSettings, log: Logger, tuning: LinkTuning = {}): MqttLink {
  const where = whereOf(settings.url);
  const backoff = createBackoff(tuning.backoff);
  const connectTimeoutMs = tuning.connectTimeoutMs ?? 15_000;
  const stableMs = tuning.stableMs ?? 10_000;
  const ackTimeoutMs = tuning.ackTimeoutMs ?? Math.max(60_000, 3 * settings.keepaliveS * 1000);
  const window = createWindow(settings.inflight);
  const stateHandlers: Array<(state: TransportState) => void> = [];
  let current: Connection | null = null;
  let connected = false;
  let lastWords: Words | null = null;
  let lastLogged: string | null = null;
  let upSince = 0;
  let settledWaiters: Array<() => void> = [];
  let started = false;
  let closing = false;
  let retryTimer: NodeJS.Timeout | null = null;

  const lastError = () => (lastWords ? say(lastWords) : null);
  const state = (): TransportState => ({ connected, lastError: lastError() });
  const emitState = () => {
    const snapshot = state();
    for (const handler of stateHandlers) handler(snapshot);
    const waiters = settledWaiters;
    settledWaiters = [];
    for (const waiter of waiters) waiter();
  };
  const notConnected = () => new UplinkTransportError(lastError() ?? say(words(`not connected to ${where}`, `未连接到 ${where}`)));

  function clientOptions(): IClientOptions {
    return {
      ...settings.options(),
      keepalive: settings.keepaliveS,
      clean: true, // the box's own queue is the durable one (SYNC-1); a broker session would only duplicate it
      reconnectPeriod: 0, // reconnects are ours: backoff with jitter, not a fixed period
      connectTimeout: connectTimeoutMs,
      resubscribe: false,
      queueQoSZero: false,
    };
  }

  function connect(): void {
    retryTimer = null;
    if (closing) return;
    let client: MqttClient;
    try {
      client = mqtt.connect(settings.url, clientOptions());
    } catch (err) {
      fail(describeFailure(err, where), false);
      return;
    }
    const conn: Connection = { client, up: false, upAt: 0, closed: false, lastError: undefined, pending: new Set() };
    current = conn;
    client.on('connect', () => onUp(conn));
    client.on('error', (err) => {
      conn.lastError = err;
    });
    client.on('disconnect', (packet) => {
      conn.lastError = new BrokerDisconnect(packet.reasonCode ?? 0);
    });
    client.on('message', (topic, payload) => settings.onMessage?.(topic, payload));
    client.on('close', () => onClose(conn));
  }

  function onUp(conn: Connection): void {
    if (conn !== current || closing) {
      conn.client.end(true);
      return;
    }
    conn.up = true;
    conn.upAt = Date.now();
    upSince = conn.upAt;
    connected = true;
    lastWords = null;
    lastLogged = null;
    log.info({ broker: where }, 'cloud link connected');
    if (settings.subscriptions.length > 0) {
      conn.client.subscribe(settings.subscriptions, { qos: 1 }, (err, granted) => {
        const refused = granted?.filter((grant) => grant.qos >= 128).map((grant) => grant.topic) ?? [];
        if (!err && refused.length === 0) return;
        lastWords = err
          ? describeFailure(err, where)
          : words(`the broker refused the subscription to ${refused.join(', ')}`, `服务器拒绝订阅 ${refused.join('、')}`);
        log.warn({ broker: where, error: lastError() }, 'cloud command subscription refused');
        emitState();
      });
    }
    emitState();
  }

  function onClose(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    const wasUp = conn.up;
    conn.up = false;
    const line = describeFailure(conn.lastError ?? new Error('Connection closed'), where);
    const error = new UplinkTransportError(say(line));
    for (const reject of [...conn.pending]) reject(error); // before end(): its flush would only say "closed"
    conn.client.end(true);
    if (conn !== current) return;
    current = null;
    window.refuseWaiting(error);
    if (closing) return;
    connected = false;
    fail(line, wasUp && Date.now() - conn.upAt >= stableMs, wasUp);
  }

  /** A connection ended or an attempt failed: say why, then wait (backoff, jitter) and try again. */
  function fail(line: Words, wasStable: boolean, wasUp = false): void {
    lastWords = line;
    const error = say(line);
    if (wasUp || error !== lastLogged) {
      log.warn({ broker: where, error }, wasUp ? 'cloud link lost' : 'cloud link cannot connect');
      lastLogged = error;
    }
    if (wasStable) backoff.reset();
    const delay = backoff.next();
    log.debug({ delayMs: delay, failures: backoff.failures }, 'cloud link: next attempt');
    retryTimer = setTimeout(connect, delay);
    emitState();
  }

  function publishOne(conn: Connection, message: OutgoingMessage, protocolVersion: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (err: Error | null) => {
        clearTimeout(timer);
        conn.pending.delete(settle);
        if (err) reject(err);
        else resolve(publishPacketBytes(message.topic, message.payload, protocolVersion));
      };
      if (conn !== current || !conn.up) {
        settle(notConnected());
        return;
      }
      conn.pending.add(settle);
      timer = setTimeout(
        () => settle(new UplinkTransportError(say(words(`no PUBACK from ${where} within ${ackTimeoutMs / 1000} s`, `${where} 在 ${ackTimeoutMs / 1000} 秒内未返回 PUBACK`)))),
        ackTimeoutMs,
      );
      conn.client.publish(message.topic, message.payload, { qos: 1 }, (err) => {
        if (!conn.pending.has(settle)) return; // already failed (link down, timeout)
        // mqtt.js flushes its callbacks with "Connection closed" before it says why (keepalive,
        // reset…): the close that follows fails this send with the reason.
        if (err?.message === 'Connection closed') return;
        settle(err ? new UplinkTransportError(say(describeFailure(err, where))) : null);
      });
    });
  }

  async function publishWindowed(conn: Connection, message: OutgoingMessage, protocolVersion: number): Promise<number> {
    await window.acquire();
    try {
      return await publishOne(conn, message, protocolVersion);
    } finally {
      window.release();
    }
  }

  /** The running connection's answer; while its first attempt is still under way, waits for it. */
  async function runningAnswer(describeSuccess: (where: string) => Words): Promise<string> {
    if (!connected && lastWords === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, connectTimeoutMs + 1000);
        settledWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (connected && !lastWords) {
      const ok = describeSuccess(where);
      const upFor = Math.round((Date.now() - upSince) / 1000);
      return say(words(`OK: ${ok.en} (the running connection, up for ${upFor} s)`, `成功：${ok.zh}（运行中的连接，已连接 ${upFor} 秒）`));
    }
    return failed(lastWords ?? describeFailure(new Error('connack timeout'), where)); // down, or up with its subscription refused
  }

  return {
    where,
    start() {
      if (started) return;
      started = true;
      connect();
    },
    state,
    onState(handler) {
      stateHandlers.push(handler);
    },
    async publishAll(messages) {
      const conn = current;
      if (!conn || !conn.up) throw notConnected();
      const protocolVersion = conn.client.options.protocolVersion ?? 4;
      const sizes = await Promise.all(messages.map((message) => publishWindowed(conn, message, protocolVersion)));
      return sizes.reduce((sum, size) => sum + size, 0);
    },
    publishReply(topic, payload) {
      if (current?.up) current.client.publish(topic, payload, { qos: 0 });
    },
    async test(describeSuccess) {
      if (started && !closing) return runningAnswer(describeSuccess);
      return probeConnection({ url: settings.url, options: clientOptions(), subscriptions: settings.subscriptions, timeoutMs: connectTimeoutMs + 5000 }, describeSuccess);
    },
    async close() {
      closing = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      const conn = current;
      current = null;
      const error = new UplinkTransportError(say(words('the uplink transport was closed', '上行传输已关闭')));
      window.refuseWaiting(error);
      const wasConnected = connected;
      connected = false;
      if (!conn) return;
      for (const reject of [...conn.pending]) reject(error);
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          conn.client.end(true);
          resolve();
        }, 2000);
        conn.client.end(!conn.up, {}, () => {
          clearTimeout(force);
          resolve();
        });
      });
      if (wasConnected) emitState();
    },
  };
}
