// API-6 the kiosk's live feed: a snapshot on connect, `realtime` batches of the devices that
// changed about once a second (sent even when empty: the kiosk's heartbeat, so it can tell stale
// data from a quiet plant), `alarm` at once, `device_status` changes gathered for at most 200 ms
// (so thousands of detectors reconnecting make a few messages), `history` on `subscribe`.
// A slow client never grows memory without bound: while its socket buffer is over the mark it is
// skipped (values coalesce), then re-synced with a batch of every device; far over, it is cut off
// and reconnects by itself.
import { Value } from '@sinclair/typebox/value';
import type { WebSocket } from 'ws';
import type { Bus } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { iso } from '../contract/api.ts';
import type { AlarmRecord } from '../contract/alarm.ts';
import { alarmView, ClientMessage, type AlarmView, type DeviceStatusChange, type LiveCounts, type LiveDeviceInfo, type ServerMessage } from '../contract/live.ts';
import type { HistoryPoint } from '../storage/readings.ts';
import type { LiveState } from './state.ts';

export const REALTIME_EVERY_MS = 1000;
export const STATUS_BATCH_MS = 200;
const HEARTBEAT_EVERY_MS = 30_000;
/** Over this many bytes queued (about 3 batches of 5,000 devices), a client is behind: batches skip it. */
export const SLOW_CLIENT_BYTES = 1024 * 1024;
/** Over this, it is cut off (close 4408) rather than buffered further. */
export const DEAD_CLIENT_BYTES = 8 * 1024 * 1024;
const HISTORY_WINDOW_MS = 3_600_000;

interface Client {
  socket: WebSocket;
  username: string;
  behind: boolean;
  alive: boolean;
}

export interface LiveHubDeps {
  bus: Bus;
  clock: Clock;
  log: Logger;
  live: LiveState;
  /** ALM-10/ALM-11: the alarms the kiosk lists (active and latched), by priority. */
  listedAlarms: () => import('../contract/alarm.ts').AlarmRecord[];
  history: (sn: string, from: number, to: number) => HistoryPoint[];
  isKnownDevice: (sn: string) => boolean;
  /** Told after any device change (added, edited, moved, removed; by the API or the CLI). */
  onDevicesChanged: (listener: () => void) => void;
  /** Issue 15.1: a detector's mask in force (UTC ms) and whether its level-2 alarms still sound. */
  maskOf?: (sn: string) => { until: number; sounds: boolean } | undefined;
}

/** After device changes, the clients get a fresh snapshot this soon (a batch of edits makes one). */
export const SNAPSHOT_AFTER_CHANGE_MS = 300;

