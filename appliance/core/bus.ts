// The typed event bus stages use to reach each other without importing each other (ARCHITECTURE).
import { EventEmitter } from 'node:events';
import type { AlarmEvent } from '../contract/alarm.ts';

export interface DeviceStatusEvent {
  sn: string;
  status: 'online' | 'offline';
  /** UTC ms of the transition. */
  ts: number;
  reason: 'reading' | 'status_message' | 'will' | 'disconnect' | 'timeout';
}

export interface ReadingEvent {
  sn: string;
  /** Reading time, UTC ms (device time unless its clock is skewed, ING-5). */
  ts: number;
  receivedAt: number;
  ppm: number;
  vRaw: number;
  temp: number;
  humi: number | null;
  bat: number;
  rssi: number;
  err: number;
  overrange: boolean;
}

export interface LicenseEvent {
  mode: 'evaluation' | 'valid' | 'grace' | 'locked';
  reason: string;
  code: number;
  message: string;
}

export interface BusEvents {
  /**
   * Readings committed to SQLite with their alarm consequences (after the group commit, ALM-8);
   * the live view and kiosk follow them. A license never stops them (LIC-4).
   */
  readings: ReadingEvent[];
  /** The license mode or its reason changed (LIC-4 lock screen, LIC-6 banner). */
  license: LicenseEvent;
  device_status: DeviceStatusEvent;
  /** A serial number not yet registered tried to send data (ING-3). */
  pending_device: { sn: string; ts: number };
  /** An alarm record changed (ALM-2); emitted after it is committed, before the readings' PUBACKs (ALM-8). */
  alarm: AlarmEvent;
  /** Issue 15.5: an output module reported its relays (channel → on) on its status topic. */
  output_state: { sn: string; relay: Record<string, boolean>; at: number };
}

export interface Bus {
  emit<K extends keyof BusEvents>(event: K, payload: BusEvents[K]): void;
  on<K extends keyof BusEvents>(event: K, listener: (payload: BusEvents[K]) => void): () => void;
}

export function createBus(): Bus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(50);
  return {
    emit: (event, payload) => {
      emitter.emit(event, payload);
    },
    on: (event, listener) => {
      emitter.on(event, listener as (payload: unknown) => void);
      return () => emitter.off(event, listener as (payload: unknown) => void);
    },
  };
}
