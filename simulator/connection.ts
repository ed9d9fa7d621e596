// A detector's connection to the broker over its lifetime (DEV-1, DEV-5): one MQTT session at a
// time (link.ts), kept up while the detector wants to be online. A lost connection or a refused
// CONNECT is retried after a fixed delay, as the field firmware does, until the detector goes
// offline on purpose (SIM-2 offline), hangs up cleanly (stop, reboot) or is told to stay away.
// It reports connected / refused / disconnected events and hands on what the session brings:
// CONNACK (the backlog may go out), a loss (what was in flight must be resent) and commands.
import { createTimer } from './timer.ts';
import type { Clock } from './clock.ts';
import { openLink, type Link } from './link.ts';
import type { DetectorEvent } from './types.ts';

export interface ConnectionOptions {
  sn: string;
  url: string;
  /** The password each CONNECT sends (a scenario may bend it). */
  password(): string;
  keepaliveS?: number;
  /** Retry delay after a lost connection or a refused CONNECT, ms. */
  reconnectDelayMs: number;
  clock: Clock;
  /** Device time in unix seconds, for the status payloads. */
  nowS(): number;
  log(line: string): void;
  emit(e: DetectorEvent): void;
  /** CONNACK accepted. */
  onConnected(): void;
  /** The link ended without a hang-up: network loss, broker kick, refusal. */
  onLost(): void;
  onCommand(topic: string, payload: Buffer): void;
}

export interface Connection {
  /** The session in use; null while disconnected. */
  readonly link: Link | null;
  readonly connected: boolean;
  /** Accepted CONNECTs so far. */
  readonly connects: number;
  /** Refused CONNECTs so far. */
  readonly refused: number;
  /** Connects now and reconnects after every loss (boot). */
  open(): void;
  /** Wants to be online again; connects unless it already wants to be. */
  goOnline(): void;
  /** No more reconnecting until open() or goOnline(). */
  stayAway(): void;
  /** Cuts the TCP connection without DISCONNECT, so the broker publishes the Last Will. */
  drop(): void;
  /** Clean goodbye: retained offline status, then DISCONNECT (so no will is needed). */
  hangUp(): Promise<void>;
}

export function createConnection(o: ConnectionOptions): Connection {
  const reconnectTimer = createTimer(o.clock);
  let link: Link | null = null;
  let wantOnline = false;
  let connects = 0;
  let refused = 0;

  function connect() {
    reconnectTimer.disarm();
    const l = openLink({ sn: o.sn, url: o.url, password: o.password(), keepaliveS: o.keepaliveS, nowS: o.nowS }, {
      onConnect: () => {
        connects++;
        o.log('connected');
        o.emit({ type: 'connected' });
        o.onConnected();
      },
      onRefused: (code, message) => {
        refused++;
        o.log(`CONNACK refused: return code ${code} (${message})`);
        o.emit({ type: 'refused', code, message });
      },
      onCommand: (topic, payload) => o.onCommand(topic, payload),
      onClose: (reason, wasConnected) => {
        if (link !== l) return;
        link = null;
        o.onLost();
        if (wasConnected) o.log(`disconnected: ${reason}`);
        o.emit({ type: 'disconnected', reason: wasConnected ? reason : `connect failed: ${reason}` });
        if (wantOnline) reconnectTimer.arm(connect, o.reconnectDelayMs);
      },
    });
    link = l;
  }

  return {
    get link() {
      return link;
    },
    get connected() {
      return link?.connected ?? false;
    },
    get connects() {
      return connects;
    },
    get refused() {
      return refused;
    },
    open() {
      wantOnline = true;
      connect();
    },
    goOnline() {
      if (wantOnline) return;
      wantOnline = true;
      if (!link) connect();
    },
    stayAway() {
      wantOnline = false;
      reconnectTimer.disarm();
    },
    drop() {
      link?.drop();
    },
    async hangUp() {
      const l = link;
      link = null;
      if (l) await l.close();
    },
  };
}