export function createLiveHub(deps: LiveHubDeps) {
  const { bus, clock, live } = deps;
  const log = deps.log.child({ stage: 'live' });
  const clients = new Set<Client>();
  const changed = new Set<string>();
  let statusChanges: DeviceStatusChange[] = [];
  let statusTimer: NodeJS.Timeout | null = null;
  let snapshotTimer: NodeJS.Timeout | null = null;
  const unsubscribe: (() => void)[] = [];
  let realtimeTimer: NodeJS.Timeout | null = null;
  let heartbeatTimer: NodeJS.Timeout | null = null;
  const stats = { sent: 0, skippedSlow: 0, cutOff: 0 };

  function send(client: Client, message: ServerMessage | string): boolean {
    if (client.socket.readyState !== client.socket.OPEN) return false;
    if (client.socket.bufferedAmount > DEAD_CLIENT_BYTES) {
      stats.cutOff++;
      log.warn({ user: client.username, buffered: client.socket.bufferedAmount }, 'live client too slow, cut off');
      client.socket.terminate();
      clients.delete(client);
      return false;
    }
    client.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
    stats.sent++;
    return true;
  }

  // Issue 15.1: the kiosk knows a masked detector and alarm (MASKED marker, the level-2 sound rule).
  function maskedView(record: AlarmRecord): AlarmView {
    const mask = record.sn ? deps.maskOf?.(record.sn) : undefined;
    return { ...alarmView(record), masked: mask ? { until: iso(mask.until), sounds: mask.sounds } : null };
  }
  function maskedDevice(device: LiveDeviceInfo): LiveDeviceInfo {
    const mask = deps.maskOf?.(device.sn);
    return { ...device, masked_until: mask ? iso(mask.until) : null };
  }

  function snapshot(): ServerMessage {
    return {
      type: 'snapshot',
      data: { devices: live.fleet().map(maskedDevice), alarms: deps.listedAlarms().map(maskedView), counts: live.counts() },
      ts: iso(clock.now()),
    };
  }

  function broadcast(message: ServerMessage) {
    const text = JSON.stringify(message); // serialised once for all clients
    for (const client of clients) send(client, text);
  }

  function realtime(sns: Iterable<string>, counts: LiveCounts, ts: string): string {
    const data = live.devices(sns).map(({ sn, ppm, status, ts }) => ({ sn, ppm, status, ts }));
    return JSON.stringify({ type: 'realtime', data, counts, ts } satisfies ServerMessage);
  }

  /** One realtime batch: the devices that changed since the last one. */
  function flush() {
    if (!clients.size) {
      changed.clear();
      return;
    }
    const counts = live.counts();
    const ts = iso(clock.now());
    const text = realtime(changed, counts, ts);
    changed.clear();
    let everyDevice: string | null = null;
    for (const client of clients) {
      if (client.socket.bufferedAmount > SLOW_CLIENT_BYTES) {
        client.behind = true;
        stats.skippedSlow++;
        continue;
      }
      if (client.behind) {
        everyDevice ??= realtime(live.allSns(), counts, ts); // it missed batches: every device's newest values
        client.behind = !send(client, everyDevice);
        continue;
      }
      send(client, text);
    }
  }

  /** Names, positions, limits or the device list changed: every client gets the new picture. */
  function resnapshot() {
    snapshotTimer = null;
    if (clients.size) broadcast(snapshot());
  }

  function flushStatus() {
    statusTimer = null;
    const data = statusChanges;
    statusChanges = [];
    if (data.length) broadcast({ type: 'device_status', data, ts: iso(clock.now()) });
  }

  function onMessage(client: Client, raw: Buffer) {
    let message: unknown;
    try {
      message = JSON.parse(raw.toString('utf8'));
    } catch {
      return void send(client, { type: 'error', code: 400, message: 'messages are JSON: {"type":"subscribe","sn":…} or {"type":"ping"}' });
    }
    if (!Value.Check(ClientMessage, message)) {
      return void send(client, { type: 'error', code: 400, message: 'unknown message; expected subscribe {sn} or ping' });
    }
    if (message.type === 'ping') return void send(client, { type: 'pong', ts: iso(clock.now()) });
    if (!deps.isKnownDevice(message.sn)) return void send(client, { type: 'error', code: 40001, message: `device not found: ${message.sn}` });
    const now = clock.now();
    const points = deps.history(message.sn, now - HISTORY_WINDOW_MS, now + 1).map((p) => ({ ts: iso(p.ts), ppm: p.avg, min: p.min, max: p.max }));
    send(client, { type: 'history', sn: message.sn, interval: '1m', points, ts: iso(now) });
  }

  function heartbeat() {
    for (const client of clients) {
      if (!client.alive) {
        client.socket.terminate(); // no pong since the last round: a dead peer
        clients.delete(client);
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }

  return {
    stats,
    clientCount: (): number => clients.size,
    start() {
      unsubscribe.push(
        bus.on('readings', (readings) => {
          for (const r of readings) changed.add(r.sn);
        }),
        bus.on('device_status', (event) => {
          changed.add(event.sn);
          if (!clients.size) return;
          statusChanges.push({ sn: event.sn, status: event.status, reason: event.reason, at: iso(event.ts) });
          statusTimer ??= setTimeout(flushStatus, STATUS_BATCH_MS);
        }),
        bus.on('alarm', (event) => {
          if (event.alarm.sn) changed.add(event.alarm.sn);
          broadcast({ type: 'alarm', kind: event.kind, data: maskedView(event.alarm), ts: iso(clock.now()) });
        }),
      );
      deps.onDevicesChanged(() => {
        if (realtimeTimer) snapshotTimer ??= setTimeout(resnapshot, SNAPSHOT_AFTER_CHANGE_MS);
      });
      realtimeTimer = setInterval(flush, REALTIME_EVERY_MS);
      heartbeatTimer = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
    },
    stop() {
      for (const off of unsubscribe.splice(0)) off();
      if (realtimeTimer) clearInterval(realtimeTimer);
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      if (statusTimer) clearTimeout(statusTimer);
      if (snapshotTimer) clearTimeout(snapshotTimer);
      realtimeTimer = null;
      for (const client of clients) client.socket.close(1001, 'server stopping');
      clients.clear();
    },
    /** A new authenticated kiosk or admin page. */
    add(socket: WebSocket, username: string) {
      const client: Client = { socket, username, behind: false, alive: true };
      clients.add(client);
      socket.on('message', (raw: Buffer) => onMessage(client, raw));
      socket.on('pong', () => (client.alive = true));
      socket.on('close', () => clients.delete(client));
      socket.on('error', () => clients.delete(client));
      send(client, snapshot());
    },
    flush,
    flushStatus,
    resnapshot,
  };
}
export type LiveHub = ReturnType<typeof createLiveHub>;
